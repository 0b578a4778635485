// verify: at least one cosign signature of the manifest verifies with the public key and names
// this very digest. pull/apply/diff --verify-key call requireSignature (core/source.ts) before
// writing, applying or comparing anything.
import type { KeyObject } from 'node:crypto';
import type { Target } from '../content/types.ts';
import { PolicyOciError } from '../errors.ts';
import { ReferrersClient, type ReferrersMode } from '../referrers/client.ts';
import { checkSignatures, type CheckedSignature } from '../signing/cosign.ts';
import { loadPublicKey } from '../signing/keys.ts';
import { atDigest } from '../referrers/tagschema.ts';

export interface VerifySummary {
  reference: string;
  digest: string;
  verified: number;
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

export async function verifyReference(target: Target, display: string, reference: string, keyPath: string, mode?: ReferrersMode): Promise<VerifySummary> {
  const key = await loadPublicKey(keyPath);
  const desc = await target.resolve(reference);
  const signatures = await requireSignature(target, display, desc.digest, key, new ReferrersClient(target, mode ? { mode } : {}));
  return { reference: display, digest: desc.digest, verified: signatures.filter((s) => s.valid).length, signatures };
}
