// Which trust policy the options ask for, without loading the Sigstore libraries: pull, apply and
// diff load signing/trust.ts only when there is something to verify.
import type { TrustPolicy } from '../signing/trust.ts';

/** The policy of the options: `trust`, else the key shorthand; undefined when neither was given. */
export function trustPolicyOf(options: { trust?: TrustPolicy; keyPath?: string; verifyKeyPath?: string }): TrustPolicy | undefined {
  if (options.trust && (options.trust.keyPath !== undefined || options.trust.keyless !== undefined)) return options.trust;
  const keyPath = options.keyPath ?? options.verifyKeyPath;
  if (keyPath) return { ...options.trust, keyPath };
  return options.trust?.trustedRootPath ? options.trust : undefined;
}
