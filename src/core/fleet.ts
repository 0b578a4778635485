// Fleets: one command over many kubeconfig contexts. The verbs (apply, pull --apply, diff, status)
// read and check their artifact once, then hand one function per context to runFleet, which runs
// them with bounded concurrency: a context that fails is recorded and never stops or touches the
// others (--fail-fast only keeps contexts not yet started from starting), and live progress shows
// every context's step through the Reporter.
import { PolicyOciError, exitCodeFor, isPolicyOciError, type ErrorCode } from '../errors.ts';
import { kubeconfigFiles, mergeKubeconfigs, readKubeconfigFile } from '../kube/kubeconfig.ts';
import { KubeClient } from '../kube/client.ts';
import { mapLimit } from '../util/concurrency.ts';
import type { Reporter } from './reporter.ts';
import { readPolicySource, type PolicySource, type SourceOptions } from './source.ts';

/** Which contexts: names and glob patterns (`prod-*`) as --context lists them, or every one. */
export interface ContextSelection {
  names: string[];
  all: boolean;
}

export interface FleetOptions {
  selection: ContextSelection;
  /** Contexts worked on at once (≥ 1). */
  parallel: number;
  /** After the first failed context, start no other (those already running finish). */
  failFast: boolean;
}

/** What a context's work came to, as the summary table shows it. */
export interface FleetCounts {
  created: number;
  configured: number;
  unchanged: number;
  pruned: number;
  failed: number;
  drifted: number;
}

export const FLEET_COUNTS: readonly (keyof FleetCounts)[] = ['created', 'configured', 'unchanged', 'pruned', 'failed', 'drifted'];

/** How a verb judges one context's result. */
export interface Verdict {
  counts: FleetCounts;
  /** The context failed (some object failed, or it could not be compared): one line why. */
  failure?: string;
  /** The failure's category, for its exit code (default CLUSTER). */
  failureCode?: ErrorCode;
  /** diff, status: something differs (would change, drifted). */
  differs?: boolean;
}

export interface ContextError {
  code: ErrorCode | 'INTERNAL';
  exitCode: number;
  message: string;
  details: string[];
}

export interface ContextOutcome<T> {
  context: string;
  /** ok: done (diff/status: see differs); failed: an error, or failed objects; skipped: --fail-fast. */
  status: 'ok' | 'failed' | 'skipped';
  differs: boolean;
  counts: FleetCounts;
  /** The verb's own result for this context (what one --context would print). */
  result?: T;
  error?: ContextError;
}

export interface FleetResult<T> {
  contexts: ContextOutcome<T>[];
  /** How many contexts, and how they ended (differ: ok, with differences or drift). */
  totals: { contexts: number; ok: number; failed: number; skipped: number; differ: number };
  /** The counts of every context added up. */
  counts: FleetCounts;
}

export function zeroCounts(): FleetCounts {
  return { created: 0, configured: 0, unchanged: 0, pruned: 0, failed: 0, drifted: 0 };
}

/** Whether the --context value asks for a fleet: a list (a,b), a pattern (prod-*), or --all-contexts. */
export function isFleetSelection(context: string | undefined, all: boolean): boolean {
  return all || (context !== undefined && (context.includes(',') || isPattern(context)));
}

/** The --context value as a selection: comma-separated names and patterns. */
export function selectionOf(context: string | undefined, all: boolean): ContextSelection {
  const names = (context ?? '').split(',').map((n) => n.trim()).filter((n) => n !== '');
  if (!all && names.length === 0) throw new PolicyOciError('USAGE', '--context: no context named');
  return { names, all };
}

