import type { Argv } from 'yargs';
import { PolicyOciError } from '../errors.ts';
import { type ConcurrencyFlag, parseAnnotations, readStdin, type ReferrersFlags, type RegistryFlags, STDIN_MARKER, storeOptionsFrom, withConcurrencyFlag, withReferrersFlags, withRegistryFlags } from './options.ts';


interface AttachArgs extends RegistryFlags, ConcurrencyFlag, ReferrersFlags {
  image: string;
  paths?: string[];
  bundle?: boolean;
  annotation?: string[];
  'skip-validation'?: boolean;
  'sign-key'?: string;
  'new-bundle-format'?: boolean;
}

export const command = 'attach <image> [paths..]';
export const describe = 'Attach policies to an image: push them as artifacts whose subject is the image';

export function builder(y: Argv): Argv<AttachArgs> {
  return withReferrersFlags(withConcurrencyFlag(withRegistryFlags(y)))
    .positional('image', { type: 'string', demandOption: true, describe: 'The image (tag or digest) the policies protect' })
    .positional('paths', { type: 'string', array: true, describe: 'Policy files or directories; - reads stdin' })
    .option('bundle', { type: 'boolean', describe: 'One tar+gzip layer per engine instead of one layer per policy' })
    .option('annotation', { alias: 'a', type: 'string', array: true, describe: 'Manifest annotation key=value (org.opencontainers.image.created= for none)' })
    .option('skip-validation', { type: 'boolean', describe: 'Do not check policies against their CRD schemas' })
    .option('sign-key', { type: 'string', describe: 'Also sign each attached artifact with this key (cosign.key or PEM; password in COSIGN_PASSWORD)' })
    .option('new-bundle-format', {
      type: 'boolean',
      describe: 'With --sign-key, as sign: a Sigstore bundle referrer (default true); --new-bundle-format=false signs in cosign v2\'s format (sha256-<hex>.sig)',
    })
    .example('$0 attach localhost:5000/app:v1 ./policies', 'Attach the policies to the image app:v1')
    .example('COSIGN_PASSWORD=… $0 attach localhost:5000/app:v1 ./policies --sign-key cosign.key', 'Attach and sign them (Sigstore bundles)')
    .example('COSIGN_PASSWORD=… $0 attach localhost:5000/app:v1 ./policies --sign-key cosign.key --new-bundle-format=false', 'Attach and sign them in cosign v2\'s format')
    .example('$0 discover localhost:5000/app:v1', 'See what is attached') as unknown as Argv<AttachArgs>;
}

export async function handler(args: AttachArgs): Promise<void> {
  const paths = (args.paths ?? []).map((p) => (p === STDIN_MARKER ? '-' : p));
  if (paths.length === 0) throw new PolicyOciError('USAGE', 'attach needs at least one file or directory (or - for stdin)');
  const [{ attachPolicies }, { render }, { reporting }, { attachText }] = await Promise.all([
    import('../core/attach.ts'),
    import('../output/render.ts'),
    import('../output/reporter.ts'),
    import('../output/attach.ts'),
  ]);
  const options = {
    reference: args.image,
    store: await storeOptionsFrom(args),
    paths,
    readStdin,
    bundle: args.bundle ?? false,
    annotations: parseAnnotations(args.annotation),
    skipValidation: args['skip-validation'] ?? false,
    concurrency: args.concurrency,
    ...(args['sign-key'] ? { signKeyPath: args['sign-key'] } : {}),
    ...(args['new-bundle-format'] !== undefined ? { signFormat: args['new-bundle-format'] ? ('sigstore-bundle' as const) : ('cosign-simplesigning' as const) } : {}),
    ...(args['referrers-mode'] ? { referrersMode: args['referrers-mode'] } : {}),
  };
  const result = await reporting((reporter) => attachPolicies(options, reporter));
  render(args.format, result, attachText);
}
