// Issue 15's "done means": one cluster holding the policies of all four engines — Kyverno and
// KubeArmor (samples of the corpus), Kubernetes admission policies (the kubernetes-website examples
// and a MutatingAdmissionPolicy with its binding) and Gatekeeper (the whole gatekeeper-library: 49
// templates, their constraints, the mutators) — moved to an empty cluster by ONE `migrate`. Both
// clusters run the real Gatekeeper controller (test/support/gatekeeper.ts), so every constraint kind
// is made by it from a migrated template. Then: the report leaves nothing behind, `diff` of the
// source's export against the target says nothing would change, and the two clusters' exports are
// identical file by file (nothing else applied). The report warns about what the policies refer to
// and the target lacks: parameter objects of admission policy bindings (paramRef), which do not
// travel. On the way, the library round-trips through a registry (push, pull: the same objects).
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadPolicies } from '../../src/policy/load.ts';
import type { KubeObject } from '../../src/policy/types.ts';
import { stringifyCanonical } from '../../src/policy/yaml.ts';
import { runCli, runOk } from '../support/cli.ts';
import { clusterAgent, corpusCrds, kubeRequest, mergedKubeconfig, startCluster, type RunningCluster } from '../support/cluster.ts';
import { corpusFiles, enginePolicyFiles } from '../support/corpus.ts';
import { installCorpusCrds } from '../support/crds.ts';
import { startGatekeeper, type RunningGatekeeper } from '../support/gatekeeper.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';

let reg: RunningRegistry;
let a: RunningCluster;
let b: RunningCluster;
let gatekeepers: RunningGatekeeper[] = [];
let work: string;
let kubeconfig: string;

/** The files cluster A gets, per engine (chosen in beforeAll: the clusters get only the CRDs they need). */
const chosen = { kyverno: [] as string[], kubearmor: [] as string[], kubernetes: [] as string[], gatekeeper: [] as string[] };

beforeAll(async () => {
  const started = Promise.all([startRegistry('open'), startCluster('four-a', { installCrds: false }), startCluster('four-b', { installCrds: false })]);
  chosen.kyverno = await sample(enginePolicyFiles('kyverno').map((f) => f.absolute), 80);
  chosen.kubearmor = await sample(enginePolicyFiles('kubearmor').map((f) => f.absolute), 60);
  chosen.kubernetes = await sample(corpusFiles().filter((f) => f.path.startsWith('others/kubernetes-website/')).map((f) => f.absolute), 1);
  // The library has several samples of one constraint under one name (other parameters): a cluster
  // holds one object per name, so the first file of each name goes.
  const names = new Set<string>();
  const library = corpusFiles().filter((f) => f.path.startsWith('others/gatekeeper-library/'));
  for (const f of await sample(library.map((f) => f.absolute), 1)) {
    const keys = (await loadPolicies([f], { validate: true })).map((d) => `${d.object.kind}/${d.object.metadata.name}`);
    if (keys.some((k) => names.has(k))) continue;
    for (const k of keys) names.add(k);
    chosen.gatekeeper.push(f);
  }
  // The Kyverno and KubeArmor CRDs of the chosen policies' kinds (all of them would take ~15 s more).
  const kinds = new Set((await loadPolicies([...chosen.kyverno, ...chosen.kubearmor], { validate: true })).map((d) => `${d.object.apiVersion.split('/')[0]}/${d.object.kind}`));
  const crds = corpusCrds().filter((c) => kinds.has(`${c.group}/${c.kind}`)).map((c) => c.name);
  [reg, a, b] = await started;
  await Promise.all([a, b].map((c) => installCorpusCrds(c, crds)));
  gatekeepers = await Promise.all([startGatekeeper(a), startGatekeeper(b)]);
  work = await mkdtemp(join(tmpdir(), 'migrate-four-'));
  kubeconfig = mergedKubeconfig([a, b], work);
}, 300_000);
afterAll(async () => {
  await Promise.all(gatekeepers.map((g) => g.stop()));
  await Promise.all([reg?.stop(), a?.stop(), b?.stop()]);
});

const inA = (args: string[]) => [...args, '--kubeconfig', kubeconfig, '--context', 'four-a'];
const inB = (args: string[]) => [...args, '--kubeconfig', kubeconfig, '--context', 'four-b'];

async function accepted(path: string): Promise<boolean> {
  return loadPolicies([path], { validate: true }).then(
    () => true,
    () => false,
  );
}

/** Every `step`-th file push accepts alone, in corpus order: a spread of kinds, the same every run. */
async function sample(paths: string[], step: number): Promise<string[]> {
  const ok: string[] = [];
  for (const p of paths) if (await accepted(p)) ok.push(p);
  return ok.filter((_, i) => i % step === 0);
}

