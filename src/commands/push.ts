import type { Argv } from 'yargs';
import { PolicyOciError } from '../errors.ts';
import { parseAnnotations, readStdin, STDIN_MARKER, withRegistryFlags, type RegistryFlags } from './options.ts';

interface PushArgs extends RegistryFlags {
  ref?: string;
  paths?: string[];
  image?: string;
  policy?: string[];
  bundle?: boolean;
  annotation?: string[];
  'skip-validation'?: boolean;
  'dry-run'?: boolean;
}

export const command = 'push [ref] [paths..]';
export const describe = 'Validate policy files and push them to an OCI registry or layout';

export function builder(y: Argv): Argv<PushArgs> {
  return withRegistryFlags(y)
    .positional('ref', { type: 'string', describe: 'Destination, e.g. ghcr.io/acme/policies:v1,latest' })
    .positional('paths', { type: 'string', array: true, describe: 'Files or directories (recursive); - reads stdin' })
    .option('image', { alias: 'i', type: 'string', describe: 'Destination (the proposals\' -i form)' })
    .option('policy', { alias: 'p', type: 'string', array: true, describe: 'Policy file or directory (repeatable)' })
    .option('bundle', { type: 'boolean', describe: 'One tar+gzip layer per engine instead of one layer per policy' })
    .option('annotation', { alias: 'a', type: 'string', array: true, describe: 'Manifest annotation key=value (repeatable)' })
    .option('skip-validation', { type: 'boolean', describe: 'Do not check policies against their CRD schemas' })
    .option('dry-run', { type: 'boolean', describe: 'Print the manifest that would be pushed; send nothing' })
    .example('$0 push localhost:5000/policies:v1 ./policies', 'Push a directory of Kyverno/KubeArmor policies')
    .example('$0 push -i ghcr.io/acme/policies:v1,latest -p a.yaml -p b.yaml', 'The proposals\' form, with two tags')
    .example('$0 push --oci-layout ./layout:v1 ./policies', 'Push into an OCI image layout directory')
    .example('cat p.yaml | $0 push localhost:5000/p:v1 -', 'Read policies from stdin') as unknown as Argv<PushArgs>;
}

export async function handler(args: PushArgs): Promise<void> {
  let ref = args.image;
  let paths = [...(args.policy ?? [])];
  if (ref === undefined) {
    ref = args.ref;
    paths.push(...(args.paths ?? []));
  } else if (args.ref !== undefined) {
    paths = [args.ref, ...(args.paths ?? []), ...paths];
  }
  paths = paths.map((p) => (p === STDIN_MARKER ? '-' : p));
  if (!ref) throw new PolicyOciError('USAGE', 'push needs a destination reference (REF or -i REF)');
  if (paths.length === 0) throw new PolicyOciError('USAGE', 'push needs at least one file or directory (or - for stdin)');
  const [{ preparePush, pushPrepared }, { openTarget }, { render }, { startProgress }] = await Promise.all([
    import('../core/push.ts'),
    import('../content/open.ts'),
    import('../output/render.ts'),
    import('../output/progress.ts'),
  ]);
  const prepared = await preparePush({
    paths,
    skipValidation: args['skip-validation'] ?? false,
    bundle: args.bundle ?? false,
    annotations: parseAnnotations(args.annotation),
    readStdin,
  });
  for (const w of prepared.warnings) process.stderr.write(`Warning: ${w}\n`);
  if (args['dry-run']) {
    const root = prepared.packed.root;
    render(args.format, { reference: ref, digest: root.descriptor.digest, manifest: JSON.parse(root.content.toString('utf8')) as unknown, manifests: prepared.packed.manifests.map((m) => m.manifest) }, (r) =>
      [`Would push ${prepared.documents.length} policies to ${ref} as ${r.digest}`, JSON.stringify(r.manifests.length === 1 ? r.manifests[0] : r.manifest, null, 2)].join('\n'),
    );
    return;
  }
  const opened = await openTarget(ref, args, { push: true });
  const progress = await startProgress(`Pushing ${prepared.documents.length} policies to ${opened.display}`);
  try {
    const summary = await pushPrepared(opened.target, opened.display, prepared, opened.tags, args.concurrency, (done, total) =>
      progress.update(`Pushing blobs to ${opened.display}: ${done}/${total}`),
    );
    progress.stop();
    render(args.format, summary, (s) =>
      s.unchanged
        ? `unchanged: ${s.reference} already points at ${s.digest} (${s.policies} policies)`
        : `Pushed ${s.policies} policies (${s.engines.map((e) => `${e.engine}: ${e.policies}`).join(', ')}) to ${s.reference}\n` +
          `Uploaded ${s.blobsUploaded} of ${s.blobsTotal} blobs (${s.bytesUploaded} bytes)\nDigest: ${s.digest}`,
    );
  } finally {
    progress.stop();
  }
}
