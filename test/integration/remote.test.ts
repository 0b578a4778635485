// RemoteRepository against real registries (Debian's docker-registry, distribution 2.8): open,
// htpasswd, token (with the test token issuer) and TLS.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describe as describeContent } from '../../src/oci/digest.ts';
import { OCI_EMPTY, OCI_MANIFEST } from '../../src/oci/mediatypes.ts';
import { RemoteRepository, type RemoteOptions } from '../../src/content/remote.ts';
import type { Descriptor } from '../../src/oci/types.ts';
import { credentialChain, saveCredentials } from '../../src/registry/credentials.ts';
import { createTestCa } from '../support/certs.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';

const anonymous = { credentials: () => Promise.resolve(undefined) };

function blob(text: string): { desc: Descriptor; content: Buffer } {
  const content = Buffer.from(text);
  return { desc: describeContent('application/yaml', content), content };
}

function manifestFor(layers: Descriptor[], annotation = 'x'): { desc: Descriptor; content: Buffer } {
  const config = describeContent(OCI_EMPTY, Buffer.from('{}'));
  const manifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.test', config, layers, annotations: { a: annotation } };
  const content = Buffer.from(JSON.stringify(manifest));
  return { desc: describeContent(OCI_MANIFEST, content), content };
}

/** Pushes the empty config, `layers` and a manifest; returns the manifest. */
async function pushArtifact(repo: RemoteRepository, texts: string[], tag?: string): Promise<{ desc: Descriptor; content: Buffer }> {
  await repo.pushBlob(describeContent(OCI_EMPTY, Buffer.from('{}')), Buffer.from('{}'));
  const layers = texts.map(blob);
  for (const layer of layers) await repo.pushBlob(layer.desc, layer.content);
  const manifest = manifestFor(layers.map((l) => l.desc), texts.join());
  await repo.pushManifest(manifest.desc, manifest.content, tag);
  return manifest;
}

async function counted<T>(repo: RemoteRepository, op: () => Promise<T>): Promise<{ result: T; requests: number }> {
  const before = repo.requestCount;
  const result = await op();
  return { result, requests: repo.requestCount - before };
}

