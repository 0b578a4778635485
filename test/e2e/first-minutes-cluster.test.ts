// Issue 13, the cluster side of "the first fifteen minutes": a kubeconfig whose server is not a
// Kubernetes API server (9), an API server on a port Node's fetch refuses (9), apply of an image
// without policy layers (3), and the -v/--verbose trace of API requests without the bearer
// token (12). Through the executable, against a real API server (etcd + kube-apiserver), a real
// web server and a real registry.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli, runOk, type CliResult } from '../support/cli.ts';
import { startCluster, writeKubeconfig, type RunningCluster } from '../support/cluster.ts';
import { clusterUser } from '../support/kubeconfig.ts';
import { getFreePort } from '../support/ports.ts';
import { pushTestImage } from '../support/referrers-registry.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';
import { startRelayOnBadPort, startWebServer, WEB_PAGE, WEB_PAGE_TITLE } from '../support/servers.ts';

const POLICY = join(REPO_ROOT, 'examples', 'policies', 'kyverno', 'require-labels.yaml');

let cluster: RunningCluster;
let reg: RunningRegistry;
let work: string;
let ref: string;

beforeAll(async () => {
  [cluster, reg] = await Promise.all([startCluster('first-minutes'), startRegistry('open')]);
  work = await mkdtemp(join(tmpdir(), 'first-minutes-cluster-'));
  ref = `${reg.host}/cluster-policies:v1`;
  await runOk(['push', ref, POLICY]);
}, 300_000);
afterAll(async () => Promise.all([cluster?.stop(), reg?.stop()]));

/** A kubeconfig for `server` with the test cluster's CA and the given user. */
function kubeconfigFor(name: string, server: string, credentials: 'admin' | 'token' = 'admin'): string {
  return writeKubeconfig(join(work, name), {
    clusters: [{ name: 'c', server, caFile: cluster.caFile }],
    users: [clusterUser(cluster, credentials, 'u')],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
  });
}

function errorText(r: CliResult): string {
  return r.stderr.split('\n').filter((l) => l.startsWith('Error:')).join('\n');
}

describe('item 9: a kubeconfig server that is not a Kubernetes API server', () => {
  it.each([
    ['answers 404 pages', 404],
    ['answers every path with a 200 page', 200],
  ])('one short line naming what answered when the web server %s, never the page', async (_what, status) => {
    const web = await startWebServer({ status });
    try {
      const kubeconfig = writeKubeconfig(join(work, `web-${status}`), {
        clusters: [{ name: 'web', server: `http://${web.host}` }],
        users: [{ name: 'u', token: 'not-a-real-token' }],
        contexts: [{ name: 'web', cluster: 'web', user: 'u' }],
      });
      for (const args of [['apply', ref], ['diff', ref], ['export', '--output-dir', join(work, `export-${status}`)]]) {
        const r = await runCli([...args, '--kubeconfig', kubeconfig]);
        expect(r.code, `${args[0]}: ${r.stderr}`).toBe(8);
        const error = errorText(r);
        expect(error).toMatch(new RegExp(`the server at http://${web.host.replace(/\./g, '\\.')} answered HTTP ${status} with an HTML page: "${WEB_PAGE_TITLE}", not a Kubernetes API answer`));
        expect(r.stderr.length).toBeLessThan(1000);
        expect(r.stderr).not.toMatch(/<html|<p>|lorem ipsum/i);
        expect(WEB_PAGE.length).toBeGreaterThan(5000);
      }
      expect(web.requests.length).toBeGreaterThan(0);
    } finally {
      await web.stop();
    }
  });
});

describe('item 9: a kubeconfig server where nothing listens', () => {
  it('says so in one line and asks whether the cluster is running', async () => {
    const port = await getFreePort();
    const kubeconfig = kubeconfigFor('refused', `https://127.0.0.1:${port}`);
    const r = await runCli(['apply', ref, '--kubeconfig', kubeconfig]);
    expect(r.code).toBe(8);
    expect(errorText(r)).toMatch(new RegExp(`cannot reach the API server at https://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED.*is the cluster running`));
  });
});

describe('item 9: an API server on a port Node\'s fetch refuses', () => {
  it('apply, diff and export reach it, as kubectl does', async () => {
    const port = new URL(cluster.server).port;
    const relay = await startRelayOnBadPort(`127.0.0.1:${port}`);
    try {
      const kubeconfig = kubeconfigFor('bad-port', `https://127.0.0.1:${relay.port}`);
      const apply = await runOk(['apply', ref, '--kubeconfig', kubeconfig]);
      expect(apply.stdout).toMatch(/clusterpolicy\/require-labels (created|unchanged|configured)/);
      const diff = await runCli(['diff', ref, '--kubeconfig', kubeconfig]);
      expect(diff.code, diff.stderr).toBe(0);
      const exported = await runOk(['export', '--output-dir', join(work, 'bad-port-export'), '--kubeconfig', kubeconfig, '--format', 'json']);
      expect(exported.stdout).toContain('require-labels');
    } finally {
      await relay.stop();
    }
  });
});

describe('item 3: apply of an image without policy layers', () => {
  it('fails before the cluster is touched, pointing at --from-referrers', async () => {
    await pushTestImage(`${reg.host}/an-image:v1`);
    const kubeconfig = kubeconfigFor('image', cluster.server);
    for (const args of [['apply', `${reg.host}/an-image:v1`], ['pull', `${reg.host}/an-image:v1`, '--apply']]) {
      const r = await runCli([...args, '--kubeconfig', kubeconfig]);
      expect(r.code, r.stderr).toBe(3);
      expect(errorText(r)).toMatch(/no policy layers in .*an-image:v1@sha256:[0-9a-f]{64}.*did you mean --from-referrers\?/);
      expect(r.stdout).not.toMatch(/created|0 failed/);
    }
  });
});

describe('item 12: -v/--verbose on the cluster side', () => {
  it('traces every API request (method, URL, status, timing), says Bearer, never shows the token', async () => {
    const kubeconfig = kubeconfigFor('verbose', cluster.server, 'token');
    const r = await runOk(['apply', ref, '--kubeconfig', kubeconfig, '-v']);
    const server = cluster.server.replace(/\./g, '\\.');
    expect(r.stderr).toMatch(new RegExp(`HTTP GET ${server}/apis -> 200 \\(\\d+ ms, Bearer auth\\)`));
    expect(r.stderr).toMatch(new RegExp(`HTTP PATCH ${server}/apis/kyverno\\.io/v1/clusterpolicies/require-labels\\?fieldManager=kubectl-policyoci&fieldValidation=Strict -> 20[01]`));
    // The registry side is traced too.
    expect(r.stderr).toMatch(/HTTP (HEAD|GET) http:\/\/.*\/v2\/cluster-policies\/manifests\/v1 -> 200/);
    expect(r.stderr).not.toContain(cluster.adminToken);
    expect(r.stdout).not.toMatch(/HTTP (GET|PATCH)/);
  });
});
