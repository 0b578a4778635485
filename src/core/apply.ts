// apply / pull --apply: read and check the whole artifact first (signatures included, see
// source.ts), then apply its policies with server-side apply. Only policy kinds of known engines
// ever reach the cluster (kube/apply.ts). A client dry run contacts no cluster at all. --atomic:
// the whole set is first applied as a server dry run; only when no object fails is it applied.
import type { PruneScope } from '../kube/prune.ts';
import { applyPolicies, hasFailures, planPolicies, type ApplyResult } from '../kube/apply.ts';
import { KubeClient } from '../kube/client.ts';
import { countActions, type ApplyAction } from '../kube/result.ts';
import type { KubeObject } from '../policy/types.ts';
import type { HttpTrace } from '../registry/trace.ts';
import { type DryRun, refuseAtomicClientDryRun } from './dryrun.ts';
import { collectWarnings, silentReporter, type Reporter } from './reporter.ts';
import { readPolicySource, sourceFields, type PolicySource, type SourceFields, type SourceOptions } from './source.ts';
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
  /** What the set was selected by: prune looks only there (--engine, --kind, -l). */
  pruneScope?: PruneScope;
}

export interface ApplyArtifactOptions extends SourceOptions, Omit<ApplyObjectsOptions, 'pruneRepository'> {
  kube: KubeOptions;
  /** Delete what this tool applied earlier from the same repository and the artifact no longer holds. */
  prune: boolean;
  /**
   * All or nothing: a server dry run of the whole set (prune deletions included) first, and the
   * apply only when no object would fail. With dryRun 'server' that check alone; not with 'client'.
   */
  atomic?: boolean;
}

/** --atomic: how the set was checked before anything was applied. */
export interface AtomicCheck {
  /** Always a server dry run of every object and, with --prune, every deletion. */
  checkedWith: 'server-dry-run';
  /** Objects (and deletions) the check ran on, and how many of them would fail. */
  checked: number;
  wouldFail: number;
  /**
   * Passed without the server checking them: objects of a namespace --create-namespace would
   * create (a dry run creates no namespace to check them in). They may still fail when applied.
   */
  unchecked: number;
  /** The set was applied after the check: false when an object would fail, and in a dry run. */
  applied: boolean;
}

export interface ApplySummary extends SourceFields {
  context: string;
  server: string;
  /** True for either dry run (nothing was changed), and when an --atomic check failed. */
  dryRun: boolean;
  /** How `results` were obtained: 'server' too when an --atomic check failed (they are its results). */
  dryRunStrategy: DryRun;
  results: ApplyResult[];
  /** Only with --atomic. */
  atomic?: AtomicCheck;
  counts: Record<ApplyAction, number>;
  failed: boolean;
  warnings: string[];
}

