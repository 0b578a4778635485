import type { Argv } from 'yargs';
import { PolicyOciError } from '../errors.ts';
import {
  type ConcurrencyFlag,
  type KeylessFlags,
  type ReferrersFlags,
  type RegistryFlags,
  storeOptionsFrom,
  trustPolicyFrom,
  withConcurrencyFlag,
  withKeylessFlags,
  withReferrersFlags,
  withRegistryFlags,
} from './options.ts';

interface CopyArgs extends RegistryFlags, ConcurrencyFlag, ReferrersFlags, KeylessFlags {
  src: string;
  dst: string;
  'include-referrers'?: boolean;
  'from-oci-layout'?: boolean;
  'to-oci-layout'?: boolean;
  'verify-key'?: string;
}

export const command = 'copy <src> <dst>';
export const describe = 'Copy an artifact or image between registries and OCI layouts (with --include-referrers: what is attached and signed too)';

export function builder(y: Argv): Argv<CopyArgs> {
  return withKeylessFlags(withReferrersFlags(withConcurrencyFlag(withRegistryFlags(y))))
    .positional('src', { type: 'string', demandOption: true })
    .positional('dst', { type: 'string', demandOption: true, describe: 'Destination; without a tag, the source\'s tag is kept' })
    .option('include-referrers', { alias: 'r', type: 'boolean', describe: 'Copy the referrers (attached policies, signatures) and cosign .sig/.att/.sbom tags, recursively' })
    .option('from-oci-layout', { type: 'boolean', describe: 'SRC is an OCI image layout (DIR:tag or DIR@digest)' })
    .option('to-oci-layout', { type: 'boolean', describe: 'DST is an OCI image layout (DIR[:tag])' })
    .option('verify-key', { type: 'string', describe: 'Copy only if SRC is signed with this key (cosign.pub); checked before anything is written' })
    .example('$0 copy localhost:5000/app:v1 --to-oci-layout ./airgap:v1 -r', 'Image, its policies and signatures into a layout')
    .example('$0 copy --from-oci-layout ./airgap:v1 registry.internal/app:v1 -r', '…and from the layout into the air-gapped registry')
    .example('$0 copy localhost:5000/policies:v1 registry.internal/policies:v1 -r --verify-key cosign.pub', 'Only a signed artifact is copied (exit 6, nothing written, otherwise)') as unknown as Argv<CopyArgs>;
}

export async function handler(args: CopyArgs): Promise<void> {
  if (args['oci-layout']) throw new PolicyOciError('USAGE', 'copy takes --from-oci-layout and/or --to-oci-layout, not --oci-layout');
  const trust = await trustPolicyFrom(args, { flag: '--verify-key', path: args['verify-key'] });
  const [{ copyArtifact }, { render }, { reporting }, { copyText }] = await Promise.all([
    import('../core/copy.ts'),
    import('../output/render.ts'),
    import('../output/reporter.ts'),
    import('../output/copy.ts'),
  ]);
  const options = {
    source: args.src,
    sourceStore: await storeOptionsFrom(args, args['from-oci-layout'] ?? false),
    destination: args.dst,
    destinationStore: await storeOptionsFrom(args, args['to-oci-layout'] ?? false),
    includeReferrers: args['include-referrers'] ?? false,
    concurrency: args.concurrency,
    ...(args['referrers-mode'] ? { referrersMode: args['referrers-mode'] } : {}),
    ...(trust ? { trust } : {}),
  };
  const result = await reporting((reporter) => copyArtifact(options, reporter));
  render(args.format, result, copyText);
}
