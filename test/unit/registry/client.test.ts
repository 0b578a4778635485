// RegistryClient and RemoteRepository against a scripted HTTP server on loopback: the behaviours a
// real distribution 2.8 will not show (retries, redirects, pagination, broken answers).
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MANIFEST_ACCEPT, OCI_MANIFEST } from '../../../src/oci/mediatypes.ts';
import { RemoteRepository, type RemoteOptions } from '../../../src/content/remote.ts';
import type { Descriptor } from '../../../src/oci/types.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

type Handler = (req: Seen, res: ServerResponse) => void;

const servers: Server[] = [];
const repos: RemoteRepository[] = [];

async function serve(handler: Handler): Promise<{ host: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      seen.push(entry);
      handler(entry, res);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function repo(host: string, opts: RemoteOptions = {}): RemoteRepository {
  const waits: number[] = [];
  const r = new RemoteRepository(host, 'a/b', {
    credentials: () => Promise.resolve({ username: 'u', password: 'p' }),
    ...opts,
    retry: { sleep: (ms) => (waits.push(ms), Promise.resolve()), ...opts.retry },
  });
  repos.push(r);
  return r;
}

function send(res: ServerResponse, status: number, headers: Record<string, string> = {}, body: string | Buffer = ''): void {
  res.writeHead(status, { 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

function describeBytes(mediaType: string, content: Buffer): Descriptor {
  return { mediaType, digest: `sha256:${createHash('sha256').update(content).digest('hex')}`, size: content.byteLength };
}

afterEach(async () => {
  await Promise.all(repos.splice(0).map((r) => r.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

const MANIFEST = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: {}, layers: [] }));
const MANIFEST_DESC = describeBytes(OCI_MANIFEST, MANIFEST);

describe('resolve', () => {
  it('falls back to GET when HEAD lacks Docker-Content-Digest, sending the Accept list', async () => {
    const { host, seen } = await serve((req, res) =>
      send(res, 200, { 'content-type': OCI_MANIFEST }, req.method === 'HEAD' ? '' : MANIFEST),
    );
    expect(await repo(host).resolve('v1')).toEqual(MANIFEST_DESC);
    expect(seen.map((s) => s.method)).toEqual(['HEAD', 'GET']);
    expect(seen[0]?.headers.accept).toBe(MANIFEST_ACCEPT);
  });

  it('rejects a manifest whose bytes do not hash to the claimed digest', async () => {
    const { host } = await serve((req, res) =>
      send(res, 200, { 'content-type': OCI_MANIFEST, 'docker-content-digest': `sha256:${'0'.repeat(64)}` }, req.method === 'HEAD' ? '' : MANIFEST),
    );
    // HEAD has a digest but no usable length → GET → bytes hash differently
    await expect(repo(host).resolve('v1')).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
  });
});

describe('errors', () => {
  it('keeps registry error codes, maps 403 to DENIED and 401 to UNAUTHORIZED with the login hint', async () => {
    const body = JSON.stringify({ errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }] });
    const { host } = await serve((req, res) => send(res, req.url?.includes('tags') ? 403 : 401, { 'www-authenticate': 'Basic realm="x"' }, body));
    const r = repo(host);
    await expect(r.listTags()).rejects.toMatchObject({ code: 'DENIED', message: expect.stringMatching(/DENIED: requested access/) });
    const err = await r.fetch(MANIFEST_DESC).catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringMatching(/kubectl policyoci login 127\.0\.0\.1:\d+/) });
    expect((err as Error).message).not.toMatch(/dTpw|Basic/); // base64 of u:p, the header
  });

  it('bounds manifests and blobs', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 1);
    const { host } = await serve((_req, res) => send(res, 200, { 'content-type': OCI_MANIFEST }, big));
    await expect(repo(host).resolve('v1')).rejects.toMatchObject({ code: 'LIMIT' });
    await expect(repo(host).fetch({ ...describeBytes('application/yaml', big), size: 10 })).rejects.toMatchObject({ code: 'LIMIT' });
  });
});

