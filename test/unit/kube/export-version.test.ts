// Which version export reads a kind at: kubectl's choice by default, --api-version when given.
import { describe, expect, it } from 'vitest';
import { findEngine } from '../../../src/engines/index.ts';
import { resolveServed, type DiscoveredKind, type KindRef } from '../../../src/kube/discovery.ts';
import { exportVersion, parseApiVersions } from '../../../src/kube/export.ts';

/** The kyverno kinds as a cluster serving `served` (group → versions in preference order) discovers them. */
function discover(served: Record<string, Array<[string, string[]]>>): Map<string, DiscoveredKind & { ref: KindRef }> {
  const kyverno = findEngine('kyverno')!;
  const map = new Map(
    Object.entries(served).map(([group, versions]) => [
      group,
      new Map(versions.map(([version, kinds]) => [version, kinds.map((kind) => ({ kind, plural: `${kind.toLowerCase()}s`, namespaced: false }))])),
    ]),
  );
  const out = new Map<string, DiscoveredKind & { ref: KindRef }>();
  for (const k of kyverno.kinds) {
    const d = resolveServed(kyverno, k, map);
    if (d.ref) out.set(d.label, d as DiscoveredKind & { ref: KindRef });
  }
  return out;
}

const cluster = discover({
  // As kube-apiserver v1.35 with Kyverno 1.19's CRDs: kyverno.io prefers v2, which has no ClusterPolicy.
  'kyverno.io': [
    ['v2', ['GlobalContextEntry', 'PolicyException']],
    ['v1', ['ClusterPolicy']],
    ['v2beta1', ['ClusterPolicy', 'GlobalContextEntry', 'PolicyException']],
  ],
  'policies.kyverno.io': [
    ['v1', ['ValidatingPolicy']],
    ['v1beta1', ['ValidatingPolicy']],
  ],
});
const at = (label: string, requested?: Map<string, string>) => exportVersion(cluster.get(label)!, requested, 'ctx');

describe('exportVersion', () => {
  it("takes the first version in the group's preference order that serves the kind (kubectl get's), not the storage version", () => {
    expect(at('ValidatingPolicy.policies.kyverno.io')).toBe('v1'); // storage: v1beta1
    expect(at('GlobalContextEntry.kyverno.io')).toBe('v2'); // storage: v2beta1
    expect(at('ClusterPolicy.kyverno.io')).toBe('v1'); // v2, preferred, has no ClusterPolicy
  });

  it('--api-version: the kinds of that group that have the version; the others keep theirs; unserved is a CLUSTER error', () => {
    const requested = parseApiVersions(['kyverno.io/v2beta1']);
    expect(at('ClusterPolicy.kyverno.io', requested)).toBe('v2beta1');
    expect(at('GlobalContextEntry.kyverno.io', requested)).toBe('v2beta1');
    expect(at('ValidatingPolicy.policies.kyverno.io', requested)).toBe('v1');
    expect(() => at('ValidatingPolicy.policies.kyverno.io', parseApiVersions(['policies.kyverno.io/v1alpha1']))).toThrow(
      expect.objectContaining({ code: 'CLUSTER', message: expect.stringContaining('context ctx does not serve ValidatingPolicy.policies.kyverno.io at v1alpha1 (it serves v1, v1beta1)') }),
    );
  });
});

describe('parseApiVersions', () => {
  it('GROUP/VERSION per group; a bad form, an unknown group or version, or two versions of one group are usage errors', () => {
    expect([...parseApiVersions(['policies.kyverno.io/v1', 'kyverno.io/v2', 'kyverno.io/v2'])]).toEqual([
      ['policies.kyverno.io', 'v1'],
      ['kyverno.io', 'v2'],
    ]);
    for (const [value, message] of [
      [['v1'], 'expected GROUP/VERSION'],
      [['kyverno.io/'], 'expected GROUP/VERSION'],
      [['apps/v1'], 'apps is not the group of a policy kind'],
      [['kyverno.io/v7'], 'no policy kind of kyverno.io has version v7'],
      [['kyverno.io/v1', 'kyverno.io/v2'], 'two versions of kyverno.io: v1 and v2'],
    ] as const) {
      expect(() => parseApiVersions(value), value.join(' ')).toThrow(expect.objectContaining({ code: 'USAGE', message: expect.stringContaining(message) }));
    }
  });
});
