import type { Argv } from 'yargs';
import { PolicyOciError } from '../errors.ts';
import { FLEET_EPILOGUE, sourceOptionsFrom, withSourceFlags, type SourceArgs } from './apply.ts';
import { withCompareFlags, type CompareFlags } from './applyflags.ts';
import { fleetFrom, kubeOptionsFrom, withKubeFlags, type FleetFlags, type KubeFlags } from './kubeflags.ts';

interface DiffArgs extends SourceArgs, KubeFlags, FleetFlags, CompareFlags {}

export const command = 'diff [ref]';
export const describe = 'Show what apply would change in the cluster (server-side dry run); exit 1 when it would';

const DETAILS =
  'The artifact is read as apply reads it: with --verify-key (or the keyless --certificate-* flags) only when signed so (exit 6 otherwise), with ' +
  '--from-referrers the policy artifacts attached to REF. Everything is read and checked before the cluster is contacted; ' +
  'diff never writes to it. Exit 0: nothing would change; 1: something would; other codes: an error.';

export function builder(y: Argv): Argv<DiffArgs> {
  return withCompareFlags(withKubeFlags(withSourceFlags(y), { namespace: 'Compare as apply -n would send them: every namespaced policy retargeted into this namespace', fleet: true }), {
    prune: 'Also show what apply --prune would delete',
    forceConflicts: 'Compare as apply --force-conflicts would (without it, fields another manager set are reported as conflicts)',
  })
    .usage(`$0 diff [ref]\n\n${describe}.\n${DETAILS}`)
    .example('$0 diff ghcr.io/acme/policies:v1 --context prod', 'Review before applying')
    .example('$0 diff ghcr.io/acme/policies:v1 --verify-key cosign.pub', 'Only a signed artifact is compared (exit 6 when it is not signed)')
    .example('$0 diff ghcr.io/acme/policies:v1 --prune', 'Also show what --prune would delete')
    .example('$0 diff ghcr.io/acme/policies:v1 --all-contexts --format json', 'Every context: what would change, and what drifted from the applied digest (exit 1 when anything does)')
    .epilogue(FLEET_EPILOGUE) as unknown as Argv<DiffArgs>;
}

export async function handler(args: DiffArgs): Promise<void> {
  const source = await sourceOptionsFrom(args, 'diff');
  const [{ diff }, { diffText }, { render }, { reporting }] = await Promise.all([
    import('../core/diff.ts'),
    import('../output/diff.ts'),
    import('../output/render.ts'),
    import('../output/reporter.ts'),
  ]);
  const options = {
    ...source,
    kube: kubeOptionsFrom(args),
    ...(args.namespace ? { namespace: args.namespace } : {}),
    forceConflicts: args['force-conflicts'] ?? false,
    prune: args.prune ?? false,
  };
  const fleet = fleetFrom(args);
  if (fleet) {
    const [{ diffFleet }, { diffFleetText }, { fleetFailure }] = await Promise.all([import('../core/diff.ts'), import('../output/fleet.ts'), import('../core/fleet.ts')]);
    const result = await reporting((reporter) => diffFleet(options, fleet, reporter));
    render(args.format, result, diffFleetText);
    const failed = fleetFailure(result, 'diff');
    if (failed) throw failed;
    if (result.totals.differ > 0) process.exitCode = 1;
    return;
  }
  const summary = await reporting((reporter) => diff(options, reporter));
  render(args.format, summary, diffText);
  if (summary.errors > 0) throw new PolicyOciError('CLUSTER', `${summary.errors} object(s) could not be compared`);
  // Like `kubectl diff`: 1 means "there are differences", not a failure.
  if (summary.changed > 0) process.exitCode = 1;
}
