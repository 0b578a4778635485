// File by file over the corpus, our push verdict (the loader with validation: what `push` checks
// before anything is sent) must be the API server's verdict for the file's own bytes: each
// document, as kubectl cuts the stream, sent as YAML with a server-side dry run and strict field
// validation (the server's strict YAML decoding then also sees duplicate keys). Built-in kinds
// (ValidatingAdmissionPolicy and its binding) are sent to the server's own resource.
// Gatekeeper (others/gatekeeper-library): the real controller runs against the server
// (test/support/gatekeeper.ts); the library's templates the server accepts are applied first, so that
// each constraint is judged by the CRD the controller made from its template; ours judges a constraint
// with its template beside it (what push checks when both are in the set).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findKind } from '../../src/engines/index.ts';
import { loadPolicies } from '../../src/policy/load.ts';
import { CORPUS } from '../support/cli.ts';
import { clusterAgent, corpusCrds, kubeRequest, startCluster, type RunningCluster } from '../support/cluster.ts';
import { corpusFiles } from '../support/corpus.ts';
import { startGatekeeper, waitForConstraintKinds, type RunningGatekeeper } from '../support/gatekeeper.ts';
import { kubectlRead } from '../support/k8s-yaml.ts';
import type { Agent } from 'undici';

let cluster: RunningCluster;
let agent: Agent;
let gatekeeper: RunningGatekeeper;

beforeAll(async () => {
  cluster = await startCluster('verdict');
  agent = clusterAgent(cluster);
  gatekeeper = await startGatekeeper(cluster);
}, 300_000);

afterAll(async () => {
  await gatekeeper?.stop();
  await agent?.close();
  await cluster?.stop();
});

const GATEKEEPER_LIBRARY = 'others/gatekeeper-library/';
const isTemplate = (path: string) => path.startsWith(GATEKEEPER_LIBRARY) && path.endsWith('/template.yaml');
/** The library keeps each constraint under its template's directory: `<dir>/samples/<case>/constraint.yaml`. */
const templateOf = (path: string) => (path.startsWith(`${GATEKEEPER_LIBRARY}library/`) && path.includes('/samples/') ? path.replace(/\/samples\/.*$/, '/template.yaml') : undefined);

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
    // Built-in kinds a plugin declares (admission policies) and the kinds a controller made (Gatekeeper's
    // constraints, its own CRDs) are found through discovery; any other built-in kind (a Secret beside
    // a policy) is no policy: the file cannot be pushed.
    const declared = findKind(obj.apiVersion ?? '', obj.kind ?? '') !== undefined;
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

async function ourVerdict(file: string, beside: string[] = []): Promise<{ ok: boolean; why?: string }> {
  try {
    await loadPolicies([...beside, file], { validate: true });
    return { ok: true };
  } catch (err) {
    return { ok: false, why: (err as Error).message.slice(0, 400) };
  }
}

