// The generic cluster side of engine.json `dynamicKinds` (Gatekeeper constraints): discovery lists
// every kind the cluster serves in the group, apply knows which object of the set defines a
// constraint's kind, and what to say when that kind is not served. Through real servers:
// test/e2e/engine-gatekeeper.test.ts.
import { describe, expect, it } from 'vitest';
import { findEngine, loadEngines } from '../../../src/engines/index.ts';
import { fromAggregated, kindNamed, kindsServed } from '../../../src/kube/discovery.ts';
import { generatedBy, parseApiVersions } from '../../../src/kube/export.ts';
import { awaitsDefinition, checkServed, compareApplyOrder, isRefusal, preparePolicies, type Prepared } from '../../../src/kube/prepare.ts';
import type { KubeObject } from '../../../src/policy/types.ts';

/** An aggregated discovery document (APIGroupDiscoveryList items) for the given group → version → kinds. */
function aggregated(groups: Record<string, Record<string, string[]>>): unknown[] {
  return Object.entries(groups).map(([name, versions]) => ({
    metadata: { name },
    versions: Object.entries(versions).map(([version, kinds]) => ({
      version,
      resources: kinds.map((kind) => ({ resource: kind.toLowerCase(), scope: 'Cluster', responseKind: { kind } })),
    })),
  }));
}

const template = (kind: string): KubeObject => ({
  apiVersion: 'templates.gatekeeper.sh/v1',
  kind: 'ConstraintTemplate',
  metadata: { name: kind.toLowerCase() },
  spec: { crd: { spec: { names: { kind } } }, targets: [] },
});
const constraint = (kind: string, name: string): KubeObject => ({ apiVersion: 'constraints.gatekeeper.sh/v1beta1', kind, metadata: { name }, spec: {} });

const GROUPS = ['templates.gatekeeper.sh', 'constraints.gatekeeper.sh', 'mutations.gatekeeper.sh', 'expansion.gatekeeper.sh'];

describe('discovery of dynamic kinds', () => {
  it('lists every kind the cluster serves in the group, each at the version it prefers', () => {
    const served = fromAggregated(
      aggregated({
        'templates.gatekeeper.sh': { v1: ['ConstraintTemplate'], v1beta1: ['ConstraintTemplate'] },
        'constraints.gatekeeper.sh': { v1beta1: ['K8sRequiredLabels', 'K8sAllowedRepos'], v1alpha1: ['K8sRequiredLabels', 'K8sAllowedRepos'] },
      }),
      new Set(GROUPS),
    );
    const found = kindsServed([findEngine('gatekeeper')!], served);
    const constraints = found.filter((d) => d.kind.dynamic);
    expect(constraints.map((d) => [d.label, d.servedVersions, d.ref?.version, d.ref?.plural])).toEqual([
      ['K8sAllowedRepos.constraints.gatekeeper.sh', ['v1beta1', 'v1alpha1'], 'v1beta1', 'k8sallowedrepos'],
      ['K8sRequiredLabels.constraints.gatekeeper.sh', ['v1beta1', 'v1alpha1'], 'v1beta1', 'k8srequiredlabels'],
    ]);
    expect(kindNamed(constraints[1]!, 'k8srequiredlabels.constraints.gatekeeper.sh')).toBe(true);
    // the fixed kinds are there whether served or not (not served: no ref)
    expect(found.find((d) => d.kind.kind === 'Assign')).toMatchObject({ servedVersions: [] });
    expect(found.find((d) => d.kind.kind === 'Assign')!.ref).toBeUndefined();
  });

  it('finds no constraint kind where the group is not served', () => {
    const found = kindsServed(loadEngines(), fromAggregated(aggregated({ 'kyverno.io': { v1: ['ClusterPolicy'] } }), new Set(['kyverno.io', ...GROUPS])));
    expect(found.filter((d) => d.kind.dynamic)).toEqual([]);
  });

  it('takes --api-version for the dynamic group', () => {
    expect(parseApiVersions(['constraints.gatekeeper.sh/v1alpha1'])).toEqual(new Map([['constraints.gatekeeper.sh', 'v1alpha1']]));
    expect(() => parseApiVersions(['constraints.gatekeeper.sh/v1'])).toThrow(/no policy kind of constraints.gatekeeper.sh has version v1/);
  });
});

