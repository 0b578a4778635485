// The harness itself: every kind of test registry behaves like the real thing it stands for.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request, type Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPortOpen } from '../support/ports.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

function portOf(registry: RunningRegistry): number {
  return Number(registry.host.split(':').at(-1));
}

async function get(url: string, headers: Record<string, string> = {}, dispatcher?: Dispatcher) {
  const res = await request(url, { headers, ...(dispatcher ? { dispatcher } : {}) });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

/** Parses `Bearer realm="…",service="…",scope="…"`. */
function parseBearer(challenge: string): Record<string, string> {
  expect(challenge).toMatch(/^Bearer /);
  const params: Record<string, string> = {};
  for (const match of challenge.slice('Bearer '.length).matchAll(/(\w+)="([^"]*)"/g)) {
    if (match[1] !== undefined && match[2] !== undefined) params[match[1]] = match[2];
  }
  return params;
}

async function expectStopped(registry: RunningRegistry): Promise<void> {
  const port = portOf(registry);
  expect(await isPortOpen(port)).toBe(true);
  await registry.stop();
  expect(await isPortOpen(port)).toBe(false);
  await expect(request(`http://127.0.0.1:${port}/v2/`)).rejects.toThrow();
}

describe('open registry', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry('open');
  });
  afterAll(() => registry?.stop());

  it('answers /v2/ without credentials and logs the request', async () => {
    expect(registry.host).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(registry.url).toBe(`http://${registry.host}`);
    const res = await get(`${registry.url}/v2/`);
    expect(res.status).toBe(200);
    expect(header(res.headers, 'docker-distribution-api-version')).toBe('registry/2.0');
    expect(readFileSync(registry.logFile, 'utf8')).toContain('"GET /v2/ HTTP/1.1" 200');
  });

  it('stores a pushed blob under dataDir and deletes it (delete enabled)', async () => {
    const repo = 'harness/open';
    const blob = Buffer.from('open registry blob');
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    // distribution 2.8 ignores ?digest= on POST (no single-request upload): 202, then PUT.
    const start = await request(`${registry.url}/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: blob });
    await start.body.dump();
    expect(start.statusCode).toBe(202);
    const location = new URL(header(start.headers, 'location'), registry.url);
    location.searchParams.set('digest', digest);
    const put = await request(location, { method: 'PUT', body: blob, headers: { 'content-type': 'application/octet-stream' } });
    await put.body.dump();
    expect(put.statusCode).toBe(201);
    const hex = digest.slice('sha256:'.length);
    const stored = join(registry.dataDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    expect(readFileSync(stored)).toEqual(blob);
    const del = await request(`${registry.url}/v2/${repo}/blobs/${digest}`, { method: 'DELETE' });
    await del.body.dump();
    expect(del.statusCode).toBe(202);
    const gone = await request(`${registry.url}/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
    await gone.body.dump();
    expect(gone.statusCode).toBe(404);
  });
});

describe('htpasswd registry', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry('htpasswd');
  });
  afterAll(() => registry?.stop());

  it('asks for Basic credentials', async () => {
    const res = await get(`${registry.url}/v2/`);
    expect(res.status).toBe(401);
    expect(header(res.headers, 'www-authenticate')).toMatch(/^Basic realm="[^"]+"/);
  });

  it('accepts the right password and rejects a wrong one', async () => {
    expect(registry.username).toBeTruthy();
    expect(registry.password).toBeTruthy();
    const ok = await get(`${registry.url}/v2/`, { authorization: basic(registry.username!, registry.password!) });
    expect(ok.status).toBe(200);
    const wrong = await get(`${registry.url}/v2/`, { authorization: basic(registry.username!, `${registry.password}x`) });
    expect(wrong.status).toBe(401);
  });

  it('rejects readOnlyUser, which htpasswd cannot enforce', async () => {
    await expect(startRegistry('htpasswd', { readOnlyUser: { username: 'r', password: 'r' } })).rejects.toThrow(/token/);
  });
});

