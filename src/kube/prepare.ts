// What apply and diff share: refuse anything that is not a policy kind of a known engine (per
// object, never sent), retarget namespaces, drop cluster bookkeeping from the input, order safely,
// and check the cluster serves each kind at the object's version.
import { resolveKind } from '../engines/index.ts';
import type { Engine, EngineKind } from '../engines/types.ts';
import { stripClusterFields } from '../policy/strip.ts';
import type { KubeObject } from '../policy/types.ts';
import { kindLabel } from './discovery.ts';
import type { DiscoveredKind, KindRef } from './discovery.ts';
import { apiVersionOf } from './client.ts';
import { markOwned } from './ownership.ts';
import { objectFields } from './result.ts';
import type { ObjectFields } from './result.ts';
import { compareCodeUnits } from '../util/compare.ts';
import { definitionKey, definitionsIn } from '../policy/dynamic.ts';

export interface PrepareOptions {
  /** -n: every namespaced policy goes there, whatever its metadata says. */
  namespace?: string;
  /** Where a namespaced policy without a namespace goes (the context's namespace). */
  defaultNamespace: string;
  /** Caller's last word on each object (labels, annotations). */
  label?: (obj: KubeObject) => KubeObject;
  /** Mark every object as applied from this repository (for prune). */
  ownedBy?: string;
}

export interface Prepared {
  obj: KubeObject;
  ref: KindRef;
  engine: Engine;
  kindDef: EngineKind;
  namespace?: string;
  name: string;
  /** Identity regardless of version: group/kind/namespace/name. */
  key: string;
  /** Set when the object must not be sent (refused, unserved, duplicate, missing namespace). */
  error?: string;
  /**
   * For an object of a dynamic kind (engine.json dynamicKinds: a Gatekeeper constraint), the object
   * of this set that defines its kind (its ConstraintTemplate), if any: the kind may be served only
   * once that one is applied.
   */
  definition?: Prepared;
  /** A dry run cannot send it (its kind's definition is not really created): why, as a note. */
  unchecked?: string;
}

/** Input order is kept; failed entries carry `error` and whatever identity could be read. */
export function preparePolicies(objects: readonly KubeObject[], opts: PrepareOptions): Array<Prepared | Refusal> {
  const all = prepareEach(objects, opts);
  const prepared = all.filter((p): p is Prepared => !isRefusal(p));
  const byObject = new Map(prepared.map((p) => [p.obj, p]));
  const defs = definitionsIn(prepared.map((p) => p.obj));
  for (const p of prepared) {
    const def = p.kindDef.dynamic ? defs.get(definitionKey(p.ref.group, p.ref.kind)) : undefined;
    if (def) p.definition = byObject.get(def.object)!;
  }
  return all;
}

function prepareEach(objects: readonly KubeObject[], opts: PrepareOptions): Array<Prepared | Refusal> {
  const seen = new Set<string>();
  return objects.map((input) => {
    const apiVersion = typeof input?.apiVersion === 'string' ? input.apiVersion : '';
    const kind = typeof input?.kind === 'string' ? input.kind : '';
    const name = typeof input?.metadata?.name === 'string' ? input.metadata.name : '';
    const r = resolveKind(apiVersion, kind);
    if (r.status !== 'ok') {
      return { refused: true, kind: kind || '(no kind)', apiVersion, namespace: input?.metadata?.namespace, name, error: refusal(apiVersion, kind, r.status) };
    }
    const { engine, kind: kindDef, version } = r.match;
    if (!name) return { refused: true, kind, apiVersion, name, error: 'refused: metadata.name is missing' };
    let obj = stripClusterFields(input, engine);
    const namespace = kindDef.namespaced ? opts.namespace || obj.metadata.namespace || opts.defaultNamespace : undefined;
    if (namespace) obj.metadata.namespace = namespace;
    else delete obj.metadata.namespace;
    if (opts.label) obj = opts.label(obj);
    if (opts.ownedBy) obj = markOwned(obj, opts.ownedBy);
    const ref: KindRef = { group: kindDef.group, version, kind, plural: kindDef.plural, namespaced: kindDef.namespaced };
    const key = identity(ref, namespace, name);
    const p: Prepared = { obj, ref, engine, kindDef, namespace, name, key };
    if (seen.has(key)) p.error = `${kindLabel(ref)} ${namespace ? `${namespace}/` : ''}${name} appears more than once in the input`;
    seen.add(key);
    return p;
  });
}

