// verify: every signature of the manifest (cosign v2 simple signing, Sigstore bundles) is checked
// against the trust policy (a public key, or a keyless identity and issuer); it passes when at
// least one satisfies every constraint. pull/apply/diff/copy call requireTrust (through
// core/source.ts and core/copy.ts) before writing, applying, comparing or copying anything.
import { openTarget, type StoreOptions } from '../content/open.ts';
import type { Target } from '../content/types.ts';
import { PolicyOciError } from '../errors.ts';
import { ReferrersClient, type ReferrersMode } from '../referrers/client.ts';
import { atDigest } from '../referrers/display.ts';
import { describePolicy, type SignatureVerdict, type TrustCheck, type TrustedRootUsed, type TrustPolicy, TrustVerifier } from '../signing/trust.ts';
import { silentReporter, type Reporter } from './reporter.ts';

export interface VerifyOptions {
  reference: string;
  store: StoreOptions;
  /** What a signature must satisfy: a key, or a keyless identity and issuer (and the trusted root). */
  trust?: TrustPolicy;
  /** Shorthand for `trust: { keyPath }` (cosign.pub, PEM). */
  keyPath?: string;
  referrersMode?: ReferrersMode;
}

export interface VerifyResult {
  reference: string;
  digest: string;
  /** The policy in words ("the key cosign.pub", "identity … from issuer …"). */
  policy: string;
  /** Signatures that satisfy the policy. */
  verified: number;
  /** Every signature found (`.sig` tag, signature referrers, Sigstore bundles), with its verdict. */
  signatures: SignatureVerdict[];
  /** The Sigstore trusted root used, when a signature needed one. */
  trustedRoot?: TrustedRootUsed;
}

import { trustPolicyOf } from './trust-policy.ts';

export { trustPolicyOf };

/** Throws UNSAFE_CONTENT (exit 6) unless a signature of `digest` satisfies the verifier's policy. */
export async function requireTrust(target: Target, display: string, digest: string, verifier: TrustVerifier, referrers?: ReferrersClient): Promise<TrustCheck> {
  const checked = await verifier.check(target, digest, referrers ?? new ReferrersClient(target));
  if (checked.verified > 0) return checked;
  const where = atDigest(display, digest);
  if (checked.verdicts.length === 0) throw new PolicyOciError('UNSAFE_CONTENT', `${where} is not signed (no cosign signature or Sigstore bundle found); refused`);
  const failed = [...new Set(checked.verdicts.map((v) => v.failedCheck ?? 'invalid'))].join(', ');
  const first = checked.verdicts[0]!;
  const why = checked.verdicts.length === 1 ? `; ${first.failedCheck ?? 'invalid'}: ${first.reason ?? 'invalid'}` : `; failed checks: ${failed}`;
  const verb = verifier.policy.keyless ? `satisfies ${describePolicy(verifier.policy)}` : 'verifies with the key';
  throw new PolicyOciError('UNSAFE_CONTENT', `no signature of ${where} ${verb} (${checked.verdicts.length} checked${why}); refused`, {
    details: [
      ...checked.verdicts.map((v) => `${verdictName(v)} ${v.source} ${v.manifest.slice(0, 19)}: ${v.failedCheck ?? 'invalid'}: ${v.reason ?? 'invalid'}`),
      ...defaultRootHint(verifier.trustedRoot, checked.verdicts),
    ],
  });
}

/** Checks whose failure may only mean that the signature comes from another Sigstore than the root used. */
const ROOT_CHECKS = new Set(['timestamps', 'certificate', 'tlog', 'trusted-root']);

/**
 * When the default (public-good) root was used and a check against a root failed, one line saying
 * so: a bundle from a private Sigstore fails there for want of --trusted-root, and nothing else
 * would tell the user which root was tried.
 */
function defaultRootHint(root: TrustedRootUsed | undefined, verdicts: SignatureVerdict[]): string[] {
  if (!root || root.source === 'file' || !verdicts.some((v) => ROOT_CHECKS.has(v.failedCheck ?? ''))) return [];
  const which = root.source === 'tuf' ? `from ${root.detail}` : 'the copy shipped with the executable';
  return [`checked against Sigstore's public-good trusted root (${which}); a signature made with another Sigstore (a private deployment) needs its --trusted-root FILE`];
}

/** Says so when the public-good root could not be fetched and the shipped copy was used. */
export function warnShippedRoot(verifier: TrustVerifier, reporter: Reporter): void {
  if (verifier.trustedRoot?.source === 'shipped') reporter.warn(`using Sigstore's public-good trusted root as shipped with the executable (not refreshed): ${verifier.trustedRoot.detail}`);
}

/** "cosign simple signing (key)", "sigstore bundle v0.3 dsse (keyless)". */
export function verdictName(v: SignatureVerdict): string {
  const what = v.format === 'sigstore-bundle' ? `sigstore bundle${v.bundleVersion ? ` ${v.bundleVersion}` : ''}${v.content ? ` ${v.content}` : ''}` : 'cosign simple signing';
  return `${what}${v.mode ? ` (${v.mode})` : ''}`;
}

export async function verifyReference(options: VerifyOptions, reporter: Reporter = silentReporter): Promise<VerifyResult> {
  const policy = trustPolicyOf(options);
  if (!policy) throw new PolicyOciError('USAGE', 'verify needs --key, or --certificate-identity and --certificate-oidc-issuer (keyless)');
  const verifier = new TrustVerifier(policy);
  const opened = await openTarget(options.reference, options.store, { push: false });
  const referrers = new ReferrersClient(opened.target, options.referrersMode ? { mode: options.referrersMode } : {});
  reporter.progress(`Checking the signatures of ${opened.display}`);
  const { digest } = await opened.target.resolve(opened.reference);
  let checked: TrustCheck;
  try {
    checked = await requireTrust(opened.target, opened.display, digest, verifier, referrers);
  } finally {
    warnShippedRoot(verifier, reporter);
  }
  const result: VerifyResult = { reference: opened.display, digest, policy: describePolicy(policy), verified: checked.verified, signatures: checked.verdicts };
  if (verifier.trustedRoot) result.trustedRoot = verifier.trustedRoot;
  return result;
}
