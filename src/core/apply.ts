// apply / pull --apply: read and check the whole artifact first (signatures included, see
// source.ts), then apply its policies with server-side apply. Only policy kinds of known engines
// ever reach the cluster (kube/apply.ts). A client dry run contacts no cluster at all. --atomic:
// the whole set is first applied as a server dry run; only when no object fails is it applied.
import type { PruneScope } from '../kube/prune.ts';
import { applyPolicies, hasFailures, planPolicies, type ApplyResult } from '../kube/apply.ts';
import { KubeClient } from '../kube/client.ts';
import type { ProvenanceSource } from '../kube/ownership.ts';
import { summarizeReadiness, waitForReadiness, waitTargets, type ReadinessSummary } from '../kube/readiness.ts';
import { countActions, type ApplyAction } from '../kube/result.ts';
import { missingReferences } from '../kube/references.ts';
import type { KubeObject } from '../policy/types.ts';
import type { HttpTrace } from '../registry/trace.ts';
import { type DryRun, refuseAtomicClientDryRun } from './dryrun.ts';
import { collectWarnings, silentReporter, type Reporter } from './reporter.ts';
import { readPolicySource, sourceFields, type PolicySource, type SourceFields, type SourceOptions } from './source.ts';
import { count } from '../util/plural.ts';
import { TOOL_NAME, VERSION } from '../version.ts';
import { fleetFailure, readOnceRunEach, zeroCounts, type FleetOptions, type FleetResult, type Verdict } from './fleet.ts';

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
  /** Record where the objects came from on each (ownership.ts); apply and pull --apply do. */
  provenance?: ProvenanceSource;
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
  /** --wait: after the apply, wait until each engine reports its policies in force (kube/readiness.ts). */
  wait?: { timeoutMs: number };
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
  /** An object failed, or (--wait) a policy was not reported in force. */
  failed: boolean;
  /** Only with --wait, when something was applied: what each engine reported. */
  readiness?: ReadinessSummary;
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
    ...(options.provenance ? { provenance: options.provenance } : {}),
  });
}

/**
 * What apply records of `source` on every object (ownership.ts): its repository, the digest of
 * the artifact read (none when several attached artifacts were read together), the tag the
 * reference named, this tool's version, and one time for the whole run.
 */
export function provenanceFrom(source: PolicySource, fromReferrers: boolean, at: Date = new Date()): ProvenanceSource {
  const digest = source.artifacts.length === 1 ? source.artifacts[0] : undefined;
  const tag = !fromReferrers && !source.opened.digest ? source.opened.tags[0] : undefined;
  return { repository: source.opened.repository, ...(digest ? { digest } : {}), ...(tag ? { tag } : {}), tool: `${TOOL_NAME}/${VERSION}`, at };
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
    return await applyToCluster(source, client, options, reporter);
  } finally {
    await client.close();
  }
}

/**
 * apply and pull --apply over several contexts: the artifact is read and checked once (before any
 * cluster is contacted; the kubeconfig is read for the contexts first, so a wrong name fails
 * before a long download), then applied to each context as applyArtifact applies it to one.
 */
export async function applyFleet(options: ApplyArtifactOptions, fleet: FleetOptions, reporter: Reporter = silentReporter): Promise<ApplyFleetResult> {
  const { source, result } = await readOnceRunEach(options, fleet, reporter, (src, client, own) => applyToCluster(src, client, options, own), applyVerdict);
  return { ...sourceFields(source), verb: 'apply', ...result, warnings: source.warnings };
}

export interface ApplyFleetResult extends SourceFields, FleetResult<ApplySummary> {
  verb: 'apply';
  /** Warnings of reading the artifact (each context's own are in its result). */
  warnings: string[];
}

/** One context of an apply fleet: its counts, and failed when any object failed. */
export function applyVerdict(s: ApplySummary): Verdict {
  const c = s.counts;
  const counts = { ...zeroCounts(), created: c.created, configured: c.configured, unchanged: c.unchanged, pruned: c.pruned, failed: c.failed, drifted: s.results.filter((r) => r.drifted).length };
  if (!s.failed) return { counts };
  const refused = s.atomic && !s.atomic.applied && s.atomic.wouldFail > 0;
  const why = refused ? `--atomic: ${s.atomic!.wouldFail} would fail; nothing was applied` : c.failed ? `${c.failed} of ${count(s.results.length, 'object')} failed` : `--wait: ${(s.readiness?.counts.failed ?? 0) + (s.readiness?.counts['timed-out'] ?? 0)} not in force`;
  return { counts, failure: why };
}

