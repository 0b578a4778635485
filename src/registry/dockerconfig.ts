// Docker/podman auth files: where they are, how registry keys match (like docker), and a careful
// writer (directory 0700, file 0600, temp file + rename, every unknown key kept).
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { PolicyOciError } from '../errors.ts';
import { rmSync } from 'node:fs';
import { onInterrupt } from '../util/interrupt.ts';

export interface AuthEntry {
  auth?: string;
  identitytoken?: string;
  [key: string]: unknown;
}

export interface DockerConfig {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [key: string]: unknown;
}

export interface ConfigLocation {
  env?: NodeJS.ProcessEnv;
  /** Home directory (default os.homedir()). */
  homeDir?: string;
}

const DOCKER_HUB_SERVER = 'https://index.docker.io/v1/';
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

export function dockerConfigPath(loc: ConfigLocation = {}): string {
  const env = loc.env ?? process.env;
  const dir = env.DOCKER_CONFIG || join(loc.homeDir ?? homedir(), '.docker');
  return join(dir, 'config.json');
}

/** Auth files in lookup order: REGISTRY_AUTH_FILE, podman's runtime auth.json, docker's config.json. */
export function authFilePaths(loc: ConfigLocation = {}): string[] {
  const env = loc.env ?? process.env;
  const paths: string[] = [];
  if (env.REGISTRY_AUTH_FILE) paths.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) paths.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  paths.push(dockerConfigPath(loc));
  return [...new Set(paths)];
}

/** The file login writes to: REGISTRY_AUTH_FILE when set, else docker's config.json. */
export function writableConfigPath(loc: ConfigLocation = {}): string {
  const env = loc.env ?? process.env;
  return env.REGISTRY_AUTH_FILE || dockerConfigPath(loc);
}

/** The server URL docker uses for a registry in helpers and new `auths` keys. */
export function serverUrlFor(registry: string): string {
  return DOCKER_HUB_ALIASES.has(registry) ? DOCKER_HUB_SERVER : registry;
}

/** A key of `auths`/`credHelpers` reduced to a host: scheme and path dropped, docker hub aliases folded. */
function keyHost(key: string): string {
  const host = key.replace(/^https?:\/\//i, '').split('/')[0]?.toLowerCase() ?? '';
  return DOCKER_HUB_ALIASES.has(host) ? 'docker.io' : host;
}

/** The key of `map` that stands for `registry`: exact, https://, http://, docker hub's URL, then by host. */
export function findRegistryKey(map: Record<string, unknown> | undefined, registry: string): string | undefined {
  if (map === undefined) return undefined;
  const candidates = [registry, `https://${registry}`, `http://${registry}`];
  if (DOCKER_HUB_ALIASES.has(registry)) candidates.push(DOCKER_HUB_SERVER, 'index.docker.io', 'registry-1.docker.io');
  for (const key of candidates) if (Object.hasOwn(map, key)) return key;
  const wanted = keyHost(registry);
  return Object.keys(map).find((key) => keyHost(key) === wanted);
}

function configError(path: string, why: string, cause?: unknown): PolicyOciError {
  return new PolicyOciError('IO', `auth file ${path}: ${why}`, cause === undefined ? {} : { cause });
}

/** The parsed file, or undefined when it does not exist. */
export async function readConfig(path: string): Promise<DockerConfig | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw configError(path, `cannot be read (${code ?? 'error'})`, err);
  }
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // The parser's message may quote the file (and so a secret): leave it out.
    throw configError(path, 'is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw configError(path, 'is not a JSON object');
  return parsed as DockerConfig;
}

export async function writeConfig(path: string, config: DockerConfig): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
  // Ctrl-C between the write and the rename must not leave a file holding credentials behind.
  const forget = onInterrupt(() => rmSync(temp, { force: true }));
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(temp, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(temp, 0o600);
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw configError(path, `cannot be written (${(err as NodeJS.ErrnoException).code ?? 'error'})`, err);
  } finally {
    forget();
  }
}

/** `{username, password}` from an `auth` field (base64 "user:pass"). */
export function decodeAuth(auth: string, path: string, key: string): { username: string; password: string } {
  const text = Buffer.from(auth, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) throw configError(path, `the auth entry for ${key} is malformed`);
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

export function encodeAuth(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
}
