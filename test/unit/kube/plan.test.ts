// planPolicies: what a client dry run of apply reports, decided without any cluster.
import { describe, expect, it } from 'vitest';
import { planPolicies } from '../../../src/kube/apply.ts';
import { countActions } from '../../../src/kube/result.ts';
import type { KubeObject } from '../../../src/policy/types.ts';

const obj = (apiVersion: string, kind: string, name: string, namespace?: string): KubeObject => ({ apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) }, spec: {} });

describe('planPolicies (apply --dry-run=client)', () => {
  const input = [
    obj('kyverno.io/v1', 'ClusterPolicy', 'z'),
    obj('security.kubearmor.com/v1', 'KubeArmorPolicy', 'ksp', 'orig'),
    obj('kyverno.io/v1', 'Policy', 'no-ns'),
    obj('kyverno.io/v2beta1', 'GlobalContextEntry', 'g'),
    obj('v1', 'Secret', 'stolen', 'default'),
    obj('kyverno.io/v1', 'ClusterPolicy', 'z'),
  ];

  it('lists every policy as would-apply in apply order; refusals and duplicates fail as apply would', () => {
    const results = planPolicies(input, { defaultNamespace: 'ctx' });
    expect(results.map((r) => `${r.kind}/${r.namespace ?? ''}/${r.name}=${r.action}`)).toEqual([
      'Secret/default/stolen=failed',
      'GlobalContextEntry//g=would-apply',
      'KubeArmorPolicy/orig/ksp=would-apply',
      'ClusterPolicy//z=would-apply',
      'ClusterPolicy//z=failed',
      'Policy/ctx/no-ns=would-apply',
    ]);
    expect(results[0]!.error).toMatch(/not a policy kind of a known engine; it was not sent/);
    expect(results[4]!.error).toMatch(/appears more than once/);
    expect(countActions(results)).toEqual({ created: 0, configured: 0, unchanged: 0, failed: 2, pruned: 0, 'would-apply': 4 });
  });

  it('retargets namespaced policies with -n, as apply would send them', () => {
    const results = planPolicies(input.slice(0, 3), { namespace: 'team-a', defaultNamespace: 'ctx', prune: { repository: 'registry.example/p' } });
    expect(results.map((r) => `${r.kind}/${r.namespace ?? ''}`)).toEqual(['KubeArmorPolicy/team-a', 'ClusterPolicy/', 'Policy/team-a']);
    expect(results.every((r) => r.action === 'would-apply')).toBe(true);
  });
});
