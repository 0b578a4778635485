// --prune: delete what this tool applied earlier from the same repository and is no longer in the
// applied set. Only objects carrying BOTH the managed-by label and that exact source annotation
// are candidates; nothing else is ever deleted.
import type { KubeObject } from '../policy/types.ts';
import { apiVersionOf } from './client.ts';
import type { KubeClient } from './client.ts';
import { type DiscoveredKind, kindNamed, type KindRef } from './discovery.ts';
import { isOwnedBy, MANAGED_SELECTOR } from './ownership.ts';
import { identity } from './prepare.ts';
import { errorFields, objectFields } from './result.ts';
import type { ApplyResult } from './result.ts';

/**
 * The kinds the apply selected (--engine, --kind): prune considers only those, so a narrower apply
 * from a source never deletes what a wider one from the same source applied. (migrate's -l does not
 * narrow prune yet, unlike kubectl apply --prune -l: README, migrate.)
 */
export interface PruneScope {
  engines?: string[];
  /** Kind names as --kind takes them (Kind, plural, Kind.group, plural.group). */
  kinds?: string[];
}

export interface PruneOptions {
  repository: string;
  scope?: PruneScope;
  /** With -n, namespaced kinds are pruned in that namespace only (another -n run is not ours). */
  namespace?: string;
  dryRun: boolean;
}

export interface PruneCandidate {
  ref: KindRef;
  obj: KubeObject;
}

/**
 * What prune would delete, in reverse apply order; kinds that could not be listed are returned as
 * failed results. `keep`: identities (group/kind/namespace/name) of every object of this apply.
 */
export async function pruneCandidates(
  client: KubeClient,
  discovered: DiscoveredKind[],
  keep: Set<string>,
  opts: Omit<PruneOptions, 'dryRun'>,
): Promise<{ candidates: PruneCandidate[]; failures: ApplyResult[] }> {
  const candidates: PruneCandidate[] = [];
  const failures: ApplyResult[] = [];
  // Reverse apply order: what others depend on goes last.
  const kinds = inScope(discovered, opts.scope).filter((d) => d.ref).sort((a, b) => b.kind.applyOrder - a.kind.applyOrder || a.label.localeCompare(b.label));
  for (const d of kinds) {
    const ref = d.ref!;
    let items: KubeObject[];
    try {
      items = await client.list(ref, { namespace: ref.namespaced ? opts.namespace : undefined, labelSelector: MANAGED_SELECTOR });
    } catch (err) {
      const { error, details } = errorFields(err);
      failures.push({ kind: ref.kind, apiVersion: apiVersionOf(ref), name: '', action: 'failed', error: `prune: ${error}`, ...(details ? { details } : {}) });
      continue;
    }
    items
      .filter((o) => isOwnedBy(o, opts.repository))
      .filter((o) => !keep.has(identity(ref, ref.namespaced ? o.metadata.namespace : undefined, o.metadata.name)))
      .sort((a, b) => `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace ?? ''}/${b.metadata.name}`))
      .forEach((obj) => candidates.push({ ref, obj }));
  }
  return { candidates, failures };
}

function inScope(discovered: DiscoveredKind[], scope: PruneScope | undefined): DiscoveredKind[] {
  const engines = scope?.engines?.length ? discovered.filter((d) => scope.engines!.includes(d.engine.name)) : discovered;
  const names = scope?.kinds;
  if (!names?.length) return engines;
  return engines.filter((d) => names.some((n) => kindNamed(d, n)));
}

export async function prunePolicies(client: KubeClient, discovered: DiscoveredKind[], keep: Set<string>, opts: PruneOptions): Promise<ApplyResult[]> {
  const { candidates, failures } = await pruneCandidates(client, discovered, keep, opts);
  const out: ApplyResult[] = [...failures];
  for (const { ref, obj } of candidates) {
    const ns = ref.namespaced ? obj.metadata.namespace : undefined;
    const base = objectFields(ref.kind, apiVersionOf(ref), ns, obj.metadata.name);
    try {
      await client.delete(ref, obj.metadata.name, ns, opts.dryRun ? { dryRun: 'server' } : {});
      out.push({ ...base, action: 'pruned' });
    } catch (err) {
      out.push({ ...base, action: 'failed', ...errorFields(err) });
    }
  }
  return out;
}