describe('token registry', () => {
  const reader = { username: 'reader', password: 'reader-secret' };
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry('token', { readOnlyUser: reader });
  });
  afterAll(() => registry?.stop());

  async function fetchToken(scope: string | undefined, authorization?: string) {
    const issuer = registry.tokenIssuer!;
    const query = new URLSearchParams({ service: issuer.service });
    if (scope !== undefined) query.set('scope', scope);
    const res = await get(`${issuer.realm}?${query}`, authorization ? { authorization } : {});
    return { status: res.status, body: res.status === 200 ? (JSON.parse(res.text) as Record<string, unknown>) : undefined, res };
  }

  function claimsOf(token: string): { access: Array<{ type: string; name: string; actions: string[] }>; aud: string } {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
  }

  it('challenges with Bearer realm and service', async () => {
    const res = await get(`${registry.url}/v2/`);
    expect(res.status).toBe(401);
    const challenge = parseBearer(header(res.headers, 'www-authenticate'));
    expect(challenge.realm).toBe(registry.tokenIssuer!.realm);
    expect(challenge.service).toBe(registry.tokenIssuer!.service);
  });

  it('accepts a token fetched with Basic credentials', async () => {
    const token = await fetchToken(undefined, basic(registry.username!, registry.password!));
    expect(token.status).toBe(200);
    expect(token.body).toMatchObject({ expires_in: 300 });
    expect(token.body?.access_token).toBe(token.body?.token);
    expect(typeof token.body?.issued_at).toBe('string');
    const res = await get(`${registry.url}/v2/`, { authorization: `Bearer ${String(token.body?.token)}` });
    expect(res.status).toBe(200);
  });

  it('rejects a token whose signature does not verify', async () => {
    const token = await fetchToken(undefined, basic(registry.username!, registry.password!));
    const [head, claims, signature] = String(token.body?.token).split('.');
    const flipped = Buffer.from(signature ?? '', 'base64url');
    flipped[0] = (flipped[0] ?? 0) ^ 0xff;
    const forged = `${head}.${claims}.${flipped.toString('base64url')}`;
    const res = await get(`${registry.url}/v2/`, { authorization: `Bearer ${forged}` });
    expect(res.status).toBe(401);
  });

  it('answers a wrong password with 401 from the issuer', async () => {
    const token = await fetchToken('repository:harness/x:pull', basic(registry.username!, 'wrong'));
    expect(token.status).toBe(401);
    expect(header(token.res.headers, 'www-authenticate')).toMatch(/^Basic realm=/);
  });

  it('pushes a blob monolithically with a push-scoped token and reuses it', async () => {
    const repo = 'harness/blob';
    const blob = Buffer.from('token registry blob');
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;

    // Anonymous token: valid, but grants nothing, so the registry still says 401 with the scope it needs.
    const anonymous = await fetchToken(`repository:${repo}:pull,push`);
    expect(anonymous.status).toBe(200);
    expect(claimsOf(String(anonymous.body?.token)).access).toEqual([]);
    const denied = await request(`${registry.url}/v2/${repo}/blobs/uploads/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${String(anonymous.body?.token)}` },
    });
    await denied.body.dump();
    expect(denied.statusCode).toBe(401);
    const challenge = parseBearer(header(denied.headers, 'www-authenticate'));
    // distribution lists the actions in Go map order: "pull,push" or "push,pull".
    const [type, name, actions] = (challenge.scope ?? '').split(':');
    expect([type, name]).toEqual(['repository', repo]);
    expect(actions?.split(',').sort()).toEqual(['pull', 'push']);

    const before = registry.tokenIssuer!.requestCount;
    const push = await fetchToken(challenge.scope, basic(registry.username!, registry.password!));
    expect(push.status).toBe(200);
    expect(registry.tokenIssuer!.requestCount).toBe(before + 1);
    const auth = { authorization: `Bearer ${String(push.body?.token)}` };
    // the token grants the scope as asked, actions in the challenge's (map) order
    const granted = claimsOf(String(push.body?.token)).access.map((a: { actions: string[] }) => ({ ...a, actions: [...a.actions].sort() }));
    expect(granted).toEqual([{ type: 'repository', name: repo, actions: ['pull', 'push'] }]);

    const start = await request(`${registry.url}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: auth });
    await start.body.dump();
    expect(start.statusCode).toBe(202);
    const location = new URL(header(start.headers, 'location'), registry.url);
    location.searchParams.set('digest', digest);
    const put = await request(location, {
      method: 'PUT',
      body: blob,
      headers: { ...auth, 'content-type': 'application/octet-stream' },
    });
    await put.body.dump();
    expect(put.statusCode).toBe(201);
    const head = await request(`${registry.url}/v2/${repo}/blobs/${digest}`, { method: 'HEAD', headers: auth });
    await head.body.dump();
    expect(head.statusCode).toBe(200);
    expect(header(head.headers, 'docker-content-digest')).toBe(digest);
    expect(registry.tokenIssuer!.requestCount).toBe(before + 1);
  });

  it('gives the read-only user pull only', async () => {
    const repo = 'harness/readonly';
    const token = await fetchToken(`repository:${repo}:pull,push`, basic(reader.username, reader.password));
    expect(token.status).toBe(200);
    expect(claimsOf(String(token.body?.token)).access).toEqual([{ type: 'repository', name: repo, actions: ['pull'] }]);
    const res = await request(`${registry.url}/v2/${repo}/blobs/uploads/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${String(token.body?.token)}` },
    });
    await res.body.dump();
    expect(res.statusCode).toBe(401);
  });
});

describe('tls registry', () => {
  let registry: RunningRegistry;
  let trusted: Agent;
  beforeAll(async () => {
    registry = await startRegistry('tls');
    trusted = new Agent({ connect: { ca: readFileSync(registry.caFile!, 'utf8') } });
  });
  afterAll(async () => {
    await trusted?.close();
    await registry?.stop();
  });

  it('serves https that verifies with the test CA, by name and by IP', async () => {
    expect(registry.host).toMatch(/^localhost:\d+$/);
    expect(registry.url).toBe(`https://${registry.host}`);
    expect((await get(`${registry.url}/v2/`, {}, trusted)).status).toBe(200);
    expect((await get(`https://127.0.0.1:${portOf(registry)}/v2/`, {}, trusted)).status).toBe(200);
  });

  it('fails without the CA', async () => {
    const untrusted = new Agent();
    try {
      await expect(get(`${registry.url}/v2/`, {}, untrusted)).rejects.toThrow(/certificate|self.signed|verify/i);
    } finally {
      await untrusted.close();
    }
  });

  it('can require a client certificate signed by the CA', async () => {
    const mtls = await startRegistry('tls', { requireClientCert: true });
    const ca = readFileSync(mtls.caFile!, 'utf8');
    const withCert = new Agent({
      connect: { ca, cert: readFileSync(mtls.clientCert!.certFile), key: readFileSync(mtls.clientCert!.keyFile) },
    });
    const withoutCert = new Agent({ connect: { ca } });
    try {
      expect((await get(`${mtls.url}/v2/`, {}, withCert)).status).toBe(200);
      await expect(get(`${mtls.url}/v2/`, {}, withoutCert)).rejects.toThrow();
    } finally {
      await withCert.close();
      await withoutCert.close();
      await mtls.stop();
    }
  });
});

