// Server-side apply of policies, one result per object. Anything that is not a policy kind of a
// known engine is refused and never sent; every failure is in the results (the caller exits
// non-zero when any entry failed).
import type { KubeObject } from '../policy/types.ts';
import { stripClusterFields } from '../policy/strip.ts';
import { stringifyCanonical } from '../policy/yaml.ts';
import { mapLimit } from '../util/concurrency.ts';
import type { KubeClient } from './client.ts';
import { awaitsDefinition, checkServed, compareApplyOrder, fieldsOf, isRefusal, preparePolicies } from './prepare.ts';
import type { DiscoveredKind } from './discovery.ts';
import { kindLabel } from './discovery.ts';
import type { Prepared } from './prepare.ts';
import { markProvenance, sameSource, stripOwnership, type ProvenanceSource } from './ownership.ts';
import { prunePolicies, type PruneScope } from './prune.ts';
import { errorFields } from './result.ts';
import type { ApplyResult } from './result.ts';

export type { ApplyAction, ApplyResult } from './result.ts';

export interface ApplyOptions {
  /** -n: retargets every namespaced policy. */
  namespace?: string;
  createNamespace: boolean;
  dryRun: boolean;
  forceConflicts: boolean;
  /** Delete objects this tool applied earlier from the same repository that are not in `objects`. */
  prune?: { repository: string; scope?: PruneScope };
  /** The caller's last change to each object before it is sent. */
  label?: (obj: KubeObject) => KubeObject;
  /** Record where each object came from (ownership.ts markProvenance), given its live state. */
  provenance?: ProvenanceSource;
  /** Objects applied at once within one applyOrder tier (default 8). */
  concurrency?: number;
}

export async function applyPolicies(client: KubeClient, objects: readonly KubeObject[], opts: ApplyOptions): Promise<ApplyResult[]> {
  const all = preparePolicies(objects, {
    namespace: opts.namespace,
    defaultNamespace: client.namespace,
    label: opts.label,
    ownedBy: opts.prune?.repository,
  });
  const results: ApplyResult[] = all.filter(isRefusal).map((r) => ({ ...fieldsOf(r), action: 'failed', error: r.error }));
  const prepared = all.filter((p): p is Prepared => !isRefusal(p)).sort(compareApplyOrder);
  let discovered = await client.discoverPolicyKinds();
  checkServed(prepared, discovered);
  const newNamespaces = await checkNamespaces(client, prepared, opts);

  const existing = await readExisting(client, prepared);

  // Tiers of applyOrder go one after the other; objects within a tier in parallel.
  const applied = new Map<Prepared, ApplyResult>();
  for (const tier of Map.groupBy(prepared, (p) => p.kindDef.applyOrder).values()) {
    // Kinds defined by objects of this set (Gatekeeper constraints): served only once a
    // controller has made their CRD from the definition applied in an earlier tier.
    const waiting = tier.filter((p) => awaitsDefinition(p, discovered));
    if (waiting.length) discovered = await awaitDefinitions(client, waiting, applied, discovered, opts.dryRun);
    const out = await mapLimit(tier, opts.concurrency ?? 8, (p) => applyOne(client, p, opts, newNamespaces, existing));
    tier.forEach((p, i) => applied.set(p, out[i]!));
    results.push(...out);
  }
  if (opts.prune) {
    const keep = new Set(prepared.map((p) => p.key));
    results.push(...(await prunePolicies(client, discovered, keep, { repository: opts.prune.repository, ...(opts.prune.scope ? { scope: opts.prune.scope } : {}), namespace: opts.namespace, dryRun: opts.dryRun })));
  }
  return results;
}

/**
 * A client dry run: what apply would send, decided without any cluster. Refusals and duplicates
 * fail as they would in apply; everything else is 'would-apply', retargeted and marked for prune
 * as apply would send it, in apply order. Whether the cluster serves each kind, whether the
 * namespaces exist and what prune would delete need the cluster: a server dry run tells.
 */
export function planPolicies(objects: readonly KubeObject[], opts: { namespace?: string; defaultNamespace: string; prune?: { repository: string } }): ApplyResult[] {
  const all = preparePolicies(objects, { namespace: opts.namespace, defaultNamespace: opts.defaultNamespace, ownedBy: opts.prune?.repository });
  const results: ApplyResult[] = all.filter(isRefusal).map((r) => ({ ...fieldsOf(r), action: 'failed', error: r.error }));
  for (const p of all.filter((x): x is Prepared => !isRefusal(x)).sort(compareApplyOrder)) {
    results.push(p.error ? { ...fieldsOf(p), action: 'failed', error: p.error } : { ...fieldsOf(p), action: 'would-apply' });
  }
  return results;
}

/**
 * Objects whose kind is defined by an object of the set applied in an earlier tier: waits until
 * the cluster serves every such kind (polling discovery, bounded by the engine's
 * servedTimeoutSeconds), then marks those still not served. A dry run creates no definition: its
 * objects are marked as not checked by the server instead (applyOne reports them so).
 */