export interface Refusal {
  refused: true;
  kind: string;
  apiVersion: string;
  namespace?: string;
  name: string;
  error: string;
}

export function isRefusal(p: Prepared | Refusal): p is Refusal {
  return 'refused' in p;
}

/** The result fields (kind, apiVersion, namespace, name) of a prepared or refused input. */
export function fieldsOf(p: Prepared | Refusal): ObjectFields {
  return isRefusal(p) ? objectFields(p.kind, p.apiVersion, p.namespace, p.name) : objectFields(p.ref.kind, apiVersionOf(p.ref), p.namespace, p.name);
}

function refusal(apiVersion: string, kind: string, status: string): string {
  const what = `${kind || '(no kind)'} (${apiVersion || 'no apiVersion'})`;
  if (status === 'unserved-version') return `refused: ${what}: the engine has no such version of this kind`;
  return `refused: ${what} is not a policy kind of a known engine; it was not sent to the cluster`;
}

export function identity(ref: { group: string; kind: string }, namespace: string | undefined, name: string): string {
  return `${ref.group}/${ref.kind}/${namespace ?? ''}/${name}`;
}

/** Engine applyOrder, then kind, group, namespace, name. */
export function compareApplyOrder(a: Prepared, b: Prepared): number {
  return (
    a.kindDef.applyOrder - b.kindDef.applyOrder ||
    compareCodeUnits(a.ref.kind, b.ref.kind) ||
    compareCodeUnits(a.ref.group, b.ref.group) ||
    compareCodeUnits(a.namespace ?? '', b.namespace ?? '') ||
    compareCodeUnits(a.name, b.name)
  );
}

/**
 * Marks objects whose kind, or whose version of it, the cluster does not serve. Objects of a
 * dynamic kind whose definition is in the set are left alone (`awaitsDefinition`) unless `final`:
 * their kind may be served once the definition is applied.
 */
export function checkServed(prepared: Prepared[], discovered: DiscoveredKind[], opts: { final?: boolean; waited?: number } = {}): void {
  for (const p of prepared) {
    if (p.error) continue;
    const d = discovered.find((x) => x.kind.group === p.ref.group && x.kind.kind === p.ref.kind);
    if (!d || d.servedVersions.length === 0) {
      const dyn = p.kindDef.dynamic;
      if (!dyn) p.error = `the cluster does not serve ${kindLabel(p.ref)}: ${p.engine.installHint}`;
      else if (!p.definition) {
        p.error = `the cluster does not serve ${kindLabel(p.ref)}, a kind a ${dyn.definedBy.kind} defines, and no ${dyn.definedBy.kind} of this set defines it: apply its ${dyn.definedBy.kind} first (${p.engine.displayName} must run: ${p.engine.installHint})`;
      } else if (opts.final) {
        const def = p.definition;
        p.error = `the cluster does not serve ${kindLabel(p.ref)}${opts.waited ? ` ${opts.waited} s` : ''} after ${def.ref.kind} ${def.name} was applied: is ${p.engine.displayName}'s controller running? (${p.engine.installHint})`;
      }
    } else if (!d.servedVersions.includes(p.ref.version)) {
      p.error = `the cluster serves ${kindLabel(p.ref)} at ${d.servedVersions.join(', ')}, not ${p.ref.version}`;
    } else if (d.ref) {
      p.ref = { ...p.ref, plural: d.ref.plural }; // discovery has the last word on the plural
    }
  }
}

/** An object whose kind is not served yet but defined by an object of the set (see checkServed). */
export function awaitsDefinition(p: Prepared, discovered: DiscoveredKind[]): boolean {
  if (p.error || !p.definition) return false;
  const d = discovered.find((x) => x.kind.group === p.ref.group && x.kind.kind === p.ref.kind);
  return !d || d.servedVersions.length === 0;
}
