// Cold compile times of the CRD schemas, in a fresh worker (this file compiles nothing else first).
import { describe, expect, it } from 'vitest';
import { findKind, loadSchema } from '../../../src/engines/index.ts';
import { compileCrdSchema } from '../../../src/policy/crd-schema.ts';

describe('schema compile time', () => {
  it('compiles each schema once; ClusterPolicy v1 (the largest) well under a second', async () => {
    const times: string[] = [];
    for (const [apiVersion, kind] of [
      ['kyverno.io/v1', 'ClusterPolicy'],
      ['kyverno.io/v2beta1', 'ClusterPolicy'],
      ['policies.kyverno.io/v1', 'MutatingPolicy'],
      ['security.kubearmor.com/v1', 'KubeArmorPolicy'],
    ] as const) {
      const m = findKind(apiVersion, kind)!;
      const schema = await loadSchema(m.engine, m.kind, m.version);
      const t0 = performance.now();
      const v = compileCrdSchema(schema, { withoutStatus: true });
      times.push(`${kind} ${m.version} ${(performance.now() - t0).toFixed(0)} ms`);
      const t1 = performance.now();
      expect(compileCrdSchema(schema, { withoutStatus: true })).toBe(v);
      expect(performance.now() - t1).toBeLessThan(5);
    }
    console.log(`schema compile (cold, first includes ajv warm-up): ${times.join(', ')}`);
  });
});
