// Removes what a cluster adds to an object, so an exported policy is the policy as written:
// identical on every cluster and from one export to the next.
import type { Engine } from '../engines/types.ts';
import type { KubeObject } from './types.ts';

/** Set by the API server or controllers; meaningless (or harmful: UIDs, finalizers) elsewhere. */
const COMMON_FIELDS = [
  'status',
  'metadata.uid',
  'metadata.resourceVersion',
  'metadata.generation',
  'metadata.creationTimestamp',
  'metadata.deletionTimestamp',
  'metadata.deletionGracePeriodSeconds',
  'metadata.managedFields',
  'metadata.selfLink',
  // Owner UIDs belong to one cluster; finalizers are controllers' bookkeeping and would block
  // deletion on a cluster where that controller does not run.
  'metadata.ownerReferences',
  'metadata.finalizers',
];
const COMMON_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration'];

/** A copy of `obj` without cluster bookkeeping (common list plus the engine's own lists). */
export function stripClusterFields(obj: KubeObject, engine: Engine): KubeObject {
  const out = structuredClone(obj);
  for (const field of [...COMMON_FIELDS, ...engine.stripFields]) deletePath(out, field.split('.'));
  const meta = out.metadata;
  if (meta) {
    stripKeys(meta, 'annotations', [...COMMON_ANNOTATIONS, ...engine.stripAnnotations]);
    stripKeys(meta, 'labels', engine.stripLabels);
    if (meta.namespace === '') delete meta.namespace;
  }
  return out;
}

function deletePath(obj: Record<string, unknown>, path: string[]): void {
  let cur: unknown = obj;
  for (const seg of path.slice(0, -1)) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return;
    cur = (cur as Record<string, unknown>)[seg];
  }
  if (cur !== null && typeof cur === 'object' && !Array.isArray(cur)) delete (cur as Record<string, unknown>)[path[path.length - 1]!];
}

/** Removes keys from metadata.labels/annotations, and the map itself once it is empty. */
function stripKeys(meta: KubeObject['metadata'], field: 'labels' | 'annotations', keys: string[]): void {
  const map = meta[field];
  if (map === undefined) return;
  if (map === null || typeof map !== 'object') {
    delete meta[field];
    return;
  }
  for (const k of keys) delete map[k];
  if (Object.keys(map).length === 0) delete meta[field];
}
