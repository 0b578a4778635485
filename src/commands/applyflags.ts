// The flags of server-side apply, shared by apply (and pull --apply), migrate and diff. diff takes
// only those that change what it compares: it never writes, so it has no --dry-run and no
// --create-namespace.
import type { Argv } from 'yargs';
import type { AtomicCheck } from '../core/apply.ts';
import { type DryRun, refuseAtomicClientDryRun } from '../core/dryrun.ts';
import { PolicyOciError } from '../errors.ts';
import { count } from '../util/plural.ts';
import { withDryRunFlag, type DryRunFlag } from './dryrun.ts';

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