/** Server-side apply (or its server dry run), or with a client dry run what would be sent. */
export async function applyObjects(client: KubeClient, objects: KubeObject[], options: ApplyObjectsOptions, reporter: Reporter, warn: (message: string) => void): Promise<ApplyResult[]> {
  const prune = options.pruneRepository ? { repository: options.pruneRepository, ...(options.pruneScope ? { scope: options.pruneScope } : {}) } : undefined;
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

/**
 * The source of apply and diff, and the client of their cluster: the kubeconfig is read once the
 * signatures are checked (a refusal comes before anything of the cluster) and before the artifact
 * is read (a wrong --context fails before a long download). Nothing contacts the cluster here.
 */
export async function readSourceFor(options: SourceOptions & { kube: KubeOptions }, reporter: Reporter): Promise<{ source: PolicySource; client: KubeClient }> {
  const opened: { client?: KubeClient } = {};
  try {
    const source = await readPolicySource(options, reporter, () => {
      opened.client = KubeClient.fromKubeconfig(options.kube);
    });
    return { source, client: opened.client ?? KubeClient.fromKubeconfig(options.kube) };
  } catch (err) {
    await opened.client?.close();
    throw err;
  }
}

export async function applyArtifact(options: ApplyArtifactOptions, reporter: Reporter = silentReporter): Promise<ApplySummary> {
  // The cluster is contacted only once the artifact is read whole and its signatures checked.
  const { source, client } = await readSourceFor(options, reporter);
  try {
    const { warnings, warn } = collectWarnings(reporter);
    const objects = source.policies.map((p) => p.object);
    const applyOptions: ApplyObjectsOptions = {
      ...(options.namespace ? { namespace: options.namespace } : {}),
      createNamespace: options.createNamespace,
      dryRun: options.dryRun,
      forceConflicts: options.forceConflicts,
      ...(options.prune ? { pruneRepository: source.opened.repository } : {}),
      ...(options.prune && options.engines?.length ? { pruneScope: { engines: options.engines } } : {}),
    };
    const { results, ran, atomic } = await applySet(client, objects, applyOptions, options.atomic ?? false, reporter, warn);
    return {
      ...sourceFields(source),
      context: client.contextName,
      server: client.server,
      dryRun: ran !== 'none',
      dryRunStrategy: ran,
      results,
      ...(atomic ? { atomic } : {}),
      counts: countActions(results),
      failed: hasFailures(results),
      warnings: [...source.warnings, ...warnings],
    };
  } finally {
    await client.close();
  }
}

/** What applySet did: the results, how they were obtained, and with --atomic the check. */
export interface AppliedSet {
  results: ApplyResult[];
  /** 'server' too when an --atomic check failed (the results are the check's). */
  ran: DryRun;
  atomic?: AtomicCheck;
}

/** The write apply and migrate share: applyObjects, or with `atomic` the whole-set check first. */
export async function applySet(
  client: KubeClient,
  objects: KubeObject[],
  options: ApplyObjectsOptions,
  atomic: boolean,
  reporter: Reporter,
  warn: (message: string) => void,
): Promise<AppliedSet> {
  if (atomic) return applyAtomically(client, objects, options, reporter, warn);
  return { results: await applyObjects(client, objects, options, reporter, warn), ran: options.dryRun };
}

/**
 * --atomic: the whole set as a server dry run first (what --dry-run=server does), then, only when
 * no object or deletion would fail and this is no dry run, the apply itself. What the check cannot
 * promise: objects in a namespace it would create are not checked (counted in `unchecked`), and the
 * cluster may change between check and apply; a failure then is reported as any apply reports it.
 */
async function applyAtomically(
  client: KubeClient,
  objects: KubeObject[],
  options: ApplyObjectsOptions,
  reporter: Reporter,
  warn: (message: string) => void,
): Promise<{ results: ApplyResult[]; ran: DryRun; atomic: AtomicCheck }> {
  refuseAtomicClientDryRun(options.dryRun);
  reporter.progress(`Checking ${count(objects.length, 'policy')} with a server dry run first (--atomic)`);
  const prune = options.pruneRepository ? { prune: { repository: options.pruneRepository, ...(options.pruneScope ? { scope: options.pruneScope } : {}) } } : {};
  const check = await applyPolicies(client, objects, {
    ...(options.namespace ? { namespace: options.namespace } : {}),
    createNamespace: options.createNamespace,
    dryRun: true,
    forceConflicts: options.forceConflicts,
    ...prune,
  });
  const wouldFail = check.filter((r) => r.action === 'failed').length;
  // The only note a passing dry-run result carries: its namespace would be created, so unchecked.
  const unchecked = check.filter((r) => r.action !== 'failed' && r.note).length;
  const verdict = { checkedWith: 'server-dry-run' as const, checked: check.length, wouldFail, unchecked };
  if (wouldFail > 0 || options.dryRun === 'server') return { results: check, ran: 'server', atomic: { ...verdict, applied: false } };
  const results = await applyObjects(client, objects, options, reporter, warn);
  return { results, ran: options.dryRun, atomic: { ...verdict, applied: true } };
}
