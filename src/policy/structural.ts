// What the API server does with a custom resource before OpenAPI validation, following its
// structural schema (k8s.io/apiextensions-apiserver pruning and defaulting):
// - a field the schema does not declare is an unknown field: with kubectl's default strict field
//   validation the request fails ("unknown field"), unless the field sits under
//   `x-kubernetes-preserve-unknown-fields: true` (or is an embedded resource's apiVersion/kind/metadata);
// - an explicit null in a field that is not `nullable` is dropped (a field with a default would then
//   get the default; we apply no defaults, so the stored object keeps what the author wrote);
// - `x-kubernetes-list-type: set|map` lists must not repeat an item or a map key.
// The object is modified in place (nulls removed; unknown fields too in "prune" mode, which is what
// the server does under `kubectl apply --validate=warn|false`).
import { formatPath } from './problem.ts';
import type { Path, Problem } from './problem.ts';

type Obj = Record<string, unknown>;
type Schema = Record<string, unknown>;

/** ObjectMeta's fields: anything else under metadata is an unknown field to the server. */
const OBJECT_META = new Set([
  'name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation',
  'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations',
  'ownerReferences', 'finalizers', 'managedFields',
]);

export type UnknownFields = 'error' | 'prune';

export interface WalkResult {
  problems: Problem[];
  /** Unknown fields removed in "prune" mode, as paths. */
  pruned: string[];
}

interface Ctx {
  problems: Problem[];
  pruned: string[];
  mode: UnknownFields;
}

/** Walks a whole custom resource: the root's apiVersion/kind/metadata are the server's, not the CRD's. */
export function walkResource(obj: Obj, schema: Schema, mode: UnknownFields = 'error'): WalkResult {
  const ctx: Ctx = { problems: [], pruned: [], mode };
  walkMetadata(obj, [], ctx);
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  for (const key of Object.keys(obj)) {
    if (key === 'apiVersion' || key === 'kind' || key === 'metadata') continue;
    walkField(obj, key, props[key], schema, [], ctx);
  }
  return { problems: ctx.problems, pruned: ctx.pruned };
}

function unknown(parent: Obj, key: string, path: Path, ctx: Ctx): void {
  if (ctx.mode === 'prune') {
    delete parent[key];
    ctx.pruned.push(formatPath(path));
  } else ctx.problems.push({ path, message: `unknown field "${formatPath(path)}"` });
}

function walkMetadata(obj: Obj, path: Path, ctx: Ctx): void {
  const meta = obj.metadata;
  if (!isObj(meta)) return;
  for (const key of Object.keys(meta)) {
    if (!OBJECT_META.has(key)) unknown(meta, key, [...path, 'metadata', key], ctx);
    else if (meta[key] === null) delete meta[key]; // Go decodes null into the zero value
  }
}

function walkField(parent: Obj, key: string, s: Schema | undefined, parentSchema: Schema, path: Path, ctx: Ctx): void {
  const here = [...path, key];
  if (s) return walkValue(parent, key, s, here, ctx);
  const extra = parentSchema.additionalProperties;
  if (isObj(extra)) return walkValue(parent, key, extra, here, ctx);
  if (extra === true || parentSchema['x-kubernetes-preserve-unknown-fields'] === true) return;
  unknown(parent, key, here, ctx);
}

function walkValue(parent: Obj | unknown[], key: string | number, s: Schema, path: Path, ctx: Ctx): void {
  const value = (parent as Record<string | number, unknown>)[key];
  if (value === null) {
    // Only map entries are pruned; a null list item stays (and fails validation if not nullable).
    if (!Array.isArray(parent) && s.nullable !== true) delete (parent as Obj)[key as string];
    return;
  }
  if (Array.isArray(value)) {
    const items = s.items;
    if (isObj(items)) value.forEach((_, i) => walkValue(value, i, items, [...path, i], ctx));
    checkListType(value, s, path, ctx.problems);
    return;
  }
  if (!isObj(value)) return;
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  if (embedded) {
    if (typeof value.apiVersion !== 'string' || typeof value.kind !== 'string') {
      ctx.problems.push({ path, message: `${formatPath(path)}: an embedded resource needs apiVersion and kind` });
    }
    walkMetadata(value, path, ctx);
  }
  const props = (s.properties ?? {}) as Record<string, Schema>;
  for (const k of Object.keys(value)) {
    if (embedded && (k === 'apiVersion' || k === 'kind' || k === 'metadata') && !props[k]) continue;
    walkField(value, k, props[k], s, path, ctx);
  }
}

function checkListType(list: unknown[], s: Schema, path: Path, problems: Problem[]): void {
  const type = s['x-kubernetes-list-type'];
  if (type !== 'set' && type !== 'map') return;
  const keys = Array.isArray(s['x-kubernetes-list-map-keys']) ? (s['x-kubernetes-list-map-keys'] as string[]) : [];
  const seen = new Map<string, number>();
  list.forEach((item, i) => {
    const id = type === 'set' ? canonical(item) : canonical(keys.map((k) => (isObj(item) ? (item[k] ?? null) : null)));
    const first = seen.get(id);
    if (first === undefined) {
      seen.set(id, i);
      return;
    }
    const what = type === 'set' ? 'the same value' : `the same ${keys.join(', ')}`;
    const at = [...path, i];
    problems.push({ path: at, message: `${formatPath(at)}: duplicate entry, ${what} as [${first}] (x-kubernetes-list-type: ${type})` });
  });
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObj(v)) {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