/** The canonical text of every object under `dir`, sorted. */
async function canonical(dir: string): Promise<string[]> {
  return (await loadPolicies([dir], { validate: true })).map((d) => stringifyCanonical(d.object)).sort();
}

/** path (relative to dir) → content, for every file under dir. */
async function tree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.set(relative(dir, path), await readFile(path, 'utf8'));
  }
  return out;
}

async function get(cluster: RunningCluster, path: string): Promise<Record<string, unknown>> {
  const agent = clusterAgent(cluster);
  try {
    const res = await kubeRequest(cluster.server, path, { token: cluster.adminToken, dispatcher: agent });
    expect(res.status, `GET ${path}: ${res.text.slice(0, 300)}`).toBe(200);
    return res.json as Record<string, unknown>;
  } finally {
    await agent.close();
  }
}

async function status(cluster: RunningCluster, path: string): Promise<number> {
  const agent = clusterAgent(cluster);
  try {
    return (await kubeRequest(cluster.server, path, { token: cluster.adminToken, dispatcher: agent })).status;
  } finally {
    await agent.close();
  }
}

async function post(cluster: RunningCluster, path: string, body: unknown): Promise<void> {
  const agent = clusterAgent(cluster);
  try {
    const res = await kubeRequest(cluster.server, path, { method: 'POST', body, token: cluster.adminToken, dispatcher: agent });
    expect(res.status, res.text).toBe(201);
  } finally {
    await agent.close();
  }
}

/** Every field of `want` is in `got` with the same value. */
function contains(got: unknown, want: unknown): boolean {
  if (Array.isArray(want)) return Array.isArray(got) && got.length === want.length && want.every((w, i) => contains(got[i], w));
  if (want !== null && typeof want === 'object') {
    return got !== null && typeof got === 'object' && Object.entries(want).every(([k, v]) => contains((got as Record<string, unknown>)[k], v));
  }
  return got === want;
}

type Item = { metadata: { name: string; generation?: number }; status?: { created?: boolean; byPod?: Array<{ id: string; enforced?: boolean; observedGeneration?: number }> } };

