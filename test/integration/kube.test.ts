// The cluster layer against a real kube-apiserver (etcd + kube-apiserver with the Kyverno and
// KubeArmor CRDs, test/support/cluster.ts): discovery, apply/prune/diff/export, access rules and
// every kind of credential.
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPolicies, hasFailures } from '../../src/kube/apply.ts';
import type { ApplyOptions, ApplyResult } from '../../src/kube/apply.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { diffPolicies } from '../../src/kube/diff.ts';
import { readLivePolicies } from '../../src/kube/export.ts';
import { loadPolicies } from '../../src/policy/load.ts';
import type { KubeObject } from '../../src/policy/types.ts';
import { CORPUS } from '../support/cli.ts';
import { clusterAgent, kubeRequest, startCluster } from '../support/cluster.ts';
import type { RunningCluster } from '../support/cluster.ts';

let cluster: RunningCluster;
let admin: KubeClient;
let agent: Agent;
const clients: KubeClient[] = [];

const FILES = {
  latestTag: 'kyverno/policies/best-practices/disallow-latest-tag.yaml',
  requireLabels: 'kyverno/policies/best-practices/require-labels.yaml',
  nsPolicy: 'kyverno/samples/Policy/flags--standard--emit-events--policy.yaml',
  armor: 'kubearmor/policies/5gsec/oai-core/ksp-core-amf-zero-trust.yaml',
  vpol: 'kyverno/policies/best-practices-vpol/disallow-default-namespace.yaml',
};

async function corpus(...files: string[]): Promise<KubeObject[]> {
  const docs = await loadPolicies(files.map((f) => join(CORPUS, f)));
  return docs.map((d) => d.object);
}

function client(kubeconfig: string, namespace?: string): KubeClient {
  const c = KubeClient.fromKubeconfig({ kubeconfig, ...(namespace ? { namespace } : {}), env: {} });
  clients.push(c);
  return c;
}

/** Rename so each test owns its objects. */
function named(obj: KubeObject, name: string, namespace?: string): KubeObject {
  const out = structuredClone(obj);
  out.metadata.name = name;
  if (namespace) out.metadata.namespace = namespace;
  return out;
}

const opts = (o: Partial<ApplyOptions> = {}): ApplyOptions => ({ createNamespace: false, dryRun: false, forceConflicts: false, ...o });
const actions = (rs: ApplyResult[]) => rs.map((r) => `${r.kind}/${r.namespace ? `${r.namespace}/` : ''}${r.name}=${r.action}`);

async function raw(path: string, options: { method?: 'GET' | 'PATCH' | 'POST'; body?: unknown; contentType?: string } = {}) {
  return kubeRequest(cluster.server, path, { ...options, token: cluster.adminToken, dispatcher: agent });
}

beforeAll(async () => {
  cluster = await startCluster('kube-it');
  agent = clusterAgent(cluster);
  admin = client(cluster.kubeconfigs.admin);
}, 300_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await agent?.close();
  await cluster?.stop();
});

describe('discovery and credentials', () => {
  it('finds every kind of both engines, at its storage version', async () => {
    const found = await admin.discoverPolicyKinds();
    expect(found.filter((d) => !d.ref).map((d) => d.label)).toEqual([]);
    for (const d of found) expect(d.ref!.version).toBe(d.kind.storageVersion);
    expect((await admin.serverVersion()).gitVersion).toMatch(/^v\d+\./); // built from Go modules: no release version stamped
  });

  it('token and exec kubeconfigs work too', async () => {
    for (const kc of [cluster.kubeconfigs.token, cluster.kubeconfigs.exec]) {
      const c = client(kc);
      expect((await c.serverVersion()).major).toBe('1');
      const ref = (await c.discoverPolicyKinds()).find((d) => d.kind.kind === 'ClusterPolicy')!.ref!;
      expect(Array.isArray(await c.list(ref))).toBe(true);
    }
  });

  it('canI answers for the restricted user', async () => {
    const r = client(cluster.kubeconfigs.restricted);
    expect(await r.canI('list', 'kyverno.io', 'clusterpolicies')).toBe(true);
    expect(await r.canI('delete', 'kyverno.io', 'clusterpolicies')).toBe(false);
    expect(await r.canI('list', 'security.kubearmor.com', 'kubearmorpolicies', 'team-a')).toBe(true);
    expect(await r.canI('list', 'security.kubearmor.com', 'kubearmorpolicies', 'default')).toBe(false);
  });
});