async function awaitDefinitions(client: KubeClient, waiting: Prepared[], applied: Map<Prepared, ApplyResult>, discovered: DiscoveredKind[], dryRun: boolean): Promise<DiscoveredKind[]> {
  const pending: Prepared[] = [];
  for (const p of waiting) {
    const def = p.definition!;
    const r = applied.get(def);
    if (!r || r.action === 'failed') p.error = `not applied: ${def.ref.kind} ${def.name}, which defines ${kindLabel(p.ref)}, ${r ? 'failed' : 'was not applied'}`;
    else if (dryRun) p.unchecked = `its kind ${kindLabel(p.ref)} is defined by ${def.ref.kind} ${def.name} of this set, which a dry run does not create; the server did not check it`;
    else pending.push(p);
  }
  if (!pending.length) return discovered;
  const timeout = Math.max(...pending.map((p) => p.kindDef.dynamic!.servedTimeoutSeconds));
  const deadline = performance.now() + timeout * 1000;
  let current = discovered;
  for (;;) {
    current = await client.discoverPolicyKinds();
    if (!pending.some((p) => awaitsDefinition(p, current)) || performance.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, SERVED_POLL_MS));
  }
  checkServed(pending, current, { final: true, waited: timeout });
  return current;
}

/** How often discovery is asked again while waiting for a defined kind to be served. */
const SERVED_POLL_MS = 500;

export function hasFailures(results: readonly ApplyResult[]): boolean {
  return results.some((r) => r.action === 'failed');
}

/**
 * Checks each target namespace once. Missing: its objects fail, unless --create-namespace. In a
 * dry run a namespace is not really created, so its objects cannot be dry-run applied: returned.
 */
async function checkNamespaces(client: KubeClient, prepared: Prepared[], opts: ApplyOptions): Promise<Set<string>> {
  const wouldCreate = new Set<string>();
  const namespaces = [...new Set(prepared.filter((p) => !p.error && p.namespace).map((p) => p.namespace!))];
  for (const ns of namespaces) {
    let error: string | undefined;
    try {
      const state = await client.ensureNamespace(ns, opts.createNamespace, opts.dryRun ? { dryRun: 'server' } : {});
      if (state === 'missing') error = `namespace ${ns} does not exist (use --create-namespace)`;
      if (state === 'created' && opts.dryRun) wouldCreate.add(ns);
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    if (error) for (const p of prepared) if (p.namespace === ns && !p.error) p.error = error;
  }
  return wouldCreate;
}

/** Objects applied to one kind and namespace from which on one LIST replaces a GET per object. */
const LIST_FROM = 4;

/**
 * What the cluster already holds, to tell created from configured and unchanged: one LIST per kind
 * and namespace that receives many objects, instead of a GET per object. Maps an object's key to
 * its live state, or to null when it does not exist; objects not in the map (few of their kind,
 * or a LIST the user may not make) are read one by one.
 */
async function readExisting(client: KubeClient, prepared: Prepared[]): Promise<Map<string, KubeObject | null>> {
  const groups = Map.groupBy(
    prepared.filter((p) => !p.error),
    (p) => `${p.ref.group}/${p.ref.version}/${p.ref.plural}/${p.namespace ?? ''}`,
  );
  const existing = new Map<string, KubeObject | null>();
  const listed = [...groups.values()].filter((g) => g.length >= LIST_FROM);
  await mapLimit(listed, 4, async (group) => {
    const { ref, namespace } = group[0]!;
    let items: KubeObject[];
    try {
      items = await client.list(ref, namespace ? { namespace } : {});
    } catch {
      return; // e.g. allowed to apply but not to list: GET each object instead
    }
    const byName = new Map(items.map((o) => [o.metadata.name, o]));
    for (const p of group) existing.set(p.key, byName.get(p.name) ?? null);
  });
  return existing;
}

async function applyOne(client: KubeClient, p: Prepared, opts: ApplyOptions, newNamespaces: Set<string>, existing: Map<string, KubeObject | null>): Promise<ApplyResult> {
  const base = fieldsOf(p);
  if (p.error) return { ...base, action: 'failed', error: p.error };
  if (p.namespace && newNamespaces.has(p.namespace)) {
    return { ...base, action: 'created', note: `namespace ${p.namespace} would be created; the policy was not checked by the server` };
  }
  if (p.unchecked) return { ...base, action: 'created', note: p.unchecked };
  try {
    const known = existing.get(p.key);
    const current = known === undefined ? await client.get(p.ref, p.name, p.namespace) : (known ?? undefined);
    const call = { force: opts.forceConflicts, ...(opts.dryRun ? { dryRun: 'server' as const } : {}) };
    const applied = await client.apply(opts.provenance ? markProvenance(p.obj, opts.provenance, current) : p.obj, call);
    if (!current) return { ...base, action: 'created' };
    // Unchanged: the policy is as it was. Its provenance annotations alone may have changed (a new
    // digest holding the same policy): bookkeeping, as the resourceVersion is, not a change of it.
    const same = (!opts.dryRun && current.metadata.resourceVersion === applied.metadata.resourceVersion) || sameContent(current, applied, p);
    if (same) return { ...base, action: 'unchanged' };
    // It already carried this very source, yet changed: someone changed it since (drift), now put
    // back. Its applied-at was kept to stay unchanged otherwise: re-sent once with the time of now.
    const drifted = opts.provenance !== undefined && sameSource(current, opts.provenance);
    if (drifted && !opts.dryRun) await client.apply(markProvenance(p.obj, opts.provenance!, current, { refresh: true }), call);
    return { ...base, action: 'configured', ...(drifted ? { drifted: true } : {}) };
  } catch (err) {
    return { ...base, action: 'failed', ...errorFields(err) };
  }
}

/** Compares the objects without cluster bookkeeping and our marks (a dry run does not bump resourceVersion). */
function sameContent(a: KubeObject, b: KubeObject, p: Prepared): boolean {
  return stringifyCanonical(stripOwnership(stripClusterFields(a, p.engine))) === stringifyCanonical(stripOwnership(stripClusterFields(b, p.engine)));
}