describe('apply: constraints and the templates defining their kinds', () => {
  const prepare = (objects: KubeObject[]) => (preparePolicies(objects, { defaultNamespace: 'default' }).filter((p) => !isRefusal(p)) as Prepared[]).sort(compareApplyOrder);

  it('orders templates, then mutators, then constraints; links each constraint to its template in the set', () => {
    const assign = { apiVersion: 'mutations.gatekeeper.sh/v1', kind: 'Assign', metadata: { name: 'a' }, spec: {} } as KubeObject;
    const p = prepare([constraint('K8sRequiredLabels', 'c'), constraint('K8sOrphan', 'o'), assign, template('K8sRequiredLabels')]);
    expect(p.map((x) => x.ref.kind)).toEqual(['ConstraintTemplate', 'Assign', 'K8sOrphan', 'K8sRequiredLabels']);
    expect(p[3]!.definition).toBe(p[0]);
    expect(p[2]!.definition).toBeUndefined();
    expect(p[3]!.ref.plural).toBe('k8srequiredlabels');
  });

  it('waits for a kind defined in the set; refuses at once a kind nothing defines; names the kind after the wait', () => {
    const p = prepare([template('K8sRequiredLabels'), constraint('K8sRequiredLabels', 'c'), constraint('K8sOrphan', 'o')]);
    const none = kindsServed([findEngine('gatekeeper')!], fromAggregated(aggregated({ 'templates.gatekeeper.sh': { v1: ['ConstraintTemplate'] } }), new Set(GROUPS)));
    checkServed(p, none);
    const [tpl, orphan, labels] = p as [Prepared, Prepared, Prepared];
    expect(tpl.error).toBeUndefined();
    expect(orphan.error).toMatch(/^the cluster does not serve K8sOrphan\.constraints\.gatekeeper\.sh, a kind a ConstraintTemplate defines, and no ConstraintTemplate of this set defines it/);
    expect(labels.error).toBeUndefined();
    expect(awaitsDefinition(labels, none)).toBe(true);
    checkServed([labels], none, { final: true, waited: 60 });
    expect(labels.error).toMatch(/^the cluster does not serve K8sRequiredLabels\.constraints\.gatekeeper\.sh 60 s after ConstraintTemplate k8srequiredlabels was applied: is Gatekeeper's controller running\?/);

    const served = kindsServed([findEngine('gatekeeper')!], fromAggregated(aggregated({ 'constraints.gatekeeper.sh': { v1beta1: ['K8sRequiredLabels'] } }), new Set(GROUPS)));
    const again = prepare([template('K8sRequiredLabels'), constraint('K8sRequiredLabels', 'c')]);
    expect(awaitsDefinition(again[1]!, served)).toBe(false);
    checkServed(again, served);
    expect(again[1]!.error).toBeUndefined();
  });
});

describe('export: what a controller made from a policy', () => {
  const vap = (refs: unknown): KubeObject => ({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', metadata: { name: 'gatekeeper-x', ownerReferences: refs }, spec: {} });
  const ref = (kind: string, apiVersion: string, controller?: boolean) => ({ apiVersion, kind, name: 'x', uid: 'u', ...(controller === undefined ? {} : { controller }) });

  it('is left out when its controlling owner is a policy of a known engine', () => {
    expect(generatedBy(vap([ref('ConstraintTemplate', 'templates.gatekeeper.sh/v1beta1', true)]))).toBe('ConstraintTemplate x');
    expect(generatedBy(vap([ref('K8sRequiredLabels', 'constraints.gatekeeper.sh/v1beta1', true)]))).toBe('K8sRequiredLabels x');
  });

  it('is kept when the owner is not a policy, or owns it without controlling it', () => {
    expect(generatedBy(vap([ref('Deployment', 'apps/v1', true)]))).toBeUndefined();
    expect(generatedBy(vap([ref('ConstraintTemplate', 'templates.gatekeeper.sh/v1', false)]))).toBeUndefined();
    expect(generatedBy(vap([ref('ConstraintTemplate', 'templates.gatekeeper.sh/v1')]))).toBeUndefined();
    expect(generatedBy(vap(undefined))).toBeUndefined();
  });
});
