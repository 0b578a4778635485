// The credential chain (like go-containerregistry's keychains, first hit wins): explicit
// --username/--password-stdin, then each auth file (REGISTRY_AUTH_FILE, podman's, docker's) with
// docker's order inside a file: credHelpers[registry] → auths[registry] → credsStore.
// Also login/logout: store or erase through the configured helper, else edit `auths`.
import { PolicyOciError } from '../errors.ts';
import { helperErase, helperGet, helperStore } from './credhelper.ts';
import {
  authFilePaths,
  decodeAuth,
  encodeAuth,
  findRegistryKey,
  readConfig,
  serverUrlFor,
  writableConfigPath,
  writeConfig,
  type ConfigLocation,
  type DockerConfig,
} from './dockerconfig.ts';

export interface Credential {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token ("identity token"), exchanged at the token realm. */
  identityToken?: string;
}

/** Where a credential came from: the command line, `login` itself, an auth file, a credential helper. */
export type CredentialOrigin = { kind: 'flags' } | { kind: 'login' } | { kind: 'file'; path: string } | { kind: 'helper'; helper: string };

// Kept beside the credential, not in it: a Credential stays the plain user/password/token triple.
const origins = new WeakMap<Credential, CredentialOrigin>();

/** Records where `credential` came from (for messages: what to fix when the registry rejects it); returns it. */
export function withOrigin<T extends Credential>(credential: T, origin: CredentialOrigin): T {
  origins.set(credential, origin);
  return credential;
}

/** Where `credential` came from, when known. */
export function originOf(credential: Credential): CredentialOrigin | undefined {
  return origins.get(credential);
}

export interface CredentialOptions extends ConfigLocation {
  /** From --username. */
  username?: string;
  /** From --password-stdin. */
  password?: string;
}

/** Where a credential came from, for `--debug`-style messages (never the secret). */
export interface FoundCredential {
  credential: Credential;
  source: string;
}

export type CredentialFunc = (registry: string) => Promise<Credential | undefined>;

const IDENTITY_TOKEN_USER = '<token>';

function fromHelper(username: string, secret: string, origin: CredentialOrigin): Credential {
  return withOrigin(username === IDENTITY_TOKEN_USER ? { identityToken: secret } : { username, password: secret }, origin);
}

async function fromConfig(config: DockerConfig, path: string, registry: string, env: NodeJS.ProcessEnv): Promise<FoundCredential | undefined> {
  const serverUrl = serverUrlFor(registry);
  const helperKey = findRegistryKey(config.credHelpers, registry);
  const helper = helperKey === undefined ? undefined : config.credHelpers?.[helperKey];
  if (helper) {
    const got = await helperGet(helper, serverUrl, env);
    return got && { credential: fromHelper(got.username, got.secret, { kind: 'helper', helper }), source: `docker-credential-${helper}` };
  }
  const authKey = findRegistryKey(config.auths, registry);
  const entry = authKey === undefined ? undefined : config.auths?.[authKey];
  if (authKey !== undefined && entry !== undefined) {
    const credential: Credential = withOrigin({}, { kind: 'file', path });
    if (typeof entry.auth === 'string' && entry.auth !== '') Object.assign(credential, decodeAuth(entry.auth, path, authKey));
    if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') credential.identityToken = entry.identitytoken;
    if (credential.password !== undefined || credential.identityToken !== undefined) return { credential, source: path };
  }
  if (config.credsStore) {
    const got = await helperGet(config.credsStore, serverUrl, env);
    const helper = config.credsStore;
    return got && { credential: fromHelper(got.username, got.secret, { kind: 'helper', helper }), source: `docker-credential-${helper}` };
  }
  return undefined;
}

/** The first credential of the chain for `registry`, or undefined (anonymous). */
export async function findCredentials(registry: string, opts: CredentialOptions = {}): Promise<FoundCredential | undefined> {
  if (opts.username !== undefined && opts.username !== '') {
    if (opts.password === undefined) throw new PolicyOciError('USAGE', '--username needs a password (--password-stdin)');
    return { credential: fromHelper(opts.username, opts.password, { kind: 'flags' }), source: 'command line' };
  }
  const env = opts.env ?? process.env;
  for (const path of authFilePaths(opts)) {
    const config = await readConfig(path);
    if (config === undefined) continue;
    const found = await fromConfig(config, path, registry, env);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** A CredentialFunc over the chain, caching each registry's answer (helpers are slow). */
export function credentialChain(opts: CredentialOptions = {}): CredentialFunc {
  const cache = new Map<string, Promise<Credential | undefined>>();
  return (registry) => {
    let hit = cache.get(registry);
    if (hit === undefined) {
      hit = findCredentials(registry, opts).then((found) => found?.credential);
      cache.set(registry, hit);
    }
    return hit;
  };
}

function configuredHelper(config: DockerConfig, registry: string): string | undefined {
  const key = findRegistryKey(config.credHelpers, registry);
  return (key === undefined ? undefined : config.credHelpers?.[key]) || config.credsStore || undefined;
}

/** Saves a login: through the configured helper, else as base64 `auths` in the config file. Returns where. */
export async function saveCredentials(
  registry: string,
  cred: { username: string; password: string },
  loc: ConfigLocation = {},
): Promise<string> {
  const path = writableConfigPath(loc);
  const config = (await readConfig(path)) ?? {};
  const helper = configuredHelper(config, registry);
  if (helper !== undefined) {
    await helperStore(helper, serverUrlFor(registry), { username: cred.username, secret: cred.password }, loc.env ?? process.env);
    return `docker-credential-${helper}`;
  }
  const auths = { ...(config.auths ?? {}) };
  const key = findRegistryKey(auths, registry) ?? serverUrlFor(registry);
  const entry = { ...(auths[key] ?? {}) };
  delete entry.auth;
  delete entry.identitytoken;
  if (cred.username === IDENTITY_TOKEN_USER) entry.identitytoken = cred.password;
  else entry.auth = encodeAuth(cred.username, cred.password);
  auths[key] = entry;
  await writeConfig(path, { ...config, auths });
  return path;
}

/** Removes a login; false when there was nothing to remove. */
export async function removeCredentials(registry: string, loc: ConfigLocation = {}): Promise<boolean> {
  const path = writableConfigPath(loc);
  const config = await readConfig(path);
  if (config === undefined) return false;
  const helper = configuredHelper(config, registry);
  let removed = false;
  if (helper !== undefined) removed = await helperErase(helper, serverUrlFor(registry), loc.env ?? process.env);
  const auths = { ...(config.auths ?? {}) };
  let changed = false;
  for (let key = findRegistryKey(auths, registry); key !== undefined; key = findRegistryKey(auths, registry)) {
    const entry = auths[key];
    if (helper === undefined || (entry !== undefined && (entry.auth !== undefined || entry.identitytoken !== undefined))) removed = true;
    delete auths[key];
    changed = true;
  }
  if (changed) await writeConfig(path, { ...config, auths });
  return removed;
}
