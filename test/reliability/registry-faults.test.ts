// Registry faults: the executable pushes and pulls through a fault-injecting proxy in front of a
// real registry (distribution 2.8). Each scenario either succeeds after retrying or fails with one
// clear message; afterwards the tag points where it pointed before or at the complete new artifact
// (never at a manifest with missing blobs), and a failed pull leaves its output directory as it was.
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli, runOk, type CliResult } from '../support/cli.ts';
import { startFaultProxy, type FaultProxy, type FaultRule } from '../support/fault-proxy.ts';
import { expectCleanFailure, kspPolicy, RawRegistry, snapshot, startRestartableRegistry, type RestartableRegistry } from './helpers.ts';

let registry: RestartableRegistry;
let raw: RawRegistry;
let work: string;
let proxy: FaultProxy | undefined;

beforeAll(async () => {
  registry = await startRestartableRegistry();
  raw = new RawRegistry(registry.reg.host);
  work = await mkdtemp(join(tmpdir(), 'reliability-faults-'));
});
afterEach(async () => {
  await proxy?.stop();
  proxy = undefined;
  if (!registry.isUp()) await registry.startServer();
});
afterAll(async () => {
  await raw?.close();
  await registry?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

async function withProxy(...rules: FaultRule[]): Promise<FaultProxy> {
  proxy = await startFaultProxy({ upstream: registry.reg.url });
  for (const r of rules) proxy.addRule(r);
  return proxy;
}

let sets = 0;
/** A directory of `count` KubeArmor policies; `big` adds a 600 KB message to the first (a layer large enough to cut mid-upload). */
async function policySet(version: string, count = 3, big = false): Promise<string> {
  const dir = join(work, `set-${++sets}`);
  await mkdir(dir);
  for (let i = 0; i < count; i++) {
    const message = big && i === 0 ? `${version} `.padEnd(600_000, 'x') : `policy ${i} ${version}`;
    await writeFile(join(dir, `p${i}.yaml`), stringify(kspPolicy(`p${i}`, message)));
  }
  return dir;
}

interface Pushed {
  digest: string;
}

async function pushDirect(repo: string, dir: string): Promise<Pushed> {
  return JSON.parse((await runOk(['push', `${registry.reg.host}/${repo}:v1`, dir, '--format', 'json'])).stdout) as Pushed;
}

/** The tag points at one of `allowed`, and every blob of what it points at is there. */
async function expectTagConsistent(repo: string, allowed: string[]): Promise<string> {
  const now = await raw.resolve(repo, 'v1');
  expect(now === undefined ? 'no tag' : allowed).toContain(now);
  expect(await raw.complete(repo, now!)).toBe(true);
  return now!;
}

function pushVia(p: FaultProxy, repo: string, dir: string, extra: string[] = []): Promise<CliResult> {
  return runCli(['push', `${p.host}/${repo}:v1`, dir, '--format', 'json', ...extra]);
}

function injected(p: FaultProxy): number {
  return p.log.filter((e) => e.fault).length;
}

describe('push through faults', () => {
  it('F01 503 for the first requests: push retries and succeeds', async () => {
    const old = await pushDirect('f01', await policySet('v1'));
    const p = await withProxy({ name: '503', times: 3, fault: { kind: 'status', status: 503 } });
    const r = await pushVia(p, 'f01', await policySet('v2'));
    expect(r.code, r.stderr).toBe(0);
    expect(injected(p)).toBe(3);
    const pushed = JSON.parse(r.stdout) as Pushed;
    expect(pushed.digest).not.toBe(old.digest);
    expect(await expectTagConsistent('f01', [pushed.digest])).toBe(pushed.digest);
  });

  it('F02 429 with Retry-After: push waits as long as asked, then succeeds', async () => {
    await pushDirect('f02', await policySet('v1'));
    const p = await withProxy({ name: '429', method: 'POST', times: 1, fault: { kind: 'status', status: 429, headers: { 'retry-after': '2' } } });
    const r = await pushVia(p, 'f02', await policySet('v2'));
    expect(r.code, r.stderr).toBe(0);
    const i = p.log.findIndex((e) => e.fault);
    expect(i).toBeGreaterThanOrEqual(0);
    // The retried upload start came at least the 2 s the server asked for after the 429.
    const retry = p.log.slice(i + 1).find((e) => e.method === 'POST' && e.path === p.log[i]!.path);
    expect(retry).toBeDefined();
    expect(retry!.at - p.log[i]!.at).toBeGreaterThanOrEqual(1900);
    await expectTagConsistent('f02', [(JSON.parse(r.stdout) as Pushed).digest]);
  });

  it('F03 connection reset in the middle of a blob upload: the upload session restarts and the push succeeds', async () => {
    await pushDirect('f03', await policySet('v1', 2, true));
    const big = (req: { headers: Record<string, unknown> }) => Number(req.headers['content-length']) > 500_000;
    const p = await withProxy({ name: 'reset', method: ['PUT', 'PATCH'], path: '/blobs/uploads/', when: big, times: 1, fault: { kind: 'reset-request', afterBytes: 64 * 1024 } });
    const r = await pushVia(p, 'f03', await policySet('v2', 2, true));
    expect(r.code, r.stderr).toBe(0);
    expect(injected(p)).toBe(1);
    // A new session was opened after the cut (POST again).
    const cut = p.log.find((e) => e.fault)!;
    expect(p.log.some((e) => e.n > cut.n && e.method === 'POST')).toBe(true);
    await expectTagConsistent('f03', [(JSON.parse(r.stdout) as Pushed).digest]);
  });

  it('F10 a server that stops answering: --request-timeout ends each wait, retries run out, one clear message, tag unchanged', async () => {
    const old = await pushDirect('f10', await policySet('v1'));
    const p = await withProxy({ name: 'stall', method: 'PUT', path: '/manifests/', fault: { kind: 'stall' } });
    const t0 = Date.now();
    const r = await pushVia(p, 'f10', await policySet('v2'), ['--request-timeout', '1s']);
    expectCleanFailure(r, 8, /PUT .*\/manifests\/v1 failed: .*(timeout|Timeout)/);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(p.injected('stall')).toBe(5); // every attempt waited, none forever
    expect(await expectTagConsistent('f10', [old.digest])).toBe(old.digest);
  });

  it('F11 registry stopped in the middle of a push and started again: the push retries and succeeds, the tag is complete', async () => {
    const old = await pushDirect('f11', await policySet('v1'));
    const p = await withProxy({
      name: 'restart',
      method: 'PUT',
      path: '/blobs/uploads/',
      times: 1,
      fault: {
        kind: 'hook',
        run: async () => {
          await registry.stopServer();
          // Back at once: the client's retries (at least 1.5 s in all) must find it up again.
          const t0 = Date.now();
          void registry.startServer().then(() => process.stderr.write(`F11: the registry was back after ${Date.now() - t0} ms\n`));
        },
      },
    });
    const r = await pushVia(p, 'f11', await policySet('v2'));
    expect(r.code, r.stderr).toBe(0);
    expect(p.log.some((e) => e.upstreamError)).toBe(true); // the registry really was gone
    const pushed = JSON.parse(r.stdout) as Pushed;
    expect(pushed.digest).not.toBe(old.digest);
    await expectTagConsistent('f11', [pushed.digest]);
  });

  it('F12 registry stopped in the middle of a push and not back in time: one clear message; after restart the tag is where it was; a new push works', async () => {
    const old = await pushDirect('f12', await policySet('v1'));
    const p = await withProxy({ name: 'down', method: 'PUT', path: '/blobs/uploads/', times: 1, fault: { kind: 'hook', run: () => registry.stopServer() } });
    const v2 = await policySet('v2');
    const r = await pushVia(p, 'f12', v2);
    expectCleanFailure(r, 8, /failed: .*(closed|reset|ECONNRESET|UND_ERR_SOCKET)/i);
    await registry.startServer();
    expect(await expectTagConsistent('f12', [old.digest])).toBe(old.digest);
    const again = await pushVia(p, 'f12', v2);
    expect(again.code, again.stderr).toBe(0);
    await expectTagConsistent('f12', [(JSON.parse(again.stdout) as Pushed).digest]);
  });

  it('F13 the manifest upload keeps failing (HTTP 500): blobs went up, the tag did not move', async () => {
    const old = await pushDirect('f13', await policySet('v1'));
    const p = await withProxy({ name: '500', method: 'PUT', path: '/manifests/', fault: { kind: 'status', status: 500 } });
    const r = await pushVia(p, 'f13', await policySet('v2'));
    expectCleanFailure(r, 8, /PUT .*\/manifests\/v1: HTTP 500/);
    expect(p.injected('500')).toBe(5);
    expect(await expectTagConsistent('f13', [old.digest])).toBe(old.digest);
  });
});

describe('pull through faults', () => {
  let source: Pushed;
  let expected: string[];
  beforeAll(async () => {
    source = await pushDirect('pull-src', await policySet('v1', 4, true));
    const out = join(work, 'pull-reference');
    await runOk(['pull', `${registry.reg.host}/pull-src:v1`, '-o', out]);
    expected = (await readdir(out)).sort();
  });

  /** A pre-filled output directory, pulled into with --force: what must stay as it was on failure. */
  async function outDir(): Promise<{ dir: string; before: Record<string, string>; parent: string[] }> {
    const parent = await mkdtemp(join(work, 'out-'));
    const dir = join(parent, 'out');
    await mkdir(dir);
    await writeFile(join(dir, 'p0.yaml'), 'kept: old content\n');
    await writeFile(join(dir, 'unrelated.txt'), 'mine\n');
    return { dir, before: await snapshot(dir), parent: await readdir(parent) };
  }

  async function expectUntouched(o: { dir: string; before: Record<string, string>; parent: string[] }): Promise<void> {
    expect(await snapshot(o.dir)).toEqual(o.before);
    expect(await readdir(join(o.dir, '..'))).toEqual(o.parent); // no staging directory left behind
  }

  async function pullVia(p: FaultProxy, dir: string, extra: string[] = []): Promise<CliResult> {
    return runCli(['pull', `${p.host}/pull-src:v1`, '-o', dir, '--force', '--format', 'json', ...extra]);
  }

  it('F01 503 for the first requests: pull retries and succeeds', async () => {
    const p = await withProxy({ name: '503', times: 3, fault: { kind: 'status', status: 503 } });
    const o = await outDir();
    const r = await pullVia(p, o.dir);
    expect(r.code, r.stderr).toBe(0);
    expect(injected(p)).toBe(3);
    expect((await readdir(o.dir)).sort()).toEqual([...expected, 'unrelated.txt'].sort());
  });

  it('F04 connection reset in the middle of a blob download: pull retries and succeeds', async () => {
    const p = await withProxy({ name: 'reset', method: 'GET', path: '/blobs/sha256:', times: 2, fault: { kind: 'reset-response', afterBytes: 10_000 } });
    const o = await outDir();
    const r = await pullVia(p, o.dir);
    expect(r.code, r.stderr).toBe(0);
    expect(injected(p)).toBe(2);
    expect(JSON.parse(r.stdout).digest).toBe(source.digest);
  });

  it('F05 truncated body (the connection closes before Content-Length is reached): pull retries and succeeds', async () => {
    const p = await withProxy({ name: 'trunc', method: 'GET', path: '/blobs/sha256:', times: 1, fault: { kind: 'truncate', toBytes: 100, keepLength: true } });
    const o = await outDir();
    const r = await pullVia(p, o.dir);
    expect(r.code, r.stderr).toBe(0);
    expect(injected(p)).toBe(1);
  });

  it('F06 truncated body that ends cleanly (chunked): refused by its digest, one clear message, output as it was', async () => {
    const p = await withProxy({ name: 'trunc', method: 'GET', path: '/blobs/sha256:', fault: { kind: 'truncate', toBytes: 100 } });
    const o = await outDir();
    const r = await pullVia(p, o.dir);
    expectCleanFailure(r, 6, /is 100 bytes, but its descriptor says \d+/);
    await expectUntouched(o);
  });

  it('F07 a blob whose bytes do not match its digest: refused, one clear message, output as it was', async () => {
    const p = await withProxy({ name: 'corrupt', method: 'GET', path: '/blobs/sha256:', fault: { kind: 'corrupt' } });
    const o = await outDir();
    const r = await pullVia(p, o.dir);
    expectCleanFailure(r, 6, /does not match its digest: expected sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}/);
    await expectUntouched(o);
  });

  it('F08 a manifest whose bytes do not match the digest the registry announced: refused, output as it was', async () => {
    const p = await withProxy({ name: 'corrupt', method: 'GET', path: '/manifests/', fault: { kind: 'corrupt', offset: 30 } });
    const o = await outDir();
    const r = await pullVia(p, o.dir);
    expectCleanFailure(r, 6, /does not match its digest|not valid JSON/);
    await expectUntouched(o);
  });

  it('F09 a server that stalls some requests: --request-timeout ends the wait, the retry succeeds', async () => {
    const p = await withProxy(
      { name: 'stall-manifest', method: 'GET', path: '/manifests/', times: 1, fault: { kind: 'stall' } },
      { name: 'stall-body', method: 'GET', path: '/blobs/sha256:', times: 1, fault: { kind: 'stall', afterBytes: 50 } },
    );
    const o = await outDir();
    const t0 = Date.now();
    const r = await pullVia(p, o.dir, ['--request-timeout', '1s']);
    expect(r.code, r.stderr).toBe(0);
    expect(p.injected('stall-manifest') + p.injected('stall-body')).toBe(2);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('F14 registry stopped in the middle of a pull: one clear message, output as it was; a pull after the restart works', async () => {
    const p = await withProxy({ name: 'down', method: 'GET', path: '/blobs/sha256:', times: 1, fault: { kind: 'hook', run: () => registry.stopServer() } });
    const o = await outDir();
    const r = await pullVia(p, o.dir);
    expectCleanFailure(r, 8, /GET .*\/blobs\/sha256:[0-9a-f]{64} failed/);
    await expectUntouched(o);
    await registry.startServer();
    const again = await pullVia(p, o.dir);
    expect(again.code, again.stderr).toBe(0);
  });

  it('F15 a registry that is not there at all (connection refused): one clear message naming the host', async () => {
    const p = await withProxy();
    await p.goAway();
    const o = await outDir();
    const r = await pullVia(p, o.dir);
    expectCleanFailure(r, 8, new RegExp(`${p.host.replace(/\./g, '\\.')}.* failed: .*ECONNREFUSED`));
    await expectUntouched(o);
  });

  it('F02 429 with an HTTP-date Retry-After on a pull: not retried before that date, then success', async () => {
    const when = new Date(Date.now() + 3000).toUTCString(); // whole seconds
    const p = await withProxy({ name: '429', method: 'GET', path: '/blobs/sha256:', times: 1, fault: { kind: 'status', status: 429, headers: { 'retry-after': when } } });
    const o = await outDir();
    const r = await pullVia(p, o.dir);
    expect(r.code, r.stderr).toBe(0);
    const i = p.log.findIndex((e) => e.fault);
    const retry = p.log.slice(i + 1).find((e) => e.path === p.log[i]!.path);
    expect(retry!.at).toBeGreaterThanOrEqual(Date.parse(when) - 50);
  });
});
