import type { Argv } from 'yargs';
import { PolicyOciError } from '../errors.ts';
import { APPLY_DRY_RUN, atomicFrom, atomicRefusal, readinessFailure, waitFrom, withApplyFlags, withAtomicFlag, withWaitFlag, type ApplyFlags, type AtomicFlag, type WaitFlag } from './applyflags.ts';
import { dryRunFrom } from './dryrun.ts';
import { fleetFrom, kubeOptionsFrom, withKubeFlags, type FleetFlags, type KubeFlags } from './kubeflags.ts';
import { limitsFrom, withLimitFlags, type LimitFlags } from './limits.ts';
import { storeOptionsFrom, trustPolicyFrom, withConcurrencyFlag, withRegistryFlags, type ConcurrencyFlag, type RegistryFlags } from './options.ts';
import { withTrustFlags, type TrustFlags } from './verify.ts';
import { count } from '../util/plural.ts';

export interface SourceArgs extends RegistryFlags, ConcurrencyFlag, LimitFlags, TrustFlags {
  ref?: string;
  image?: string;
  engine?: string[];
}

export interface ApplyArgs extends SourceArgs, KubeFlags, FleetFlags, ApplyFlags, AtomicFlag, WaitFlag {}

export const command = 'apply [ref]';
export const describe = 'Apply the policies of an artifact to the current cluster (server-side apply)';

const DETAILS =
  'Everything is read and checked (signatures with --verify-key or the keyless --certificate-* flags) before the cluster is contacted.\n' +
  '--dry-run=server: the API server checks everything and persists nothing.\n' +
  '--dry-run=client: the artifact is read and checked and what would be sent is listed (policy kinds of known engines only, ' +
  'retargeted by -n, marked for --prune), each as "would be applied". No cluster is contacted (the kubeconfig is only read, ' +
  'for the context\'s name and namespace), so whether a policy would be created or changed, whether its kind is served and ' +
  'what --prune would delete are not known.\n' +
  'Without --atomic the objects that pass are applied and the others fail (exit 8). --atomic: the whole set is first ' +
  'applied as a server dry run (--prune deletions included) and nothing is applied unless every object passes; when one ' +
  'would fail, they are listed, nothing is applied, exit 8. Objects of a namespace --create-namespace would create cannot ' +
  'be checked (reported), and the cluster can change between check and apply. --atomic --dry-run=server is that check alone.';

/** What every command over several contexts says about them (apply, pull --apply, diff, status). */
export const FLEET_EPILOGUE =
  'Several contexts (--context a,b, a glob pattern such as \'prod-*\', or --all-contexts): the artifact is read and checked once, then ' +
  'each context is done as one --context would do it, --parallel at once (default 4); one failing never stops or changes the others ' +
  '(--fail-fast: none is started after a failure). The output is one table, context × created/configured/unchanged/pruned/failed/drifted ' +
  '(--format json: the same, per context). Exit codes with several contexts: 0 every context ok; 1 (diff, status) every context ok and ' +
  'something differs or drifted; 9 one or more contexts failed or were skipped (the others were done); 2 a usage error before any context.';

const RETARGET = 'Retarget every namespaced policy into this namespace (default: its own, else the context\'s)';

/** The artifact a command reads its policies from: REF, the registry, limit and trust flags. */
export function withSourceFlags<T>(y: Argv<T>): Argv<T & SourceArgs> {
  return withTrustFlags(withLimitFlags(withConcurrencyFlag(withRegistryFlags(y))))
    .positional('ref', { type: 'string', describe: 'Artifact reference' })
    .option('image', { alias: 'i', type: 'string', describe: 'Artifact reference (-i form)' })
    .option('engine', { type: 'string', array: true, describe: 'Only these engines (kyverno, kubearmor, kubernetes, gatekeeper)' }) as unknown as Argv<T & SourceArgs>;
}

export function applyBuilder<T>(y: Argv<T>): Argv<T & ApplyArgs> {
  return withWaitFlag(
    withAtomicFlag(
      withApplyFlags(withKubeFlags(withSourceFlags(y), { namespace: RETARGET, fleet: true }), {
        prune: 'Delete policies applied earlier from the same repository that are no longer in the artifact',
        dryRun: APPLY_DRY_RUN,
      }),
    ),
  ) as unknown as Argv<T & ApplyArgs>;
}

