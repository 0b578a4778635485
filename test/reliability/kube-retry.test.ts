// API-server requests get the registry's retry policy (src/kube/http.ts): a real kube-apiserver
// behind the fault-injecting proxy (TLS, a certificate of the cluster's CA). 429 with Retry-After,
// 503 and a connection reset before the answer are retried and the command succeeds, the proxy's
// log showing every attempt; a request that may have been applied and is not idempotent (the POST
// creating a namespace) is never sent twice, while a 429 — refused before it was handled — is.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createServerCert } from '../support/certs.ts';
import { runCli, runOk, type CliResult } from '../support/cli.ts';
import { writeKubeconfig } from '../support/cluster.ts';
import { startFaultProxy, type FaultProxy, type FaultRule, type LogEntry } from '../support/fault-proxy.ts';
import { expectCleanFailure, KSP_PATH, kspPolicy, startSmallCluster, type SmallCluster } from './helpers.ts';

let small: SmallCluster;
let work: string;

beforeAll(async () => {
  small = await startSmallCluster('kube-retry');
  work = await mkdtemp(join(tmpdir(), 'kube-retry-'));
}, 240_000);
afterAll(async () => {
  await small?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** A TLS fault proxy in front of the API server, with a kubeconfig (bearer token) going through it. */
async function apiProxy(...rules: FaultRule[]): Promise<{ proxy: FaultProxy; kubeconfig: string }> {
  const cluster = small.cluster;
  const dir = await mkdtemp(join(work, 'proxy-'));
  const cert = await createServerCert(cluster.ca, dir, { hosts: ['127.0.0.1'] });
  const proxy = await startFaultProxy({
    upstream: cluster.server,
    upstreamCa: await readFile(cluster.caFile),
    tls: { cert: await readFile(cert.certFile), key: await readFile(cert.keyFile) },
  });
  for (const r of rules) proxy.addRule(r);
  const kubeconfig = writeKubeconfig(join(dir, 'kubeconfig'), {
    clusters: [{ name: 'via-proxy', server: proxy.url, caFile: cluster.caFile }],
    users: [{ name: 'token', token: cluster.adminToken }],
    contexts: [{ name: 'via-proxy', cluster: 'via-proxy', user: 'token' }],
  });
  return { proxy, kubeconfig };
}

let sets = 0;
/** The policies as an OCI layout artifact; returns DIR:tag. */
async function layoutOf(objects: object[]): Promise<string> {
  const dir = join(work, `set-${++sets}`);
  await mkdir(dir);
  for (const [i, o] of objects.entries()) await writeFile(join(dir, `${i}.yaml`), stringify(o));
  const ref = `${join(work, 'layout')}:s${sets}`;
  await runOk(['push', '--oci-layout', ref, dir, '-q']);
  return ref;
}

const status = (code: number, reason: string) => JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: `injected ${code}`, reason, code });

/** The log entries of one method and path (with its query). */
const seen = (log: LogEntry[], method: string, path: string) => log.filter((e) => e.method === method && e.path.split('?')[0] === path);

function actionOf(r: CliResult, name: string): string | undefined {
  return (JSON.parse(r.stdout) as { results: Array<{ name: string; action: string }> }).results.find((x) => x.name === name)?.action;
}

async function messageOf(name: string, namespace = 'default'): Promise<string | undefined> {
  const res = await small.api(`/apis/security.kubearmor.com/v1/namespaces/${namespace}/kubearmorpolicies/${name}`);
  return res.status === 200 ? (res.json as { spec: { message: string } }).spec.message : undefined;
}

