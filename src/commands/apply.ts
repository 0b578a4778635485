import type { Argv } from 'yargs';
import { PolicyOciError } from '../errors.ts';
import { isServerDryRun, withApplyFlags, type ApplyFlags } from './applyflags.ts';
import { kubeOptionsFrom, withKubeFlags, type KubeFlags } from './kubeflags.ts';
import { limitsFrom, withLimitFlags, type LimitFlags } from './limits.ts';
import { withRegistryFlags, type RegistryFlags } from './options.ts';
import { withTrustFlags, type TrustFlags } from './verify.ts';

export interface ApplyArgs extends RegistryFlags, LimitFlags, KubeFlags, ApplyFlags, TrustFlags {
  ref?: string;
  image?: string;
  engine?: string[];
}

export const command = 'apply [ref]';
export const describe = 'Apply the policies of an artifact to the current cluster (server-side apply)';

export function applyBuilder<T>(y: Argv<T>): Argv<T & ApplyArgs> {
  return withTrustFlags(withApplyFlags(withKubeFlags(withLimitFlags(withRegistryFlags(y)))))
    .positional('ref', { type: 'string', describe: 'Artifact reference' })
    .option('image', { alias: 'i', type: 'string', describe: 'Artifact reference (-i form)' })
    .option('engine', { type: 'string', array: true, describe: 'Only these engines (kyverno, kubearmor)' }) as unknown as Argv<T & ApplyArgs>;
}

export function builder(y: Argv): Argv<ApplyArgs> {
  return applyBuilder(y)
    .example('$0 apply ghcr.io/acme/policies:v1', 'Apply to the current context')
    .example('$0 apply ghcr.io/acme/policies:v1 --context prod --dry-run=server', 'Let the server check it, change nothing')
    .example('$0 apply ghcr.io/acme/policies:v1 -n team-a --create-namespace --prune', 'Retarget namespaced policies, remove ones dropped from the artifact');
}

export async function applyFromArgs(args: ApplyArgs): Promise<void> {
  const ref = args.image ?? args.ref;
  if (!ref) throw new PolicyOciError('USAGE', 'apply needs a reference (REF or -i REF)');
  const dryRun = isServerDryRun(args);
  const [{ applyArtifact, renderApply }, { openTarget }, { KubeClient }, { render }] = await Promise.all([
    import('../core/apply.ts'),
    import('../content/open.ts'),
    import('../kube/client.ts'),
    import('../output/render.ts'),
  ]);
  const opened = await openTarget(ref, args, { push: false });
  // --verify-key / --from-referrers: decided (signatures checked) before anything is applied.
  const selected = args['verify-key'] || args['from-referrers'] ? await (await import('./pull.ts')).selectFromArgs(opened, args) : undefined;
  const client = KubeClient.fromKubeconfig(kubeOptionsFrom(args));
  const applyOptions = {
    ...(args.namespace ? { namespace: args.namespace } : {}),
    createNamespace: args['create-namespace'] ?? false,
    dryRun,
    forceConflicts: args['force-conflicts'] ?? false,
    ...(args.prune ? { pruneRepository: opened.repository } : {}),
    limits: limitsFrom(args),
    engines: args.engine ?? [],
  };
  const summary = selected
    ? await (await import('../core/attach.ts')).applySelected(opened.target, opened.display, selected, client, applyOptions)
    : await applyArtifact(opened.target, opened.display, opened.reference, client, applyOptions);
  render(args.format, summary, renderApply);
  if (summary.failed) {
    throw new PolicyOciError('CLUSTER', `${summary.counts.failed} of ${summary.results.length} object(s) failed; the others are as listed above`);
  }
}

export const handler = applyFromArgs;