export function builder(y: Argv): Argv<ApplyArgs> {
  return applyBuilder(y)
    .usage(`$0 apply [ref]\n\n${describe}.\n${DETAILS}`)
    .example('$0 apply ghcr.io/acme/policies:v1', 'Apply to the current context')
    .example('$0 apply ghcr.io/acme/policies:v1 --context prod --dry-run=server', 'Let the server check it, change nothing')
    .example('$0 apply ghcr.io/acme/policies:v1 --dry-run=client', 'List what would be applied; no cluster is contacted')
    .example('$0 apply ghcr.io/acme/policies:v1 -n team-a --create-namespace --prune', 'Retarget namespaced policies, remove ones dropped from the artifact')
    .example('$0 apply ghcr.io/acme/policies:v1 --atomic --prune', 'All or nothing: apply (and prune) only if the server accepts every object in a dry run first')
    .example('$0 apply ghcr.io/acme/policies:v1 --wait=90s', 'Then wait until each engine reports its policies in force (exit 8 with the engine\'s message otherwise)')
    .example('$0 apply ghcr.io/acme/policies:v1 --verify-key cosign.pub', 'Only if a signature (cosign v2 or v3 format) verifies with the key; exit 6, cluster untouched, otherwise')
    .example("$0 apply ghcr.io/acme/policies:v1 --context 'prod-*' --parallel 2", 'Every context whose name matches, two at a time; a summary table; exit 9 when one failed (the others are applied)')
    .example('$0 apply ghcr.io/acme/policies:v1 --context staging --context prod --parallel 1 --fail-fast', 'staging first (--context a --context b is a,b); prod is not started if staging fails')
    .epilogue(FLEET_EPILOGUE);
}

/** The policy source of the arguments: what apply, pull --apply and diff read. */
export async function sourceOptionsFrom(args: SourceArgs, verb: string): Promise<import('../core/source.ts').SourceOptions> {
  const reference = args.image ?? args.ref;
  if (!reference) throw new PolicyOciError('USAGE', `${verb} needs a reference (REF or -i REF)`);
  const trust = await trustPolicyFrom(args, { flag: '--verify-key', path: args['verify-key'] });
  return {
    reference,
    store: await storeOptionsFrom(args),
    ...(trust ? { trust } : {}),
    ...(args['from-referrers'] ? { fromReferrers: true } : {}),
    ...(args['referrers-mode'] ? { referrersMode: args['referrers-mode'] } : {}),
    limits: limitsFrom(args),
    concurrency: args.concurrency,
    engines: args.engine ?? [],
  };
}

/** apply, and pull --apply. */
export async function applyFromArgs(args: ApplyArgs): Promise<void> {
  const dryRun = dryRunFrom(args, { server: true });
  const atomic = atomicFrom(args, dryRun);
  const wait = waitFrom(args, dryRun);
  const source = await sourceOptionsFrom(args, 'apply');
  const [{ applyArtifact }, { applyText }, { render }, { reporting }] = await Promise.all([
    import('../core/apply.ts'),
    import('../output/apply.ts'),
    import('../output/render.ts'),
    import('../output/reporter.ts'),
  ]);
  const options = {
    ...source,
    kube: kubeOptionsFrom(args),
    ...(args.namespace ? { namespace: args.namespace } : {}),
    createNamespace: args['create-namespace'] ?? false,
    dryRun,
    forceConflicts: args['force-conflicts'] ?? false,
    prune: args.prune ?? false,
    ...(atomic ? { atomic: true } : {}),
    ...(wait ? { wait } : {}),
  };
  const fleet = fleetFrom(args);
  if (fleet) {
    const [{ applyFleet, fleetFailure }, { applyFleetText }] = await Promise.all([import('../core/apply.ts'), import('../output/fleet.ts')]);
    const result = await reporting((reporter) => applyFleet(options, fleet, reporter));
    render(args.format, result, applyFleetText);
    const failed = fleetFailure(result, 'apply');
    if (failed) throw failed;
    return;
  }
  const summary = await reporting((reporter) => applyArtifact(options, reporter));
  render(args.format, summary, applyText);
  const refused = atomicRefusal(summary);
  if (refused) throw refused;
  const notReady = summary.counts.failed === 0 ? readinessFailure(summary) : undefined;
  if (notReady) throw notReady;
  if (summary.failed) {
    throw new PolicyOciError('CLUSTER', `${summary.counts.failed} of ${count(summary.results.length, 'object')} failed; the others are as listed above`);
  }
}

export const handler = applyFromArgs;
