import type { Argv } from 'yargs';
import type { SignOptions } from '../core/sign.ts';
import { parseAnnotations, type ReferrersFlags, type RegistryFlags, withReferrersFlags, withRegistryFlags } from './options.ts';

interface SignArgs extends RegistryFlags, ReferrersFlags {
  ref: string;
  key: string;
  annotation?: string[];
  referrer: boolean;
  'new-bundle-format': boolean;
}

export const command = 'sign <ref>';
export const describe = 'Sign an artifact or image with a key, as cosign v3 does (a Sigstore bundle referrer; --new-bundle-format=false: cosign v2\'s .sig tag)';

export function builder(y: Argv): Argv<SignArgs> {
  return withReferrersFlags(withRegistryFlags(y))
    .positional('ref', { type: 'string', demandOption: true })
    .option('key', { type: 'string', demandOption: true, describe: 'Private key: cosign.key (password in COSIGN_PASSWORD) or a PEM EC P-256 key' })
    .option('annotation', { alias: 'a', type: 'string', array: true, describe: 'Signed annotation key=value (repeatable): in the in-toto statement\'s subject, or the simple-signing payload' })
    .option('new-bundle-format', {
      type: 'boolean',
      default: true,
      describe: 'Write a Sigstore bundle v0.3 as an OCI 1.1 referrer (cosign v3\'s default); --new-bundle-format=false writes cosign v2\'s simple signing under the sha256-<hex>.sig tag',
    })
    .option('referrer', { type: 'boolean', default: true, describe: 'With --new-bundle-format=false: also store the signature as an OCI 1.1 referrer where the registry has the API (--no-referrer: only the .sig tag)' })
    .example('COSIGN_PASSWORD=… $0 sign localhost:5000/policies:v1 --key cosign.key', 'Sign a policy artifact (a Sigstore bundle referrer)')
    .example('$0 sign localhost:5000/app:v1 --key ec.key -a team=platform --new-bundle-format=false --no-referrer', 'Sign an image in cosign v2\'s format, with a signed annotation, as a .sig tag only')
    .example('$0 verify localhost:5000/policies:v1 --key cosign.pub', 'Check it') as unknown as Argv<SignArgs>;
}

export async function handler(args: SignArgs): Promise<void> {
  const [{ signReference }, { storeOptionsFrom }, { reporting }, { render }, { signText }] = await Promise.all([
    import('../core/sign.ts'),
    import('./options.ts'),
    import('../output/reporter.ts'),
    import('../output/render.ts'),
    import('../output/sign.ts'),
  ]);
  const options: SignOptions = {
    reference: args.ref,
    store: await storeOptionsFrom(args),
    keyPath: args.key,
    format: args['new-bundle-format'] === false ? 'cosign-simplesigning' : 'sigstore-bundle',
    annotations: parseAnnotations(args.annotation),
    referrer: args.referrer,
    ...(args['referrers-mode'] ? { referrersMode: args['referrers-mode'] } : {}),
  };
  const result = await reporting((reporter) => signReference(options, reporter));
  render(args.format, result, signText);
}
