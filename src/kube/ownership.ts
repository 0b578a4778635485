// How objects applied by this tool are marked: the ownership label and source annotation (so that
// --prune can later delete exactly the ones it applied from one repository and nothing else), and
// the provenance annotations (which artifact digest, tag, when, by which version), which `status`
// reads back to say what runs where. Everything is kept on the object itself: no other object is
// ever created to hold state.
import type { KubeObject } from '../policy/types.ts';

export const MANAGED_BY_LABEL = 'policyoci.dev/managed-by';
export const MANAGED_BY_VALUE = 'kubectl-policyoci';
export const SOURCE_ANNOTATION = 'policyoci.dev/source';
/** The manifest digest of the artifact the object came from (absent when it came from no artifact). */
export const SOURCE_DIGEST_ANNOTATION = 'policyoci.dev/source-digest';
/** The tag the reference named, when it named one. */
export const SOURCE_TAG_ANNOTATION = 'policyoci.dev/source-tag';
/** When this digest was first applied to the object (RFC 3339 UTC, seconds): see markProvenance. */
export const APPLIED_AT_ANNOTATION = 'policyoci.dev/applied-at';
/** `kubectl-policyoci/<version>` that applied it. */
export const APPLIED_BY_ANNOTATION = 'policyoci.dev/applied-by';
/** The source-digest the object carried before the apply that changed it. */
export const PREVIOUS_DIGEST_ANNOTATION = 'policyoci.dev/previous-digest';

/** Every annotation this tool writes (stripOwnership removes them all). */
export const OWNERSHIP_ANNOTATIONS: readonly string[] = [
  SOURCE_ANNOTATION,
  SOURCE_DIGEST_ANNOTATION,
  SOURCE_TAG_ANNOTATION,
  APPLIED_AT_ANNOTATION,
  APPLIED_BY_ANNOTATION,
  PREVIOUS_DIGEST_ANNOTATION,
];

/** Label selector for the list calls of prune (the annotation is checked client-side). */
export const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

/** A copy of `obj` carrying the ownership label and the source annotation. */
export function markOwned(obj: KubeObject, repository: string): KubeObject {
  const out = structuredClone(obj);
  out.metadata.labels = { ...(out.metadata.labels ?? {}), [MANAGED_BY_LABEL]: MANAGED_BY_VALUE };
  out.metadata.annotations = { ...(out.metadata.annotations ?? {}), [SOURCE_ANNOTATION]: repository };
  return out;
}

/** Both marks, and the exact source: the only objects prune may ever delete. */
export function isOwnedBy(obj: KubeObject, repository: string): boolean {
  return obj.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE && obj.metadata?.annotations?.[SOURCE_ANNOTATION] === repository;
}

/** Removes the marks (they describe one cluster's bookkeeping, not the policy). */
export function stripOwnership(obj: KubeObject): KubeObject {
  const meta = obj.metadata;
  for (const [field, keys] of [
    ['labels', [MANAGED_BY_LABEL]],
    ['annotations', OWNERSHIP_ANNOTATIONS],
  ] as const) {
    const map = meta[field];
    if (!map || typeof map !== 'object') continue;
    for (const key of keys) delete map[key];
    if (Object.keys(map).length === 0) delete meta[field];
  }
  return obj;
}

/** Where an apply's objects come from: what markProvenance records. */
export interface ProvenanceSource {
  /** As the source annotation holds it (OpenedTarget.repository). */
  repository: string;
  /** The artifact's manifest digest; undefined for objects that came from no artifact. */
  digest?: string;
  tag?: string;
  /** `kubectl-policyoci/<version>` */
  tool: string;
  /** The time of this apply: one per apply run and context, the same on every object it changes. */
  at: Date;
}

/** What an object records of where it came from (each field only when present). */
export interface Provenance {
  managed: boolean;
  repository?: string;
  digest?: string;
  tag?: string;
  appliedAt?: string;
  appliedBy?: string;
  previousDigest?: string;
}

export function provenanceOf(obj: KubeObject | undefined): Provenance {
  const a = obj?.metadata?.annotations ?? {};
  const pick = (key: string): string | undefined => (typeof a[key] === 'string' && a[key] !== '' ? a[key] : undefined);
  const fields = {
    repository: pick(SOURCE_ANNOTATION),
    digest: pick(SOURCE_DIGEST_ANNOTATION),
    tag: pick(SOURCE_TAG_ANNOTATION),
    appliedAt: pick(APPLIED_AT_ANNOTATION),
    appliedBy: pick(APPLIED_BY_ANNOTATION),
    previousDigest: pick(PREVIOUS_DIGEST_ANNOTATION),
  };
  const out: Provenance = { managed: obj?.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) (out as unknown as Record<string, string>)[k] = v;
  return out;
}

/** Whether `live` already carries this source: same repository, digest and tag (absent ones count as equal). */
export function sameSource(live: KubeObject | undefined, source: Pick<ProvenanceSource, 'repository' | 'digest' | 'tag'>): boolean {
  if (!live) return false;
  const p = provenanceOf(live);
  return p.managed && p.repository === source.repository && p.digest === source.digest && p.tag === source.tag;
}

/** RFC 3339 UTC to the second: 2026-12-06T16:40:00Z. */
export function rfc3339Seconds(at: Date): string {
  return `${at.toISOString().slice(0, 19)}Z`;
}

/**
 * A copy of `obj` with the ownership marks and the provenance of `source`, given the object as it
 * is live (undefined: not there). The rule that keeps a re-apply "unchanged": when the live object
 * already carries this repository, digest and tag, applied-at, applied-by and previous-digest are copied
 * from it (the caller re-sends with `refresh` when the apply changed the object anyway: drift put
 * back); otherwise applied-at is `source.at`, applied-by is `source.tool` and previous-digest is the
 * digest the live object carried, if any and different.
 */
export function markProvenance(obj: KubeObject, source: ProvenanceSource, live: KubeObject | undefined, options: { refresh?: boolean } = {}): KubeObject {
  const out = markOwned(obj, source.repository);
  const was = provenanceOf(live);
  const keep = !options.refresh && sameSource(live, source);
  const annotations: Record<string, string> = { ...(out.metadata.annotations ?? {}) };
  for (const key of OWNERSHIP_ANNOTATIONS) if (key !== SOURCE_ANNOTATION) delete annotations[key];
  if (source.digest) annotations[SOURCE_DIGEST_ANNOTATION] = source.digest;
  if (source.tag) annotations[SOURCE_TAG_ANNOTATION] = source.tag;
  annotations[APPLIED_AT_ANNOTATION] = keep && was.appliedAt ? was.appliedAt : rfc3339Seconds(source.at);
  annotations[APPLIED_BY_ANNOTATION] = keep && was.appliedBy ? was.appliedBy : source.tool;
  const previous = keep ? was.previousDigest : was.digest !== source.digest ? was.digest : was.previousDigest;
  if (previous) annotations[PREVIOUS_DIGEST_ANNOTATION] = previous;
  out.metadata.annotations = annotations;
  return out;
}
