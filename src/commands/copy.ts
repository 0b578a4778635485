import type { Argv } from 'yargs';
import { PolicyOciError } from '../errors.ts';
import { withReferrersFlags, type ReferrersFlags } from './attach.ts';
import { withRegistryFlags, type RegistryFlags } from './options.ts';

interface CopyArgs extends RegistryFlags, ReferrersFlags {
  src: string;
  dst: string;
  'include-referrers'?: boolean;
  'from-oci-layout'?: boolean;
  'to-oci-layout'?: boolean;
}

export const command = 'copy <src> <dst>';
export const describe = 'Copy an artifact or image between registries and OCI layouts (with --include-referrers: what is attached and signed too)';

export function builder(y: Argv): Argv<CopyArgs> {
  return withReferrersFlags(withRegistryFlags(y))
    .positional('src', { type: 'string', demandOption: true })
    .positional('dst', { type: 'string', demandOption: true, describe: 'Destination; without a tag, the source\'s tag is kept' })
    .option('include-referrers', { alias: 'r', type: 'boolean', describe: 'Copy the referrers (attached policies, signatures) and cosign .sig/.att/.sbom tags, recursively' })
    .option('from-oci-layout', { type: 'boolean', describe: 'SRC is an OCI image layout (DIR:tag or DIR@digest)' })
    .option('to-oci-layout', { type: 'boolean', describe: 'DST is an OCI image layout (DIR[:tag])' })
    .example('$0 copy localhost:5000/app:v1 --to-oci-layout ./airgap:v1 -r', 'Image, its policies and signatures into a layout')
    .example('$0 copy --from-oci-layout ./airgap:v1 registry.internal/app:v1 -r', '…and from the layout into the air-gapped registry') as unknown as Argv<CopyArgs>;
}

export async function handler(args: CopyArgs): Promise<void> {
  if (args['oci-layout']) throw new PolicyOciError('USAGE', 'copy takes --from-oci-layout and/or --to-oci-layout, not --oci-layout');
  const [{ copyArtifact }, { openTarget, parseLayoutReference }, { parseReference }, { render }] = await Promise.all([
    import('../core/copy.ts'),
    import('../content/open.ts'),
    import('../reference/reference.ts'),
    import('../output/render.ts'),
  ]);
  const src = await openTarget(args.src, { ...args, 'oci-layout': args['from-oci-layout'] ?? false }, { push: false });
  const dstGiven = args['to-oci-layout'] ? parseLayoutReference(args.dst) : parseReference(args.dst);
  if (dstGiven.digest) throw new PolicyOciError('USAGE', `copy writes tags; the destination takes no digest: ${args.dst}`);
  const dst = await openTarget(args.dst, { ...args, 'oci-layout': args['to-oci-layout'] ?? false }, { push: true });
  // No tag named: keep the source's (a digest-only source is copied untagged).
  const tags = dstGiven.tags.length > 0 ? dstGiven.tags : src.digest === undefined ? [src.reference] : [];
  const mode = args['referrers-mode'];
  const summary = await copyArtifact(src.target, src.display, src.reference, dst.target, dst.repository, {
    tags,
    includeReferrers: args['include-referrers'] ?? false,
    concurrency: args.concurrency,
    // The mode concerns registries; a layout always uses the tag schema.
    ...(mode && !args['from-oci-layout'] ? { sourceMode: mode } : {}),
    ...(mode && !args['to-oci-layout'] ? { destinationMode: mode } : {}),
  });
  render(args.format, summary, (s) =>
    [
      `Copied ${s.source} to ${s.destination}${s.tags.length ? `:${s.tags.join(',')}` : ''} (${s.digest})`,
      `  ${s.manifests} manifests, ${s.blobsCopied} blobs copied (${s.bytesCopied} bytes), ${s.blobsSkipped} already there`,
      ...(s.referrers.length ? [`  ${s.referrers.length} referrer(s):`, ...s.referrers.map((r) => `    ${r.digest} ${r.tag ? `tag ${r.tag}` : (r.artifactType ?? '')} -> ${r.subject.slice(0, 19)}`)] : []),
    ].join('\n'),
  );
}
