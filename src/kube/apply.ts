// Server-side apply of policies, one result per object. Anything that is not a policy kind of a
// known engine is refused and never sent; every failure is in the results (the caller exits
// non-zero when any entry failed).
import type { KubeObject } from '../policy/types.ts';
import { stripClusterFields } from '../policy/strip.ts';
import { stringifyCanonical } from '../policy/yaml.ts';
import { mapLimit } from '../util/concurrency.ts';
import type { KubeClient } from './client.ts';
import { checkServed, compareApplyOrder, fieldsOf, isRefusal, preparePolicies } from './prepare.ts';
import type { Prepared } from './prepare.ts';
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
  const discovered = await client.discoverPolicyKinds();
  checkServed(prepared, discovered);
  const newNamespaces = await checkNamespaces(client, prepared, opts);

  const existing = await readExisting(client, prepared);

  // Tiers of applyOrder go one after the other; objects within a tier in parallel.
  for (const tier of Map.groupBy(prepared, (p) => p.kindDef.applyOrder).values()) {
    results.push(...(await mapLimit(tier, opts.concurrency ?? 8, (p) => applyOne(client, p, opts, newNamespaces, existing))));
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
  try {
    const known = existing.get(p.key);
    const current = known === undefined ? await client.get(p.ref, p.name, p.namespace) : (known ?? undefined);
    const applied = await client.apply(p.obj, { force: opts.forceConflicts, ...(opts.dryRun ? { dryRun: 'server' as const } : {}) });
    if (!current) return { ...base, action: 'created' };
    const same = opts.dryRun
      ? sameContent(current, applied, p)
      : current.metadata.resourceVersion === applied.metadata.resourceVersion;
    return { ...base, action: same ? 'unchanged' : 'configured' };
  } catch (err) {
    return { ...base, action: 'failed', ...errorFields(err) };
  }
}

/** A dry run does not bump resourceVersion: compare the objects without cluster bookkeeping. */
function sameContent(a: KubeObject, b: KubeObject, p: Prepared): boolean {
  return stringifyCanonical(stripClusterFields(a, p.engine)) === stringifyCanonical(stripClusterFields(b, p.engine));
}
