// verify: at least one cosign signature of the manifest verifies with the public key and names
// this very digest. pull/apply/diff --verify-key call requireSignature (core/source.ts) before
// writing, applying or comparing anything.
import type { KeyObject } from 'node:crypto';
import { openTarget, type StoreOptions } from '../content/open.ts';
import type { Target } from '../content/types.ts';
import { PolicyOciError } from '../errors.ts';
import { ReferrersClient, type ReferrersMode } from '../referrers/client.ts';
import { atDigest } from '../referrers/display.ts';
import { checkSignatures, type CheckedSignature } from '../signing/cosign.ts';
import { loadPublicKey } from '../signing/keys.ts';
import { silentReporter, type Reporter } from './reporter.ts';

export interface VerifyOptions {
  reference: string;
  store: StoreOptions;
  /** Public key (cosign.pub, PEM). */
  keyPath: string;
  referrersMode?: ReferrersMode;
}

export interface VerifyResult {
  reference: string;
  digest: string;
  /** Signatures that verify with the key and name this digest. */
  verified: number;
  /** Every signature found (the `.sig` tag and signature referrers), valid or not. */
  signatures: CheckedSignature[];
}

/** Throws UNSAFE_CONTENT (exit 6) unless a signature of `digest` verifies with `key`. */
export async function requireSignature(target: Target, display: string, digest: string, key: KeyObject, referrers?: ReferrersClient): Promise<CheckedSignature[]> {
  const checked = await checkSignatures(target, digest, key, referrers ?? new ReferrersClient(target));
  if (checked.some((s) => s.valid)) return checked;
  if (checked.length === 0) throw new PolicyOciError('UNSAFE_CONTENT', `${atDigest(display, digest)} is not signed (no cosign signature found); refused`);
  throw new PolicyOciError('UNSAFE_CONTENT', `no signature of ${atDigest(display, digest)} verifies with the key (${checked.length} checked); refused`, {
    details: checked.map((s) => `${s.source} ${s.manifest.slice(0, 19)} layer ${s.layer.slice(0, 19)}: ${s.reason ?? 'invalid'}`),
  });
}

export async function verifyReference(options: VerifyOptions, reporter: Reporter = silentReporter): Promise<VerifyResult> {
  const opened = await openTarget(options.reference, options.store, { push: false });
  const key = await loadPublicKey(options.keyPath);
  const referrers = new ReferrersClient(opened.target, options.referrersMode ? { mode: options.referrersMode } : {});
  reporter.progress(`Checking the signatures of ${opened.display}`);
  const { digest } = await opened.target.resolve(opened.reference);
  const signatures = await requireSignature(opened.target, opened.display, digest, key, referrers);
  return { reference: opened.display, digest, verified: signatures.filter((s) => s.valid).length, signatures };
}