describe('API-server requests are retried as registry requests are', () => {
  it('A07 429 with Retry-After on a server-side apply, twice: waited for and retried, the policy created; the log shows the three attempts', async () => {
    const ref = await layoutOf([kspPolicy('k01-p', 'v1')]);
    const { proxy, kubeconfig } = await apiProxy({ name: '429', method: 'PATCH', path: '/k01-p?', times: 2, fault: { kind: 'status', status: 429, headers: { 'retry-after': '1' }, body: status(429, 'TooManyRequests') } });
    try {
      const r = await runCli(['apply', '--oci-layout', ref, '--kubeconfig', kubeconfig, '--format', 'json']);
      expect(r.code, r.stderr).toBe(0);
      expect(actionOf(r, 'k01-p')).toBe('created');
      const attempts = seen(proxy.log, 'PATCH', `${KSP_PATH}/k01-p`);
      expect(attempts.map((e) => e.status)).toEqual([429, 429, 201]);
      expect(proxy.injected('429')).toBe(2);
      expect(await messageOf('k01-p')).toBe('v1');
    } finally {
      await proxy.stop();
    }
  });

  it('A08 503 on discovery and on the read of an object: retried, the apply succeeds; -v lists every attempt', async () => {
    const ref = await layoutOf([kspPolicy('k02-p', 'v1')]);
    const { proxy, kubeconfig } = await apiProxy(
      { name: 'discovery', method: 'GET', path: /^\/apis(\?|$)/, times: 2, fault: { kind: 'status', status: 503, body: status(503, 'ServiceUnavailable') } },
      { name: 'get', method: 'GET', path: '/k02-p', times: 1, fault: { kind: 'status', status: 503, body: status(503, 'ServiceUnavailable') } },
    );
    try {
      const r = await runCli(['apply', '--oci-layout', ref, '--kubeconfig', kubeconfig, '-v']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^kubearmorpolicy\/default\/k02-p created$/m);
      expect(proxy.injected('discovery')).toBe(2);
      expect(proxy.injected('get')).toBe(1);
      expect(seen(proxy.log, 'GET', `${KSP_PATH}/k02-p`).map((e) => e.status)).toEqual([503, 404]);
      // -v: one line per attempt, the 503s included.
      expect(r.stderr.split('\n').filter((l) => /GET .*\/kubearmorpolicies\/k02-p/.test(l))).toHaveLength(2);
    } finally {
      await proxy.stop();
    }
  });

  it('A09 the connection reset before the answer (request read, never forwarded), and after the apply was done (answer cut): a server-side apply is sent again and succeeds', async () => {
    const ref = await layoutOf([kspPolicy('k03-before', 'v1'), kspPolicy('k03-after', 'v1')]);
    const { proxy, kubeconfig } = await apiProxy(
      { name: 'reset-before', method: 'PATCH', path: '/k03-before?', times: 1, fault: { kind: 'reset-request', afterBytes: 1_000_000 } },
      { name: 'reset-after', method: 'PATCH', path: '/k03-after?', times: 1, fault: { kind: 'reset-response', afterBytes: 10 } },
    );
    try {
      const r = await runCli(['apply', '--oci-layout', ref, '--kubeconfig', kubeconfig, '--format', 'json']);
      expect(r.code, r.stderr).toBe(0);
      expect(seen(proxy.log, 'PATCH', `${KSP_PATH}/k03-before`)).toHaveLength(2);
      expect(seen(proxy.log, 'PATCH', `${KSP_PATH}/k03-after`)).toHaveLength(2);
      // Read before the first attempt: created, though the first attempt already created it.
      expect([actionOf(r, 'k03-before'), actionOf(r, 'k03-after')]).toEqual(['created', 'created']);
      expect([await messageOf('k03-before'), await messageOf('k03-after')]).toEqual(['v1', 'v1']);
    } finally {
      await proxy.stop();
    }
  });

  it('A10 not idempotent: the POST creating a namespace is sent once when its connection resets or it gets a 503 (it may have been done), but again after a 429', async () => {
    const ns = (n: string) => `k04-${n}`;
    const refs: string[] = [];
    for (const n of ['reset', 'busy', 'limited']) refs.push(await layoutOf([kspPolicy(`k04-${n}`, 'v1', ns(n))]));
    const post = (log: LogEntry[]) => seen(log, 'POST', '/api/v1/namespaces');
    const reset = await apiProxy({ name: 'reset', method: 'POST', path: '/api/v1/namespaces', fault: { kind: 'reset-request', afterBytes: 1_000_000 } });
    try {
      const r = await runCli(['apply', '--oci-layout', refs[0]!, '--kubeconfig', reset.kubeconfig, '--create-namespace']);
      expect(r.code).toBe(8);
      expect(r.stdout).toMatch(/^kubearmorpolicy\/k04-reset\/k04-reset failed: create namespace k04-reset: cannot reach the API server/m);
      expect(post(reset.proxy.log)).toHaveLength(1);
    } finally {
      await reset.proxy.stop();
    }
    const busy = await apiProxy({ name: '503', method: 'POST', path: '/api/v1/namespaces', fault: { kind: 'status', status: 503, body: status(503, 'ServiceUnavailable') } });
    try {
      const r = await runCli(['apply', '--oci-layout', refs[1]!, '--kubeconfig', busy.kubeconfig, '--create-namespace']);
      expect(r.code).toBe(8);
      expect(post(busy.proxy.log)).toHaveLength(1);
    } finally {
      await busy.proxy.stop();
    }
    expect((await small.api(`/api/v1/namespaces/${ns('reset')}`)).status).toBe(404);
    const limited = await apiProxy({ name: '429', method: 'POST', path: '/api/v1/namespaces', times: 1, fault: { kind: 'status', status: 429, headers: { 'retry-after': '1' }, body: status(429, 'TooManyRequests') } });
    try {
      const r = await runCli(['apply', '--oci-layout', refs[2]!, '--kubeconfig', limited.kubeconfig, '--create-namespace']);
      expect(r.code, r.stderr).toBe(0);
      expect(post(limited.proxy.log).map((e) => e.status)).toEqual([429, 201]);
      expect(await messageOf('k04-limited', ns('limited'))).toBe('v1');
    } finally {
      await limited.proxy.stop();
    }
  });

  it('A11 a 503 that never ends: five attempts, then the status in the report (exit 8); a stalled answer is not retried (--request-timeout bounds the one attempt)', async () => {
    const ref = await layoutOf([kspPolicy('k05-p', 'v1')]);
    const down = await apiProxy({ name: '503', method: 'PATCH', path: '/k05-p?', fault: { kind: 'status', status: 503, body: status(503, 'ServiceUnavailable') } });
    try {
      const r = await runCli(['apply', '--oci-layout', ref, '--kubeconfig', down.kubeconfig, '--format', 'json']);
      expect(r.code).toBe(8);
      expect(seen(down.proxy.log, 'PATCH', `${KSP_PATH}/k05-p`)).toHaveLength(5);
    } finally {
      await down.proxy.stop();
    }
    const stalled = await apiProxy({ name: 'stall', method: 'PATCH', path: '/k05-p?', fault: { kind: 'stall' } });
    try {
      const r = await runCli(['apply', '--oci-layout', ref, '--kubeconfig', stalled.kubeconfig, '--request-timeout', '1s']);
      expectCleanFailure(r, 8, /1 of 1 object failed/);
      expect(seen(stalled.proxy.log, 'PATCH', `${KSP_PATH}/k05-p`)).toHaveLength(1);
    } finally {
      await stalled.proxy.stop();
    }
  });
});
