// The gatekeeper engine: kinds and schemas from the Gatekeeper CRDs, and constraints — kinds not
// known in advance — through the generic `dynamicKinds` hook: any kind of constraints.gatekeeper.sh
// is a policy kind, checked against the schema all constraints share and, when its
// ConstraintTemplate is in the same set, against the template's parameter schema.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { definedByKind, dynamicKind, engineForMediaType, findEngine, findKind, loadSchema, resolveKind, schemaKey } from '../../../src/engines/index.ts';
import { PolicyOciError } from '../../../src/errors.ts';
import { composeSchema, definitionOf, definitionsIn } from '../../../src/policy/dynamic.ts';
import { loadPolicies } from '../../../src/policy/load.ts';
import type { KubeObject } from '../../../src/policy/types.ts';

const CORPUS = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'corpus');
const LIBRARY = join(CORPUS, 'others', 'gatekeeper-library');
const gk = () => findEngine('gatekeeper')!;

const TEMPLATE = (legacy?: boolean, version = 'v1') => `apiVersion: templates.gatekeeper.sh/${version}
kind: ConstraintTemplate
metadata:
  name: k8srequiredlabels
spec:
  crd:
    spec:
      names:
        kind: K8sRequiredLabels
      validation:${legacy === undefined ? '' : `\n        legacySchema: ${legacy}`}
        openAPIV3Schema:
          type: object
          properties:
            labels:
              type: array
              items:
                type: string
            message:
              type: string
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package k8srequiredlabels
      violation[{"msg": "x"}] { false }
`;
const CONSTRAINT = (parameters: string, name = 'must-have-owner') => `apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata:
  name: ${name}
spec:
  enforcementAction: dryrun
  match:
    kinds:
    - apiGroups: [""]
      kinds: [Namespace]
  parameters:
${parameters}
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'policyoci-gatekeeper-'));
  process.env.POLICYOCI_CACHE_DIR = 'off';
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function files(entries: Record<string, string>): Promise<string[]> {
  const out: string[] = [];
  for (const [name, text] of Object.entries(entries)) {
    const p = join(dir, name);
    await writeFile(p, text);
    out.push(p);
  }
  return out;
}

describe('gatekeeper engine data', () => {
  it('declares templates, mutators and expansion templates from the CRDs, templates first', () => {
    expect(gk().kinds.map((k) => [`${k.kind}.${k.group}`, k.versions, k.storageVersion, k.namespaced])).toEqual([
      ['ConstraintTemplate.templates.gatekeeper.sh', ['v1', 'v1beta1', 'v1alpha1'], 'v1', false],
      ['Assign.mutations.gatekeeper.sh', ['v1', 'v1beta1', 'v1alpha1'], 'v1', false],
      ['AssignMetadata.mutations.gatekeeper.sh', ['v1', 'v1beta1', 'v1alpha1'], 'v1', false],
      ['ModifySet.mutations.gatekeeper.sh', ['v1', 'v1beta1', 'v1alpha1'], 'v1', false],
      ['AssignImage.mutations.gatekeeper.sh', ['v1alpha1'], 'v1alpha1', false],
      ['ExpansionTemplate.expansion.gatekeeper.sh', ['v1beta1', 'v1alpha1'], 'v1alpha1', false],
    ]);
    // controller configuration and external data endpoints are not carried (plugins/README.md)
    for (const [apiVersion, kind] of [
      ['config.gatekeeper.sh/v1alpha1', 'Config'],
      ['syncset.gatekeeper.sh/v1alpha1', 'SyncSet'],
      ['connection.gatekeeper.sh/v1alpha1', 'Connection'],
      ['externaldata.gatekeeper.sh/v1beta1', 'Provider'],
    ]) {
      expect(resolveKind(apiVersion!, kind!).status).toBe('unknown-group');
    }
    const m = gk().mediaTypes;
    expect([m.config, m.layerYaml, m.layerJson, m.layerTarGzip]).toEqual([
      'application/vnd.policyoci.gatekeeper.config.v1+json',
      'application/vnd.policyoci.gatekeeper.policy.layer.v1+yaml',
      'application/vnd.policyoci.gatekeeper.policy.layer.v1+json',
      'application/vnd.policyoci.gatekeeper.policy.layer.v1.tar+gzip',
    ]);
    expect(engineForMediaType(m.layerTarGzip)?.name).toBe('gatekeeper');
  });

  it('makes up any constraint kind, once, after templates and mutators in apply order', () => {
    const a = findKind('constraints.gatekeeper.sh/v1beta1', 'K8sRequiredLabels')!;
    expect(a.engine.name).toBe('gatekeeper');
    expect(a.kind).toMatchObject({ kind: 'K8sRequiredLabels', group: 'constraints.gatekeeper.sh', plural: 'k8srequiredlabels', namespaced: false, statusSubresource: true });
    expect(a.kind.dynamic).toBe(gk().dynamicKinds![0]);
    expect(findKind('constraints.gatekeeper.sh/v1alpha1', 'K8sRequiredLabels')!.kind).toBe(a.kind);
    expect(resolveKind('constraints.gatekeeper.sh/v1', 'K8sRequiredLabels')).toMatchObject({ status: 'unserved-version', version: 'v1' });
    expect(resolveKind('constraints.gatekeeper.sh/v1beta1', 'not a kind').status).toBe('unknown-group');
    const template = gk().kinds.find((k) => k.kind === 'ConstraintTemplate')!;
    const assign = gk().kinds.find((k) => k.kind === 'Assign')!;
    expect(template.applyOrder).toBeLessThan(a.kind.applyOrder);
    expect(assign.applyOrder).toBeLessThan(a.kind.applyOrder);
    expect(definedByKind(gk(), template)).toBe(a.kind.dynamic);
    expect(definedByKind(gk(), assign)).toBeUndefined();
    expect(schemaKey(a.kind, 'v1beta1')).toBe('constraints.gatekeeper.sh/v1beta1/*');
    expect(dynamicKind(gk(), gk().dynamicKinds![0]!, 'K8sRequiredLabels')).toBe(a.kind);
  });

  it('gives constraints the outer schema Gatekeeper builds, its match taken from the mutators CRD', async () => {
    const a = findKind('constraints.gatekeeper.sh/v1beta1', 'K8sAny')!;
    const s = (await loadSchema(a.engine, a.kind, 'v1beta1')) as { properties: Record<string, { properties?: Record<string, unknown> }> };
    const spec = s.properties.spec!.properties!;
    expect(Object.keys(spec).sort()).toEqual(['enforcementAction', 'match', 'parameters', 'scopedEnforcementActions']);
    const assign = findKind('mutations.gatekeeper.sh/v1', 'Assign')!;
    const assignSchema = (await loadSchema(assign.engine, assign.kind, 'v1')) as typeof s;
    expect(spec.match).toEqual(assignSchema.properties.spec!.properties!.match);
    expect(spec.enforcementAction).toEqual({ type: 'string', default: 'deny' });
    expect(await loadSchema(a.engine, a.kind, 'v1alpha1')).toBe(s);
  });
});

describe('definitions', () => {
  const template = (legacy?: boolean, version = 'v1'): KubeObject => parse(TEMPLATE(legacy, version)) as KubeObject;

  it('reads the kind a template defines and its parameter schema; legacySchema defaults by version', () => {
    const d = definitionOf(template())!;
    expect(d.kind).toBe('K8sRequiredLabels');
    expect(d.schema).toMatchObject({ type: 'object', properties: { labels: { type: 'array' } } });
    expect(d.preserveUnknownFields).toBe(false);
    expect(definitionOf(template(undefined, 'v1beta1'))!.preserveUnknownFields).toBe(true);
    expect(definitionOf(template(false, 'v1beta1'))!.preserveUnknownFields).toBe(false);
    expect(definitionOf(template(true, 'v1'))!.preserveUnknownFields).toBe(true);
    const assign = { apiVersion: 'mutations.gatekeeper.sh/v1', kind: 'Assign', metadata: { name: 'a' }, spec: {} } as KubeObject;
    expect(definitionOf(assign)).toBeUndefined();
    expect([...definitionsIn([template(), assign]).keys()]).toEqual(['constraints.gatekeeper.sh/K8sRequiredLabels']);
  });

  it('puts the parameter schema in place, or leaves parameters out when the template has none', () => {
    const shared = { type: 'object', properties: { spec: { type: 'object', properties: { match: {}, parameters: { 'x-kubernetes-preserve-unknown-fields': true } } } } };
    const d = definitionOf(template())!;
    expect(composeSchema(shared, d)).toEqual({ type: 'object', properties: { spec: { type: 'object', properties: { match: {}, parameters: d.schema } } } });
    expect(composeSchema(shared, { ...d, schema: undefined })).toEqual({ type: 'object', properties: { spec: { type: 'object', properties: { match: {} } } } });
    const legacy = composeSchema(shared, { ...d, preserveUnknownFields: true }) as { properties: { spec: { properties: { parameters: Record<string, unknown> } } } };
    expect(legacy.properties.spec.properties.parameters).toMatchObject({ 'x-kubernetes-preserve-unknown-fields': true });
    expect(shared.properties.spec.properties.parameters).toEqual({ 'x-kubernetes-preserve-unknown-fields': true }); // not modified
  });
});

describe('reading constraints (loadPolicies)', () => {
  it('checks a constraint against its template in the same set', async () => {
    const ok = await loadPolicies(await files({ 't.yaml': TEMPLATE(), 'c.yaml': CONSTRAINT('    labels: [owner]') }), { validate: true });
    expect(ok.map((d) => d.object.kind)).toEqual(['ConstraintTemplate', 'K8sRequiredLabels']);
    expect(ok.flatMap((d) => d.warnings ?? [])).toEqual([]);

    const err = await loadPolicies(await files({ 't.yaml': TEMPLATE(), 'c.yaml': CONSTRAINT('    labels: owner\n    colour: red') }), { validate: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyOciError);
    const e = err as PolicyOciError;
    expect(e.code).toBe('INVALID_POLICY');
    expect(e.details.join('\n')).toMatch(/c\.yaml:1: K8sRequiredLabels must-have-owner: .*spec\.parameters\.colour.*\(schema from ConstraintTemplate k8srequiredlabels\)/);
    expect(e.details.join('\n')).toMatch(/spec\.parameters\.labels.*array/);
  });

  it('keeps unknown parameters under a legacy schema (v1beta1 templates by default)', async () => {
    const docs = await loadPolicies(await files({ 't.yaml': TEMPLATE(undefined, 'v1beta1'), 'c.yaml': CONSTRAINT('    labels: [owner]\n    colour: red') }), { validate: true });
    expect((docs[1]!.object.spec as { parameters: object }).parameters).toEqual({ labels: ['owner'], colour: 'red' });
  });

  it('refuses parameters when the template defines no parameter schema (the CRD then has none)', async () => {
    const noSchema = TEMPLATE().replace(/      validation:[\s\S]*?  targets:/, '  targets:');
    const err = (await loadPolicies(await files({ 't.yaml': noSchema, 'c.yaml': CONSTRAINT('    labels: [owner]') }), { validate: true }).catch((e: unknown) => e)) as PolicyOciError;
    expect(err.details.join('\n')).toMatch(/unknown field "spec\.parameters"/);
  });

  it('warns, and checks only the shared schema, when the template is not in the set', async () => {
    const docs = await loadPolicies(await files({ 'c.yaml': CONSTRAINT('    anything: [goes]') }), { validate: true });
    expect(docs[0]!.warnings?.join('\n')).toMatch(/no ConstraintTemplate in this set defines K8sRequiredLabels: spec\.parameters was not checked/);
    const bad = (await loadPolicies(await files({ 'c.yaml': CONSTRAINT('    a: 1').replace('enforcementAction: dryrun', 'enforcementAction: [dryrun]') }), { validate: true }).catch((e: unknown) => e)) as PolicyOciError;
    expect(bad.code).toBe('INVALID_POLICY');
    expect(bad.details.join('\n')).toMatch(/spec\.enforcementAction/);
    const longName = (await loadPolicies(await files({ 'c.yaml': CONSTRAINT('    a: 1', 'x'.repeat(64)) }), { validate: true }).catch((e: unknown) => e)) as PolicyOciError;
    expect(longName.details.join('\n')).toMatch(/metadata\.name/);
  });

  it('reads the whole gatekeeper-library corpus: 49 templates, 69 constraints, 15 of 16 mutators, all checked', async () => {
    // One corpus file is refused as the API server refuses it: an Assign named "k8spspfsGroup".
    const bad = (await loadPolicies([LIBRARY], { validate: true }).catch((e: unknown) => e)) as PolicyOciError;
    expect(bad.details).toEqual([expect.stringMatching(/mutation-fsGroup\.yaml:4: Assign k8spspfsGroup: metadata\.name: "k8spspfsGroup" must be a DNS-1123 subdomain/)]);
    const docs = await loadPolicies([LIBRARY], { validate: true, exclude: ['mutation-fsGroup.yaml'] });
    const count = (kind: string) => docs.filter((d) => d.object.kind === kind).length;
    expect(count('ConstraintTemplate')).toBe(49);
    expect(docs.filter((d) => d.object.apiVersion.startsWith('constraints.gatekeeper.sh/')).length).toBe(69);
    expect(count('Assign') + count('ModifySet')).toBe(15);
    expect(new Set(docs.filter((d) => d.object.apiVersion.startsWith('constraints.')).map((d) => d.object.kind)).size).toBe(49);
    // every constraint has its template in the set: nothing went unchecked
    expect(docs.flatMap((d) => d.warnings ?? []).filter((w) => w.includes('was not checked'))).toEqual([]);
  });
});
