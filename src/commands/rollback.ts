import type { Argv } from 'yargs';
import { PolicyOciError } from '../errors.ts';
import { count } from '../util/plural.ts';
import { readinessFailure, waitFrom, withWaitFlag, type WaitFlag } from './applyflags.ts';
import { withDryRunFlag, dryRunFrom, type DryRunFlag } from './dryrun.ts';
import { fleetFrom, kubeOptionsFrom, withKubeFlags, type FleetFlags, type KubeFlags } from './kubeflags.ts';
import { limitsFrom, withLimitFlags, type LimitFlags } from './limits.ts';
import { storeOptionsFrom, trustPolicyFrom, withConcurrencyFlag, withKeylessFlags, withRegistryFlags, type ConcurrencyFlag, type KeylessFlags, type RegistryFlags } from './options.ts';

interface RollbackArgs extends RegistryFlags, ConcurrencyFlag, LimitFlags, KeylessFlags, KubeFlags, FleetFlags, DryRunFlag, WaitFlag {
  repository?: string;
  to?: string;
  'verify-key'?: string;
  'force-conflicts'?: boolean;
}

export const command = 'rollback [repository]';
export const describe = 'Put the policies a repository applied to a cluster back to the version before the last apply (or --to a digest or tag), with prune';

const DETAILS =
  'The version before comes from the objects themselves: every object apply writes records the artifact digest it came from ' +
  '(policyoci.dev/source-digest) and the one it carried before the apply that changed it (policyoci.dev/previous-digest). ' +
  'All the objects the last apply wrote must record the same previous digest, else rollback lists what it found and asks for --to. ' +
  'That artifact is read from the registry by digest (it must still be there), checked like apply checks it (--verify-key, keyless flags), ' +
  'and applied with prune of everything else the repository applied: what the last apply added is deleted, what it changed or ' +
  'removed comes back. Running rollback twice goes back and forth between the two versions. Several contexts ' +
  '(--context a,b, a pattern, --all-contexts): each is rolled back on its own, to the version before its own last apply; ' +
  'exit 9 when one failed (the others are done).';

export function builder(y: Argv): Argv<RollbackArgs> {
  const withKube = withKubeFlags(withKeylessFlags(withLimitFlags(withConcurrencyFlag(withRegistryFlags(y)))), {
    namespace: 'As apply -n had it: namespaced policies go to this namespace, and prune looks only there',
    fleet: true,
  });
  return withDryRunFlag(withWaitFlag(withKube), { server: true, describe: 'server: the API server checks the rollback and persists nothing (client is refused: the version before is read from the cluster)' })
    .positional('repository', { type: 'string', describe: 'Repository, without tag or digest (with --oci-layout: the layout directory)' })
    .option('to', { type: 'string', describe: 'Roll back to this digest (sha256:…) or tag of the repository instead of the version before' })
    .option('verify-key', { type: 'string', describe: 'Refuse unless the artifact rolled back to is signed with this key (cosign.pub)' })
    .option('force-conflicts', { type: 'boolean', describe: 'Take back fields another manager changed since (server-side apply --force): a hand edit is what a rollback often undoes' })
    .usage(`$0 rollback [repository]\n\n${describe}.\n${DETAILS}`)
    .example('$0 rollback ghcr.io/acme/policies --to v1 --context prod --wait', 'To what tag v1 names now (what v1 does not hold is pruned), then wait until its engines report it in force')
    .example('$0 rollback ghcr.io/acme/policies --to sha256:… --dry-run=server', 'Let the server check a rollback to one digest; nothing changes')
    .example("$0 rollback ghcr.io/acme/policies --to v1 --context 'prod-*'", 'In every context whose name matches, one table of what changed where')
    .example('$0 rollback ghcr.io/acme/policies --to v1 --verify-key cosign.pub', 'Only if that version is signed with the key (exit 6, cluster untouched, otherwise)') as unknown as Argv<RollbackArgs>;
}

export async function handler(args: RollbackArgs): Promise<void> {
  if (!args.repository) throw new PolicyOciError('USAGE', 'rollback needs a repository (e.g. ghcr.io/acme/policies)');
  const dryRun = dryRunFrom(args, { server: true });
  if (dryRun === 'client') throw new PolicyOciError('USAGE', '--dry-run=client: rollback reads the version before from the cluster; use --dry-run=server');
  const wait = waitFrom(args, dryRun);
  const trust = await trustPolicyFrom(args, { flag: '--verify-key', path: args['verify-key'] });
  const [{ rollback }, { rollbackText }, { render }, { reporting }] = await Promise.all([
    import('../core/rollback.ts'),
    import('../output/rollback.ts'),
    import('../output/render.ts'),
    import('../output/reporter.ts'),
  ]);
  const options = {
    repository: args.repository,
    ...(args.to ? { to: args.to } : {}),
    store: await storeOptionsFrom(args),
    ...(trust ? { trust } : {}),
    limits: limitsFrom(args),
    concurrency: args.concurrency,
    kube: kubeOptionsFrom(args),
    ...(args.namespace ? { namespace: args.namespace } : {}),
    dryRun,
    forceConflicts: args['force-conflicts'] ?? false,
    ...(wait ? { wait } : {}),
  };
  const fleet = fleetFrom(args);
  if (fleet) {
    const [{ rollbackFleet }, { rollbackFleetText }, { fleetFailure }] = await Promise.all([import('../core/rollback.ts'), import('../output/rollback.ts'), import('../core/fleet.ts')]);
    const result = await reporting((reporter) => rollbackFleet(options, fleet, reporter));
    render(args.format, result, rollbackFleetText);
    const failed = fleetFailure(result, 'rollback');
    if (failed) throw failed;
    return;
  }
  const summary = await reporting((reporter) => rollback(options, reporter));
  render(args.format, summary, rollbackText);
  const notReady = summary.counts.failed === 0 ? readinessFailure(summary) : undefined;
  if (notReady) throw notReady;
  if (summary.failed) {
    throw new PolicyOciError('CLUSTER', `rollback: ${summary.counts.failed} of ${count(summary.results.length, 'object')} failed; the others are as listed above`);
  }
}