describe('retries and redirects', () => {
  it('retries 503 honouring Retry-After, then succeeds', async () => {
    let n = 0;
    const { host } = await serve((_req, res) =>
      ++n < 3 ? send(res, 503, { 'retry-after': '0' }) : send(res, 200, {}, JSON.stringify({ tags: ['x'] })),
    );
    const r = repo(host);
    expect(await r.listTags()).toEqual(['x']);
    expect(r.requestCount).toBe(3);
  });

  it('gives up after maxAttempts with a REGISTRY error', async () => {
    const { host, seen } = await serve((_req, res) => send(res, 502));
    await expect(repo(host, { retry: { maxAttempts: 2 } }).listTags()).rejects.toMatchObject({ code: 'REGISTRY', message: expect.stringMatching(/HTTP 502/) });
    expect(seen).toHaveLength(2);
  });

  it('follows blob redirects to another origin without the Authorization header', async () => {
    const content = Buffer.from('stored elsewhere');
    const desc = describeBytes('application/yaml', content);
    const storage = await serve((_req, res) => send(res, 200, {}, content));
    const { host, seen } = await serve((req, res) => {
      if (!req.headers.authorization) return send(res, 401, { 'www-authenticate': 'Basic realm="r"' });
      send(res, 307, { location: `http://${storage.host}/data?sig=1` });
    });
    expect(await repo(host).fetch(desc)).toEqual(content);
    expect(seen.at(-1)?.headers.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    expect(storage.seen[0]?.url).toBe('/data?sig=1');
    expect(storage.seen[0]?.headers.authorization).toBeUndefined();
  });
});

describe('tags', () => {
  it('follows Link rel="next" across pages', async () => {
    const pages: Record<string, { tags: string[]; link?: string }> = {
      '/v2/a/b/tags/list?n=2': { tags: ['a', 'b'], link: '</v2/a/b/tags/list?n=2&last=b>; rel="next"' },
      '/v2/a/b/tags/list?n=2&last=b': { tags: ['c', 'd'], link: '</v2/a/b/tags/list?n=2&last=d>; rel="next"' },
      '/v2/a/b/tags/list?n=2&last=d': { tags: ['e'] },
    };
    const { host } = await serve((req, res) => {
      const page = pages[req.url ?? ''];
      if (!page) return send(res, 404);
      send(res, 200, page.link ? { link: page.link } : {}, JSON.stringify({ name: 'a/b', tags: page.tags }));
    });
    const r = repo(host, { tagPageSize: 2 });
    expect(await r.listTags()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(r.requestCount).toBe(3);
  });

  it('maps NAME_UNKNOWN to NOT_FOUND: a repository nothing was pushed to is not an empty one', async () => {
    const { host } = await serve((_req, res) => send(res, 404, {}, JSON.stringify({ errors: [{ code: 'NAME_UNKNOWN', message: 'x' }] })));
    await expect(repo(host).listTags()).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('uploads', () => {
  it('restarts the session from a new POST when a chunk fails, resolving relative Locations', async () => {
    const content = Buffer.alloc(10_000, 7);
    const desc = describeBytes('application/octet-stream', content);
    let sessions = 0;
    let failed = false;
    const received: Buffer[] = [];
    const { host, seen } = await serve((req, res) => {
      if (req.method === 'POST') return send(res, 202, { location: `/v2/a/b/blobs/uploads/s${++sessions}?state=x` });
      if (req.method === 'PATCH') {
        if (sessions === 1 && req.headers['content-range'] === '4000-7999' && !failed) {
          failed = true;
          return send(res, 500);
        }
        received.push(req.body);
        return send(res, 202, { location: req.url ?? '' });
      }
      if (req.method === 'PUT') return send(res, 201, { 'docker-content-digest': desc.digest });
      send(res, 400);
    });
    const r = repo(host, { chunkThreshold: 1000, chunkSize: 4000 });
    expect(await r.pushBlob(desc, content)).toBe(true);
    const steps = seen.map((s) => `${s.method} ${s.url} ${s.headers['content-range'] ?? ''}`.trim());
    expect(steps).toEqual([
      `POST /v2/a/b/blobs/uploads/?mount=${encodeURIComponent(desc.digest)}&from=a%2Fb`,
      'PATCH /v2/a/b/blobs/uploads/s1?state=x 0-3999',
      'PATCH /v2/a/b/blobs/uploads/s1?state=x 4000-7999',
      `POST /v2/a/b/blobs/uploads/?mount=${encodeURIComponent(desc.digest)}&from=a%2Fb`,
      'PATCH /v2/a/b/blobs/uploads/s2?state=x 0-3999',
      'PATCH /v2/a/b/blobs/uploads/s2?state=x 4000-7999',
      'PATCH /v2/a/b/blobs/uploads/s2?state=x 8000-9999',
      `PUT /v2/a/b/blobs/uploads/s2?state=x&digest=${encodeURIComponent(desc.digest)}`,
    ]);
    expect(Buffer.concat(received.slice(1))).toEqual(content);
    expect(seen.at(-1)?.body.byteLength).toBe(0);
  });

  it('checks the digest the registry stored a manifest under', async () => {
    const { host, seen } = await serve((_req, res) => send(res, 201, { 'docker-content-digest': `sha256:${'1'.repeat(64)}` }));
    await expect(repo(host).pushManifest(MANIFEST_DESC, MANIFEST, 'v1')).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(seen[0]?.url).toBe('/v2/a/b/manifests/v1');
    expect(seen[0]?.headers['content-type']).toBe(OCI_MANIFEST);
  });
});
