import type { Argv } from 'yargs';
import { PolicyOciError } from '../errors.ts';
import { isServerDryRun, withApplyFlags, type ApplyFlags } from './applyflags.ts';
import { kubeOptionsFrom, withKubeFlags, type KubeFlags } from './kubeflags.ts';
import { withRegistryFlags, type RegistryFlags } from './options.ts';

interface MigrateArgs extends RegistryFlags, KubeFlags, ApplyFlags {
  'from-context': string;
  'to-context': string;
  via?: string;
  engine?: string[];
  kind?: string[];
}

export const command = 'migrate';
export const describe = 'Export the policies of one context and apply them to another, optionally through a registry';

export function builder(y: Argv): Argv<MigrateArgs> {
  return withApplyFlags(withKubeFlags(withRegistryFlags(y)))
    .option('from-context', { type: 'string', demandOption: true, describe: 'Context to export from' })
    .option('to-context', { type: 'string', demandOption: true, describe: 'Context to apply to' })
    .option('via', { type: 'string', describe: 'Push to this reference first and apply what is read back from it' })
    .option('engine', { type: 'string', array: true, describe: 'Only these engines' })
    .option('kind', { type: 'string', array: true, describe: 'Only these kinds' })
    .example('$0 migrate --from-context old --to-context new', 'Directly, in memory')
    .example('$0 migrate --from-context old --to-context new --via ghcr.io/acme/policies:migration', 'Through a registry (kept as a record)')
    .example('$0 migrate --from-context a --to-context b --via --oci-layout ./snap:v1', 'Through an OCI layout on disk') as unknown as Argv<MigrateArgs>;
}

export async function handler(args: MigrateArgs): Promise<void> {
  if (args['from-context'] === args['to-context']) throw new PolicyOciError('USAGE', '--from-context and --to-context name the same context');
  const dryRun = isServerDryRun(args);
  const [{ readCluster, packLive }, { applyObjects, summarise, renderApply }, { KubeClient }, { render }] = await Promise.all([
    import('../core/export.ts'),
    import('../core/apply.ts'),
    import('../kube/client.ts'),
    import('../output/render.ts'),
  ]);
  const from = KubeClient.fromKubeconfig(kubeOptionsFrom({ ...args, namespace: undefined }, args['from-context']));
  const to = KubeClient.fromKubeconfig(kubeOptionsFrom(args, args['to-context']));
  const live = await readCluster(from, { ...(args.engine ? { engines: args.engine } : {}), ...(args.kind ? { kinds: args.kind } : {}), ...(args.selector ? { labelSelector: args.selector } : {}) });
  for (const s of live.skipped) process.stderr.write(`Warning: not exported from ${live.context}: ${s.kind}: ${s.reason}\n`);
  const packed = packLive(live, {});
  let objects = live.documents.map((d) => d.object);
  let via: { reference: string; digest: string; unchanged: boolean } | undefined;
  if (args.via) {
    // Through the registry for real: push, then apply what is read back (digest-verified).
    const [{ openTarget }, { publish }, { readArtifact }] = await Promise.all([import('../content/open.ts'), import('../artifact/publish.ts'), import('../artifact/unpack.ts')]);
    const opened = await openTarget(args.via, args, { push: true });
    const pushed = await publish(opened.target, packed, opened.tags, { concurrency: args.concurrency });
    const read = await readArtifact(opened.target, pushed.digest);
    objects = read.policies.map((p) => p.object);
    via = { reference: opened.display, digest: pushed.digest, unchanged: pushed.unchanged };
  }
  const results = await applyObjects(to, objects, {
    ...(args.namespace ? { namespace: args.namespace } : {}),
    createNamespace: args['create-namespace'] ?? false,
    dryRun,
    forceConflicts: args['force-conflicts'] ?? false,
  });
  const counts = summarise(results);
  const summary = {
    from: live.context,
    to: to.contextName,
    exported: live.documents.length,
    skipped: live.skipped,
    ...(via ? { via } : {}),
    reference: via?.reference ?? '(in memory)',
    digest: via?.digest ?? packed.root.descriptor.digest,
    context: to.contextName,
    server: to.server,
    dryRun,
    results,
    counts,
    failed: counts.failed > 0,
  };
  render(args.format, summary, (s) => [`Exported ${s.exported} policies from ${s.from}${s.via ? ` through ${s.via.reference} (${s.via.digest})` : ''}`, renderApply(s)].join('\n'));
  if (summary.failed) throw new PolicyOciError('CLUSTER', `${counts.failed} of ${results.length} object(s) failed to apply to ${to.contextName}`);
}
