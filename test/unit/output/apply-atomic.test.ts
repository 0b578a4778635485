// apply --atomic in text: the first line says the set was checked first, and what became of it.
// The renderer is a pure function of the summary: fed each outcome of the check.
import { describe, expect, it } from 'vitest';
import type { AtomicCheck } from '../../../src/core/apply.ts';
import { countActions, type ApplyResult } from '../../../src/kube/result.ts';
import { applyText } from '../../../src/output/apply.ts';

const ok: ApplyResult = { kind: 'ClusterPolicy', apiVersion: 'kyverno.io/v1', name: 'a', action: 'created' };
const bad: ApplyResult = { kind: 'ClusterPolicy', apiVersion: 'kyverno.io/v1', name: 'b', action: 'failed', error: 'conflict' };

function text(results: ApplyResult[], dryRunStrategy: 'none' | 'server', atomic?: AtomicCheck): string[] {
  return applyText({ results, counts: countActions(results), context: 'c', dryRunStrategy, ...(atomic ? { atomic } : {}) }).split('\n');
}

describe('applyText with --atomic', () => {
  const check = { checkedWith: 'server-dry-run', checked: 2, unchecked: 0 } as const;

  it('says nothing of a check without --atomic', () => {
    expect(text([ok], 'none')).toEqual(['clusterpolicy/a created', '1 created, 0 configured, 0 unchanged, 0 pruned, 0 failed (context c)']);
  });

  it('a failed check: nothing was applied, and the lines are the dry run\'s', () => {
    expect(text([ok, bad], 'server', { ...check, wouldFail: 1, applied: false })).toEqual([
      "Checked first with a server dry run (--atomic): 2 objects, 1 would fail; nothing was applied (below: the dry run's results)",
      'clusterpolicy/a created (server dry run)',
      'clusterpolicy/b failed: conflict',
      '1 created, 0 configured, 0 unchanged, 0 pruned, 1 failed (context c, dry run)',
    ]);
  });

  it('a passed check: then applied; with --dry-run=server, whether an --atomic apply would go ahead', () => {
    expect(text([ok, ok], 'none', { ...check, wouldFail: 0, applied: true })[0]).toBe('Checked first with a server dry run (--atomic): 2 objects, none would fail; then applied');
    expect(text([ok, ok], 'server', { ...check, wouldFail: 0, applied: false })[0]).toBe(
      'Checked first with a server dry run (--atomic): 2 objects, none would fail; an --atomic apply would go ahead',
    );
  });

  it('counts the objects the server could not check (their namespace would be created)', () => {
    expect(text([ok], 'none', { ...check, checked: 1, unchecked: 1, wouldFail: 0, applied: true })[0]).toBe(
      'Checked first with a server dry run (--atomic): 1 object, none would fail (1 not checked by the server: in a namespace that would be created, or of a kind not served yet); then applied',
    );
  });
});
