import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { credentialChain, findCredentials, removeCredentials, saveCredentials } from '../../../src/registry/credentials.ts';

const SECRET = 's3cr3t-Pa55-do-not-print';

// A real credential helper: stores each server's JSON in $TEST_HELPER_DIR, answers like docker's.
const HELPER = `#!/bin/sh
input=$(cat)
dir="$TEST_HELPER_DIR"
key() { printf %s "$1" | tr -c 'A-Za-z0-9.' '_'; }
case "$1" in
  get)
    f="$dir/$(key "$input")"
    if [ -f "$f" ]; then cat "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  store)
    server=$(printf %s "$input" | sed -n 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/p')
    printf %s "$input" > "$dir/$(key "$server")" ;;
  erase)
    f="$dir/$(key "$input")"
    if [ -f "$f" ]; then rm "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  *) exit 2 ;;
esac
`;
// A helper that fails loudly, printing the secret it was given.
const LEAKY = `#!/bin/sh
cat
echo "${SECRET}" >&2
exit 3
`;

let root: string;
let env: NodeJS.ProcessEnv;
let dockerDir: string;

function b64(text: string): string {
  return Buffer.from(text).toString('base64');
}

async function dockerConfig(config: unknown): Promise<void> {
  await mkdir(dockerDir, { recursive: true });
  await writeFile(join(dockerDir, 'config.json'), JSON.stringify(config));
}

async function helperHas(server: string, username: string, secret: string): Promise<void> {
  const key = server.replace(/[^A-Za-z0-9.]/g, '_');
  await writeFile(join(root, 'store', key), JSON.stringify({ ServerURL: server, Username: username, Secret: secret }));
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'policyoci-creds-'));
  const bin = join(root, 'bin');
  await mkdir(bin);
  await mkdir(join(root, 'store'));
  await writeFile(join(bin, 'docker-credential-test'), HELPER, { mode: 0o755 });
  await writeFile(join(bin, 'docker-credential-leaky'), LEAKY, { mode: 0o755 });
  dockerDir = join(root, 'docker');
  env = { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, DOCKER_CONFIG: dockerDir, TEST_HELPER_DIR: join(root, 'store') };
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('findCredentials', () => {
  it('prefers explicit --username/--password-stdin', async () => {
    await dockerConfig({ auths: { 'localhost:5000': { auth: b64('file:pw') } } });
    const found = await findCredentials('localhost:5000', { env, username: 'cli', password: 'pw2' });
    expect(found).toEqual({ credential: { username: 'cli', password: 'pw2' }, source: 'command line' });
    await expect(findCredentials('x', { env, username: 'cli' })).rejects.toThrow(/--password-stdin/);
  });

  it.each([
    ['localhost:5000', 'localhost:5000'],
    ['https://localhost:5000', 'localhost:5000'],
    ['http://localhost:5000/v2/', 'localhost:5000'],
    ['https://index.docker.io/v1/', 'docker.io'],
    ['registry-1.docker.io', 'docker.io'],
  ])('matches the auths key %s for %s', async (key, registry) => {
    await dockerConfig({ auths: { 'other.io': { auth: b64('no:no') }, [key]: { auth: b64(`user:${SECRET}:with-colon`) } } });
    const found = await findCredentials(registry, { env });
    expect(found?.credential).toEqual({ username: 'user', password: `${SECRET}:with-colon` });
    expect(found?.source).toBe(join(dockerDir, 'config.json'));
  });

  it('reads identity tokens and ignores empty entries', async () => {
    await dockerConfig({ auths: { 'a.io': { identitytoken: 'idtok' }, 'b.io': {} } });
    expect((await findCredentials('a.io', { env }))?.credential).toEqual({ identityToken: 'idtok' });
    expect(await findCredentials('b.io', { env })).toBeUndefined();
    expect(await findCredentials('c.io', { env })).toBeUndefined();
  });

  it('asks credHelpers[registry] first, then auths, then credsStore', async () => {
    await dockerConfig({
      credHelpers: { 'helped.io': 'test' },
      auths: { 'helped.io': { auth: b64('file:pw') }, 'stored.io': { auth: b64('file:pw') } },
      credsStore: 'test',
    });
    await helperHas('helped.io', 'helper-user', SECRET);
    await helperHas('store-only.io', '<token>', 'refresh');
    expect(await findCredentials('helped.io', { env })).toEqual({
      credential: { username: 'helper-user', password: SECRET },
      source: 'docker-credential-test',
    });
    expect((await findCredentials('stored.io', { env }))?.credential).toEqual({ username: 'file', password: 'pw' });
    expect((await findCredentials('store-only.io', { env }))?.credential).toEqual({ identityToken: 'refresh' });
    expect(await findCredentials('nowhere.io', { env })).toBeUndefined();
  });

  it('passes docker hub to helpers as https://index.docker.io/v1/', async () => {
    await dockerConfig({ credsStore: 'test' });
    await helperHas('https://index.docker.io/v1/', 'hubuser', 'hubpw');
    expect((await findCredentials('docker.io', { env }))?.credential).toEqual({ username: 'hubuser', password: 'hubpw' });
  });

  it('looks in REGISTRY_AUTH_FILE, then podman, then docker', async () => {
    const authFile = join(root, 'auth.json');
    const runtime = join(root, 'run');
    await mkdir(join(runtime, 'containers'), { recursive: true });
    await writeFile(authFile, JSON.stringify({ auths: { 'a.io': { auth: b64('first:1') } } }));
    await writeFile(join(runtime, 'containers', 'auth.json'), JSON.stringify({ auths: { 'a.io': { auth: b64('podman:2') }, 'b.io': { auth: b64('podman:2') } } }));
    await dockerConfig({ auths: { 'a.io': { auth: b64('docker:3') }, 'b.io': { auth: b64('docker:3') }, 'c.io': { auth: b64('docker:3') } } });
    const all = { ...env, REGISTRY_AUTH_FILE: authFile, XDG_RUNTIME_DIR: runtime };
    expect((await findCredentials('a.io', { env: all }))?.credential.username).toBe('first');
    expect((await findCredentials('b.io', { env: all }))?.credential.username).toBe('podman');
    expect((await findCredentials('c.io', { env: all }))?.credential.username).toBe('docker');
  });

  it('falls back to ~/.docker/config.json without DOCKER_CONFIG', async () => {
    const home = join(root, 'home');
    await mkdir(join(home, '.docker'), { recursive: true });
    await writeFile(join(home, '.docker', 'config.json'), JSON.stringify({ auths: { 'h.io': { auth: b64('home:pw') } } }));
    const { DOCKER_CONFIG: _unused, ...rest } = env;
    expect((await findCredentials('h.io', { env: rest, homeDir: home }))?.credential.username).toBe('home');
  });

  it('caches per registry in credentialChain', async () => {
    await dockerConfig({ auths: { 'a.io': { auth: b64('u:p') } } });
    const chain = credentialChain({ env });
    expect(await chain('a.io')).toEqual({ username: 'u', password: 'p' });
    await dockerConfig({ auths: {} });
    expect(await chain('a.io')).toEqual({ username: 'u', password: 'p' });
  });
});