describe('apply', () => {
  it('created, then unchanged, then configured for the one that changed', async () => {
    const [tag, labels, pol, armor] = await corpus(FILES.latestTag, FILES.requireLabels, FILES.nsPolicy, FILES.armor);
    const input = [named(tag!, 'it-apply-tag'), named(labels!, 'it-apply-labels'), named(pol!, 'it-apply-pol', 'it-apply'), named(armor!, 'it-apply-armor', 'it-apply')];
    const first = await applyPolicies(admin, input, opts({ createNamespace: true }));
    expect(hasFailures(first)).toBe(false);
    expect(first.every((r) => r.action === 'created')).toBe(true);
    // Safe order: KubeArmor (applyOrder 10) before Kyverno policies (30).
    expect(first[0]!.kind).toBe('KubeArmorPolicy');

    expect((await applyPolicies(admin, input, opts())).map((r) => r.action)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged']);

    const changed = structuredClone(input);
    (changed[0]!.spec as Record<string, unknown>).background = false;
    const third = await applyPolicies(admin, changed, opts());
    expect(actions(third)).toContain('ClusterPolicy/it-apply-tag=configured');
    expect(third.filter((r) => r.action === 'unchanged')).toHaveLength(3);
    const ref = (await admin.discoverPolicyKinds()).find((d) => d.kind.kind === 'ClusterPolicy')!.ref!;
    const live = await admin.get(ref, 'it-apply-tag');
    expect((live!.spec as Record<string, unknown>).background).toBe(false);
    expect(live!.metadata.managedFields).toEqual(expect.arrayContaining([expect.objectContaining({ manager: 'kubectl-policyoci', operation: 'Apply' })]));
  });

  it('dry run reports what would happen and creates nothing (not even the namespace)', async () => {
    const [tag, pol] = await corpus(FILES.latestTag, FILES.nsPolicy);
    const input = [named(tag!, 'it-dry-tag'), named(pol!, 'it-dry-pol', 'it-dry-ns')];
    const results = await applyPolicies(admin, input, opts({ dryRun: true, createNamespace: true }));
    expect(results.map((r) => r.action)).toEqual(['created', 'created']);
    expect(results.find((r) => r.kind === 'Policy')!.note).toContain('would be created');
    expect((await raw('/apis/kyverno.io/v1/clusterpolicies/it-dry-tag')).status).toBe(404);
    expect((await raw('/api/v1/namespaces/it-dry-ns')).status).toBe(404);
    // Dry run against existing objects: unchanged / configured without changing them.
    await applyPolicies(admin, [input[0]!], opts());
    expect((await applyPolicies(admin, [input[0]!], opts({ dryRun: true })))[0]!.action).toBe('unchanged');
    const modified = structuredClone(input[0]!);
    (modified.spec as Record<string, unknown>).background = false;
    expect((await applyPolicies(admin, [modified], opts({ dryRun: true })))[0]!.action).toBe('configured');
    expect(((await raw('/apis/kyverno.io/v1/clusterpolicies/it-dry-tag')).json as { spec: { background?: boolean } }).spec.background).not.toBe(false);
  });

  it('refuses a Secret and a ClusterRoleBinding in the input: failed, never created', async () => {
    const [tag] = await corpus(FILES.latestTag);
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'it-smuggled', namespace: 'default' }, stringData: { a: 'b' } };
    const crb = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'it-smuggled' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'User', name: 'attacker', apiGroup: 'rbac.authorization.k8s.io' }],
    };
    const results = await applyPolicies(admin, [secret as KubeObject, crb as KubeObject, named(tag!, 'it-refuse-tag')], opts({ createNamespace: true, forceConflicts: true }));
    expect(actions(results)).toEqual(['Secret/default/it-smuggled=failed', 'ClusterRoleBinding/it-smuggled=failed', 'ClusterPolicy/it-refuse-tag=created']);
    expect(results[0]!.error).toMatch(/^refused/);
    expect((await raw('/api/v1/namespaces/default/secrets/it-smuggled')).status).toBe(404);
    expect((await raw('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/it-smuggled')).status).toBe(404);
  });

  it('-n retargets namespaced policies; a missing namespace fails with a hint', async () => {
    const [pol, tag] = await corpus(FILES.nsPolicy, FILES.latestTag);
    const input = [named(pol!, 'it-retarget', 'somewhere-else'), named(tag!, 'it-retarget-cluster')];
    const results = await applyPolicies(admin, input, opts({ namespace: 'it-retarget-ns', createNamespace: true }));
    expect(actions(results)).toEqual(['ClusterPolicy/it-retarget-cluster=created', 'Policy/it-retarget-ns/it-retarget=created']);
    expect((await raw('/apis/kyverno.io/v1/namespaces/it-retarget-ns/policies/it-retarget')).status).toBe(200);
    expect((await raw('/api/v1/namespaces/somewhere-else')).status).toBe(404);

    const missing = await applyPolicies(admin, [named(pol!, 'it-missing', 'it-no-such-ns')], opts());
    expect(missing[0]!.action).toBe('failed');
    expect(missing[0]!.error).toBe('namespace it-no-such-ns does not exist (use --create-namespace)');
  });

  it('reports conflicts with another field manager, and takes over with forceConflicts', async () => {
    const [tag] = await corpus(FILES.latestTag);
    const obj = named(tag!, 'it-conflict');
    await applyPolicies(admin, [obj], opts());
    const other = { apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', metadata: { name: 'it-conflict' }, spec: { background: false } };
    const res = await raw('/apis/kyverno.io/v1/clusterpolicies/it-conflict?fieldManager=someone-else&force=true', { method: 'PATCH', body: other, contentType: 'application/apply-patch+yaml' });
    expect(res.status).toBe(200);
    const mine = structuredClone(obj);
    (mine.spec as Record<string, unknown>).background = true;
    const conflict = await applyPolicies(admin, [mine], opts());
    expect(conflict[0]).toMatchObject({ action: 'failed', code: 'CLUSTER', details: ['.spec.background: conflict with "someone-else"'] });
    expect(conflict[0]!.error).toContain('fields are managed by "someone-else"; use --force-conflicts');
    expect((await applyPolicies(admin, [mine], opts({ forceConflicts: true })))[0]!.action).toBe('configured');
  });

  it('an invalid policy fails with the server causes', async () => {
    const [tag] = await corpus(FILES.latestTag);
    const bad = named(tag!, 'it-invalid');
    (bad.spec as Record<string, unknown>).background = 'definitely';
    const results = await applyPolicies(admin, [bad], opts());
    expect(results[0]).toMatchObject({ action: 'failed', code: 'INVALID_POLICY' });
    expect(results[0]!.error).toBe('apply ClusterPolicy.kyverno.io it-invalid: .spec.background: expected boolean, got &{definitely}');
    const unknown = named(tag!, 'it-unknown-field');
    (unknown.spec as Record<string, unknown>).notAField = 1;
    const strict = await applyPolicies(admin, [unknown], opts());
    expect(strict[0]).toMatchObject({ action: 'failed', code: 'INVALID_POLICY' });
    expect(strict[0]!.error).toMatch(/\.spec\.notAField: field not declared in schema$/);
  });
});

