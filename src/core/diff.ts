// diff: what apply would change, as a unified diff per policy (the server-side dry run against the
// live object). The policies come from the same source as apply's (signatures checked with a
// key, attached artifacts with fromReferrers), read whole before the cluster is contacted.
import { diffPolicies, type DiffResult } from '../kube/diff.ts';
import { readSourceFor, type KubeOptions } from './apply.ts';
import { silentReporter, type Reporter } from './reporter.ts';
import { sourceFields, type SourceFields, type SourceOptions } from './source.ts';
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
  results: DiffResult[];
  warnings: string[];
}

export async function diff(options: DiffOptions, reporter: Reporter = silentReporter): Promise<DiffSummary> {
  // The kubeconfig is read after the signatures are checked, before the artifact is read (apply.ts).
  const { source, client } = await readSourceFor(options, reporter);
  try {
    reporter.progress(`Comparing ${count(source.policies.length, 'policy')} with context ${client.contextName}`);
    const results = await diffPolicies(
      client,
      source.policies.map((p) => p.object),
      {
        ...(options.namespace ? { namespace: options.namespace } : {}),
        forceConflicts: options.forceConflicts,
        ...(options.prune ? { prune: { repository: source.opened.repository, ...(options.engines?.length ? { scope: { engines: options.engines } } : {}) } } : {}),
      },
    );
    return {
      ...sourceFields(source),
      context: client.contextName,
      server: client.server,
      changed: results.filter((r) => r.changed).length,
      errors: results.filter((r) => r.change === 'error').length,
      results,
      warnings: source.warnings,
    };
  } finally {
    await client.close();
  }
}