export { fleetFailure };

/** The apply of a source already read to one cluster (applyArtifact's, and each context's of a fleet). */
export async function applyToCluster(source: PolicySource, client: KubeClient, options: ApplyArtifactOptions, reporter: Reporter): Promise<ApplySummary> {
  const { warnings, warn } = collectWarnings(reporter);
  const objects = source.policies.map((p) => p.object);
  const applyOptions: ApplyObjectsOptions = {
    ...(options.namespace ? { namespace: options.namespace } : {}),
    createNamespace: options.createNamespace,
    dryRun: options.dryRun,
    forceConflicts: options.forceConflicts,
    ...(options.prune ? { pruneRepository: source.opened.repository } : {}),
    ...(options.prune && options.engines?.length ? { pruneScope: { engines: options.engines } } : {}),
    provenance: provenanceFrom(source, options.fromReferrers ?? false),
  };
  const applied = await applySetAndWait(client, objects, applyOptions, options.atomic ?? false, options.wait, reporter, warn);
  return { ...sourceFields(source), ...applied, warnings: [...source.warnings, ...warnings] };
}

/** The fields of an ApplySummary that the applied set decides (apply's and migrate's alike). */
export type AppliedFields = Pick<ApplySummary, 'context' | 'server' | 'dryRun' | 'dryRunStrategy' | 'results' | 'atomic' | 'counts' | 'failed' | 'readiness'>;

/** applySet, then --wait on what it really applied (never after a dry run), as summary fields. */
export async function applySetAndWait(
  client: KubeClient,
  objects: KubeObject[],
  options: ApplyObjectsOptions,
  atomic: boolean,
  wait: { timeoutMs: number } | undefined,
  reporter: Reporter,
  warn: (message: string) => void,
): Promise<AppliedFields> {
  const { results, ran, atomic: check } = await applySet(client, objects, options, atomic, reporter, warn);
  const readiness = wait && ran === 'none' ? await waitApplied(client, results, wait.timeoutMs, reporter) : undefined;
  return {
    context: client.contextName,
    server: client.server,
    dryRun: ran !== 'none',
    dryRunStrategy: ran,
    results,
    ...(check ? { atomic: check } : {}),
    counts: countActions(results),
    failed: hasFailures(results) || (readiness?.failed ?? false),
    ...(readiness ? { readiness } : {}),
  };
}

/** --wait: what the engines report on the objects just applied (those that failed are not waited for). */
async function waitApplied(client: KubeClient, results: readonly ApplyResult[], timeoutMs: number, reporter: Reporter): Promise<ReadinessSummary> {
  const waited = await waitForReadiness(client, waitTargets(results), { timeoutMs, onProgress: (text) => reporter.progress(`${text} (context ${client.contextName})`) });
  return summarizeReadiness(waited, timeoutMs);
}

/** What applySet did: the results, how they were obtained, and with --atomic the check. */
interface AppliedSet {
  results: ApplyResult[];
  /** 'server' too when an --atomic check failed (the results are the check's). */
  ran: DryRun;
  atomic?: AtomicCheck;
}

/** The write apply and migrate share: applyObjects, or with `atomic` the whole-set check first. */
async function applySet(
  client: KubeClient,
  objects: KubeObject[],
  options: ApplyObjectsOptions,
  atomic: boolean,
  reporter: Reporter,
  warn: (message: string) => void,
): Promise<AppliedSet> {
  const applied = atomic ? await applyAtomically(client, objects, options, reporter, warn) : { results: await applyObjects(client, objects, options, reporter, warn), ran: options.dryRun };
  // What the policies refer to and the target lacks (engine.json `references`): warnings only.
  if (options.dryRun !== 'client') for (const w of await missingReferences(client, objects)) warn(w);
  return applied;
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