describe('our push verdict is the API server’s (strict field validation, server-side dry run)', () => {
  it('every engine policy file of the corpus, and every bad file', async () => {
    // (others/kubernetes-website: the ValidatingAdmissionPolicy examples, built-in kinds of the server)
    const files = corpusFiles().filter(
      (f) =>
        /^(kyverno|kubearmor)\/(policies|samples)\//.test(f.path) ||
        f.path.startsWith('bad/') ||
        f.path.startsWith('others/kubernetes-website/') ||
        f.path.startsWith(GATEKEEPER_LIBRARY),
    );
    const pieces = files.map((f) => chunks(readFileSync(f.absolute, 'utf8')));
    const readings = kubectlRead(pieces.flat()); // one process for every document
    const fileReadings = new Map<string, Reading>();
    let at = 0;
    for (const [i, f] of files.entries()) fileReadings.set(f.path, readings.slice(at, (at += pieces[i]!.length)));

    // Gatekeeper templates: the server's verdict (dry run) first, then the accepted ones applied for
    // real, and the controller given time to make and serve their constraint kinds.
    const templateVerdicts = new Map<string, { ok: boolean; why?: string }>();
    const applied: string[] = [];
    for (const [i, f] of files.entries()) {
      if (!isTemplate(f.path)) continue;
      const verdict = await serverVerdict(pieces[i]!, fileReadings.get(f.path)!);
      templateVerdicts.set(f.path, verdict);
      if (!verdict.ok) continue;
      const name = (fileReadings.get(f.path)![0]!.objects[0] as { metadata: { name: string } }).metadata.name;
      const path = `/apis/templates.gatekeeper.sh/v1/constrainttemplates/${name}?fieldManager=verdict-test`;
      const res = await kubeRequest(cluster.server, path, { method: 'PATCH', body: pieces[i]![0]!, contentType: 'application/apply-patch+yaml', token: cluster.adminToken, dispatcher: agent });
      expect(res.status, res.text).toBeLessThan(300);
      applied.push(name);
    }
    await waitForConstraintKinds(cluster, applied, 180_000);

    const differ: string[] = [];
    let agree = 0;
    let accepted = 0;
    let builtInAccepted = 0;
    const gatekeeperFiles = { files: 0, accepted: 0, agree: 0 };
    for (const [i, f] of files.entries()) {
      const reading = fileReadings.get(f.path)!;
      const template = templateOf(f.path);
      const [ours, server] = await Promise.all([
        ourVerdict(f.absolute, template ? [join(CORPUS, template)] : []),
        templateVerdicts.get(f.path) ?? serverVerdict(pieces[i]!, reading),
      ]);
      if (server.ok) accepted++;
      if (server.ok && f.path.startsWith('others/kubernetes-website/')) builtInAccepted++;
      if (f.path.startsWith(GATEKEEPER_LIBRARY)) {
        gatekeeperFiles.files++;
        if (server.ok) gatekeeperFiles.accepted++;
        if (server.ok === ours.ok) gatekeeperFiles.agree++;
      }
      if (ours.ok === server.ok) agree++;
      else differ.push(`${f.path}: we ${ours.ok ? 'accept' : `refuse (${ours.why})`}, the API server ${server.ok ? 'accepts' : `refuses (${server.why})`}`);
    }
    console.log(`verdicts: ${agree} of ${files.length} files agree (the API server accepts ${accepted}, refuses ${files.length - accepted})`);
    console.log(`gatekeeper-library: ${gatekeeperFiles.agree} of ${gatekeeperFiles.files} files agree (the API server accepts ${gatekeeperFiles.accepted})`);
    expect(differ.join('\n'), `${differ.length} of ${files.length} verdicts differ`).toBe('');
    expect(files.length).toBeGreaterThan(1200);
    // 6 of the 7 ValidatingAdmissionPolicy(Binding) files of the examples: binding-with-param-prod.yaml
    // has no paramRef.parameterNotFoundAction, required since v1.30 (the ReplicaLimit parameters: no CRD)
    expect(builtInAccepted).toBe(6);
    // The library's 49 templates, 69 constraints and 11 mutator files; the server refuses one:
    // mutation-fsGroup.yaml's Assign is named k8spspfsGroup (not a DNS-1123 subdomain).
    expect(gatekeeperFiles).toEqual({ files: 129, accepted: 128, agree: 129 });
    expect(applied).toHaveLength(49);
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

describe('Gatekeeper: our verdict is the API server’s once the real controller made the constraint kinds', () => {
  // Two templates of our own, applied for real: a v1 one (unknown parameters refused: structural
  // schema) and a v1beta1 one (legacySchema by default: unknown parameters kept). Each constraint
  // case is judged by the server with the kind the controller made, and by us with its template beside it.
  const T = 'templates.gatekeeper.sh';
  const params = { type: 'object', properties: { labels: { type: 'array', items: { type: 'string' } }, message: { type: 'string' } } };
  const template = (version: string, kind: string, extra: object = {}) => ({
    apiVersion: `${T}/${version}`,
    kind: 'ConstraintTemplate',
    metadata: { name: kind.toLowerCase() },
    spec: {
      crd: { spec: { names: { kind }, validation: { openAPIV3Schema: params } } },
      targets: [{ target: 'admission.k8s.gatekeeper.sh', code: [{ engine: 'K8sNativeValidation', source: { validations: [{ expression: 'true' }] } }] }],
      ...extra,
    },
  });
  const strict = template('v1', 'PolicyociCaseStrict');
  const legacy = template('v1beta1', 'PolicyociCaseLegacy');
  const match = { kinds: [{ apiGroups: [''], kinds: ['Pod'] }] };
  const constraint = (kind: string, spec: object, name = 'c') => ({ apiVersion: 'constraints.gatekeeper.sh/v1beta1', kind, metadata: { name }, spec });
  const assign = (spec: object) => ({ apiVersion: 'mutations.gatekeeper.sh/v1', kind: 'Assign', metadata: { name: 'a' }, spec });
  const applyTo = [{ groups: [''], kinds: ['Pod'], versions: ['v1'] }];
  const S = strict.spec.crd.spec.names.kind;
  const L = legacy.spec.crd.spec.names.kind;
  const cases: Array<[string, { apiVersion: string; kind: string }, object?]> = [
    ['constraint valid', constraint(S, { match, parameters: { labels: ['a'], message: 'm' } }), strict],
    ['constraint without parameters', constraint(S, { match }), strict],
    ['constraint with an empty spec', constraint(S, {}), strict],
    ['unknown parameter', constraint(S, { parameters: { label: ['a'] } }), strict],
    ['parameter of the wrong type', constraint(S, { parameters: { labels: 'a' } }), strict],
    ['parameter item of the wrong type', constraint(S, { parameters: { labels: [1] } }), strict],
    ['unknown spec field', constraint(S, { match, scope: 'all' }), strict],
    ['match.kinds of the wrong type', constraint(S, { match: { kinds: 'Pod' } }), strict],
    ['enforcementAction', constraint(S, { enforcementAction: 'dryrun' }), strict],
    ['name not a DNS-1123 subdomain', constraint(S, {}, 'Not_A_Name'), strict],
    ['legacy template: unknown parameter kept', constraint(L, { parameters: { label: ['a'] } }), legacy],
    ['legacy template: parameter of the wrong type', constraint(L, { parameters: { labels: 'a' } }), legacy],
    ['template valid', template('v1', 'PolicyociOther')],
    ['template without targets', { ...template('v1', 'PolicyociOther'), spec: { crd: strict.spec.crd } }],
    ['template unknown spec field', template('v1', 'PolicyociOther', { target: [] })],
    ['template v1alpha1', template('v1alpha1', 'PolicyociOther')],
    ['Assign valid', assign({ applyTo, location: 'spec.dnsPolicy', parameters: { assign: { value: 'None' } } })],
    ['Assign without location', assign({ applyTo, parameters: { assign: { value: 'None' } } })],
    ['Assign unknown field', assign({ applyTo, location: 'spec.dnsPolicy', parameters: { assign: { value: 'None' } }, locations: [] })],
    ['ModifySet bad operation', { apiVersion: 'mutations.gatekeeper.sh/v1', kind: 'ModifySet', metadata: { name: 'm' }, spec: { applyTo, location: 'spec.x', parameters: { operation: 'replace', values: { fromList: ['a'] } } } }],
    ['AssignMetadata valid', { apiVersion: 'mutations.gatekeeper.sh/v1', kind: 'AssignMetadata', metadata: { name: 'am' }, spec: { location: 'metadata.labels.team', parameters: { assign: { value: 'x' } } } }],
  ];

  it(`${cases.length} hand-made objects, valid and not`, async () => {
    for (const t of [strict, legacy]) {
      const res = await kubeRequest(cluster.server, `/apis/${T}/${t.apiVersion.split('/')[1]}/constrainttemplates/${t.metadata.name}?fieldManager=verdict-test`, {
        method: 'PATCH', body: t, contentType: 'application/apply-patch+yaml', token: cluster.adminToken, dispatcher: agent,
      });
      expect(res.status, res.text).toBeLessThan(300);
    }
    await waitForConstraintKinds(cluster, [strict.metadata.name, legacy.metadata.name]);
    builtIn.clear(); // discovery answers cached before these two kinds existed
    const dir = mkdtempSync(join(tmpdir(), 'verdict-gatekeeper-'));
    const differ: string[] = [];
    let refused = 0;
    for (const [i, [name, obj, definedBy]] of cases.entries()) {
      const file = join(dir, `${i}.json`);
      writeFileSync(file, JSON.stringify(obj));
      const beside = definedBy ? [join(dir, `${i}-template.json`)] : [];
      if (definedBy) writeFileSync(beside[0]!, JSON.stringify(definedBy));
      const ours = await ourVerdict(file, beside);
      const [group, version] = obj.apiVersion.split('/');
      const plural = (await servedAt(group!, version!)).get(obj.kind)?.plural;
      expect(plural, `${obj.apiVersion} ${obj.kind} served`).toBeDefined();
      const res = await kubeRequest(cluster.server, `/apis/${group}/${version}/${plural}?dryRun=All&fieldValidation=Strict`, { method: 'POST', body: obj, token: cluster.adminToken, dispatcher: agent });
      const server = res.status < 300;
      if (!server) refused++;
      if (ours.ok !== server) differ.push(`${name}: we ${ours.ok ? 'accept' : `refuse (${ours.why})`}, the API server ${server ? 'accepts' : `refuses (${res.text.slice(0, 300)})`}`);
    }
    console.log(`gatekeeper hand-made: ${cases.length - differ.length} of ${cases.length} agree (the API server refuses ${refused})`);
    expect(differ.join('\n')).toBe('');
    expect(refused).toBeGreaterThan(5);
    expect(cases.length - refused).toBeGreaterThan(5);
  }, 180_000);
});
