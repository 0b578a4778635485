import type { Argv } from 'yargs';
import { PolicyOciError } from '../errors.ts';
import { kubeOptionsFrom, withKubeFlags, type KubeFlags } from './kubeflags.ts';
import { parseAnnotations, withRegistryFlags, type RegistryFlags } from './options.ts';

interface ExportArgs extends RegistryFlags, KubeFlags {
  ref?: string;
  engine?: string[];
  kind?: string[];
  'output-dir'?: string;
  force?: boolean;
  'dry-run'?: boolean;
  bundle?: boolean;
  annotation?: string[];
}

export const command = 'export [ref]';
export const describe = 'Read the live policies of a cluster and push them (or write them as files)';

export function builder(y: Argv): Argv<ExportArgs> {
  return withKubeFlags(withRegistryFlags(y))
    .positional('ref', { type: 'string', describe: 'Destination, e.g. ghcr.io/acme/policies:prod' })
    .option('engine', { type: 'string', array: true, describe: 'Only these engines (kyverno, kubearmor)' })
    .option('kind', { type: 'string', array: true, describe: 'Only these kinds (ClusterPolicy, kubearmorpolicies, …)' })
    .option('output-dir', { type: 'string', describe: 'Write one YAML file per policy here instead of pushing' })
    .option('force', { type: 'boolean', describe: 'With --output-dir: overwrite existing files' })
    .option('dry-run', { type: 'boolean', describe: 'Show what would be pushed; send nothing' })
    .option('bundle', { type: 'boolean', describe: 'One tar+gzip layer per engine' })
    .option('annotation', { alias: 'a', type: 'string', array: true, describe: 'Manifest annotation key=value' })
    .example('$0 export ghcr.io/acme/policies:prod', 'Every policy of the current context, all namespaces')
    .example('$0 export localhost:5000/p:v1 --context staging --engine kyverno -l team=platform', 'A selection')
    .example('$0 export --output-dir ./live -n team-a', 'Files instead of a push') as unknown as Argv<ExportArgs>;
}

export async function handler(args: ExportArgs): Promise<void> {
  if (!args.ref && !args['output-dir']) throw new PolicyOciError('USAGE', 'export needs a destination REF or --output-dir');
  const [{ readCluster, packLive, writeLiveFiles }, { KubeClient }, { render }] = await Promise.all([
    import('../core/export.ts'),
    import('../kube/client.ts'),
    import('../output/render.ts'),
  ]);
  const client = KubeClient.fromKubeconfig(kubeOptionsFrom(args));
  const live = await readCluster(client, {
    ...(args.engine ? { engines: args.engine } : {}),
    ...(args.kind ? { kinds: args.kind } : {}),
    ...(args.namespace && !args['all-namespaces'] ? { namespace: args.namespace } : {}),
    ...(args.selector ? { labelSelector: args.selector } : {}),
  });
  for (const s of live.skipped) process.stderr.write(`Warning: not exported: ${s.kind}: ${s.reason}\n`);
  const skipped = live.skipped;
  if (args['output-dir']) {
    const files = await writeLiveFiles(live, args['output-dir'], args.force ?? false);
    render(args.format, { context: live.context, directory: args['output-dir'], files, skipped }, (r) => `Exported ${r.files.length} policies from context ${r.context} into ${r.directory}`);
    return;
  }
  const packed = packLive(live, { bundle: args.bundle ?? false, annotations: parseAnnotations(args.annotation) });
  if (args['dry-run']) {
    render(args.format, { context: live.context, reference: args.ref, digest: packed.root.descriptor.digest, policies: live.documents.length, manifests: packed.manifests.map((m) => m.manifest), skipped }, (r) =>
      [`Would push ${r.policies} policies from context ${r.context} to ${r.reference} as ${r.digest}`, ...live.documents.map((d) => `  ${d.object.kind} ${d.object.metadata.namespace ? `${d.object.metadata.namespace}/` : ''}${d.object.metadata.name}`)].join('\n'),
    );
    return;
  }
  const [{ openTarget }, { publish }] = await Promise.all([import('../content/open.ts'), import('../artifact/publish.ts')]);
  const opened = await openTarget(args.ref!, args, { push: true });
  const result = await publish(opened.target, packed, opened.tags, { concurrency: args.concurrency });
  const summary = { ...result, reference: opened.display, context: live.context, policies: live.documents.length, engines: packed.manifests.map((m) => ({ engine: m.engine, digest: m.descriptor.digest, policies: m.policies.length })), skipped };
  render(args.format, summary, (s) =>
    s.unchanged
      ? `unchanged: ${s.reference} already holds the ${s.policies} policies of context ${s.context} (${s.digest})`
      : `Exported ${s.policies} policies (${s.engines.map((e) => `${e.engine}: ${e.policies}`).join(', ')}) from context ${s.context} to ${s.reference}\nDigest: ${s.digest}`,
  );
}
