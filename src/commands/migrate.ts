import type { Argv } from 'yargs';
import { PolicyOciError } from '../errors.ts';
import { atomicFrom, atomicRefusal, readinessFailure, waitFrom, withApplyFlags, withAtomicFlag, withWaitFlag, type ApplyFlags, type AtomicFlag, type WaitFlag } from './applyflags.ts';
import { dryRunFrom } from './dryrun.ts';
import { formFrom, refusePushFlags, withFormFlags, withPushFlags, type FormFlags, type PushFlags } from './export.ts';
import { kubeOptionsFrom, withKubeFlags, type KubeFlags } from './kubeflags.ts';
import { storeOptionsFrom } from './options.ts';
import { count } from '../util/plural.ts';

interface MigrateArgs extends PushFlags, KubeFlags, ApplyFlags, AtomicFlag, WaitFlag, FormFlags {
  'from-context': string;
  'to-context': string;
  via?: string;
  engine?: string[];
  kind?: string[];
}

export const command = 'migrate';
export const describe = 'Export the policies of one context and apply them to another, optionally through a registry';

const DETAILS =
  'The export reads every namespace of --from-context; -n retargets namespaced policies in --to-context.\n' +
  '--via REF pushes the policies to REF first and applies what is read back from it (digest-verified), leaving a record; ' +
  'with --oci-layout, --via names an OCI image layout directory instead: --via ./snap:v1 --oci-layout.\n' +
  'A dry run pushes nothing to --via. --dry-run=server: --to-context checks everything and persists nothing; ' +
  '--dry-run=client: --to-context is not contacted at all, what would be applied is listed.\n' +
  '--prune records the source on every policy it applies (the --via repository, else "context:<from-context>") and deletes ' +
  'from --to-context the policies an earlier migrate --prune applied from that source that it no longer holds.\n' +
  'Without --atomic the policies --to-context accepts are applied and the others fail (exit 8). --atomic, as apply --atomic: ' +
  '--to-context first checks the whole set in a server dry run (--prune deletions included) and nothing is applied unless every ' +
  'policy passes; else they are listed, exit 8. With --via the set is pushed before the check, as without.';

export function builder(y: Argv): Argv<MigrateArgs> {
  const withKube = withKubeFlags(withPushFlags(y, 'With --via: parallel uploads'), {
    namespace: 'Retarget every namespaced policy into this namespace of --to-context (the export reads every namespace)',
    context: false,
    selector: 'Migrate only policies with these labels, e.g. team=platform',
  });
  const withApply = withApplyFlags(withFormFlags(withKube), {
    prune: 'Delete from --to-context what an earlier migrate --prune applied from the same source (the --via repository, else --from-context) that the source no longer holds',
    dryRun: 'client: read --from-context and list what would be applied, contact --to-context not at all; server: --to-context checks everything and persists nothing; neither pushes to --via',
  });
  return withAtomicFlag(
    withWaitFlag(withApply),
    'All or nothing: --to-context first checks the whole set in a server dry run (--prune deletions included); nothing is applied unless every policy passes. ' +
      'With --dry-run=server: that check alone; not with --dry-run=client',
  )
    .option('from-context', { type: 'string', demandOption: true, describe: 'Context to export from' })
    .option('to-context', { type: 'string', demandOption: true, describe: 'Context to apply to' })
    .option('via', { type: 'string', describe: 'Push to this reference first and apply what is read back from it (kept as a record)' })
    .option('oci-layout', { type: 'boolean', describe: '--via names an OCI image layout directory (DIR:tag or DIR@digest), not a registry' })
    .option('engine', { type: 'string', array: true, describe: 'Only these engines' })
    .option('kind', { type: 'string', array: true, describe: 'Only these kinds' })
    .usage(`$0 migrate\n\n${describe}.\n${DETAILS}`)
    .example('$0 migrate --from-context old --to-context new', 'Directly, in memory')
    .example('$0 migrate --from-context old --to-context new --via ghcr.io/acme/policies:migration', 'Through a registry (kept as a record)')
    .example('$0 migrate --from-context a --to-context b --via ./snap:v1 --oci-layout', 'Through an OCI image layout on disk: the directory ./snap, tag v1')
    .example('$0 migrate --from-context old --to-context new --atomic', 'All or nothing: apply only if --to-context accepts every policy in a server dry run first')
    .example('$0 migrate --from-context old --to-context new --wait=1m', 'Then wait until --to-context\'s engines report the policies in force')
    .example('$0 migrate --from-context old --to-context new --dry-run=client', 'List what would be applied; --to-context is not contacted')
    .example('$0 migrate --from-context old --to-context new --strip-defaults --api-version=policies.kyverno.io/v1beta1', 'Let --to-context fill in its own defaults; the policies.kyverno.io kinds at v1beta1') as unknown as Argv<MigrateArgs>;
}

export async function handler(args: MigrateArgs): Promise<void> {
  if (args['from-context'] === args['to-context']) throw new PolicyOciError('USAGE', '--from-context and --to-context name the same context');
  if (!args.via) refusePushFlags(args, 'without --via: nothing is pushed');
  const dryRun = dryRunFrom(args, { server: true });
  const atomic = atomicFrom(args, dryRun);
  const wait = waitFrom(args, dryRun);
  const [{ migrate }, { migrateText }, { render }, { reporting }] = await Promise.all([
    import('../core/migrate.ts'),
    import('../output/migrate.ts'),
    import('../output/render.ts'),
    import('../output/reporter.ts'),
  ]);
  const options = {
    from: kubeOptionsFrom({ ...args, namespace: undefined }, args['from-context']),
    to: kubeOptionsFrom(args, args['to-context']),
    selection: { ...(args.engine ? { engines: args.engine } : {}), ...(args.kind ? { kinds: args.kind } : {}), ...(args.selector ? { labelSelector: args.selector } : {}) },
    form: formFrom(args),
    ...(args.via ? { via: { reference: args.via, store: await storeOptionsFrom(args), ...(args.concurrency ? { concurrency: args.concurrency } : {}) } } : {}),
    ...(args.namespace ? { namespace: args.namespace } : {}),
    createNamespace: args['create-namespace'] ?? false,
    dryRun,
    forceConflicts: args['force-conflicts'] ?? false,
    prune: args.prune ?? false,
    ...(atomic ? { atomic: true } : {}),
    ...(wait ? { wait } : {}),
  };
  const summary = await reporting((reporter) => migrate(options, reporter));
  render(args.format, summary, migrateText);
  const refused = atomicRefusal(summary);
  if (refused) throw refused;
  const notReady = summary.counts.failed === 0 ? readinessFailure(summary) : undefined;
  if (notReady) throw notReady;
  if (summary.failed) throw new PolicyOciError('CLUSTER', `${summary.counts.failed} of ${count(summary.results.length, 'object')} failed to apply to ${summary.to}`);
}
