// Server-side apply of policies, one result per object. Anything that is not a policy kind of a
// known engine is refused and never sent; every failure is in the results (the caller exits
// non-zero when any entry failed).
import type { KubeObject } from '../policy/types.ts';
import { stripClusterFields } from '../policy/strip.ts';
import { stringifyCanonical } from '../policy/yaml.ts';
import { mapLimit } from '../util/concurrency.ts';
import { apiVersionOf } from './client.ts';
import type { KubeClient } from './client.ts';
import { checkServed, compareApplyOrder, isRefusal, preparePolicies } from './prepare.ts';
import type { Prepared } from './prepare.ts';
import { prunePolicies } from './prune.ts';
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
  prune?: { repository: string };
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
  const results: ApplyResult[] = all.filter(isRefusal).map((r) => ({
    kind: r.kind,
    apiVersion: r.apiVersion,
    ...(r.namespace ? { namespace: r.namespace } : {}),
    name: r.name,
    action: 'failed',
    error: r.error,
  }));
  const prepared = all.filter((p): p is Prepared => !isRefusal(p)).sort(compareApplyOrder);
  const discovered = await client.discoverPolicyKinds();
  checkServed(prepared, discovered);
  const newNamespaces = await checkNamespaces(client, prepared, opts);

  // Tiers of applyOrder go one after the other; objects within a tier in parallel.
  const tiers = new Map<number, Prepared[]>();
  for (const p of prepared) tiers.set(p.kindDef.applyOrder, [...(tiers.get(p.kindDef.applyOrder) ?? []), p]);
  for (const tier of tiers.values()) {
    results.push(...(await mapLimit(tier, opts.concurrency ?? 8, (p) => applyOne(client, p, opts, newNamespaces))));
  }
  if (opts.prune) {
    const keep = new Set(prepared.map((p) => p.key));
    results.push(...(await prunePolicies(client, discovered, keep, { repository: opts.prune.repository, namespace: opts.namespace, dryRun: opts.dryRun })));
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

async function applyOne(client: KubeClient, p: Prepared, opts: ApplyOptions, newNamespaces: Set<string>): Promise<ApplyResult> {
  const base = { kind: p.ref.kind, apiVersion: apiVersionOf(p.ref), ...(p.namespace ? { namespace: p.namespace } : {}), name: p.name };
  if (p.error) return { ...base, action: 'failed', error: p.error };
  if (p.namespace && newNamespaces.has(p.namespace)) {
    return { ...base, action: 'created', note: `namespace ${p.namespace} would be created; the policy was not checked by the server` };
  }
  try {
    const current = await client.get(p.ref, p.name, p.namespace);
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