describe('one migrate moves four engines’ policies to an empty cluster', () => {
  const library = () => corpusFiles().filter((f) => f.path.startsWith('others/gatekeeper-library/'));
  let src: string;
  let policies: number;
  const counts = { nonGatekeeper: 0 };

  it('the gatekeeper-library round-trips through a registry', async () => {
    const files: string[] = [];
    for (const f of library()) if (await accepted(f.absolute)) files.push(f.absolute);
    // 129 files; push refuses mutation-fsGroup.yaml (an Assign named k8spspfsGroup), as the API server does
    expect([library().length, files.length]).toEqual([129, 128]);
    const gk = join(work, 'gatekeeper-library');
    await mkdir(gk);
    await Promise.all(files.map(async (f, i) => writeFile(join(gk, `${String(i).padStart(3, '0')}-${f.split('/').pop()}`), await readFile(f))));
    const ref = `${reg.host}/gatekeeper-library:v1`;
    const pushed = JSON.parse((await runOk(['push', ref, gk, '--format', 'json'])).stdout);
    expect(pushed.policies).toBe((await loadPolicies(files, { validate: true })).length); // some files hold several
    const pulled = join(work, 'gatekeeper-library-pulled');
    await runOk(['pull', ref, '-o', pulled]);
    expect(await canonical(pulled)).toEqual(await canonical(gk));
  }, 120_000);

  it('cluster A holds policies of all four engines (one artifact, an index of four)', async () => {
    src = join(work, 'four');
    await mkdir(src);
    const { kyverno, kubearmor, kubernetes: website, gatekeeper } = chosen;
    expect(gatekeeper.length).toBe(123); // of 128: 5 samples reuse a name
    expect([kyverno.length, kubearmor.length, website.length, gatekeeper.length].every((n) => n >= 6)).toBe(true);
    for (const [engine, files] of Object.entries({ kyverno, kubearmor, kubernetes: website, gatekeeper })) {
      await mkdir(join(src, engine));
      await Promise.all(files.map(async (f, i) => writeFile(join(src, engine, `${String(i).padStart(3, '0')}-${f.split('/').pop()}`), await readFile(f))));
    }
    const G = 'admissionregistration.k8s.io';
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
    const binding = { apiVersion: `${G}/v1beta1`, kind: 'MutatingAdmissionPolicyBinding', metadata: { name: 'add-team-label' }, spec: { policyName: 'add-team-label' } };
    // Policies with parameters (ConfigMaps, which never travel): a binding naming one, a binding selecting one.
    const rules = { resourceRules: [{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE'], resources: ['deployments'] }] };
    const paramKind = { apiVersion: 'v1', kind: 'ConfigMap' };
    const withParams = [
      { apiVersion: `${G}/v1`, kind: 'ValidatingAdmissionPolicy', metadata: { name: 'max-replicas-params' }, spec: { paramKind, matchConstraints: rules, validations: [{ expression: 'object.spec.replicas <= int(params.data.max)' }] } },
      {
        apiVersion: `${G}/v1`,
        kind: 'ValidatingAdmissionPolicyBinding',
        metadata: { name: 'max-replicas-params' },
        spec: { policyName: 'max-replicas-params', validationActions: ['Deny'], paramRef: { name: 'replica-limits', namespace: 'default', parameterNotFoundAction: 'Deny' } },
      },
      {
        apiVersion: `${G}/v1beta1`,
        kind: 'MutatingAdmissionPolicy',
        metadata: { name: 'team-from-params' },
        spec: {
          paramKind,
          matchConstraints: rules,
          reinvocationPolicy: 'Never',
          mutations: [{ patchType: 'ApplyConfiguration', applyConfiguration: { expression: 'Object{metadata: Object.metadata{labels: {"team": params.data.team}}}' } }],
        },
      },
      {
        apiVersion: `${G}/v1beta1`,
        kind: 'MutatingAdmissionPolicyBinding',
        metadata: { name: 'team-from-params' },
        spec: { policyName: 'team-from-params', paramRef: { selector: { matchLabels: { 'policyoci.test/params': 'team' } }, namespace: 'default', parameterNotFoundAction: 'Allow' } },
      },
    ];
    await writeFile(join(src, 'kubernetes', 'mutating.yaml'), [binding, mutating, ...withParams].map((o) => stringify(o)).join('---\n'));
    for (const [name, labels, data] of [['replica-limits', {}, { max: '5' }], ['team-params', { 'policyoci.test/params': 'team' }, { team: 'a' }]] as const) {
      await post(a, '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data });
    }
    policies = (await loadPolicies([src], { validate: true })).length;
    counts.nonGatekeeper = policies - (await loadPolicies([join(src, 'gatekeeper')], { validate: true })).length;
    console.log(
      `four engines: ${policies} policies in A (files: kyverno ${kyverno.length}, kubearmor ${kubearmor.length}, ` +
        `kubernetes ${website.length}+1, gatekeeper ${gatekeeper.length})`,
    );

    const ref = `${reg.host}/four:v1`;
    const pushed = JSON.parse((await runOk(['push', ref, src, '--format', 'json'])).stdout);
    expect(pushed.policies).toBe(policies);
    expect((pushed.engines as Array<{ engine: string }>).map((e) => e.engine).sort()).toEqual(['gatekeeper', 'kubearmor', 'kubernetes', 'kyverno']);
    const run = await runCli(inA(['apply', ref, '--create-namespace', '--format', 'json']));
    const results = JSON.parse(run.stdout).results as Array<{ kind: string; apiVersion: string; action: string }>;
    expect(results.filter((r) => r.action !== 'created'), JSON.stringify(results.filter((r) => r.action !== 'created'))).toEqual([]);
    expect(results).toHaveLength(policies);
    // the parameters A holds: no warning; the website example's ReplicaLimit kind is served nowhere
    const warnings = JSON.parse(run.stdout).warnings as string[];
    expect(warnings.filter((w) => /params/.test(w))).toEqual([]);
    expect(warnings).toContainEqual(expect.stringMatching(/^ValidatingAdmissionPolicyBinding replicalimit-binding-test\.example\.com: its spec\.paramRef names parameters of kind ReplicaLimit \(rules\.example\.com\/v1\), which context four-a does not serve \(parameterNotFoundAction: Deny\)/));
    // every template before any constraint (its kind is made by the controller from the template)
    const order = results.map((r) => r.apiVersion.split('/')[0]);
    expect(order.lastIndexOf('templates.gatekeeper.sh')).toBeLessThan(order.indexOf('constraints.gatekeeper.sh'));
  }, 300_000);

  it('one migrate to an empty cluster: nothing left behind, nothing else applied', async () => {
    const before = await runCli(inB(['export', '--output-dir', join(work, 'b-before')]));
    expect(before.code, before.stderr).toBe(0);
    expect((await tree(join(work, 'b-before'))).size).toBe(0); // B is empty

    const report = JSON.parse(
      (await runOk(['migrate', '--kubeconfig', kubeconfig, '--from-context', 'four-a', '--to-context', 'four-b', '--create-namespace', '--format', 'json'])).stdout,
    );
    expect(report.failed).toBe(false);
    // Skipped: only kinds A does not serve (the clusters have only the CRDs of the chosen policies' kinds)
    const skipped = report.skipped as Array<{ kind: string; cause: string }>;
    expect(skipped.filter((k) => k.cause !== 'not-served' || !/\.(kyverno\.io|security\.kubearmor\.com)$/.test(k.kind))).toEqual([]);
    expect(report.exported).toBe(policies);
    expect(report.results).toHaveLength(policies);
    expect((report.results as Array<{ action: string }>).every((r) => r.action === 'created'), JSON.stringify(report.counts)).toBe(true);
    // the report says what the policies refer to and B lacks: the parameters, which do not travel
    expect((report.warnings as string[]).filter((w) => /paramRef/.test(w)).sort()).toEqual([
      'MutatingAdmissionPolicyBinding team-from-params: its spec.paramRef selects ConfigMap objects (policyoci.test/params=team) in namespace default and context four-b holds none: the parameters do not travel with the policies (parameterNotFoundAction: Allow)',
      'ValidatingAdmissionPolicyBinding max-replicas-params: its spec.paramRef names ConfigMap default/replica-limits, which context four-b does not hold: the parameters do not travel with the policies (parameterNotFoundAction: Deny)',
      'ValidatingAdmissionPolicyBinding replicalimit-binding-test.example.com: its spec.paramRef names parameters of kind ReplicaLimit (rules.example.com/v1), which context four-b does not serve (parameterNotFoundAction: Deny)',
    ]);
    expect(await status(b, '/api/v1/namespaces/default/configmaps/replica-limits')).toBe(404);

    // the two clusters' exports: the same files, byte for byte
    const exportA = join(work, 'export-a');
    const exportB = join(work, 'export-b');
    await runOk(inA(['export', '--output-dir', exportA]));
    await runOk(inB(['export', '--output-dir', exportB]));
    const [fromA, fromB] = [await tree(exportA), await tree(exportB)];
    expect(fromA.size).toBe(policies);
    expect([...fromB.keys()].sort()).toEqual([...fromA.keys()].sort());
    for (const [path, text] of fromA) expect(fromB.get(path), path).toBe(text);
    // what A exports is what was applied, plus only what the API server fills in (defaults)
    const key = (o: KubeObject) => `${o.apiVersion.split('/')[0]}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const live = new Map((await loadPolicies([exportA], { validate: true })).map((d) => [key(d.object), d.object]));
    const lost: string[] = [];
    for (const { object } of await loadPolicies([src], { validate: true })) {
      const { apiVersion: _, ...rest } = object;
      if (!contains(live.get(key(object)), rest)) lost.push(key(object));
    }
    expect(lost).toEqual([]);
    // and what A holds, pushed, is what B holds: diff has nothing to change in either
    const snapshot = `${reg.host}/four-export:v1`;
    await runOk(inA(['export', snapshot]));
    for (const args of [inA(['diff', snapshot]), inB(['diff', snapshot])]) {
      const d = await runCli(args);
      expect(d.code, d.stdout + d.stderr).toBe(0);
    }

    // The controller in B made every constraint kind from the migrated templates and enforces them.
    const templates = (await get(b, '/apis/templates.gatekeeper.sh/v1/constrainttemplates')).items as Item[];
    expect(templates).toHaveLength(49);
    for (const t of templates) expect(t.status?.created, t.metadata.name).toBe(true);
    // …and reports each migrated constraint and mutator enforced (status.byPod, written a moment later)
    const kinds = (templates as Array<Item & { spec?: { crd?: { spec?: { names?: { kind?: string } } } } }>).map((t) => t.metadata.name);
    const paths = [
      ...kinds.map((plural) => `/apis/constraints.gatekeeper.sh/v1beta1/${plural}`),
      ...['assign', 'assignmetadata', 'modifyset'].map((plural) => `/apis/mutations.gatekeeper.sh/v1/${plural}`),
    ];
    let enforced = 0;
    for (const path of paths) {
      for (let attempt = 0; ; attempt++) {
        const items = (await get(b, path)).items as Item[];
        const pending = items.filter((i) => !i.status?.byPod?.some((p) => p.enforced === true && p.observedGeneration === i.metadata.generation));
        if (pending.length === 0) {
          enforced += items.length;
          break;
        }
        if (attempt > 300) throw new Error(`${path}: not reported enforced: ${pending.map((p) => p.metadata.name).join(', ')}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    expect(enforced).toBe(policies - counts.nonGatekeeper - templates.length);
    // nothing was generated beside them (Gatekeeper can generate ValidatingAdmissionPolicies: not here)
    const vaps = (await get(b, '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies')).items as Item[];
    const vapsA = (await get(a, '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies')).items as Item[];
    expect(vaps.map((v) => v.metadata.name).sort()).toEqual(vapsA.map((v) => v.metadata.name).sort());
  }, 300_000);
});
