// apply, diff, export and migrate with the executable: what their flags promise, against two real
// API servers (etcd + kube-apiserver built from Go modules, engine CRDs installed), a real registry,
// and a "cluster" that is only a local socket recording every connection made to it — so "contacts
// no cluster" is observed, not assumed.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli, runOk } from '../support/cli.ts';
import { clusterAgent, kubeRequest, mergedKubeconfig, startCluster, type RunningCluster } from '../support/cluster.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';

const EXAMPLES = join(REPO_ROOT, 'examples', 'policies');

let reg: RunningRegistry;
let a: RunningCluster;
let b: RunningCluster;
let work: string;
let kubeconfig: string;
let recorder: { server: Server; connections: number; kubeconfig: string };
let key: string;
let pub: string;

/** A TCP listener posing as an API server: it counts connections and closes each at once. */
async function startRecorder(dir: string): Promise<typeof recorder> {
  const rec = { connections: 0 } as typeof recorder;
  rec.server = createServer((socket) => {
    rec.connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => rec.server.listen(0, '127.0.0.1', resolve));
  const { port } = rec.server.address() as { port: number };
  rec.kubeconfig = join(dir, 'kubeconfig-recorder');
  await writeFile(
    rec.kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters: [{name: r, cluster: {server: "https://127.0.0.1:${port}"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: recorder, context: {cluster: r, user: u}}]\ncurrent-context: recorder\n`,
  );
  return rec;
}

beforeAll(async () => {
  [reg, a, b] = await Promise.all([startRegistry('open'), startCluster('verbs-a'), startCluster('verbs-b')]);
  work = await mkdtemp(join(tmpdir(), 'cluster-verbs-'));
  kubeconfig = mergedKubeconfig([a, b], work);
  recorder = await startRecorder(work);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  key = join(work, 'ec.key');
  pub = join(work, 'ec.pub');
  await writeFile(key, privateKey.export({ format: 'pem', type: 'sec1' }));
  await writeFile(pub, publicKey.export({ format: 'pem', type: 'spki' }));
}, 300_000);
afterAll(async () => {
  await new Promise<void>((resolve) => (recorder ? recorder.server.close(() => resolve()) : resolve()));
  await Promise.all([reg?.stop(), a?.stop(), b?.stop()]);
});

const inA = (args: string[]) => [...args, '--kubeconfig', kubeconfig, '--context', 'verbs-a'];
const inB = (args: string[]) => [...args, '--kubeconfig', kubeconfig, '--context', 'verbs-b'];
const inRecorder = (args: string[]) => [...args, '--kubeconfig', recorder.kubeconfig];

async function status(cluster: RunningCluster, path: string, method: 'GET' | 'DELETE' = 'GET'): Promise<number> {
  return (await kubeRequest(cluster.server, path, { method, token: cluster.adminToken, dispatcher: clusterAgent(cluster) })).status;
}

describe('diff --verify-key', () => {
  it('refuses an unsigned artifact with exit 6 before contacting the cluster; a signed one is compared', async () => {
    const signed = `${reg.host}/diff:signed`;
    const unsigned = `${reg.host}/diff:unsigned`;
    await runOk(['push', signed, join(EXAMPLES, 'kyverno')]);
    await runOk(['sign', signed, '--key', key]);
    await runOk(['push', unsigned, join(EXAMPLES, 'kubearmor')]);

    const before = recorder.connections;
    const refused = await runCli(inRecorder(['diff', unsigned, '--verify-key', pub]));
    expect(refused.code, refused.stderr).toBe(6);
    expect(refused.stderr).toMatch(/is not signed/);
    expect(refused.stdout).toBe('');
    expect(recorder.connections).toBe(before);
    // The same against a real cluster: refused as well (it is never asked).
    expect((await runCli(inA(['diff', unsigned, '--verify-key', pub]))).code).toBe(6);

    // Signed: checked, then compared (exit 1: everything would be created).
    const first = await runCli(inA(['diff', signed, '--verify-key', pub, '--format', 'json']));
    expect(first.code, first.stderr).toBe(1);
    const report = JSON.parse(first.stdout);
    expect(report.verified).toBe(true);
    expect(report.changed).toBeGreaterThan(0);
    expect(report.results.every((r: { change: string }) => r.change === 'create')).toBe(true);
    await runOk(inA(['apply', signed, '--verify-key', pub]));
    const after = await runCli(inA(['diff', signed, '--verify-key', pub]));
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toMatch(/^0 of \d+ objects would change in context verbs-a$/m);
  });

  it('offers no flag that means nothing for it (it never writes)', async () => {
    for (const flag of ['--dry-run=server', '--create-namespace', '-A']) {
      const r = await runCli(inA(['diff', `${reg.host}/diff:signed`, flag]));
      expect(r.code, flag).toBe(2);
      expect(r.stderr, flag).toMatch(/unknown flag/);
    }
  });
});

describe('diff -n NS of a namespace that does not exist', () => {
  it('fails naming the namespace, as apply does, instead of reporting a change (exit 1)', async () => {
    const ref = `${reg.host}/diff-missing-ns:v1`;
    // A KubeArmorPolicy (namespaced, retargeted by -n) and a KubeArmorHostPolicy (cluster-scoped).
    await runOk(['push', ref, join(EXAMPLES, 'kubearmor')]);
    const missing = 'no-such-namespace';
    expect(await status(a, `/api/v1/namespaces/${missing}`)).toBe(404);

    const applied = await runCli(inA(['apply', ref, '-n', missing, '--dry-run=server']));
    expect(applied.code, applied.stderr).toBe(8);
    expect(applied.stdout).toMatch(new RegExp(`^kubearmorpolicy/${missing}/\\S+ failed: namespace ${missing} does not exist`, 'm'));

    const text = await runCli(inA(['diff', ref, '-n', missing]));
    expect(text.code, `${text.stdout}\n${text.stderr}`).toBe(8);
    expect(text.stdout).toMatch(new RegExp(`^kubearmorpolicy/${missing}/\\S+: namespace ${missing} does not exist \\(apply would fail; use apply --create-namespace\\)$`, 'm'));
    expect(text.stderr).toMatch(/could not be compared/);

    const report = JSON.parse((await runCli(inA(['diff', ref, '-n', missing, '--format', 'json']))).stdout);
    const byKind = Object.fromEntries(report.results.map((r: { kind: string }) => [r.kind, r]));
    expect(byKind.KubeArmorPolicy).toMatchObject({ namespace: missing, change: 'error', changed: false, error: expect.stringContaining(`namespace ${missing} does not exist`) });
    // The cluster-scoped policy is compared as usual.
    expect(byKind.KubeArmorHostPolicy.change).not.toBe('error');
    expect(report.errors).toBe(1);
  });
});

describe('apply --dry-run=client', () => {
  it('reads and checks the artifact and lists what would be applied, contacting no cluster', async () => {
    const ref = `${reg.host}/client-dry:v1`;
    await runOk(['push', ref, EXAMPLES]);
    const before = recorder.connections;
    const text = await runCli(inRecorder(['apply', ref, '--dry-run=client', '-n', 'team-z', '--prune']));
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^clusterpolicy\/require-labels would be applied \(client dry run\)$/m);
    expect(text.stdout).toMatch(/^kubearmorpolicy\/team-z\/\S+ would be applied \(client dry run\)$/m);
    expect(text.stdout).toMatch(/^\d+ would be applied, 0 failed \(context recorder, client dry run: no cluster was contacted\)$/m);
    expect(text.stderr).toMatch(/--prune: .*client dry run does not contact/);
    const json = JSON.parse((await runOk(inRecorder(['pull', ref, '--apply', '--dry-run=client', '--format', 'json']))).stdout);
    expect(json.dryRunStrategy).toBe('client');
    expect(json.results.length).toBeGreaterThan(0);
    expect(json.results.every((r: { action: string }) => r.action === 'would-apply')).toBe(true);
    expect(recorder.connections).toBe(before);

    // The recorder does see a server dry run (which needs the cluster, and so fails here).
    const server = await runCli(inRecorder(['apply', ref, '--dry-run=server']));
    expect(server.code).toBe(8);
    expect(recorder.connections).toBeGreaterThan(before);

    // Against a real cluster nothing is created.
    await runOk(inB(['apply', ref, '--dry-run=client']));
    expect(await status(b, '/apis/kyverno.io/v1/clusterpolicies/require-labels')).toBe(404);
  });
});

describe('export', () => {
  it('refuses flags that mean nothing for files or for a push', async () => {
    const out = join(work, 'refused');
    for (const args of [
      ['--output-dir', out, '--bundle'],
      ['--output-dir', out, '--annotation', 'a=b'],
      ['--output-dir', out, '--plain-http'],
      ['--output-dir', out, '--concurrency', '2'],
      ['--output-dir', out, '--dry-run'],
      [`${reg.host}/x:v1`, '--output-dir', out],
      [`${reg.host}/x:v1`, '--force'],
    ]) {
      const r = await runCli(inA(['export', ...args]));
      expect(r.code, args.join(' ')).toBe(2);
    }
    expect(existsSync(out)).toBe(false);
  });

  it('--dry-run shows what would be pushed and pushes nothing', async () => {
    await runOk(inA(['apply', `${reg.host}/diff:signed`]));
    const r = await runOk(inA(['export', `${reg.host}/export-dry:v1`, '--dry-run', '--format', 'json']));
    const report = JSON.parse(r.stdout);
    expect(report.mode).toBe('dry-run');
    expect(report.policies).toBeGreaterThan(0);
    expect((await runCli(['inspect', `${reg.host}/export-dry:v1`])).code).toBe(4);
  });
});

describe('migrate through an OCI layout', () => {
  it('runs the documented --via DIR:tag --oci-layout form, applies what it reads back, and --prune follows deletions', async () => {
    expect((await runOk(['migrate', '--help'])).stdout).toContain('--via ./snap:v1 --oci-layout');
    await runOk(['push', `${reg.host}/migrate-src:v1`, EXAMPLES]);
    await runOk(inA(['apply', `${reg.host}/migrate-src:v1`, '--create-namespace']));
    const snap = join(work, 'snap');
    const migrate = (...extra: string[]) => ['migrate', '--kubeconfig', kubeconfig, '--from-context', 'verbs-a', '--to-context', 'verbs-b', '--via', `${snap}:v1`, '--oci-layout', '--create-namespace', '--format', 'json', ...extra];

    // A dry run pushes nothing and, on the client, asks --to-context nothing.
    const dry = JSON.parse((await runOk([...migrate('--dry-run=client')])).stdout);
    expect(dry.via).toMatchObject({ pushed: false });
    expect(dry.results.every((r: { action: string }) => r.action === 'would-apply')).toBe(true);
    expect(existsSync(snap)).toBe(false);

    const first = JSON.parse((await runOk(migrate())).stdout);
    expect(first.via).toMatchObject({ reference: `${snap}:v1`, pushed: true, unchanged: false });
    expect(first.counts.failed).toBe(0);
    expect(first.counts.created).toBe(first.exported);
    expect(await status(b, '/apis/kyverno.io/v1/clusterpolicies/require-labels')).toBe(200);
    // The layout is a record that reads back: the same policies.
    const pulled = join(work, 'pulled');
    await runOk(['pull', '--oci-layout', `${snap}:v1`, '-o', pulled]);
    expect((await readdir(pulled)).length).toBe(first.exported);

    // --prune marks what it applies with the layout as source; a policy deleted in A then goes from B.
    const marked = JSON.parse((await runOk(migrate('--prune'))).stdout);
    expect(marked.pruneSource).toBe(`oci-layout:${snap}`);
    expect(marked.via.unchanged).toBe(true);
    expect(marked.counts.failed).toBe(0);
    expect(await status(a, '/apis/kyverno.io/v1/clusterpolicies/require-labels', 'DELETE')).toBe(200);
    const pruned = JSON.parse((await runOk(migrate('--prune'))).stdout);
    expect(pruned.results).toContainEqual(expect.objectContaining({ kind: 'ClusterPolicy', name: 'require-labels', action: 'pruned' }));
    expect(pruned.counts.unchanged).toBe(pruned.exported);
    expect(await status(b, '/apis/kyverno.io/v1/clusterpolicies/require-labels')).toBe(404);
  });

  it('refuses flags that mean nothing for it', async () => {
    for (const args of [['-A'], ['--context', 'verbs-a'], ['--plain-http'], ['--oci-layout']]) {
      const r = await runCli(['migrate', '--kubeconfig', kubeconfig, '--from-context', 'verbs-a', '--to-context', 'verbs-b', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
    }
  });
});

describe('--prune stays within what was selected', () => {
  it('apply --engine kubearmor --prune deletes no Kyverno policy the same repository applied', async () => {
    const repo = `${reg.host}/prune-scope`;
    const clusterPolicy = '/apis/kyverno.io/v1/clusterpolicies/disallow-latest-tag';
    const hostPolicy = '/apis/security.kubearmor.com/v1/kubearmorhostpolicies/hsp-cis-1-1-17-controller-manager';
    const policy = '/apis/security.kubearmor.com/v1/namespaces/default/kubearmorpolicies/ksp-nginx-hardening-rule-monitor-cache-access';
    await runOk(['push', `${repo}:v1`, join(EXAMPLES, 'kyverno'), join(EXAMPLES, 'kubearmor')]);
    await runOk(inB(['apply', `${repo}:v1`, '--prune']));
    expect(await status(b, clusterPolicy)).toBe(200);

    // v2 holds one KubeArmor policy fewer; applying only its KubeArmor part prunes that one.
    const onlyOne = await mkdtemp(join(tmpdir(), 'prune-scope-'));
    await writeFile(join(onlyOne, 'ksp.yaml'), await readFile(join(EXAMPLES, 'kubearmor', 'ksp-nginx-hardening-rule-monitor-cache-access.yaml')));
    await runOk(['push', `${repo}:v2`, onlyOne]);
    const r = await runCli(inB(['apply', `${repo}:v2`, '--engine', 'kubearmor', '--prune', '--format', 'json']));
    expect(r.code, r.stderr).toBe(0);
    const pruned = JSON.parse(r.stdout).results.filter((x: { action: string }) => x.action === 'pruned').map((x: { kind: string; name: string }) => `${x.kind}/${x.name}`);
    expect(pruned).toEqual(['KubeArmorHostPolicy/hsp-cis-1-1-17-controller-manager']);
    expect(await status(b, hostPolicy)).toBe(404);
    expect(await status(b, policy)).toBe(200);
    // Kyverno's policies from the same repository are outside --engine kubearmor: kept.
    expect(await status(b, clusterPolicy), 'a Kyverno policy outside the selection was pruned').toBe(200);

    // diff --prune shows the same scope: nothing of Kyverno would be pruned.
    const d = JSON.parse((await runCli(inB(['diff', `${repo}:v2`, '--engine', 'kubearmor', '--prune', '--format', 'json']))).stdout);
    expect(d.results.filter((x: { change: string }) => x.change === 'prune')).toEqual([]);
  });
});
