// diff: what apply would change, as a unified diff per policy (the server-side dry run against the
// live object). The policies come from the same source as apply's (signatures checked with a
// key, attached artifacts with fromReferrers), read whole before the cluster is contacted.
import { diffPolicies, type DiffResult } from '../kube/diff.ts';
import { KubeClient } from '../kube/client.ts';
import { provenanceFrom, readSourceFor, type KubeOptions } from './apply.ts';
import { readOnceRunEach, zeroCounts, type FleetOptions, type FleetResult, type Verdict } from './fleet.ts';
import { silentReporter, type Reporter } from './reporter.ts';
import { sourceFields, type PolicySource, type SourceFields, type SourceOptions } from './source.ts';
import { count } from '../util/plural.ts';

export interface DiffOptions extends SourceOptions {
  kube: KubeOptions;
  /** -n: compare as `apply -n` would send them, every namespaced policy in this namespace. */
  namespace?: string;
  forceConflicts: boolean;
  /** Also show what `apply --prune` would delete. */
  prune: boolean;
}

export interface DiffSummary extends SourceFields {
  context: string;
  server: string;
  /** How many results would change (created, updated or pruned). */
  changed: number;
  /** How many could not be compared (the server or the input said why). */
  errors: number;
  /** How many drifted from what the artifact's digest holds, where that digest is live. */
  drifted?: number;
  results: DiffResult[];
  warnings: string[];
}

export async function diff(options: DiffOptions, reporter: Reporter = silentReporter): Promise<DiffSummary> {
  // The kubeconfig is read after the signatures are checked, before the artifact is read (apply.ts).
  const { source, client } = await readSourceFor(options, reporter);
  try {
    return await diffToCluster(source, client, options, reporter);
  } finally {
    await client.close();
  }
}

export interface DiffFleetResult extends SourceFields, FleetResult<DiffSummary> {
  verb: 'diff';
  warnings: string[];
}

/** diff over several contexts: the artifact read and checked once, compared with each context. */
export async function diffFleet(options: DiffOptions, fleet: FleetOptions, reporter: Reporter = silentReporter): Promise<DiffFleetResult> {
  const { source, result } = await readOnceRunEach(options, fleet, reporter, (src, client, own) => diffToCluster(src, client, options, own), diffVerdict);
  return { ...sourceFields(source), verb: 'diff', ...result, warnings: source.warnings };
}

/** One context of a diff fleet: what would be created, configured, pruned; failed when some could not be compared. */
function diffVerdict(s: DiffSummary): Verdict {
  const counts = { ...zeroCounts(), drifted: s.drifted ?? 0, failed: s.errors };
  for (const r of s.results) {
    if (r.change === 'create') counts.created++;
    else if (r.change === 'update') counts.configured++;
    else if (r.change === 'none') counts.unchanged++;
    else if (r.change === 'prune') counts.pruned++;
  }
  return { counts, differs: s.changed > 0 || counts.drifted > 0, ...(s.errors > 0 ? { failure: `${s.errors} object(s) could not be compared` } : {}) };
}

/** The comparison of a source already read with one cluster. */
export async function diffToCluster(source: PolicySource, client: KubeClient, options: DiffOptions, reporter: Reporter): Promise<DiffSummary> {
  reporter.progress(`Comparing ${count(source.policies.length, 'policy')} with context ${client.contextName}`);
  const results = await diffPolicies(
    client,
    source.policies.map((p) => p.object),
    {
      ...(options.namespace ? { namespace: options.namespace } : {}),
      forceConflicts: options.forceConflicts,
      ...(options.prune ? { prune: { repository: source.opened.repository, ...(options.engines?.length ? { scope: { engines: options.engines } } : {}) } } : {}),
      provenance: provenanceFrom(source, options.fromReferrers ?? false),
    },
  );
  return {
    ...sourceFields(source),
    context: client.contextName,
    server: client.server,
    changed: results.filter((r) => r.changed).length,
    errors: results.filter((r) => r.change === 'error').length,
    drifted: results.filter((r) => r.drift).length,
    results,
    warnings: source.warnings,
  };
}