describe('prune', () => {
  it('deletes only objects with the label and the same source annotation, not in the applied set', async () => {
    const [tag, pol] = await corpus(FILES.latestTag, FILES.nsPolicy);
    const R1 = 'registry.example/policies/r1';
    const set = [named(tag!, 'it-prune-a'), named(tag!, 'it-prune-b'), named(pol!, 'it-prune-c', 'it-prune')];
    expect(hasFailures(await applyPolicies(admin, set, opts({ createNamespace: true, prune: { repository: R1 } })))).toBe(false);
    // Look-alikes that must survive: another source; only the annotation; only the label; unmarked.
    await applyPolicies(admin, [named(tag!, 'it-prune-other-source')], opts({ prune: { repository: 'registry.example/policies/r2' } }));
    const annotationOnly = (o: KubeObject) => ({ ...o, metadata: { ...o.metadata, annotations: { 'policyoci.dev/source': R1 } } });
    const labelOnly = (o: KubeObject) => ({ ...o, metadata: { ...o.metadata, labels: { 'policyoci.dev/managed-by': 'kubectl-policyoci' } } });
    await applyPolicies(admin, [named(tag!, 'it-prune-annotation-only')], opts({ label: annotationOnly }));
    await applyPolicies(admin, [named(tag!, 'it-prune-label-only')], opts({ label: labelOnly }));
    await applyPolicies(admin, [named(tag!, 'it-prune-unmarked')], opts());

    const dry = await applyPolicies(admin, [set[0]!], opts({ dryRun: true, prune: { repository: R1 } }));
    expect(actions(dry.filter((r) => r.action === 'pruned')).sort()).toEqual(['ClusterPolicy/it-prune-b=pruned', 'Policy/it-prune/it-prune-c=pruned']);
    expect((await raw('/apis/kyverno.io/v1/clusterpolicies/it-prune-b')).status).toBe(200);

    const results = await applyPolicies(admin, [set[0]!], opts({ prune: { repository: R1 } }));
    expect(hasFailures(results)).toBe(false);
    expect(actions(results)).toEqual(['ClusterPolicy/it-prune-a=unchanged', 'ClusterPolicy/it-prune-b=pruned', 'Policy/it-prune/it-prune-c=pruned']);
    for (const name of ['it-prune-a', 'it-prune-other-source', 'it-prune-annotation-only', 'it-prune-label-only', 'it-prune-unmarked']) {
      expect((await raw(`/apis/kyverno.io/v1/clusterpolicies/${name}`)).status, name).toBe(200);
    }
    expect((await raw('/apis/kyverno.io/v1/clusterpolicies/it-prune-b')).status).toBe(404);
    expect((await raw('/apis/kyverno.io/v1/namespaces/it-prune/policies/it-prune-c')).status).toBe(404);
  });
});

