// Reads the policies live on a cluster as they were written: cluster bookkeeping stripped (status
// included, which is where Kyverno keeps its auto-generated pod-controller rules), our ownership
// marks removed, in a stable order so two exports of an unchanged cluster are identical. Kinds
// that cannot be read are reported in `skipped`, never silently left out.
import { loadEngines } from '../engines/index.ts';
import { PolicyOciError } from '../errors.ts';
import { stripClusterFields } from '../policy/strip.ts';
import type { KubeObject } from '../policy/types.ts';
import { mapLimit } from '../util/concurrency.ts';
import type { KubeClient } from './client.ts';
import type { DiscoveredKind } from './discovery.ts';
import { stripOwnership } from './ownership.ts';
import { compareCodeUnits } from '../util/compare.ts';

export interface ReadLiveOptions {
  /** Engine names; default every engine. */
  engines?: string[];
  /** Kind names ("ClusterPolicy"), plurals ("clusterpolicies"), or either with ".group"; default all. */
  kinds?: string[];
  /** Namespace for namespaced kinds when not allNamespaces (default: the context's). */
  namespace?: string;
  allNamespaces: boolean;
  labelSelector?: string;
}

export interface SkippedKind {
  /** "ClusterPolicy.kyverno.io" */
  kind: string;
  /** Why: the user may not list it; the cluster serves it only at versions we do not read; or not at all. */
  cause: 'forbidden' | 'unsupported-version' | 'not-served';
  reason: string;
}

export interface LiveExport {
  objects: KubeObject[];
  skipped: SkippedKind[];
  counts: { total: number; byKind: Record<string, number>; byEngine: Record<string, number> };
}

export async function readLivePolicies(client: KubeClient, opts: ReadLiveOptions): Promise<LiveExport> {
  const engines = selectEngines(opts.engines);
  const discovered = selectKinds(await client.discoverPolicyKinds(engines), opts.kinds);
  const skipped: SkippedKind[] = [];
  const lists = await mapLimit(discovered, 4, async (d): Promise<Array<{ d: DiscoveredKind; obj: KubeObject }>> => {
    if (!d.ref) {
      const reason = d.servedVersions.length
        ? `served only at ${d.servedVersions.join(', ')}, which ${d.engine.displayName} support here does not include`
        : `not served by the cluster: ${d.engine.installHint}`;
      skipped.push({ kind: d.label, cause: d.servedVersions.length ? 'unsupported-version' : 'not-served', reason });
      return [];
    }
    const namespace = d.ref.namespaced && !opts.allNamespaces ? opts.namespace || client.namespace : undefined;
    try {
      const items = await client.list(d.ref, { namespace, labelSelector: opts.labelSelector });
      return items.map((o) => ({ d, obj: stripOwnership(stripClusterFields(o, d.engine)) }));
    } catch (err) {
      if (err instanceof PolicyOciError && err.code === 'DENIED') {
        const where = d.ref.namespaced ? (namespace ? ` in namespace ${namespace}` : ' in all namespaces (try -n)') : '';
        skipped.push({ kind: d.label, cause: 'forbidden', reason: `forbidden: the user may not list ${d.ref.plural}.${d.ref.group}${where}` });
        return [];
      }
      throw err;
    }
  });
  const rows = lists.flat().sort((a, b) => a.d.kind.applyOrder - b.d.kind.applyOrder || compareCodeUnits(sortKey(a), sortKey(b)));
  const counts: LiveExport['counts'] = { total: rows.length, byKind: {}, byEngine: {} };
  for (const { d } of rows) {
    counts.byKind[d.label] = (counts.byKind[d.label] ?? 0) + 1;
    counts.byEngine[d.engine.name] = (counts.byEngine[d.engine.name] ?? 0) + 1;
  }
  skipped.sort((a, b) => compareCodeUnits(a.kind, b.kind));
  return { objects: rows.map((r) => r.obj), skipped, counts };
}

function selectEngines(names: string[] | undefined) {
  const all = loadEngines();
  if (!names?.length) return all;
  const unknown = names.filter((n) => !all.some((e) => e.name === n));
  if (unknown.length) throw new PolicyOciError('USAGE', `unknown engine ${unknown.join(', ')} (known: ${all.map((e) => e.name).join(', ')})`);
  return all.filter((e) => names.includes(e.name));
}

/** Keeps the kinds the user named; a name that matches nothing is an error, not an empty export. */
export function selectKinds(discovered: DiscoveredKind[], names: string[] | undefined): DiscoveredKind[] {
  if (!names?.length) return discovered;
  const matches = (d: DiscoveredKind, name: string): boolean => {
    const n = name.toLowerCase();
    const kind = d.kind.kind.toLowerCase();
    const plural = d.kind.plural.toLowerCase();
    const group = d.kind.group.toLowerCase();
    return [kind, plural, `${kind}.${group}`, `${plural}.${group}`].includes(n);
  };
  const unknown = names.filter((n) => !discovered.some((d) => matches(d, n)));
  if (unknown.length) {
    const known = [...new Set(discovered.map((d) => d.kind.kind))].join(', ');
    throw new PolicyOciError('USAGE', `unknown policy kind ${unknown.join(', ')} (known: ${known})`);
  }
  return discovered.filter((d) => names.some((n) => matches(d, n)));
}

function sortKey(r: { d: DiscoveredKind; obj: KubeObject }): string {
  return [r.d.kind.kind, r.d.kind.group, r.obj.metadata.namespace ?? '', r.obj.metadata.name].join('\u0000');
}
