// rollback's choice of "the version before" from the objects' records (ownership.ts annotations).
import { describe, expect, it } from 'vitest';
import { liveVersions, previousOf } from '../../../src/core/rollback.ts';
import type { KubeObject } from '../../../src/policy/types.ts';
import type { PolicyOciError } from '../../../src/errors.ts';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const obj = (name: string, digest: string | undefined, appliedAt: string, previous?: string, tag?: string): KubeObject => ({
  apiVersion: 'kyverno.io/v1',
  kind: 'ClusterPolicy',
  metadata: {
    name,
    labels: { 'policyoci.dev/managed-by': 'kubectl-policyoci' },
    annotations: {
      'policyoci.dev/source': 'r/p',
      ...(digest ? { 'policyoci.dev/source-digest': digest } : {}),
      'policyoci.dev/applied-at': appliedAt,
      ...(previous ? { 'policyoci.dev/previous-digest': previous } : {}),
      ...(tag ? { 'policyoci.dev/source-tag': tag } : {}),
    },
  },
});

const T1 = '2026-12-06T10:00:00Z';
const T2 = '2026-12-06T11:00:00Z';

function error(fn: () => unknown): PolicyOciError {
  try {
    fn();
  } catch (err) {
    return err as PolicyOciError;
  }
  throw new Error('no error');
}

describe('previousOf', () => {
  it('v1 then v2 with prune: from v2 to v1 (objects v2 created record none)', () => {
    const live = liveVersions([obj('a', d('2'), T2, d('1')), obj('b', d('2'), T2, d('1')), obj('new', d('2'), T2)]);
    expect(previousOf('r/p', live, 'ctx')).toEqual({ from: d('2'), to: d('1') });
  });

  it('leftovers of v1 (an apply without prune, even in the same second): v2 is the one no other names as previous', () => {
    const live = liveVersions([obj('a', d('2'), T1, d('1')), obj('left', d('1'), T1)]);
    expect(previousOf('r/p', live, 'ctx')).toEqual({ from: d('2'), to: d('1') });
  });

  it('different previous versions: exit 4 listing each digest, tag, count and previous digests', () => {
    const live = liveVersions([obj('a', d('3'), T2, d('2'), 'v3'), obj('b', d('3'), T2, d('1'), 'v3')]);
    const err = error(() => previousOf('r/p', live, 'ctx'));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toMatch(/record different previous versions; name the version to roll back to with --to/);
    expect(err.details).toEqual([`${d('3')} (tag v3): 2 objects, applied ${T2}, previous ${d('2')} (1), ${d('1')} (1)`]);
  });

  it('nothing applied, or nothing before: exit 4', () => {
    expect(error(() => previousOf('r/p', [], 'ctx')).message).toMatch(/^nothing to roll back: no policy applied from r\/p in context ctx/);
    expect(error(() => previousOf('r/p', liveVersions([obj('a', d('1'), T1)]), 'ctx')).message).toMatch(/^nothing to roll back to: every object of sha256:1+ from r\/p/);
  });
});