describe('secrets never reach error messages', () => {
  async function messageOf(promise: Promise<unknown>): Promise<string> {
    try {
      await promise;
    } catch (err) {
      return `${(err as Error).message} ${JSON.stringify(err)}`;
    }
    throw new Error('did not fail');
  }

  it('for a file that is not JSON', async () => {
    await mkdir(dockerDir, { recursive: true });
    await writeFile(join(dockerDir, 'config.json'), `{"auths": {"a.io": {"auth": "${SECRET}"}`);
    const message = await messageOf(findCredentials('a.io', { env }));
    expect(message).toMatch(/is not valid JSON/);
    expect(message).not.toContain(SECRET);
  });

  it('for a malformed auth entry', async () => {
    await dockerConfig({ auths: { 'a.io': { auth: b64(SECRET) } } });
    const message = await messageOf(findCredentials('a.io', { env }));
    expect(message).toMatch(/auth entry for a.io is malformed/);
    expect(message).not.toContain(SECRET);
  });

  it('for a failing or missing helper', async () => {
    await dockerConfig({ credHelpers: { 'a.io': 'leaky', 'b.io': 'absent' } });
    const leaky = await messageOf(findCredentials('a.io', { env }));
    expect(leaky).toMatch(/docker-credential-leaky get failed with exit code 3/);
    expect(leaky).not.toContain(SECRET);
    expect(await messageOf(findCredentials('b.io', { env }))).toMatch(/docker-credential-absent is configured but not found/);
    const store = await messageOf(saveCredentials('a.io', { username: 'u', password: SECRET }, { env }));
    expect(store).toMatch(/store failed/);
    expect(store).not.toContain(SECRET);
  });
});

describe('saveCredentials / removeCredentials', () => {
  it('writes auths base64 with safe modes, keeps other keys, then removes', async () => {
    await dockerConfig({ auths: { 'other.io': { auth: b64('o:p'), email: 'x' }, 'https://a.io': { identitytoken: 'old' } }, psFormat: 'table', proxies: { default: {} } });
    const where = await saveCredentials('a.io', { username: 'user', password: SECRET }, { env });
    const file = join(dockerDir, 'config.json');
    expect(where).toBe(file);
    const saved = JSON.parse(await readFile(file, 'utf8'));
    expect(saved).toEqual({
      auths: { 'other.io': { auth: b64('o:p'), email: 'x' }, 'https://a.io': { auth: b64(`user:${SECRET}`) } },
      psFormat: 'table',
      proxies: { default: {} },
    });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await findCredentials('a.io', { env }))?.credential).toEqual({ username: 'user', password: SECRET });

    expect(await removeCredentials('a.io', { env })).toBe(true);
    expect(await removeCredentials('a.io', { env })).toBe(false);
    const after = JSON.parse(await readFile(file, 'utf8'));
    expect(after.auths).toEqual({ 'other.io': { auth: b64('o:p'), email: 'x' } });
    expect(after.psFormat).toBe('table');
  });

  it('creates the directory 0700 and uses docker hub\'s key', async () => {
    const nested = join(root, 'new', 'docker');
    await saveCredentials('docker.io', { username: 'u', password: 'p' }, { env: { ...env, DOCKER_CONFIG: nested } });
    expect((await stat(nested)).mode & 0o777).toBe(0o700);
    const saved = JSON.parse(await readFile(join(nested, 'config.json'), 'utf8'));
    expect(Object.keys(saved.auths)).toEqual(['https://index.docker.io/v1/']);
  });

  it('stores and erases through credsStore / credHelpers', async () => {
    await dockerConfig({ credsStore: 'test', auths: {} });
    expect(await saveCredentials('a.io', { username: 'u', password: SECRET }, { env })).toBe('docker-credential-test');
    expect(JSON.parse(await readFile(join(dockerDir, 'config.json'), 'utf8'))).toEqual({ credsStore: 'test', auths: {} });
    expect((await findCredentials('a.io', { env }))?.credential).toEqual({ username: 'u', password: SECRET });
    expect(await removeCredentials('a.io', { env })).toBe(true);
    expect(await findCredentials('a.io', { env })).toBeUndefined();
    expect(await removeCredentials('a.io', { env })).toBe(false);
  });
});
