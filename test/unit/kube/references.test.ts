import { describe, expect, it } from 'vitest';
import { findEngine } from '../../../src/engines/index.ts';
import { selectorString } from '../../../src/kube/references.ts';

describe('selectorString', () => {
  it('writes a LabelSelector as the labelSelector query parameter', () => {
    expect(selectorString({})).toBe('');
    expect(selectorString({ matchLabels: { a: '1', 'x.io/b': 'two' } })).toBe('a=1,x.io/b=two');
    expect(
      selectorString({
        matchExpressions: [
          { key: 'env', operator: 'In', values: ['prod', 'staging'] },
          { key: 'tier', operator: 'NotIn', values: ['web'] },
          { key: 'team', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('env in (prod,staging),tier notin (web),team,!legacy');
  });
});

describe('engine.json references', () => {
  it('kubernetes: both bindings refer to their policy’s parameter kind', () => {
    const refs = findEngine('kubernetes')!.references!;
    expect(refs.map((r) => [r.kind, r.path, r.kindFrom.kind, r.kindFrom.path])).toEqual([
      ['ValidatingAdmissionPolicyBinding', 'spec.paramRef', 'ValidatingAdmissionPolicy', 'spec.paramKind'],
      ['MutatingAdmissionPolicyBinding', 'spec.paramRef', 'MutatingAdmissionPolicy', 'spec.paramKind'],
    ]);
    // every kind named is one of the engine's kinds
    const kinds = new Set(findEngine('kubernetes')!.kinds.map((k) => k.kind));
    for (const r of refs) expect([kinds.has(r.kind), kinds.has(r.kindFrom.kind)]).toEqual([true, true]);
  });
});
