import { describe, expect, it } from 'vitest';
import { findEngine, loadEngines } from '../../../src/engines/index.ts';
import { resolveServed } from '../../../src/kube/discovery.ts';
import { selectKinds } from '../../../src/kube/export.ts';
import { isOwnedBy, markOwned, stripOwnership } from '../../../src/kube/ownership.ts';
import { checkServed, compareApplyOrder, isRefusal, preparePolicies } from '../../../src/kube/prepare.ts';
import type { Prepared } from '../../../src/kube/prepare.ts';
import type { KubeObject } from '../../../src/policy/types.ts';

const obj = (apiVersion: string, kind: string, name: string, namespace?: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion,
  kind,
  metadata: { name, ...(namespace ? { namespace } : {}), ...extra },
  spec: {},
});

describe('preparePolicies', () => {
  it('refuses non-policy kinds per object and keeps the rest', () => {
    const out = preparePolicies(
      [
        obj('v1', 'Secret', 's', 'default'),
        obj('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'crb'),
        obj('kyverno.io/v9', 'ClusterPolicy', 'future'),
        { apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', metadata: {} } as unknown as KubeObject,
        obj('kyverno.io/v1', 'ClusterPolicy', 'ok'),
      ],
      { defaultNamespace: 'default' },
    );
    expect(out.map((p) => (isRefusal(p) ? p.error.slice(0, 8) : 'ok'))).toEqual(['refused:', 'refused:', 'refused:', 'refused:', 'ok']);
  });

  it('retargets namespaced policies with -n, defaults the rest, drops namespace on cluster kinds', () => {
    const input = [obj('security.kubearmor.com/v1', 'KubeArmorPolicy', 'a', 'orig'), obj('kyverno.io/v1', 'Policy', 'b'), obj('kyverno.io/v1', 'ClusterPolicy', 'c', 'bogus')];
    const retargeted = preparePolicies(input, { namespace: 'team-b', defaultNamespace: 'ctx' }) as Prepared[];
    expect(retargeted.map((p) => p.obj.metadata.namespace)).toEqual(['team-b', 'team-b', undefined]);
    const kept = preparePolicies(input, { defaultNamespace: 'ctx' }) as Prepared[];
    expect(kept.map((p) => p.namespace)).toEqual(['orig', 'ctx', undefined]);
  });

  it('drops cluster bookkeeping from the input, applies the label hook, marks ownership', () => {
    const input = obj('kyverno.io/v1', 'ClusterPolicy', 'p', undefined, { resourceVersion: '12', uid: 'u' });
    const [p] = preparePolicies([{ ...input, status: { ready: true } }], {
      defaultNamespace: 'default',
      label: (o) => ({ ...o, metadata: { ...o.metadata, labels: { team: 'x' } } }),
      ownedBy: 'registry.example/policies',
    }) as Prepared[];
    expect(p!.obj.metadata.resourceVersion).toBeUndefined();
    expect(p!.obj.status).toBeUndefined();
    expect(p!.obj.metadata.labels).toEqual({ team: 'x', 'policyoci.dev/managed-by': 'kubectl-policyoci' });
    expect(isOwnedBy(p!.obj, 'registry.example/policies')).toBe(true);
    expect(isOwnedBy(p!.obj, 'registry.example/other')).toBe(false);
  });

  it('flags duplicates and sorts by applyOrder, kind, group, namespace, name', () => {
    const out = preparePolicies(
      [
        obj('kyverno.io/v1', 'ClusterPolicy', 'z'),
        obj('kyverno.io/v2', 'ClusterCleanupPolicy', 'c'),
        obj('kyverno.io/v2beta1', 'GlobalContextEntry', 'g'),
        obj('kyverno.io/v1', 'ClusterPolicy', 'a'),
        obj('kyverno.io/v2beta1', 'ClusterPolicy', 'a'),
      ],
      { defaultNamespace: 'default' },
    ) as Prepared[];
    expect(out[4]!.error).toContain('more than once');
    expect([...out].sort(compareApplyOrder).map((p) => `${p.ref.kind}/${p.name}`)).toEqual([
      'GlobalContextEntry/g',
      'ClusterPolicy/a',
      'ClusterPolicy/a',
      'ClusterPolicy/z',
      'ClusterCleanupPolicy/c',
    ]);
  });

  it('checkServed: unserved kinds get the install hint, unserved versions the served ones', () => {
    const kyverno = findEngine('kyverno')!;
    const served = new Map([['kyverno.io', new Map([['v1', [{ kind: 'ClusterPolicy', plural: 'clusterpolicies', namespaced: false }]]])]]);
    const discovered = kyverno.kinds.map((k) => resolveServed(kyverno, k, served));
    const prepared = preparePolicies([obj('kyverno.io/v1', 'ClusterPolicy', 'a'), obj('kyverno.io/v2beta1', 'ClusterPolicy', 'b'), obj('kyverno.io/v1', 'Policy', 'c')], { defaultNamespace: 'd' }) as Prepared[];
    checkServed(prepared, discovered);
    expect(prepared.map((p) => p.error)).toEqual([undefined, 'the cluster serves ClusterPolicy.kyverno.io at v1, not v2beta1', expect.stringContaining('does not serve Policy.kyverno.io: install Kyverno')]);
  });
});

describe('ownership and kind selection', () => {
  it('stripOwnership removes only our marks', () => {
    const marked = markOwned(obj('kyverno.io/v1', 'ClusterPolicy', 'p', undefined, { labels: { keep: '1' } }), 'repo');
    expect(stripOwnership(marked).metadata).toEqual({ name: 'p', labels: { keep: '1' } });
  });

  it('selectKinds takes kinds, plurals and group-qualified names; unknown names are an error', () => {
    const discovered = loadEngines().flatMap((e) => e.kinds.map((k) => resolveServed(e, k, new Map())));
    expect(selectKinds(discovered, ['clusterpolicy', 'kubearmorpolicies']).map((d) => d.label)).toEqual(['ClusterPolicy.kyverno.io', 'KubeArmorPolicy.security.kubearmor.com']);
    expect(selectKinds(discovered, ['PolicyException']).map((d) => d.label)).toEqual(['PolicyException.kyverno.io', 'PolicyException.policies.kyverno.io']);
    expect(selectKinds(discovered, ['policyexceptions.policies.kyverno.io'])).toHaveLength(1);
    expect(() => selectKinds(discovered, ['Deployment'])).toThrow(/unknown policy kind Deployment/);
  });
});
