// The cluster commands with the executable against two real API servers (etcd + kube-apiserver
// built from Go modules, engine CRDs installed) and a real registry: a whole-corpus migration
// from cluster A to cluster B, hostile artifacts, partial failure and kubeconfig variants.
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packEngine } from '../../src/artifact/pack.ts';
import { publish } from '../../src/artifact/publish.ts';
import { OciLayout } from '../../src/content/layout.ts';
import { findEngine } from '../../src/engines/index.ts';
import { loadPolicies } from '../../src/policy/load.ts';
import type { KubeObject } from '../../src/policy/types.ts';
import { CORPUS, REPO_ROOT, runCli, runOk } from '../support/cli.ts';
import { clusterAgent, kubeRequest, mergedKubeconfig, startCluster, type RunningCluster } from '../support/cluster.ts';
import { enginePolicyFiles } from '../support/corpus.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';

let reg: RunningRegistry;
let a: RunningCluster;
let b: RunningCluster;
let work: string;
let kubeconfig: string;

beforeAll(async () => {
  [reg, a, b] = await Promise.all([startRegistry('open'), startCluster('cluster-a'), startCluster('cluster-b')]);
  work = await mkdtemp(join(tmpdir(), 'cluster-cli-'));
  kubeconfig = mergedKubeconfig([a, b], work);
}, 300_000);
afterAll(async () => Promise.all([reg?.stop(), a?.stop(), b?.stop()]));

const inA = (args: string[]) => [...args, '--kubeconfig', kubeconfig, '--context', 'cluster-a'];
const inB = (args: string[]) => [...args, '--kubeconfig', kubeconfig, '--context', 'cluster-b'];

async function getJson(cluster: RunningCluster, path: string): Promise<{ status: number; json: unknown }> {
  return kubeRequest(cluster.server, path, { token: cluster.adminToken, dispatcher: clusterAgent(cluster) });
}

async function pushRaw(dir: string, tag: string, objects: unknown[]): Promise<void> {
  // Straight to the store, no validation: this is what a hostile artifact looks like.
  const packed = packEngine(findEngine('kyverno')!, objects as KubeObject[]);
  await publish(new OciLayout(dir), { root: { descriptor: packed.descriptor, content: packed.content }, manifests: [packed] }, [tag]);
}

describe('migrating the whole corpus from cluster A to cluster B through a registry', () => {
  it('creates the corpus in A, exports it, applies it to B, and B then equals A', async () => {
    const src = join(work, 'corpus');
    await mkdir(src);
    let n = 0;
    // The corpus holds 131 names twice (a policy and its -cel twin): one cluster object each, so
    // the first file of each identity is used (apply refuses an identity given twice).
    const seen = new Set<string>();
    for (const engine of ['kyverno', 'kubearmor'] as const) {
      for (const f of enginePolicyFiles(engine)) {
        const docs = await loadPolicies([f.absolute], { validate: true }).catch(() => undefined);
        if (!docs) continue;
        const ids = docs.map((d) => `${d.object.kind}/${d.object.metadata.namespace ?? 'default'}/${d.object.metadata.name}`);
        if (ids.some((id) => seen.has(id))) continue;
        ids.forEach((id) => seen.add(id));
        await writeFile(join(src, `${String(n++).padStart(4, '0')}-${f.path.split('/').pop()}`), await readFile(f.absolute));
      }
    }
    await runOk(['push', `${reg.host}/corpus:v1`, src]);

    const t0 = Date.now();
    const createA = await runCli(inA(['apply', `${reg.host}/corpus:v1`, '--create-namespace', '--format', 'json']));
    const applied = JSON.parse(createA.stdout);
    const rejected = applied.results.filter((r: { action: string }) => r.action === 'failed');
    // What the real API server rejects is listed with its reason, and the exit code says so.
    for (const r of rejected) expect(r.error, `${r.kind}/${r.name}`).toMatch(/\S/);
    expect(createA.code).toBe(rejected.length > 0 ? 8 : 0);
    expect(applied.counts.created).toBeGreaterThan(900);
    process.stderr.write(`corpus into cluster A: ${applied.counts.created} created, ${rejected.length} rejected by the server, ${Date.now() - t0} ms\n`);
    for (const r of rejected) process.stderr.write(`  rejected ${r.kind} ${r.namespace ?? ''}/${r.name}: ${r.error}\n`);

    const t1 = Date.now();
    const e1 = JSON.parse((await runOk(inA(['export', `${reg.host}/exported-a:v1`, '--format', 'json']))).stdout);
    process.stderr.write(`export of ${e1.policies} policies from cluster A and push: ${Date.now() - t1} ms\n`);
    expect(e1.skipped).toEqual([]);
    const e2 = JSON.parse((await runOk(inA(['export', `${reg.host}/exported-a:v1`, '--format', 'json']))).stdout);
    expect(e2.unchanged).toBe(true);
    expect(e2.digest).toBe(e1.digest);

    const t2 = Date.now();
    const intoB = JSON.parse((await runOk(inB(['pull', `${reg.host}/exported-a:v1`, '--apply', '--create-namespace', '--format', 'json']))).stdout);
    process.stderr.write(`pull --apply of ${intoB.results.length} policies into cluster B: ${Date.now() - t2} ms\n`);
    expect(intoB.counts.failed).toBe(0);
    expect(intoB.counts.created).toBe(e1.policies);

    // Every object in B equals its original in A after stripping: both exports are identical.
    await runOk(inA(['export', '--output-dir', join(work, 'live-a')]));
    await runOk(inB(['export', '--output-dir', join(work, 'live-b')]));
    const filesA = (await readdir(join(work, 'live-a'))).sort();
    expect((await readdir(join(work, 'live-b'))).sort()).toEqual(filesA);
    for (const f of filesA) expect(await readFile(join(work, 'live-b', f), 'utf8'), f).toBe(await readFile(join(work, 'live-a', f), 'utf8'));
    const eB = JSON.parse((await runOk(inB(['export', `${reg.host}/exported-b:v1`, '--format', 'json']))).stdout);
    expect(eB.digest).toBe(e1.digest);

    // Applying twice changes nothing, and diff is empty.
    const again = JSON.parse((await runOk(inB(['apply', `${reg.host}/exported-a:v1`, '--format', 'json']))).stdout);
    expect(again.counts.unchanged).toBe(e1.policies);
    const diff = await runCli(inB(['diff', `${reg.host}/exported-a:v1`]));
    expect(diff.code).toBe(0);
    expect(diff.stdout).toMatch(/^0 of \d+ objects would change/m);

    const migrated = JSON.parse((await runOk(['migrate', '--kubeconfig', kubeconfig, '--from-context', 'cluster-a', '--to-context', 'cluster-b', '--via', `${reg.host}/migration:v1`, '--format', 'json'])).stdout);
    expect(migrated.via.digest).toBe(e1.digest);
    expect(migrated.counts.unchanged).toBe(e1.policies);
  }, 900_000);
});

