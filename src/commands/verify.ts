import type { Argv } from 'yargs';
import type { VerifyOptions } from '../core/verify.ts';
import { PolicyOciError } from '../errors.ts';
import { type KeylessFlags, type ReferrersFlags, type RegistryFlags, withKeylessFlags, withReferrersFlags, withRegistryFlags } from './options.ts';

interface VerifyArgs extends RegistryFlags, ReferrersFlags, KeylessFlags {
  ref: string;
  key?: string;
}

export const command = 'verify <ref>';
export const describe = 'Check the signatures of an artifact or image (cosign v2 and v3 formats): with a key, or keyless (identity and issuer)';

export interface TrustFlags extends ReferrersFlags, KeylessFlags {
  'verify-key'?: string;
  'from-referrers'?: boolean;
}

/** pull/apply/diff: `--verify-key`, the keyless flags and `--from-referrers`. */
export function withTrustFlags<T>(y: Argv<T>): Argv<T & TrustFlags> {
  return withKeylessFlags(withReferrersFlags(y))
    .option('verify-key', { type: 'string', describe: 'Refuse unless signed with this key (cosign.pub); checked before anything is written or applied' })
    .option('from-referrers', { type: 'boolean', describe: 'REF is an image: use the policy artifacts attached to it' }) as unknown as Argv<T & TrustFlags>;
}

const DETAILS =
  'Every signature found is checked: cosign v2 simple signing (the sha256-<hex>.sig tag and signature referrers) and Sigstore ' +
  'bundles v0.1-v0.3 attached as referrers (cosign v3\'s default). It passes when at least one satisfies every constraint; ' +
  'exit 6 otherwise, naming the check that failed.';

export function builder(y: Argv): Argv<VerifyArgs> {
  return withKeylessFlags(withReferrersFlags(withRegistryFlags(y)))
    .usage(`$0 verify <ref>\n\n${describe}.\n${DETAILS}`)
    .positional('ref', { type: 'string', demandOption: true })
    .option('key', { type: 'string', describe: 'Public key (cosign.pub, PEM); or keyless: --certificate-identity and --certificate-oidc-issuer' })
    .example('$0 verify localhost:5000/policies:v1 --key cosign.pub', 'Exit 0 when a signature verifies, 6 when none does')
    .example('$0 verify localhost:5000/app:v1 --key cosign.pub --format json', 'Every signature found, with its verdict and signed annotations')
    .epilog(
      'Keyless (signed in CI with an OIDC identity): kubectl policyoci verify REF --certificate-identity ' +
        'https://github.com/acme/policies/.github/workflows/release.yml@refs/heads/main --certificate-oidc-issuer ' +
        'https://token.actions.githubusercontent.com [--trusted-root trusted_root.json]',
    ) as unknown as Argv<VerifyArgs>;
}

export async function handler(args: VerifyArgs): Promise<void> {
  const [{ verifyReference }, { storeOptionsFrom, trustPolicyFrom }, { reporting }, { render }, { verifyText }] = await Promise.all([
    import('../core/verify.ts'),
    import('./options.ts'),
    import('../output/reporter.ts'),
    import('../output/render.ts'),
    import('../output/verify.ts'),
  ]);
  const trust = await trustPolicyFrom(args, { flag: '--key', path: args.key });
  if (!trust?.keyPath && !trust?.keyless) throw new PolicyOciError('USAGE', 'verify needs --key, or keyless: --certificate-identity(-regexp) and --certificate-oidc-issuer(-regexp)');
  const options: VerifyOptions = {
    reference: args.ref,
    store: await storeOptionsFrom(args),
    trust,
    ...(args['referrers-mode'] ? { referrersMode: args['referrers-mode'] } : {}),
  };
  const result = await reporting((reporter) => verifyReference(options, reporter));
  render(args.format, result, verifyText);
}