describe('open registry', () => {
  let registry: RunningRegistry;
  const repos: RemoteRepository[] = [];
  const open = (name: string, opts: RemoteOptions = {}): RemoteRepository => {
    const repo = new RemoteRepository(registry.host, name, { ...anonymous, ...opts });
    repos.push(repo);
    return repo;
  };
  beforeAll(async () => {
    registry = await startRegistry('open');
  });
  afterAll(async () => {
    await Promise.all(repos.map((r) => r.close()));
    await registry?.stop();
  });

  it('pushes a blob in two requests, and in one when it is already there', async () => {
    const repo = open('policies/blobs');
    const { desc, content } = blob(`blob ${randomBytes(8).toString('hex')}`);
    expect(await repo.exists(desc)).toBe(false);
    expect(await counted(repo, () => repo.pushBlob(desc, content))).toEqual({ result: true, requests: 2 });
    expect(await counted(repo, () => repo.pushBlob(desc, content))).toEqual({ result: false, requests: 1 });
    expect(await repo.exists(desc)).toBe(true);
    expect(await repo.fetch(desc)).toEqual(content);
  });

  it('uploads a 20 MiB blob in chunks', async () => {
    const repo = open('policies/big', { chunkSize: 4 * 1024 * 1024 });
    const content = randomBytes(20 * 1024 * 1024);
    const desc = describeContent('application/octet-stream', content);
    // POST, 5 PATCH, PUT
    expect(await counted(repo, () => repo.pushBlob(desc, content))).toEqual({ result: true, requests: 7 });
    expect((await repo.fetch(desc)).equals(content)).toBe(true);
  });

  it('pushes manifests by tag and by digest, resolves and fetches them', async () => {
    const repo = open('policies/manifests');
    const tagged = await pushArtifact(repo, ['a: 1'], 'v1');
    expect(await repo.resolve('v1')).toEqual(tagged.desc);
    expect(await repo.resolve(tagged.desc.digest)).toEqual(tagged.desc);
    expect(await repo.fetch(tagged.desc)).toEqual(tagged.content);

    const untagged = await pushArtifact(repo, ['b: 2']);
    expect(await repo.resolve(untagged.desc.digest)).toEqual(untagged.desc);
    expect(await repo.listTags()).toEqual(['v1']);
    await repo.tag(untagged.desc, 'v2');
    expect(await repo.resolve('v2')).toEqual(untagged.desc);
  });

  it('verifies what it fetches', async () => {
    const repo = open('policies/verify');
    const { desc, content } = blob('verify me');
    await repo.pushBlob(desc, content);
    await expect(repo.fetch({ ...desc, size: desc.size + 1 })).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    await expect(repo.fetch({ ...desc, size: desc.size - 1 })).rejects.toMatchObject({ code: 'LIMIT' });
    await expect(repo.pushBlob(desc, Buffer.from('something else'))).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
  });

  it('lists tags (paginated when the registry paginates)', async () => {
    // distribution 2.8 ignores `n` on tag lists and answers in storage order (pagination came
    // with v3); following Link headers is covered by test/unit/registry/client.test.ts.
    const repo = open('policies/tags', { tagPageSize: 2 });
    const manifest = await pushArtifact(repo, ['tags: 1'], 't0');
    for (const tag of ['t1', 't2', 't3', 't4']) await repo.tag(manifest.desc, tag);
    const { result, requests } = await counted(repo, () => repo.listTags());
    expect([...result].sort()).toEqual(['t0', 't1', 't2', 't3', 't4']);
    expect(requests).toBeGreaterThanOrEqual(1);
    await expect(open('policies/never-pushed').listTags()).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('mounts a blob from another repository in one request', async () => {
    const source = open('policies/mount-source');
    const { desc, content } = blob(`mount ${randomBytes(8).toString('hex')}`);
    await source.pushBlob(desc, content);
    const target = open('policies/mount-target', { mountFrom: 'policies/mount-source' });
    expect(await target.exists(desc)).toBe(false);
    expect(await counted(target, () => target.pushBlob(desc, content))).toEqual({ result: false, requests: 1 });
    expect(await target.exists(desc)).toBe(true);
    // Not in the source: falls back to an upload (202 on the same POST).
    const other = blob(`fresh ${randomBytes(8).toString('hex')}`);
    expect(await counted(target, () => target.pushBlob(other.desc, other.content))).toEqual({ result: true, requests: 2 });
  });

  it('maps 404s to NOT_FOUND', async () => {
    const repo = open('policies/missing');
    await expect(repo.resolve('nope')).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/policies\/missing:nope not found/) });
    const { desc } = blob('never pushed');
    await expect(repo.fetch(desc)).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/BLOB_UNKNOWN/) });
    await expect(repo.resolve('Bad Tag')).rejects.toMatchObject({ code: 'INVALID_REFERENCE' });
  });
});

describe('htpasswd registry', () => {
  let registry: RunningRegistry;
  let dir: string;
  beforeAll(async () => {
    registry = await startRegistry('htpasswd');
    dir = await mkdtemp(join(tmpdir(), 'policyoci-remote-'));
  });
  afterAll(async () => {
    await registry?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('asks for a login without credentials and rejects a wrong password', async () => {
    const repo = new RemoteRepository(registry.host, 'auth/basic', anonymous);
    await expect(repo.listTags()).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringMatching(/kubectl policyoci login/) });
    const wrong = new RemoteRepository(registry.host, 'auth/basic', {
      credentials: () => Promise.resolve({ username: registry.username, password: 'wrong-password' }),
    });
    const err = await wrong.listTags().catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(String((err as Error).message)).not.toContain('wrong-password');
    await Promise.all([repo.close(), wrong.close()]);
  });

  it('sends Basic credentials from a temp DOCKER_CONFIG, up front after the first challenge', async () => {
    const env = { DOCKER_CONFIG: join(dir, 'docker'), PATH: process.env.PATH };
    await saveCredentials(registry.host, { username: registry.username ?? '', password: registry.password ?? '' }, { env });
    const repo = new RemoteRepository(registry.host, 'auth/basic', { credentials: credentialChain({ env }) });
    const first = blob('basic 1');
    expect(await counted(repo, () => repo.pushBlob(first.desc, first.content))).toEqual({ result: true, requests: 3 }); // 401, POST, PUT
    const second = blob('basic 2');
    expect(await counted(repo, () => repo.pushBlob(second.desc, second.content))).toEqual({ result: true, requests: 2 });
    const manifest = await pushArtifact(repo, ['basic'], 'v1');
    expect(await repo.resolve('v1')).toEqual(manifest.desc);
    await repo.close();
  });
});

