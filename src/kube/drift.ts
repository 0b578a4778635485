// Drift: how a live object differs from what the artifact digest it records (ownership.ts) holds.
// Decided on the client from two signs, no request: (1) a field the artifact sets has another value
// live, or is gone (a subset check: fields the server defaults or controllers add are no drift);
// (2) the object's managedFields show another manager's update of its spec after our last apply
// (`kubectl edit` is "kubectl-edit", `kubectl patch` "kubectl-patch"), which catches added fields.
import type { KubeObject } from '../policy/types.ts';
import { FIELD_MANAGER } from './client.ts';
import { provenanceOf, stripOwnership } from './ownership.ts';

/**
 * modified: it carries the digest but differs from what the digest holds; deleted: not there;
 * foreign: there, but applied since from another repository or by another tool (marks gone).
 */
export type Drift = 'modified' | 'deleted' | 'foreign';

/** What the live copy of one object of an artifact says about drift (undefined: none). */
export interface DriftFinding {
  drift: Drift;
  /** Who changed it, when managedFields say (field managers), or the source now recorded on it. */
  by?: string[];
}

interface ManagedEntry {
  manager?: string;
  operation?: string;
  time?: string;
  subresource?: string;
  fieldsV1?: Record<string, unknown>;
}

/**
 * The drift of one object of the artifact `source` (its `desired` form, as apply sends it, without
 * the marks) given its live copy: undefined when it matches; 'foreign' when the live copy records
 * another repository or no mark at all. An object recording another digest of the same repository
 * is not drift (a later apply of that repository replaced it): undefined, see `superseded`.
 */
export function driftOf(desired: KubeObject, live: KubeObject | undefined, source: { repository: string; digest: string }): DriftFinding | undefined {
  if (!live) return { drift: 'deleted' };
  const p = provenanceOf(live);
  if (!p.managed || p.repository !== source.repository) return { drift: 'foreign', by: [p.managed && p.repository ? p.repository : 'not applied by kubectl-policyoci'] };
  if (p.digest !== source.digest) return undefined;
  const editors = editedAfterUs(live);
  if (editors.length > 0 || !holds(comparable(desired), comparable(live))) return { drift: 'modified', ...(editors.length ? { by: editors } : {}) };
  return undefined;
}

/** The live copy records another digest of the same repository. */
export function superseded(live: KubeObject | undefined, source: { repository: string; digest: string }): boolean {
  const p = provenanceOf(live);
  return live !== undefined && p.managed && p.repository === source.repository && p.digest !== source.digest;
}

/** What a comparison looks at: spec and everything else but identity, version, bookkeeping and our marks (the caller compares at one version). */
function comparable(obj: KubeObject): Record<string, unknown> {
  const copy = stripOwnership(structuredClone(obj));
  const { metadata, status: _status, apiVersion: _v, kind: _k, ...rest } = copy as KubeObject & { status?: unknown };
  return { ...rest, labels: metadata.labels ?? {}, annotations: metadata.annotations ?? {} };
}

/** Every field of `want` is in `have` with the same value (objects: recursively; arrays: same length, element-wise). */
export function holds(want: unknown, have: unknown): boolean {
  if (Array.isArray(want)) return Array.isArray(have) && have.length === want.length && want.every((w, i) => holds(w, have[i]));
  if (want !== null && typeof want === 'object') {
    if (have === null || typeof have !== 'object' || Array.isArray(have)) return false;
    return Object.entries(want).every(([k, v]) => holds(v, (have as Record<string, unknown>)[k]));
  }
  return want === have;
}

/** Field managers that updated the spec after our last apply (none when we never applied it). */
function editedAfterUs(live: KubeObject): string[] {
  const entries = ((live.metadata as { managedFields?: ManagedEntry[] }).managedFields ?? []).filter((e) => !e.subresource);
  const ours = entries.find((e) => e.manager === FIELD_MANAGER && e.operation === 'Apply');
  if (!ours?.time) return [];
  return entries
    .filter((e) => e.manager !== FIELD_MANAGER && e.operation === 'Update' && (e.time ?? '') >= ours.time! && e.fieldsV1 !== undefined && 'f:spec' in e.fieldsV1)
    .map((e) => e.manager ?? '(unnamed manager)');
}
