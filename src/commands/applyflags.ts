// The flags of server-side apply, shared by apply (and pull --apply), migrate and diff. diff takes
// only those that change what it compares: it never writes, so it has no --dry-run and no
// --create-namespace.
import type { Argv } from 'yargs';
import type { AtomicCheck } from '../core/apply.ts';
import { type DryRun, refuseAtomicClientDryRun } from '../core/dryrun.ts';
import { PolicyOciError } from '../errors.ts';
import type { ReadinessSummary } from '../kube/readiness.ts';
import { count } from '../util/plural.ts';
import { withDryRunFlag, type DryRunFlag } from './dryrun.ts';
import { parseDuration } from './options.ts';

export interface CompareFlags {
  'force-conflicts'?: boolean;
  prune?: boolean;
}

export interface ApplyFlags extends CompareFlags, DryRunFlag {
  'create-namespace'?: boolean;
}

export interface AtomicFlag {
  atomic?: boolean;
}

const FORCE_CONFLICTS = 'Take ownership of fields another manager set (server-side apply --force)';

/** --force-conflicts and --prune, described for the command (what each does there). */
export function withCompareFlags<T>(y: Argv<T>, describe: { prune: string; forceConflicts?: string }): Argv<T & CompareFlags> {
  return y
    .option('force-conflicts', { type: 'boolean', describe: describe.forceConflicts ?? FORCE_CONFLICTS })
    .option('prune', { type: 'boolean', describe: describe.prune }) as unknown as Argv<T & CompareFlags>;
}

export const APPLY_DRY_RUN =
  'client: read and check the artifact, list what would be sent, contact no cluster; server: the API server checks everything and persists nothing';

/** Everything a command that writes policies to a cluster takes. */
export function withApplyFlags<T>(y: Argv<T>, options: { prune: string; dryRun: string }): Argv<T & ApplyFlags> {
  return withDryRunFlag(withCompareFlags(y, { prune: options.prune }), { server: true, describe: options.dryRun }).option('create-namespace', {
    type: 'boolean',
    describe: 'Create missing namespaces of namespaced policies',
  }) as unknown as Argv<T & ApplyFlags>;
}

// --atomic is Helm's word for all-or-nothing (`helm upgrade --atomic`); kubectl has none, and Flux's
// kustomize-controller does the same check (a server dry run of the whole set before applying) with
// no flag. Ours prevents instead of rolling back as Helm does: nothing is applied unless the whole
// set passed the server, so there is nothing to undo.
export const ATOMIC =
  'All or nothing: first a server dry run of the whole set (--prune deletions included); nothing is applied unless every object passes. ' +
  'With --dry-run=server: that check alone, saying whether an --atomic apply would go ahead; not with --dry-run=client';

/** --atomic: apply, pull --apply and migrate. */
export function withAtomicFlag<T>(y: Argv<T>, describe: string = ATOMIC): Argv<T & AtomicFlag> {
  return y.option('atomic', { type: 'boolean', describe }) as unknown as Argv<T & AtomicFlag>;
}

/** Whether --atomic was asked for: refused (exit 2) with a client dry run, which makes no server check. */
export function atomicFrom(args: AtomicFlag, dryRun: DryRun): boolean {
  if (args.atomic) refuseAtomicClientDryRun(dryRun);
  return args.atomic ?? false;
}

/** The error (exit 8) of an --atomic check that refused the set, if it did: nothing was applied. */
export function atomicRefusal(summary: { failed: boolean; atomic?: AtomicCheck }): PolicyOciError | undefined {
  const a = summary.atomic;
  if (!summary.failed || !a || a.applied || a.wouldFail === 0) return undefined;
  return new PolicyOciError('CLUSTER', `--atomic: ${a.wouldFail} of ${count(a.checked, 'object')} would fail (listed above); nothing was applied`);
}

export interface WaitFlag {
  wait?: string;
}

/** A bare --wait: long enough for a controller to pick a policy up, short enough to notice one that never will. */
export const DEFAULT_WAIT = '2m';

export const WAIT =
  `After applying, wait until each engine reports its policies in force, up to TIMEOUT (bare --wait: ${DEFAULT_WAIT}): ` +
  'ValidatingAdmissionPolicy type checking (kube-controller-manager), Kyverno and Gatekeeper status. A policy its engine ' +
  'refuses, or not in force in time, fails the command (exit 8) with the engine\'s message; kinds nobody reports on are ' +
  'said "not reported", not waited for. Not with --dry-run';

/** --wait[=TIMEOUT]: apply, pull --apply, migrate. A bare --wait never takes the next word (cli.ts). */
export function withWaitFlag<T>(y: Argv<T>, describe: string = WAIT): Argv<T & WaitFlag> {
  return y.option('wait', {
    type: 'string',
    describe,
    coerce: (v: unknown) => (v === true || v === '' ? DEFAULT_WAIT : String(v)),
  }) as unknown as Argv<T & WaitFlag>;
}

/** The wait asked for, if any: refused (exit 2) with a dry run, which applies nothing to wait for. */
export function waitFrom(args: WaitFlag, dryRun: DryRun): { timeoutMs: number } | undefined {
  if (args.wait === undefined) return undefined;
  const timeoutMs = parseDuration(args.wait);
  if (!timeoutMs || timeoutMs <= 0) throw new PolicyOciError('USAGE', `--wait takes a timeout above zero (e.g. 30s, 2m), got "${args.wait}"`);
  if (dryRun !== 'none') throw new PolicyOciError('USAGE', `--wait: a --dry-run=${dryRun} applies nothing to wait for`);
  return { timeoutMs };
}

/** The error (exit 8) of a --wait whose policies were not all reported in force. */
export function readinessFailure(summary: { readiness?: ReadinessSummary }): PolicyOciError | undefined {
  const r = summary.readiness;
  if (!r?.failed) return undefined;
  const bad = r.results.filter((x) => x.outcome === 'failed' || x.outcome === 'timed-out');
  const first = bad[0]!;
  const what = `${first.kind} ${first.namespace ? `${first.namespace}/` : ''}${first.name}`;
  const more = bad.length > 1 ? ` (and ${count(bad.length - 1, 'other policy', 'other policies')}, listed above)` : '';
  return new PolicyOciError('CLUSTER', `--wait: ${what} is not in force: ${first.message ?? first.outcome}${more}`);
}
