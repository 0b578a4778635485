// File by file over the corpus, our push verdict (the loader with validation: what `push` checks
// before anything is sent) must be the API server's verdict for the file's own bytes: each
// document, as kubectl cuts the stream, sent as YAML with a server-side dry run and strict field
// validation (the server's strict YAML decoding then also sees duplicate keys). Built-in kinds
// (ValidatingAdmissionPolicy and its binding) are sent to the server's own resource.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEngines } from '../../src/engines/index.ts';
import { loadPolicies } from '../../src/policy/load.ts';
import { clusterAgent, corpusCrds, kubeRequest, startCluster, type RunningCluster } from '../support/cluster.ts';
import { corpusFiles } from '../support/corpus.ts';
import { kubectlRead } from '../support/k8s-yaml.ts';
import type { Agent } from 'undici';

let cluster: RunningCluster;
let agent: Agent;

beforeAll(async () => {
  cluster = await startCluster('verdict');
  agent = clusterAgent(cluster);
}, 300_000);

afterAll(async () => {
  await agent?.close();
  await cluster?.stop();
});

/** The pieces kubectl cuts a stream into (at lines starting with `---`), without the empty ones. */
function chunks(text: string): string[] {
  return text
    .split(/^---.*$/m)
    .filter((c) => c.replace(/#.*$/gm, '').trim() !== '');
}

type Reading = ReturnType<typeof kubectlRead>;

interface Served { plural: string; namespaced: boolean }
const builtIn = new Map<string, Promise<Map<string, Served>>>();

/** The kinds the server itself serves at a group version (built-in kinds have no CRD in the corpus). */
function servedAt(group: string, version: string): Promise<Map<string, Served>> {
  const gv = group ? `/apis/${group}/${version}` : `/api/${version}`;
  let p = builtIn.get(gv);
  if (!p) {
    p = kubeRequest(cluster.server, gv, { token: cluster.adminToken, dispatcher: agent }).then((res) => {
      const resources = res.status === 200 ? ((res.json as { resources?: Array<{ name: string; kind: string; namespaced: boolean }> }).resources ?? []) : [];
      return new Map(resources.filter((r) => !r.name.includes('/')).map((r) => [r.kind, { plural: r.name, namespaced: r.namespaced }]));
    });
    builtIn.set(gv, p);
  }
  return p;
}

async function serverVerdict(pieces: string[], reading: Reading): Promise<{ ok: boolean; why?: string }> {
  const crds = corpusCrds();
  if (pieces.length === 0) return { ok: false, why: 'no object' };
  for (const [i, piece] of pieces.entries()) {
    const obj = reading[i]!.objects[0] as { apiVersion?: string; kind?: string; metadata?: { namespace?: string } } | undefined;
    if (!obj || reading[i]!.objects.length !== 1) {
      // Not one object: the server cannot even be asked (kubectl fails before sending).
      if (reading[i]!.errors.length || reading[i]!.strict) return { ok: false, why: reading[i]!.errors[0] ?? reading[i]!.strict };
      continue;
    }
    const [group, version] = obj.apiVersion?.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
    const crd = crds.find((c) => c.group === group && c.kind === obj.kind && c.servedVersions.includes(version ?? ''));
    // Built-in kinds a plugin declares (admission policies) are asked of the server's own resource;
    // any other built-in kind (a Secret beside a policy) is no policy: the file cannot be pushed.
    const declared = loadEngines().some((e) => e.kinds.some((k) => k.group === group && k.kind === obj.kind));
    const served = crd
      ? { plural: crd.plural, namespaced: crd.scope === 'Namespaced' }
      : declared ? (await servedAt(group ?? '', version ?? '')).get(obj.kind ?? '') : undefined;
    if (!served) return { ok: false, why: `no served resource for ${obj.apiVersion}/${obj.kind}` };
    const ns = served.namespaced ? `namespaces/${obj.metadata?.namespace ?? 'default'}/` : '';
    const path = `/apis/${group}/${version}/${ns}${served.plural}?dryRun=All&fieldValidation=Strict`;
    const send = () => kubeRequest(cluster.server, path, { method: 'POST', body: piece, contentType: 'application/yaml', token: cluster.adminToken, dispatcher: agent });
    let res = await send();
    if (res.status === 404 && /namespaces? .* not found/.test(res.text)) {
      // A sample's namespace need not exist yet: no verdict on the file. Create it, ask again.
      const name = obj.metadata?.namespace ?? 'default';
      await kubeRequest(cluster.server, '/api/v1/namespaces', { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, token: cluster.adminToken, dispatcher: agent });
      res = await send();
    }
    if (res.status >= 300) {
      return { ok: false, why: `${res.status} ${(res.json as { message?: string } | undefined)?.message ?? res.text}`.slice(0, 400) };
    }
  }
  return { ok: true };
}

async function ourVerdict(file: string): Promise<{ ok: boolean; why?: string }> {
  try {
    await loadPolicies([file], { validate: true });
    return { ok: true };
  } catch (err) {
    return { ok: false, why: (err as Error).message.slice(0, 400) };
  }
}

describe('our push verdict is the API server’s (strict field validation, server-side dry run)', () => {
  it('every engine policy file of the corpus, and every bad file', async () => {
    // (others/kubernetes-website: the ValidatingAdmissionPolicy examples, built-in kinds of the server)
    const files = corpusFiles().filter(
      (f) => /^(kyverno|kubearmor)\/(policies|samples)\//.test(f.path) || f.path.startsWith('bad/') || f.path.startsWith('others/kubernetes-website/'),
    );
    const pieces = files.map((f) => chunks(readFileSync(f.absolute, 'utf8')));
    const readings = kubectlRead(pieces.flat()); // one process for every document
    const differ: string[] = [];
    let agree = 0;
    let accepted = 0;
    let builtInAccepted = 0;
    let at = 0;
    for (const [i, f] of files.entries()) {
      const reading = readings.slice(at, (at += pieces[i]!.length));
      const [ours, server] = await Promise.all([ourVerdict(f.absolute), serverVerdict(pieces[i]!, reading)]);
      if (server.ok) accepted++;
      if (server.ok && f.path.startsWith('others/kubernetes-website/')) builtInAccepted++;
      if (ours.ok === server.ok) agree++;
      else differ.push(`${f.path}: we ${ours.ok ? 'accept' : `refuse (${ours.why})`}, the API server ${server.ok ? 'accepts' : `refuses (${server.why})`}`);
    }
    console.log(`verdicts: ${agree} of ${files.length} files agree (the API server accepts ${accepted}, refuses ${files.length - accepted})`);
    expect(differ.join('\n'), `${differ.length} of ${files.length} verdicts differ`).toBe('');
    expect(files.length).toBeGreaterThan(1200);
    // 6 of the 7 ValidatingAdmissionPolicy(Binding) files of the examples: binding-with-param-prod.yaml
    // has no paramRef.parameterNotFoundAction, required since v1.30 (the ReplicaLimit parameters: no CRD)
    expect(builtInAccepted).toBe(6);
    // Both verdicts occur: a server that refused (or accepted) everything would prove nothing.
    expect(accepted).toBeGreaterThan(1000);
    expect(files.length - accepted).toBeGreaterThan(10);
  }, 600_000);
});

describe('built-in admission policies: our verdict is the API server’s on what its Go code checks', () => {
  // The server validates these kinds in code, beyond its published OpenAPI: the plugin's
  // schemaAdditions (plugins/kubernetes/engine.json) must say the same, case by case.
  const G = 'admissionregistration.k8s.io';
  const rule = { apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE'] };
  const vap = (spec: object) => ({ apiVersion: `${G}/v1`, kind: 'ValidatingAdmissionPolicy', metadata: { name: 'p' }, spec });
  const vapb = (spec: object) => ({ apiVersion: `${G}/v1`, kind: 'ValidatingAdmissionPolicyBinding', metadata: { name: 'b' }, spec });
  const map = (v: string, spec: object) => ({ apiVersion: `${G}/${v}`, kind: 'MutatingAdmissionPolicy', metadata: { name: 'm' }, spec });
  const mapb = (v: string, spec: object) => ({ apiVersion: `${G}/${v}`, kind: 'MutatingAdmissionPolicyBinding', metadata: { name: 'mb' }, spec });
  const ok = { matchConstraints: { resourceRules: [rule] }, validations: [{ expression: 'true' }] };
  const mut = { matchConstraints: { resourceRules: [rule] }, reinvocationPolicy: 'Never', mutations: [{ patchType: 'ApplyConfiguration', applyConfiguration: { expression: 'Object{}' } }] };
  const cases: Array<[string, { apiVersion: string; kind: string }]> = [
    ['VAP valid', vap(ok)],
    ['VAP audit only', vap({ matchConstraints: { resourceRules: [rule] }, auditAnnotations: [{ key: 'k', valueExpression: "'v'" }] })],
    ['VAP empty spec', vap({})],
    ['VAP no validations', vap({ matchConstraints: { resourceRules: [rule] }, validations: [] })],
    ['VAP no resourceRules', vap({ ...ok, matchConstraints: {} })],
    ['VAP empty rule', vap({ ...ok, matchConstraints: { resourceRules: [{}] } })],
    ['VAP rule without operations', vap({ ...ok, matchConstraints: { resourceRules: [{ ...rule, operations: [] }] } })],
    ['VAP empty paramKind', vap({ ...ok, paramKind: {} })],
    ['VAP paramKind', vap({ ...ok, paramKind: { apiVersion: 'v1', kind: 'ConfigMap' } })],
    ['VAP bad failurePolicy', vap({ ...ok, failurePolicy: 'Maybe' })],
    ['VAP unknown field', vap({ ...ok, validation: [] })],
    ['VAPB valid', vapb({ policyName: 'p', validationActions: ['Deny'] })],
    ['VAPB empty spec', vapb({})],
    ['VAPB empty policyName', vapb({ policyName: '', validationActions: ['Deny'] })],
    ['VAPB no actions', vapb({ policyName: 'p', validationActions: [] })],
    ['VAPB empty paramRef', vapb({ policyName: 'p', validationActions: ['Deny'], paramRef: {} })],
    ['VAPB paramRef without action', vapb({ policyName: 'p', validationActions: ['Deny'], paramRef: { name: 'x' } })],
    ['VAPB paramRef', vapb({ policyName: 'p', validationActions: ['Deny'], paramRef: { name: 'x', namespace: 'default', parameterNotFoundAction: 'Deny' } })],
    ['VAPB paramRef selector', vapb({ policyName: 'p', validationActions: ['Deny'], paramRef: { selector: {}, parameterNotFoundAction: 'Allow' } })],
    ['VAPB empty matchResources', vapb({ policyName: 'p', validationActions: ['Deny'], matchResources: {} })],
    ['VAPB duplicate action', vapb({ policyName: 'p', validationActions: ['Deny', 'Deny'] })],
    ...(['v1beta1', 'v1alpha1'] as const).flatMap((v): Array<[string, { apiVersion: string; kind: string }]> => [
      [`MAP ${v} valid`, map(v, mut)],
      [`MAP ${v} JSONPatch`, map(v, { ...mut, mutations: [{ patchType: 'JSONPatch', jsonPatch: { expression: '[JSONPatch{op: "add", path: "/metadata/labels", value: {}}]' } }] })],
      [`MAP ${v} empty spec`, map(v, {})],
      [`MAP ${v} no reinvocationPolicy`, map(v, { ...mut, reinvocationPolicy: undefined })],
      [`MAP ${v} mutation without its patch`, map(v, { ...mut, mutations: [{ patchType: 'ApplyConfiguration' }] })],
      [`MAP ${v} no mutations`, map(v, { ...mut, mutations: [] })],
      [`MAPB ${v} valid`, mapb(v, { policyName: 'm' })],
      [`MAPB ${v} empty spec`, mapb(v, {})],
      [`MAPB ${v} empty paramRef`, mapb(v, { policyName: 'm', paramRef: {} })],
    ]),
  ];

  it(`${cases.length} hand-made objects, valid and not`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'verdict-builtin-'));
    const differ: string[] = [];
    let refused = 0;
    for (const [i, [name, obj]] of cases.entries()) {
      const file = join(dir, `${i}.json`);
      writeFileSync(file, JSON.stringify(obj));
      const ours = await ourVerdict(file);
      const [, version] = obj.apiVersion.split('/');
      const plural = (await servedAt(G, version!)).get(obj.kind)!.plural;
      const res = await kubeRequest(cluster.server, `/apis/${G}/${version}/${plural}?dryRun=All&fieldValidation=Strict`, { method: 'POST', body: obj, token: cluster.adminToken, dispatcher: agent });
      const server = res.status < 300;
      if (!server) refused++;
      if (ours.ok !== server) differ.push(`${name}: we ${ours.ok ? 'accept' : `refuse (${ours.why})`}, the API server ${server ? 'accepts' : `refuses (${res.text.slice(0, 300)})`}`);
    }
    expect(differ.join('\n')).toBe('');
    expect(refused).toBeGreaterThan(10);
    expect(cases.length - refused).toBeGreaterThan(10);
  }, 120_000);
});