describe('token registry', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry('token');
  });
  afterAll(() => registry?.stop());

  it('reuses tokens: ten parallel blob pushes fetch one token', async () => {
    const issuer = registry.tokenIssuer!;
    const repo = new RemoteRepository(registry.host, 'auth/token', {
      credentials: () => Promise.resolve({ username: registry.username, password: registry.password }),
    });
    const before = issuer.requestCount;
    const blobs = Array.from({ length: 10 }, (_, i) => blob(`token blob ${i} ${randomBytes(4).toString('hex')}`));
    expect(await Promise.all(blobs.map((b) => repo.pushBlob(b.desc, b.content)))).toEqual(blobs.map(() => true));
    expect(issuer.requestCount - before).toBe(1);
    expect(repo.client.tokenRequestCount).toBe(1);

    const manifest = await pushArtifact(repo, ['token'], 'v1');
    expect(issuer.requestCount - before).toBe(1); // same push scope
    expect(await repo.resolve('v1')).toEqual(manifest.desc); // pull scope: fetched up front, no 401
    expect(await repo.fetch(manifest.desc)).toEqual(manifest.content);
    expect(issuer.requestCount - before).toBe(2);
    await repo.close();
  });

  it('fails with UNAUTHORIZED for anonymous pushes and wrong passwords', async () => {
    const anon = new RemoteRepository(registry.host, 'auth/token', anonymous);
    const { desc, content } = blob('anonymous');
    await expect(anon.pushBlob(desc, content)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    const wrong = new RemoteRepository(registry.host, 'auth/token', {
      credentials: () => Promise.resolve({ username: registry.username, password: 'nope-nope' }),
    });
    const err = await wrong.listTags().catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringMatching(/rejected the credentials/) });
    expect((err as Error).message).not.toContain('nope-nope');
    await Promise.all([anon.close(), wrong.close()]);
  });
});

describe('TLS registry', () => {
  let registry: RunningRegistry;
  let dir: string;
  beforeAll(async () => {
    registry = await startRegistry('tls');
    dir = await mkdtemp(join(tmpdir(), 'policyoci-remote-tls-'));
  });
  afterAll(async () => {
    await registry?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('talks https with --ca-file', async () => {
    const repo = new RemoteRepository(registry.host, 'tls/repo', { ...anonymous, caFile: registry.caFile });
    expect(repo.client.baseUrl.protocol).toBe('https:');
    const manifest = await pushArtifact(repo, ['tls'], 'v1');
    expect(await repo.resolve('v1')).toEqual(manifest.desc);
    await repo.close();
  });

  it('talks https with --insecure', async () => {
    const repo = new RemoteRepository(registry.host, 'tls/repo', { ...anonymous, insecure: true });
    expect(await repo.listTags()).toEqual(['v1']);
    await repo.close();
  });

  it('refuses a certificate from another CA', async () => {
    await mkdir(join(dir, 'other'), { recursive: true });
    const other = await createTestCa(join(dir, 'other'), 'another CA');
    const repo = new RemoteRepository(registry.host, 'tls/repo', { ...anonymous, caFile: other.certFile, retry: { maxAttempts: 1 } });
    await expect(repo.listTags()).rejects.toMatchObject({ code: 'REGISTRY', message: expect.stringMatching(/--ca-file/) });
    await repo.close();
    await writeFile(join(dir, 'done'), '');
  });
});
