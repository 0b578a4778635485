import type { Argv } from 'yargs';
import type { VerifyOptions } from '../core/verify.ts';
import { type ReferrersFlags, type RegistryFlags, withReferrersFlags, withRegistryFlags } from './options.ts';

interface VerifyArgs extends RegistryFlags, ReferrersFlags {
  ref: string;
  key: string;
}

export const command = 'verify <ref>';
export const describe = 'Check that an artifact or image carries a cosign signature made with the key';

export interface TrustFlags extends ReferrersFlags {
  'verify-key'?: string;
  'from-referrers'?: boolean;
}

/** pull/apply/diff: `--verify-key` and `--from-referrers`. */
export function withTrustFlags<T>(y: Argv<T>): Argv<T & TrustFlags> {
  return withReferrersFlags(y)
    .option('verify-key', { type: 'string', describe: 'Refuse unless signed with this key (cosign.pub); checked before anything is written or applied' })
    .option('from-referrers', { type: 'boolean', describe: 'REF is an image: use the policy artifacts attached to it' }) as unknown as Argv<T & TrustFlags>;
}

export function builder(y: Argv): Argv<VerifyArgs> {
  return withReferrersFlags(withRegistryFlags(y))
    .positional('ref', { type: 'string', demandOption: true })
    .option('key', { type: 'string', demandOption: true, describe: 'Public key (cosign.pub, PEM)' })
    .example('$0 verify localhost:5000/policies:v1 --key cosign.pub', 'Exit 0 when a signature verifies, 6 when none does')
    .example('$0 verify localhost:5000/app:v1 --key cosign.pub --format json', 'Every signature found, with its signed annotations') as unknown as Argv<VerifyArgs>;
}

export async function handler(args: VerifyArgs): Promise<void> {
  const [{ verifyReference }, { storeOptionsFrom }, { reporting }, { render }, { verifyText }] = await Promise.all([
    import('../core/verify.ts'),
    import('./options.ts'),
    import('../output/reporter.ts'),
    import('../output/render.ts'),
    import('../output/verify.ts'),
  ]);
  const options: VerifyOptions = {
    reference: args.ref,
    store: await storeOptionsFrom(args),
    keyPath: args.key,
    ...(args['referrers-mode'] ? { referrersMode: args['referrers-mode'] } : {}),
  };
  const result = await reporting((reporter) => verifyReference(options, reporter));
  render(args.format, result, verifyText);
}
