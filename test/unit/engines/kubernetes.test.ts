// The kubernetes engine (admissionregistration.k8s.io) is data only: its kinds, schemas pinned from
// the test API server's OpenAPI, media types of our own vendor tree, and an apply order that puts a
// policy before the bindings naming it. The server's own verdicts are in test/differential.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { engineForMediaType, findEngine, findKind, loadSchema, resolveKind } from '../../../src/engines/index.ts';
import { loadPolicies } from '../../../src/policy/load.ts';
import { corpusFiles } from '../../support/corpus.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const k8s = () => findEngine('kubernetes')!;
const order = (kind: string) => k8s().kinds.find((k) => k.kind === kind)!.applyOrder;

describe('kubernetes engine', () => {
  it('declares the four admission policy kinds at the versions kube-apiserver v1.35 serves', () => {
    expect(k8s().kinds.map((k) => [k.kind, k.versions, k.namespaced])).toEqual([
      ['ValidatingAdmissionPolicy', ['v1'], false],
      ['MutatingAdmissionPolicy', ['v1beta1', 'v1alpha1'], false],
      ['ValidatingAdmissionPolicyBinding', ['v1'], false],
      ['MutatingAdmissionPolicyBinding', ['v1beta1', 'v1alpha1'], false],
    ]);
    expect(findKind('admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicyBinding')?.engine.name).toBe('kubernetes');
    // v1beta1 ValidatingAdmissionPolicy is no longer served (removed in v1.35's API server)
    expect(resolveKind('admissionregistration.k8s.io/v1beta1', 'ValidatingAdmissionPolicy').status).toBe('unserved-version');
    // webhooks configurations are not policies we carry: they point at services of one cluster
    expect(resolveKind('admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration').status).toBe('unknown-kind');
  });

  it('applies every policy before any binding (and prunes bindings first)', () => {
    expect(order('ValidatingAdmissionPolicy')).toBeLessThan(order('ValidatingAdmissionPolicyBinding'));
    expect(order('MutatingAdmissionPolicy')).toBeLessThan(order('MutatingAdmissionPolicyBinding'));
  });

  it('uses media types under our vendor tree, not vnd.cncf', () => {
    const m = k8s().mediaTypes;
    expect([m.config, m.layerYaml, m.layerJson, m.layerTarGzip]).toEqual([
      'application/vnd.policyoci.kubernetes.config.v1+json',
      'application/vnd.policyoci.kubernetes.policy.layer.v1+yaml',
      'application/vnd.policyoci.kubernetes.policy.layer.v1+json',
      'application/vnd.policyoci.kubernetes.policy.layer.v1.tar+gzip',
    ]);
    expect(engineForMediaType(m.layerYaml)?.name).toBe('kubernetes');
  });

  it('has schemas inlined from the pinned OpenAPI (no $ref, no descriptions, metadata left to the metadata checks)', async () => {
    for (const kind of k8s().kinds) {
      for (const v of kind.versions) {
        const s = await loadSchema(k8s(), kind, v);
        const text = JSON.stringify(s);
        expect(text).not.toContain('$ref');
        expect(text).not.toContain('"description"');
        expect(s).toMatchObject({ type: 'object', properties: { metadata: { type: 'object' }, spec: { type: 'object' } } });
      }
    }
    const pinned = JSON.parse(readFileSync(join(ROOT, 'plugins/kubernetes/openapi/admissionregistration.k8s.io_v1.json'), 'utf8'));
    expect(pinned['x-source']).toMatch(/^kube-apiserver v1\.35\.4 /);
  });
});

describe('kubernetes engine: what push accepts and refuses', () => {
  const doc = (over: Record<string, unknown>) => ({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name: 'b' },
    spec: { policyName: 'p', validationActions: ['Deny'], ...over },
  });
  const verdict = async (obj: object): Promise<string> => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'k8s-engine-')), 'p.json');
    writeFileSync(file, JSON.stringify(obj));
    try {
      await loadPolicies([file], { validate: true });
      return 'ok';
    } catch (err) {
      return (err as Error).message;
    }
  };

  it('accepts a binding; refuses an unknown field, a value outside an enum, a duplicate in a set', async () => {
    expect(await verdict(doc({}))).toBe('ok');
    expect(await verdict(doc({ policyname: 'p' }))).toMatch(/unknown field "spec.policyname"/);
    expect(await verdict(doc({ validationActions: ['Block'] }))).toMatch(/validationActions/);
    expect(await verdict(doc({ validationActions: ['Deny', 'Deny'] }))).toMatch(/duplicate entry/);
  });

  it('reads every file of the kubernetes-website examples as the API server does', async () => {
    const files = corpusFiles().filter((f) => f.path.startsWith('others/kubernetes-website/'));
    expect(files).toHaveLength(10);
    const accepted: string[] = [];
    for (const f of files) {
      try {
        const docs = await loadPolicies([f.absolute], { validate: true });
        expect(docs.every((d) => d.engine === 'kubernetes')).toBe(true);
        accepted.push(f.path.split('/').pop()!);
      } catch (err) {
        // the parameter objects (a ReplicaLimit CRD that is not ours), the YAML that is not YAML, and a
        // binding without paramRef.parameterNotFoundAction (the API server requires it since v1.30)
        expect((err as Error).message).toMatch(/not a policy of a known engine|failure-policy-ignore|binding-with-param-prod.yaml:9: .*spec.paramRef.parameterNotFoundAction: required field missing/);
      }
    }
    expect(accepted.sort()).toEqual([
      'basic-example-binding.yaml', 'basic-example-policy.yaml', 'binding-with-param.yaml',
      'policy-with-param.yaml', 'typechecking-multiple-match.yaml', 'typechecking.yaml',
    ]);
  });
});
