// apply and migrate: a warning when a policy refers to objects the target cluster does not hold.
// What refers to what is data (engine.json `references`, see EngineReference): e.g. a
// ValidatingAdmissionPolicyBinding's spec.paramRef names parameter objects of the kind its policy's
// spec.paramKind gives — objects that never travel with the policies (plugins/README.md). The API
// server accepts such a binding; what then happens to matching requests is the binding's own
// parameterNotFoundAction. Only warnings: nothing here fails an apply.
import { findKind } from '../engines/index.ts';
import type { EngineReference } from '../engines/types.ts';
import { valueAt } from '../policy/dynamic.ts';
import type { KubeObject } from '../policy/types.ts';
import type { KubeClient } from './client.ts';
import type { KindRef } from './discovery.ts';

interface Ref {
  name?: unknown;
  namespace?: unknown;
  selector?: unknown;
}

type Selector = { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> };

/** A LabelSelector as the `labelSelector` query parameter (hand-written: the client library has no such helper). */
export function selectorString(selector: Selector): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * The warnings for the references of `objects` (as they are being applied to `client`'s cluster)
 * that the cluster cannot satisfy. Lookups: one discovery request per referred kind, one GET (or a
 * list, for a selector) per reference; a lookup the cluster refuses (RBAC) is said, not guessed.
 */
export async function missingReferences(client: KubeClient, objects: readonly KubeObject[]): Promise<string[]> {
  const warnings: string[] = [];
  const served = new Map<string, Promise<KindRef | undefined>>();
  const servedAt = (apiVersion: string, kind: string) => {
    const key = `${apiVersion}/${kind}`;
    let p = served.get(key);
    if (!p) served.set(key, (p = client.servedResource(apiVersion, kind)));
    return p;
  };
  for (const object of objects) {
    const match = findKind(object.apiVersion, object.kind);
    for (const reference of match?.engine.references ?? []) {
      if (reference.kind !== object.kind) continue;
      const ref = valueAt(object, reference.path);
      if (!isObj(ref)) continue;
      const label = `${object.kind} ${object.metadata.name}`;
      try {
        const warning = await checkReference(client, objects, object, reference, ref, servedAt);
        if (warning) warnings.push(`${label}: ${warning}`);
      } catch (err) {
        warnings.push(`${label}: could not check its ${reference.path} in context ${client.contextName}: ${(err as Error).message}`);
      }
    }
  }
  return warnings;
}

async function checkReference(
  client: KubeClient,
  objects: readonly KubeObject[],
  object: KubeObject,
  reference: EngineReference,
  ref: Ref,
  servedAt: (apiVersion: string, kind: string) => Promise<KindRef | undefined>,
): Promise<string | undefined> {
  const definer = await definingObject(client, objects, object, reference);
  const target = definer ? valueAt(definer, reference.kindFrom.path) : undefined;
  if (!isObj(target) || typeof target.apiVersion !== 'string' || typeof target.kind !== 'string') return undefined;
  const note = reference.notePath ? valueAt(object, reference.notePath) : undefined;
  const suffix = typeof note === 'string' ? ` (${reference.notePath!.split('.').pop()}: ${note})` : '';
  const kindRef = await servedAt(target.apiVersion, target.kind);
  if (!kindRef) return `its ${reference.path} names ${reference.what} of kind ${target.kind} (${target.apiVersion}), which context ${client.contextName} does not serve${suffix}`;
  const namespace = typeof ref.namespace === 'string' && ref.namespace !== '' ? ref.namespace : undefined;
  // A namespaced kind without a namespace: looked up in each admitted request's own namespace.
  if (kindRef.namespaced && namespace === undefined) return undefined;
  const where = kindRef.namespaced ? `${namespace}/` : '';
  if (typeof ref.name === 'string' && ref.name !== '') {
    if (await client.get(kindRef, ref.name, kindRef.namespaced ? namespace : undefined)) return undefined;
    return `its ${reference.path} names ${target.kind} ${where}${ref.name}, which context ${client.contextName} does not hold: the ${reference.what} do not travel with the policies${suffix}`;
  }
  if (isObj(ref.selector)) {
    const labelSelector = selectorString(ref.selector as Selector);
    const found = await client.list(kindRef, { ...(kindRef.namespaced ? { namespace } : {}), ...(labelSelector ? { labelSelector } : {}) });
    if (found.length > 0) return undefined;
    return `its ${reference.path} selects ${target.kind} objects ${labelSelector ? `(${labelSelector}) ` : ''}${kindRef.namespaced ? `in namespace ${namespace} ` : ''}and context ${client.contextName} holds none: the ${reference.what} do not travel with the policies${suffix}`;
  }
  return undefined;
}

/** The object (the policy) whose `kindFrom.path` says the kind: from the applied set, else from the cluster. */
async function definingObject(client: KubeClient, objects: readonly KubeObject[], object: KubeObject, reference: EngineReference): Promise<KubeObject | undefined> {
  const name = valueAt(object, reference.kindFrom.namePath);
  if (typeof name !== 'string' || name === '') return undefined;
  const group = object.apiVersion.includes('/') ? object.apiVersion.slice(0, object.apiVersion.lastIndexOf('/')) : '';
  const sameKind = (o: KubeObject) => o.kind === reference.kindFrom.kind && (o.apiVersion.includes('/') ? o.apiVersion.slice(0, o.apiVersion.lastIndexOf('/')) : '') === group;
  const inSet = objects.find((o) => sameKind(o) && o.metadata.name === name);
  if (inSet) return inSet;
  // At the referring object's version when the kind has it (a binding and its policy share versions).
  const version = object.apiVersion.slice(object.apiVersion.lastIndexOf('/') + 1);
  const match = findKind(group ? `${group}/${version}` : version, reference.kindFrom.kind);
  if (!match) return undefined;
  const ref: KindRef = { group, version: match.version, kind: match.kind.kind, plural: match.kind.plural, namespaced: match.kind.namespaced };
  return client.get(ref, name, undefined);
}