describe('export', () => {
  it('strips cluster fields, status (Kyverno autogen) and ownership; two exports are identical', async () => {
    const [tag, vpol] = await corpus(FILES.latestTag, FILES.vpol);
    await applyPolicies(admin, [named(tag!, 'it-export-tag'), named(vpol!, 'it-export-vpol')], opts({ prune: { repository: 'r-export' } }));
    // What Kyverno's controller does: auto-generated rules go to status.autogen.
    const status = { status: { autogen: { rules: [{ name: 'autogen-x', match: { any: [{ resources: { kinds: ['Deployment'] } }] } }] } } };
    const patched = await raw('/apis/kyverno.io/v1/clusterpolicies/it-export-tag/status', { method: 'PATCH', body: status, contentType: 'application/merge-patch+json' });
    expect(patched.status).toBe(200);

    const first = await readLivePolicies(admin, { allNamespaces: true });
    const second = await readLivePolicies(admin, { allNamespaces: true });
    expect(second).toEqual(first);
    expect(first.skipped).toEqual([]);
    const exported = first.objects.find((o) => o.metadata.name === 'it-export-tag')!;
    expect(exported.apiVersion).toBe('kyverno.io/v1');
    expect(exported.status).toBeUndefined();
    for (const k of ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields']) expect(exported.metadata[k], k).toBeUndefined();
    expect(JSON.stringify(exported)).not.toContain('policyoci.dev');
    // The version kubectl get shows (the group's preferred version), not the CRD's storage version v1beta1.
    expect(first.objects.find((o) => o.metadata.name === 'it-export-vpol')!.apiVersion).toBe('policies.kyverno.io/v1');
    expect(first.counts.total).toBe(first.objects.length);
    expect(first.counts.byKind['ClusterPolicy.kyverno.io']).toBeGreaterThan(0);
  });

  it('the restricted user gets skipped: forbidden for kinds it may not list', async () => {
    const r = client(cluster.kubeconfigs.restricted);
    const all = await readLivePolicies(r, { allNamespaces: true });
    const skipped = new Map(all.skipped.map((s) => [s.kind, s.reason]));
    expect(skipped.get('KubeArmorPolicy.security.kubearmor.com')).toMatch(/^forbidden/);
    expect(skipped.get('ValidatingPolicy.policies.kyverno.io')).toMatch(/^forbidden/);
    expect(skipped.has('ClusterPolicy.kyverno.io')).toBe(false);
    expect(all.counts.byKind['ClusterPolicy.kyverno.io']).toBeGreaterThan(0);
    const teamA = await readLivePolicies(r, { allNamespaces: false, namespace: 'team-a', kinds: ['KubeArmorPolicy', 'ClusterPolicy'] });
    expect(teamA.skipped).toEqual([]);
  });
});

describe('diff', () => {
  it('nothing for an unchanged policy, a unified diff for a change, all additions for a new one', async () => {
    const [tag, labels] = await corpus(FILES.latestTag, FILES.requireLabels);
    const obj = named(tag!, 'it-diff');
    await applyPolicies(admin, [obj], opts());
    const modified = structuredClone(obj);
    (modified.spec as Record<string, unknown>).background = false;
    const results = await diffPolicies(admin, [obj, modified, named(labels!, 'it-diff-new')]);
    expect(results.map((r) => r.change)).toEqual(['none', 'error', 'create']);
    // the same object twice is an input error; diff them one at a time
    const [same] = await diffPolicies(admin, [obj]);
    expect(same!.changed).toBe(false);
    expect(same!.diff).toBe('');
    const [changed] = await diffPolicies(admin, [modified]);
    expect(changed!.changed).toBe(true);
    expect(changed!.diff).toMatch(/^--- live\/ClusterPolicy\/it-diff\n\+\+\+ merged\/ClusterPolicy\/it-diff\n@@ /);
    expect(changed!.diff).toMatch(/^\+  background: false$/m);
    expect(changed!.diff).not.toMatch(/resourceVersion|managedFields|generation/);
    const [created] = await diffPolicies(admin, [named(labels!, 'it-diff-new')]);
    expect(created!.change).toBe('create');
    expect(created!.diff).toContain('@@ -0,0 ');
    expect((await raw('/apis/kyverno.io/v1/clusterpolicies/it-diff-new')).status).toBe(404);
  });
});
