// How objects applied by this tool are marked, so that --prune can later delete exactly the ones
// it applied from one repository and nothing else.
import type { KubeObject } from '../policy/types.ts';

export const MANAGED_BY_LABEL = 'policyoci.dev/managed-by';
export const MANAGED_BY_VALUE = 'kubectl-policyoci';
export const SOURCE_ANNOTATION = 'policyoci.dev/source';

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
  for (const [field, key] of [
    ['labels', MANAGED_BY_LABEL],
    ['annotations', SOURCE_ANNOTATION],
  ] as const) {
    const map = meta[field];
    if (!map || typeof map !== 'object') continue;
    delete map[key];
    if (Object.keys(map).length === 0) delete meta[field];
  }
  return obj;
}
