// The kubernetes engine (ValidatingAdmissionPolicy, MutatingAdmissionPolicy and their bindings)
// through the executable, against a real registry and two real API servers that serve the kinds
// natively (MutatingAdmissionPolicy through its feature gate: test/support/cluster.ts):
// every valid file of the kubernetes-website examples round-trips through the registry (push, pull:
// the same objects) and through the clusters (apply to A, export, migrate to B, export again: the
// same); push/pull/inspect/apply/diff/export/migrate for a policy + binding set, bindings applied
// after the policies they name. The invalid files' verdicts: test/differential/verdict-k8s.test.ts.
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadPolicies } from '../../src/policy/load.ts';
import type { KubeObject } from '../../src/policy/types.ts';
import { runCli, runOk } from '../support/cli.ts';
import { clusterAgent, kubeRequest, mergedKubeconfig, startCluster, type RunningCluster } from '../support/cluster.ts';
import { corpusFiles } from '../support/corpus.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';

let reg: RunningRegistry;
let a: RunningCluster;
let b: RunningCluster;
let work: string;
let kubeconfig: string;

beforeAll(async () => {
  [reg, a, b] = await Promise.all([startRegistry('open'), startCluster('k8s-a', { installCrds: false }), startCluster('k8s-b', { installCrds: false })]);
  work = await mkdtemp(join(tmpdir(), 'engine-kubernetes-'));
  kubeconfig = mergedKubeconfig([a, b], work);
}, 300_000);
afterAll(async () => Promise.all([reg?.stop(), a?.stop(), b?.stop()]));

const inA = (args: string[]) => [...args, '--kubeconfig', kubeconfig, '--context', 'k8s-a'];
const inB = (args: string[]) => [...args, '--kubeconfig', kubeconfig, '--context', 'k8s-b'];
const G = 'admissionregistration.k8s.io';

async function objectsIn(...paths: string[]): Promise<KubeObject[]> {
  const docs = await loadPolicies(paths, { validate: true });
  return docs.map((d) => d.object).sort((x, y) => `${x.kind}/${x.metadata.name}`.localeCompare(`${y.kind}/${y.metadata.name}`));
}

/** Every field of `want` is in `got` with the same value (the server adds only defaults). */
function contains(got: unknown, want: unknown): boolean {
  if (Array.isArray(want)) return Array.isArray(got) && got.length === want.length && want.every((w, i) => contains(got[i], w));
  if (want !== null && typeof want === 'object') {
    return got !== null && typeof got === 'object' && Object.entries(want).every(([k, v]) => contains((got as Record<string, unknown>)[k], v));
  }
  return got === want;
}

async function get(cluster: RunningCluster, path: string): Promise<{ status: number; json: unknown }> {
  const agent = clusterAgent(cluster);
  try {
    return await kubeRequest(cluster.server, path, { token: cluster.adminToken, dispatcher: agent });
  } finally {
    await agent.close();
  }
}

describe('the kubernetes-website examples', () => {
  const valid = () =>
    corpusFiles()
      .filter((f) => f.path.startsWith('others/kubernetes-website/'))
      .filter((f) => f.kinds.length > 0 && f.kinds.every((k) => k.startsWith(`${G}/`)) && !f.path.endsWith('/binding-with-param-prod.yaml'));

  it('every valid file round-trips through the registry and through two clusters', async () => {
    const files = valid();
    expect(files).toHaveLength(6); // binding-with-param-prod.yaml is invalid (no parameterNotFoundAction)
    const originals = await objectsIn(...files.map((f) => f.absolute));
    const ref = `${reg.host}/k8s-website:v1`;
    const pushed = JSON.parse((await runOk(['push', ref, ...files.map((f) => f.absolute), '--format', 'json'])).stdout);
    expect(JSON.stringify(pushed)).toContain('kubernetes');

    // registry: the same objects back, file by file
    const pulledDir = join(work, 'pulled');
    await runOk(['pull', ref, '-o', pulledDir]);
    expect(await objectsIn(pulledDir)).toEqual(originals);

    // cluster A: policies first, then the bindings naming them
    const applied = JSON.parse((await runOk(inA(['apply', ref, '--format', 'json']))).stdout);
    const kinds = (applied.results as Array<{ kind: string; action: string }>).map((r) => r.kind);
    expect(applied.results.every((r: { action: string }) => r.action === 'created')).toBe(true);
    expect(kinds.lastIndexOf('ValidatingAdmissionPolicy')).toBeLessThan(kinds.indexOf('ValidatingAdmissionPolicyBinding'));

    // export from A: each original, plus only what the server defaults
    const exportA = join(work, 'export-a');
    await runOk(inA(['export', '--output-dir', exportA, '--engine', 'kubernetes']));
    const fromA = await objectsIn(exportA);
    expect(fromA.map((o) => o.metadata.name)).toEqual(originals.map((o) => o.metadata.name));
    for (const [i, o] of originals.entries()) expect(contains(fromA[i], o), `${o.kind} ${o.metadata.name}`).toBe(true);
    const vap = fromA.find((o) => o.kind === 'ValidatingAdmissionPolicy')!;
    expect(vap.status).toBeUndefined(); // typeChecking and conditions: the cluster's
    expect(vap.metadata.uid).toBeUndefined();

    // migrate to B, export again: identical
    await runOk(['migrate', '--kubeconfig', kubeconfig, '--from-context', 'k8s-a', '--to-context', 'k8s-b', '--engine', 'kubernetes']);
    const exportB = join(work, 'export-b');
    await runOk(inB(['export', '--output-dir', exportB, '--engine', 'kubernetes']));
    expect(await objectsIn(exportB)).toEqual(fromA);
    // nothing else applied: the ReplicaLimit parameter objects do not travel (no such kind in B at all)
    expect((await get(b, '/apis/rules.example.com/v1')).status).toBe(404);
  }, 240_000);
});