function isPattern(name: string): boolean {
  return /[*?[]/.test(name);
}

// Hand-written: context names are not paths (EKS names hold "/"), so '*' must match "/" too,
// which path globs (path.matchesGlob, picomatch) do not do.
function globRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    const close = c === '[' ? pattern.indexOf(']', i + 2) : -1;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (close > 0) {
      const body = pattern.slice(i + 1, close);
      re += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
      i = close;
    } else re += c.replace(/[\\^$.|+(){}[\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * The contexts of the kubeconfig (kubectl's files and merge, as kubeconfig.ts reads them) that a
 * selection names: every one for `all`, in the kubeconfig's order; names and patterns in the order
 * given, each context once. A name the kubeconfig lacks, or a pattern matching none, is a usage error.
 */
export function resolveContexts(selection: ContextSelection, kube: { kubeconfig?: string; env?: NodeJS.ProcessEnv }): string[] {
  const env = kube.env ?? process.env;
  const files = kubeconfigFiles(kube.kubeconfig, env);
  if (files.length === 0) throw new PolicyOciError('CLUSTER', 'no kubeconfig: several contexts need a kubeconfig file; use --kubeconfig or set KUBECONFIG');
  const known = [...mergeKubeconfigs(files.map(readKubeconfigFile)).contexts.keys()];
  const where = files.join(', ');
  const available = known.length ? `available: ${known.join(', ')}` : 'it defines no context';
  if (selection.all) {
    if (known.length === 0) throw new PolicyOciError('USAGE', `--all-contexts: ${where} defines no context`);
    return known;
  }
  const out: string[] = [];
  for (const name of selection.names) {
    const matched = isPattern(name) ? known.filter((k) => globRegExp(name).test(k)) : known.includes(name) ? [name] : [];
    if (matched.length === 0) {
      throw new PolicyOciError('USAGE', isPattern(name) ? `--context ${name}: no context matches in ${where} (${available})` : `context "${name}" not found in ${where} (${available})`);
    }
    for (const m of matched) if (!out.includes(m)) out.push(m);
  }
  return out;
}

/**
 * Runs `work` once per context, at most `parallel` at once, and judges each result. An error
 * thrown by one context's work is that context's failure only. `work` gets a Reporter whose
 * progress is the context's line on the board and whose warnings name the context.
 */
export async function runFleet<T>(
  contexts: readonly string[],
  options: Pick<FleetOptions, 'parallel' | 'failFast'>,
  reporter: Reporter,
  work: (context: string, reporter: Reporter) => Promise<T>,
  judge: (result: T) => Verdict,
): Promise<FleetResult<T>> {
  const board = new Map(contexts.map((c) => [c, 'waiting']));
  const width = Math.max(...contexts.map((c) => c.length));
  let finished = 0;
  const draw = (): void =>
    reporter.progress([`${finished} of ${contexts.length} contexts done`, ...[...board].map(([c, s]) => `  ${c.padEnd(width)}  ${s}`)].join('\n'));
  let stop = false;
  const outcomes = await mapLimit(contexts, Math.max(1, options.parallel), async (context): Promise<ContextOutcome<T>> => {
    if (stop) {
      board.set(context, 'skipped (--fail-fast)');
      return { context, status: 'skipped', differs: false, counts: zeroCounts(), error: skippedError() };
    }
    board.set(context, 'starting');
    draw();
    const own: Reporter = {
      warn: (message) => reporter.warn(`${context}: ${message}`),
      progress: (text) => {
        board.set(context, text.split('\n')[0]!);
        draw();
      },
    };
    let outcome: ContextOutcome<T>;
    try {
      const result = await work(context, own);
      const v = judge(result);
      outcome = { context, status: v.failure ? 'failed' : 'ok', differs: v.differs ?? false, counts: v.counts, result, ...(v.failure ? { error: failureError(v.failure, v.failureCode) } : {}) };
    } catch (err) {
      outcome = { context, status: 'failed', differs: false, counts: zeroCounts(), error: errorOf(err) };
    }
    if (outcome.status === 'failed' && options.failFast) stop = true;
    finished++;
    const tally = FLEET_COUNTS.filter((k) => outcome.counts[k] > 0).map((k) => `${outcome.counts[k]} ${k}`).join(', ');
    board.set(context, `${outcome.status === 'failed' ? `failed: ${outcome.error?.message ?? ''}` : 'done'}${tally ? ` (${tally})` : ''}`);
    draw();
    return outcome;
  });
  const counts = zeroCounts();
  for (const o of outcomes) for (const k of FLEET_COUNTS) counts[k] += o.counts[k];
  return { contexts: outcomes, totals: totalsOf(outcomes), counts };
}

function totalsOf<T>(outcomes: ContextOutcome<T>[]): FleetResult<T>['totals'] {
  const totals = { contexts: outcomes.length, ok: 0, failed: 0, skipped: 0, differ: 0 };
  for (const o of outcomes) {
    totals[o.status]++;
    if (o.differs && o.status === 'ok') totals.differ++;
  }
  return totals;
}

function errorOf(err: unknown): ContextError {
  const message = err instanceof Error ? err.message : String(err);
  return { code: isPolicyOciError(err) ? err.code : 'INTERNAL', exitCode: exitCodeFor(err), message, details: isPolicyOciError(err) ? err.details : [] };
}

function failureError(message: string, code: ErrorCode = 'CLUSTER'): ContextError {
  return { code, exitCode: exitCodeFor(new PolicyOciError(code, message)), message, details: [] };
}

function skippedError(): ContextError {
  return { code: 'PARTIAL', exitCode: exitCodeFor(new PolicyOciError('PARTIAL', '')), message: 'not started: an earlier context failed (--fail-fast)', details: [] };
}

/**
 * The error a fleet ends with when a context failed or was skipped (exit 9, "partial"): which
 * ones, and that the others are as listed. Undefined when every context succeeded.
 */
export function fleetFailure(result: FleetResult<unknown>, verb: string): PolicyOciError | undefined {
  const bad = result.contexts.filter((c) => c.status !== 'ok');
  if (bad.length === 0) return undefined;
  const { failed, skipped, contexts } = result.totals;
  const names = bad.map((c) => `${c.context} (${c.status === 'skipped' ? 'skipped' : (c.error?.message ?? 'failed')})`);
  const what = [failed ? `${failed} of ${contexts} contexts failed` : '', skipped ? `${skipped} skipped (--fail-fast)` : ''].filter(Boolean).join(', ');
  return new PolicyOciError('PARTIAL', `${verb}: ${what}; the others are as listed above`, { details: names });
}

type KubeconfigOptions = NonNullable<Parameters<typeof KubeClient.fromKubeconfig>[0]>;

/** runFleet with a client of its own for each context, opened before `perCluster` and closed after. */
export function runInEachContext<T>(
  contexts: string[],
  kube: KubeconfigOptions,
  fleet: FleetOptions,
  reporter: Reporter,
  perCluster: (client: KubeClient, reporter: Reporter) => Promise<T>,
  judge: (result: T) => Verdict,
): Promise<FleetResult<T>> {
  return runFleet(
    contexts,
    fleet,
    reporter,
    async (context, own) => {
      const client = KubeClient.fromKubeconfig({ ...kube, context });
      try {
        return await perCluster(client, own);
      } finally {
        await client.close();
      }
    },
    judge,
  );
}

/**
 * What apply and diff share over several contexts: the artifact read and checked once (the
 * contexts resolved first, so a wrong name fails before a long download), then `perCluster` run
 * in each context with a client of its own.
 */
export async function readOnceRunEach<T>(
  options: SourceOptions & { kube: KubeconfigOptions },
  fleet: FleetOptions,
  reporter: Reporter,
  perCluster: (source: PolicySource, client: KubeClient, reporter: Reporter) => Promise<T>,
  judge: (result: T) => Verdict,
): Promise<{ source: PolicySource; result: FleetResult<T> }> {
  let contexts: string[] = [];
  const source = await readPolicySource(options, reporter, () => {
    contexts = resolveContexts(fleet.selection, options.kube);
  });
  const result = await runInEachContext(contexts, options.kube, fleet, reporter, (client, own) => perCluster(source, client, own), judge);
  return { source, result };
}
