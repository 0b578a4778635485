import { describe, expect, it } from 'vitest';
import { findEngine } from '../../../src/engines/index.ts';
import type { Engine } from '../../../src/engines/types.ts';
import { stripClusterFields } from '../../../src/policy/strip.ts';
import type { KubeObject } from '../../../src/policy/types.ts';

const kyverno = findEngine('kyverno')!;

function fromCluster(): KubeObject {
  return {
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: {
      name: 'require-labels',
      uid: '0d3f…',
      resourceVersion: '12345',
      generation: 3,
      creationTimestamp: '2026-01-01T00:00:00Z',
      deletionTimestamp: '2026-01-02T00:00:00Z',
      deletionGracePeriodSeconds: 0,
      selfLink: '/apis/kyverno.io/v1/clusterpolicies/require-labels',
      managedFields: [{ manager: 'kubectl' }],
      ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'y', uid: 'z' }],
      finalizers: ['example.com/cleanup'],
      annotations: {
        'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"kyverno.io/v1"}',
        'pod-policies.kyverno.io/autogen-controllers': 'none',
        'policies.kyverno.io/title': 'Require labels',
      },
      labels: { team: 'a' },
    },
    spec: { background: true, rules: [] },
    status: { ready: true, autogen: { rules: [] } },
  };
}

describe('stripClusterFields', () => {
  it('removes what the cluster adds and keeps what the author wrote', () => {
    const input = fromCluster();
    const out = stripClusterFields(input, kyverno);
    expect(out).toEqual({
      apiVersion: 'kyverno.io/v1',
      kind: 'ClusterPolicy',
      metadata: {
        name: 'require-labels',
        annotations: {
          'pod-policies.kyverno.io/autogen-controllers': 'none',
          'policies.kyverno.io/title': 'Require labels',
        },
        labels: { team: 'a' },
      },
      spec: { background: true, rules: [] },
    });
    expect(input.status).toBeDefined(); // a copy: the input is untouched
  });

  it('drops annotation and label maps emptied by stripping, and an empty namespace', () => {
    const obj = fromCluster();
    obj.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': '{}' };
    obj.metadata.namespace = '';
    const out = stripClusterFields(obj, kyverno);
    expect(out.metadata).toEqual({ name: 'require-labels', labels: { team: 'a' } });
  });

  it("applies the engine's own lists", () => {
    const engine: Engine = { ...kyverno, stripFields: ['spec.background'], stripAnnotations: ['policies.kyverno.io/title'], stripLabels: ['team'] };
    const out = stripClusterFields(fromCluster(), engine);
    expect(out.spec).toEqual({ rules: [] });
    expect(out.metadata.labels).toBeUndefined();
    expect(out.metadata.annotations).toEqual({ 'pod-policies.kyverno.io/autogen-controllers': 'none' });
  });

  it('leaves a clean object as it is', () => {
    const clean: KubeObject = { apiVersion: 'security.kubearmor.com/v1', kind: 'KubeArmorPolicy', metadata: { name: 'k', namespace: 'default' }, spec: {} };
    expect(stripClusterFields(clean, findEngine('kubearmor')!)).toEqual(clean);
  });
});