describe('lifecycle', () => {
  it.each(['open', 'htpasswd', 'token', 'tls'] as const)('%s: stop() closes the port and removes the temp dir', async (kind) => {
    const registry = await startRegistry(kind);
    const issuerPort = registry.tokenIssuer ? Number(new URL(registry.tokenIssuer.url).port) : undefined;
    await expectStopped(registry);
    expect(existsSync(registry.dataDir)).toBe(false);
    if (issuerPort !== undefined) expect(await isPortOpen(issuerPort)).toBe(false);
    await registry.stop(); // idempotent
  });

  it.each([
    ['calls process.exit()', 'exit'],
    ['is killed with SIGKILL', 'kill'],
  ] as const)('no registry outlives a test process that %s', async (_label, how) => {
    // 'exit': the process's exit hook must kill the registry; 'kill': the guardian must.
    const harness = pathToFileURL(join(import.meta.dirname, '../support/registry.ts')).href;
    const script = [
      `import { startRegistry } from ${JSON.stringify(harness)};`,
      "const registry = await startRegistry('open');",
      'process.stdout.write(JSON.stringify({ host: registry.host, dataDir: registry.dataDir }) + "\\n");',
      'process.stdin.once("data", () => process.exit(0));',
    ].join('\n');
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
      });
      child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
    });
    const info = JSON.parse(line) as { host: string; dataDir: string };
    const port = Number(info.host.split(':')[1]);
    expect(await isPortOpen(port)).toBe(true);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    if (how === 'exit') child.stdin.write('stop\n');
    else child.kill('SIGKILL');
    await exited;
    const deadline = Date.now() + 10_000;
    while (((await isPortOpen(port)) || existsSync(info.dataDir)) && Date.now() < deadline) await sleep(100);
    expect(await isPortOpen(port)).toBe(false);
    expect(existsSync(info.dataDir)).toBe(false);
  });
});
