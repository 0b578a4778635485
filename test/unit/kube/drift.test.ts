// Drift decided on the client: the subset check and the managedFields sign (kube/drift.ts).
import { describe, expect, it } from 'vitest';
import { driftOf, holds } from '../../../src/kube/drift.ts';
import { markProvenance } from '../../../src/kube/ownership.ts';
import type { KubeObject } from '../../../src/policy/types.ts';

const D1 = `sha256:${'1'.repeat(64)}`;
const at = { repository: 'r/p', digest: D1 };
const desired = { apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', metadata: { name: 'p' }, spec: { background: true, rules: [{ name: 'a' }] } } as unknown as KubeObject;
const live = (spec: Record<string, unknown>, managedFields: unknown[] = []): KubeObject => {
  const o = markProvenance(desired, { ...at, tool: 't', at: new Date(0) }, undefined);
  return { ...o, metadata: { ...o.metadata, managedFields }, spec } as KubeObject;
};

describe('holds', () => {
  it('every field of the wanted object, defaults added live are no difference; arrays element-wise, same length', () => {
    expect(holds({ a: 1, b: [{ c: 2 }] }, { a: 1, x: 9, b: [{ c: 2, d: 3 }] })).toBe(true);
    expect(holds({ a: 1 }, { a: 2 })).toBe(false);
    expect(holds({ b: [1] }, { b: [1, 2] })).toBe(false);
    expect(holds({ a: { b: 1 } }, { a: null })).toBe(false);
  });
});

describe('driftOf', () => {
  it('none when the live object holds what the digest does (defaults added); modified when a field differs', () => {
    expect(driftOf(desired, live({ background: true, admission: true, rules: [{ name: 'a', skip: true }] }), at)).toBeUndefined();
    expect(driftOf(desired, live({ background: false, rules: [{ name: 'a' }] }), at)).toEqual({ drift: 'modified' });
  });

  it('modified by the manager that updated the spec after our apply, even by adding a field', () => {
    const fields = [
      { manager: 'kubectl-policyoci', operation: 'Apply', time: '2026-12-06T10:00:00Z', fieldsV1: { 'f:spec': {} } },
      { manager: 'kubectl-edit', operation: 'Update', time: '2026-12-06T10:05:00Z', fieldsV1: { 'f:spec': { 'f:extra': {} } } },
    ];
    expect(driftOf(desired, live({ background: true, rules: [{ name: 'a' }], extra: 1 }, fields), at)).toEqual({ drift: 'modified', by: ['kubectl-edit'] });
  });

  it('deleted when not there; foreign when it records another repository or no mark; none when a later digest of the same repository replaced it', () => {
    expect(driftOf(desired, undefined, at)).toEqual({ drift: 'deleted' });
    expect(driftOf(desired, { ...desired, metadata: { name: 'p' } } as KubeObject, at)).toEqual({ drift: 'foreign', by: ['not applied by kubectl-policyoci'] });
    const other = markProvenance(desired, { repository: 'r/other', digest: D1, tool: 't', at: new Date(0) }, undefined);
    expect(driftOf(desired, other, at)).toEqual({ drift: 'foreign', by: ['r/other'] });
    const later = markProvenance(desired, { repository: 'r/p', digest: `sha256:${'2'.repeat(64)}`, tool: 't', at: new Date(0) }, undefined);
    expect(driftOf(desired, later, at)).toBeUndefined();
  });
});
