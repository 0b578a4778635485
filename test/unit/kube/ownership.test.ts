// The marks apply records on every object (ownership.ts): the provenance rule that keeps a re-apply
// of the same artifact unchanged, and the one strip that removes them all.
import { describe, expect, it } from 'vitest';
import {
  APPLIED_AT_ANNOTATION,
  APPLIED_BY_ANNOTATION,
  markProvenance,
  OWNERSHIP_ANNOTATIONS,
  PREVIOUS_DIGEST_ANNOTATION,
  provenanceOf,
  rfc3339Seconds,
  SOURCE_DIGEST_ANNOTATION,
  stripOwnership,
  type ProvenanceSource,
} from '../../../src/kube/ownership.ts';
import type { KubeObject } from '../../../src/policy/types.ts';

const policy = (): KubeObject => ({ apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', metadata: { name: 'p', annotations: { team: 'a' } }, spec: {} }) as KubeObject;
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const at = (iso: string) => new Date(iso);
const source = (digest: string | undefined, when: string, extra: Partial<ProvenanceSource> = {}): ProvenanceSource => ({
  repository: 'r.example/policies',
  ...(digest ? { digest } : {}),
  tag: 'v1',
  tool: 'kubectl-policyoci/1.0.0',
  at: at(when),
  ...extra,
});

describe('markProvenance', () => {
  it('a first apply records the digest, tag, time (RFC 3339 UTC, seconds) and tool, no previous digest', () => {
    const marked = markProvenance(policy(), source(D1, '2026-12-06T10:00:00.750Z'), undefined);
    expect(provenanceOf(marked)).toEqual({ managed: true, repository: 'r.example/policies', digest: D1, tag: 'v1', appliedAt: '2026-12-06T10:00:00Z', appliedBy: 'kubectl-policyoci/1.0.0' });
    expect(marked.metadata.annotations?.team).toBe('a');
  });

  it('the same repository, digest and tag again keeps applied-at, applied-by and previous-digest (the object does not change)', () => {
    const live = markProvenance(markProvenance(policy(), source(D1, '2026-12-06T10:00:00Z'), undefined), source(D2, '2026-12-06T11:00:00Z'), undefined);
    const before = markProvenance(policy(), source(D2, '2026-12-06T11:00:00Z'), markProvenance(policy(), source(D1, '2026-12-06T10:00:00Z'), undefined));
    const again = markProvenance(policy(), source(D2, '2026-12-06T12:00:00Z', { tool: 'kubectl-policyoci/2.0.0' }), before);
    expect(again.metadata.annotations).toEqual(before.metadata.annotations);
    expect(before.metadata.annotations?.[PREVIOUS_DIGEST_ANNOTATION]).toBe(D1);
    expect(live.metadata.annotations?.[SOURCE_DIGEST_ANNOTATION]).toBe(D2);
  });

  it('another digest: applied-at and applied-by are this apply\'s, previous-digest the digest the live object had', () => {
    const live = markProvenance(policy(), source(D1, '2026-12-06T10:00:00Z'), undefined);
    const next = markProvenance(policy(), source(D2, '2026-12-06T12:00:00Z', { tool: 'kubectl-policyoci/2.0.0' }), live);
    expect(next.metadata.annotations).toMatchObject({ [SOURCE_DIGEST_ANNOTATION]: D2, [PREVIOUS_DIGEST_ANNOTATION]: D1, [APPLIED_AT_ANNOTATION]: '2026-12-06T12:00:00Z', [APPLIED_BY_ANNOTATION]: 'kubectl-policyoci/2.0.0' });
  });

  it('refresh (drift put back) takes the time of now even for the same digest', () => {
    const live = markProvenance(policy(), source(D1, '2026-12-06T10:00:00Z'), undefined);
    const repaired = markProvenance(policy(), source(D1, '2026-12-06T12:00:00Z'), live, { refresh: true });
    expect(repaired.metadata.annotations?.[APPLIED_AT_ANNOTATION]).toBe('2026-12-06T12:00:00Z');
    expect(repaired.metadata.annotations?.[PREVIOUS_DIGEST_ANNOTATION]).toBeUndefined();
  });

  it('no digest (not from an artifact): no source-digest annotation', () => {
    expect(markProvenance(policy(), source(undefined, '2026-12-06T10:00:00Z'), undefined).metadata.annotations?.[SOURCE_DIGEST_ANNOTATION]).toBeUndefined();
  });
});

describe('stripOwnership', () => {
  it('removes the label and every annotation this tool writes, and maps left empty', () => {
    const marked = markProvenance(policy(), source(D2, '2026-12-06T10:00:00Z'), markProvenance(policy(), source(D1, '2026-12-06T09:00:00Z'), undefined));
    for (const key of OWNERSHIP_ANNOTATIONS.filter((k) => !k.endsWith('previous-digest'))) expect(marked.metadata.annotations).toHaveProperty([key]);
    const stripped = stripOwnership(marked);
    expect(stripped.metadata).toEqual({ name: 'p', annotations: { team: 'a' } });
  });

  it('rfc3339Seconds drops the milliseconds', () => {
    expect(rfc3339Seconds(at('2026-01-02T03:04:05.678Z'))).toBe('2026-01-02T03:04:05Z');
  });
});
