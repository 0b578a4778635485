// apply / pull --apply: read and check the whole artifact first (signatures included, see
// source.ts), then apply its policies with server-side apply. Only policy kinds of known engines
// ever reach the cluster (kube/apply.ts). A client dry run contacts no cluster at all.
import { applyPolicies, hasFailures, planPolicies, type ApplyResult } from '../kube/apply.ts';
import { KubeClient } from '../kube/client.ts';
import { countActions, type ApplyAction } from '../kube/result.ts';
import type { KubeObject } from '../policy/types.ts';
import type { HttpTrace } from '../registry/trace.ts';
import type { DryRun } from './dryrun.ts';
import { collectWarnings, silentReporter, type Reporter } from './reporter.ts';
import { readPolicySource, sourceFields, type SourceFields, type SourceOptions } from './source.ts';
import { count } from '../util/plural.ts';

/** Which cluster, as kubectl's flags name it. Reading the kubeconfig contacts nothing. */
export interface KubeOptions {
  kubeconfig?: string;
  context?: string;
  /** The context's namespace is replaced by this one (where namespace-less policies go). */
  namespace?: string;
  requestTimeoutMs?: number;
  /** -v/--verbose: called once per HTTP exchange with the API server (never with a secret). */
  trace?: HttpTrace;
}

/** How objects go to a cluster: what apply and migrate share. */
export interface ApplyObjectsOptions {
  /** -n: every namespaced policy goes to this namespace. */
  namespace?: string;
  createNamespace: boolean;
  dryRun: DryRun;
  forceConflicts: boolean;
  /** --prune: the source recorded on every object, and what prune deletes by. */
  pruneRepository?: string;
}

export interface ApplyArtifactOptions extends SourceOptions, Omit<ApplyObjectsOptions, 'pruneRepository'> {
  kube: KubeOptions;
  /** Delete what this tool applied earlier from the same repository and the artifact no longer holds. */
  prune: boolean;
}

export interface ApplySummary extends SourceFields {
  context: string;
  server: string;
  /** True for either dry run (nothing was changed). */
  dryRun: boolean;
  dryRunStrategy: DryRun;
  results: ApplyResult[];
  counts: Record<ApplyAction, number>;
  failed: boolean;
  warnings: string[];
}

/** Server-side apply (or its server dry run), or with a client dry run what would be sent. */
export async function applyObjects(client: KubeClient, objects: KubeObject[], options: ApplyObjectsOptions, reporter: Reporter, warn: (message: string) => void): Promise<ApplyResult[]> {
  const prune = options.pruneRepository ? { repository: options.pruneRepository } : undefined;
  const namespace = options.namespace ? { namespace: options.namespace } : {};
  if (options.dryRun === 'client') {
    if (prune) warn('--prune: what would be pruned is known only to the cluster, which a client dry run does not contact (use --dry-run=server)');
    return planPolicies(objects, { ...namespace, defaultNamespace: client.namespace, ...(prune ? { prune } : {}) });
  }
  reporter.progress(`Applying ${count(objects.length, 'policy')} to context ${client.contextName}`);
  return applyPolicies(client, objects, {
    ...namespace,
    createNamespace: options.createNamespace,
    dryRun: options.dryRun === 'server',
    forceConflicts: options.forceConflicts,
    ...(prune ? { prune } : {}),
  });
}

export async function applyArtifact(options: ApplyArtifactOptions, reporter: Reporter = silentReporter): Promise<ApplySummary> {
  // The kubeconfig is read first (a wrong --context fails before a long download); the cluster
  // is contacted only once the artifact is read whole and its signatures checked.
  const client = KubeClient.fromKubeconfig(options.kube);
  try {
    const source = await readPolicySource(options, reporter);
    const { warnings, warn } = collectWarnings(reporter);
    const objects = source.policies.map((p) => p.object);
    const results = await applyObjects(
      client,
      objects,
      {
        ...(options.namespace ? { namespace: options.namespace } : {}),
        createNamespace: options.createNamespace,
        dryRun: options.dryRun,
        forceConflicts: options.forceConflicts,
        ...(options.prune ? { pruneRepository: source.opened.repository } : {}),
      },
      reporter,
      warn,
    );
    return {
      ...sourceFields(source),
      context: client.contextName,
      server: client.server,
      dryRun: options.dryRun !== 'none',
      dryRunStrategy: options.dryRun,
      results,
      counts: countActions(results),
      failed: hasFailures(results),
      warnings: [...source.warnings, ...warnings],
    };
  } finally {
    await client.close();
  }
}
