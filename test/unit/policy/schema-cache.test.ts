// Each CRD schema is compiled once and then reused (timings belong to `npm run bench`, not here).
import { describe, expect, it } from 'vitest';
import { findKind, loadSchema } from '../../../src/engines/index.ts';
import { compileCrdSchema } from '../../../src/policy/crd-schema.ts';

describe('schema compile cache', () => {
  it('compiles each schema once and hands back the same validator', async () => {
    for (const [apiVersion, kind] of [
      ['kyverno.io/v1', 'ClusterPolicy'],
      ['kyverno.io/v2beta1', 'ClusterPolicy'],
      ['policies.kyverno.io/v1', 'MutatingPolicy'],
      ['security.kubearmor.com/v1', 'KubeArmorPolicy'],
    ] as const) {
      const m = findKind(apiVersion, kind)!;
      const schema = await loadSchema(m.engine, m.kind, m.version);
      const v = compileCrdSchema(schema, { withoutStatus: true });
      expect(typeof v).toBe('function');
      expect(compileCrdSchema(schema, { withoutStatus: true })).toBe(v);
      expect(compileCrdSchema(schema, { withoutStatus: false })).not.toBe(v);
    }
  });
});