describe('a policy + binding set through every command', () => {
  const policy = {
    apiVersion: `${G}/v1`,
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: 'max-replicas' },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: { resourceRules: [{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['deployments'] }] },
      validations: [{ expression: 'object.spec.replicas <= 5', message: 'at most 5 replicas' }],
    },
  };
  const binding = {
    apiVersion: `${G}/v1`,
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name: 'max-replicas' },
    spec: { policyName: 'max-replicas', validationActions: ['Deny'] },
  };
  const mutating = {
    apiVersion: `${G}/v1beta1`,
    kind: 'MutatingAdmissionPolicy',
    metadata: { name: 'add-team-label' },
    spec: {
      matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['configmaps'] }] },
      reinvocationPolicy: 'Never',
      mutations: [{ patchType: 'ApplyConfiguration', applyConfiguration: { expression: 'Object{metadata: Object.metadata{labels: {"team": "a"}}}' } }],
    },
  };
  const mutatingBinding = { apiVersion: `${G}/v1beta1`, kind: 'MutatingAdmissionPolicyBinding', metadata: { name: 'add-team-label' }, spec: { policyName: 'add-team-label' } };

  it('push, inspect, pull, apply (binding after policy), diff, export, migrate', async () => {
    const src = join(work, 'set');
    const file = join(src, 'policies.yaml');
    await mkdir(src, { recursive: true });
    // the bindings first in the file: apply still creates each policy before its binding
    await writeFile(file, [mutatingBinding, binding, policy, mutating].map((o) => stringify(o)).join('---\n'));
    const ref = `${reg.host}/k8s-set:v1`;
    await runOk(['push', ref, src]);

    const inspected = await runOk(['inspect', ref, '--format', 'json']);
    expect(inspected.stdout).toContain('application/vnd.policyoci.kubernetes.policy.layer.v1+yaml');
    expect(inspected.stdout).toContain('application/vnd.policyoci.kubernetes.config.v1+json');

    const pulled = join(work, 'set-pulled');
    await runOk(['pull', ref, '-o', pulled]);
    expect(await objectsIn(pulled)).toEqual(await objectsIn(src));

    const before = await runCli(inA(['diff', ref]));
    expect(before.code, before.stderr).toBe(1);

    const applied = JSON.parse((await runOk(inA(['apply', ref, '--format', 'json']))).stdout);
    const order = (applied.results as Array<{ kind: string; name: string }>).map((r) => r.kind);
    expect(order.indexOf('ValidatingAdmissionPolicy')).toBeLessThan(order.indexOf('ValidatingAdmissionPolicyBinding'));
    expect(order.indexOf('MutatingAdmissionPolicy')).toBeLessThan(order.indexOf('MutatingAdmissionPolicyBinding'));
    // and on the server: each binding written after its policy (one etcd: its revisions only grow)
    const revision = async (path: string) => {
      const r = await get(a, `/apis/${G}/${path}`);
      expect(r.status).toBe(200);
      return Number((r.json as KubeObject).metadata.resourceVersion);
    };
    expect(await revision('v1/validatingadmissionpolicybindings/max-replicas')).toBeGreaterThan(await revision('v1/validatingadmissionpolicies/max-replicas'));
    expect(await revision('v1beta1/mutatingadmissionpolicybindings/add-team-label')).toBeGreaterThan(await revision('v1beta1/mutatingadmissionpolicies/add-team-label'));

    const after = await runCli(inA(['diff', ref]));
    expect(after.code, after.stdout + after.stderr).toBe(0);

    const exported = join(work, 'set-export');
    await runOk(inA(['export', '--output-dir', exported, '--engine', 'kubernetes']));
    const live = await objectsIn(exported);
    for (const o of [policy, binding, mutating, mutatingBinding]) {
      const got = live.find((l) => l.kind === o.kind && l.metadata.name === o.metadata.name);
      expect(contains(got, o), `${o.kind} ${o.metadata.name}`).toBe(true);
    }

    await runOk(['migrate', '--kubeconfig', kubeconfig, '--from-context', 'k8s-a', '--to-context', 'k8s-b', '--engine', 'kubernetes']);
    const inB2 = await runCli(inB(['diff', ref]));
    expect(inB2.code, inB2.stdout + inB2.stderr).toBe(0);

    // a changed policy: diff says so, and shows the change
    const changed = (await readFile(file, 'utf8')).replace('<= 5', '<= 3');
    await writeFile(file, changed);
    await runOk(['push', `${reg.host}/k8s-set:v2`, src]);
    const d = await runCli(inB(['diff', `${reg.host}/k8s-set:v2`]));
    expect(d.code).toBe(1);
    expect(d.stdout).toContain('object.spec.replicas <= 3');
  }, 240_000);
});