describe('what apply refuses', () => {
  it('never creates a Secret or a ClusterRoleBinding, and -n retargets a policy aimed at kube-system', async () => {
    const layout = join(work, 'hostile');
    const policy = (await loadPolicies([join(CORPUS, 'kyverno', 'samples')], {})).find((d) => d.object.kind === 'Policy')!.object;
    await pushRaw(layout, 'v1', [
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'stolen', namespace: 'default' }, stringData: { a: 'b' } },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'pwned' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'User', name: 'eve', apiGroup: 'rbac.authorization.k8s.io' }] },
      { ...policy, metadata: { ...policy.metadata, name: 'retargeted', namespace: 'kube-system' } },
    ]);
    // pull refuses the artifact as a whole: it is not made only of policies.
    const r = await runCli(inB(['apply', '--oci-layout', `${layout}:v1`, '-n', 'team-x', '--create-namespace']));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/v1\/Secret.*not a policy|not a policy/);
    expect((await getJson(b, '/api/v1/namespaces/default/secrets/stolen')).status).toBe(404);
    expect((await getJson(b, '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/pwned')).status).toBe(404);

    await pushRaw(layout, 'v2', [{ ...policy, metadata: { ...policy.metadata, name: 'retargeted', namespace: 'kube-system' } }]);
    await runOk(inB(['apply', '--oci-layout', `${layout}:v2`, '-n', 'team-x', '--create-namespace']));
    expect((await getJson(b, '/apis/kyverno.io/v1/namespaces/team-x/policies/retargeted')).status).toBe(200);
    expect((await getJson(b, '/apis/kyverno.io/v1/namespaces/kube-system/policies/retargeted')).status).toBe(404);
  });

  it('reports a partial failure per object with a non-zero exit', async () => {
    const dir = join(work, 'partial');
    await mkdir(dir);
    for (const f of await readdir(join(REPO_ROOT, 'examples', 'policies', 'kyverno'))) await writeFile(join(dir, f), await readFile(join(REPO_ROOT, 'examples', 'policies', 'kyverno', f)));
    await writeFile(join(dir, 'broken.yaml'), await readFile(join(CORPUS, 'bad', 'kubearmor-policy-schema-violations.yaml')));
    await runOk(['push', `${reg.host}/partial:v1`, dir, '--skip-validation']);
    const r = await runCli(inB(['apply', `${reg.host}/partial:v1`, '--create-namespace']));
    expect(r.code).toBe(8);
    expect(r.stdout).toMatch(/kubearmorpolicy\/.*ksp-schema-violations failed: .*spec\.action/i);
    expect(r.stdout).toMatch(/clusterpolicy\/require-labels (created|unchanged|configured)/);
    expect(r.stdout).toMatch(/1 failed/);
  });
});

describe('kubeconfig variants', () => {
  it('works with a bearer token, an exec plugin and several KUBECONFIG files; a restricted user is told what it cannot read', async () => {
    await runOk(['export', '--output-dir', join(work, 'tok'), '--kubeconfig', a.kubeconfigs.token]);
    await runOk(['export', '--output-dir', join(work, 'exec'), '--kubeconfig', a.kubeconfigs.exec]);
    const env = { KUBECONFIG: [join(work, 'missing-file'), a.kubeconfigs.admin, b.kubeconfigs.admin].join(':') };
    const viaEnv = JSON.parse((await runOk(['export', '--output-dir', join(work, 'env'), '--format', 'json'], { env })).stdout);
    expect(viaEnv.context).toBe('admin'); // the first file with a current-context wins, like kubectl
    const restricted = await runCli(['export', '--output-dir', join(work, 'restricted'), '--kubeconfig', a.kubeconfigs.restricted, '--format', 'json']);
    expect(restricted.code).toBe(0);
    expect(restricted.stderr).toMatch(/not exported: .*(forbidden|not allowed|cannot)/i);
    expect(JSON.parse(restricted.stdout).skipped.length).toBeGreaterThan(0);
  });
});
