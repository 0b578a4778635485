// verify: at least one cosign signature of the manifest verifies with the public key and names
// this very digest. pull/apply --verify-key call requireSignature before writing or applying.
import type { KeyObject } from 'node:crypto';
import type { Target } from '../content/types.ts';
import { PolicyOciError } from '../errors.ts';
import { ReferrersClient, type ReferrersMode } from '../referrers/client.ts';
import { checkSignatures, type CheckedSignature } from '../signing/cosign.ts';
import { loadPublicKey } from '../signing/keys.ts';
import { atDigest } from '../referrers/tagschema.ts';
import { compareCodeUnits } from '../util/compare.ts';

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

export interface SelectOptions {
  /** Public key (cosign.pub): refuse what is not signed with it. */
  verifyKeyPath?: string;
  /** Read the policy artifacts attached to REF (its referrers) instead of REF itself. */
  fromReferrers?: boolean;
  mode?: ReferrersMode;
  onWarning?: (message: string) => void;
}

export interface SelectedArtifacts {
  /** Digests to read, oldest first (so the newest wins where attached artifacts overlap). */
  digests: string[];
  /** The manifest REF names (the image, with fromReferrers). */
  subject: string;
  verified: boolean;
}

/**
 * What pull/apply may read, decided before anything is read: REF's digest (signature-checked with
 * a key), or with fromReferrers the policy artifacts attached to REF — with a key, only the signed
 * ones (unsigned or badly signed ones are skipped with a warning; none left is an error).
 */
export async function selectArtifacts(target: Target, display: string, reference: string, options: SelectOptions): Promise<SelectedArtifacts> {
  const key = options.verifyKeyPath ? await loadPublicKey(options.verifyKeyPath) : undefined;
  const subject = await target.resolve(reference);
  const referrers = new ReferrersClient(target, options.mode ? { mode: options.mode } : {});
  if (!options.fromReferrers) {
    if (key) await requireSignature(target, display, subject.digest, key, referrers);
    return { digests: [subject.digest], subject: subject.digest, verified: key !== undefined };
  }
  const { policyArtifactTypes } = await import('./attach.ts');
  const attached = await referrers.list(subject, policyArtifactTypes());
  if (attached.length === 0) throw new PolicyOciError('NOT_FOUND', `no policy artifact is attached to ${atDigest(display, subject.digest)}`);
  const created = (d: (typeof attached)[number]) => d.annotations?.['org.opencontainers.image.created'] ?? '';
  const ordered = [...attached].sort((a, b) => compareCodeUnits(created(a), created(b)) || compareCodeUnits(a.digest, b.digest));
  if (!key) return { digests: ordered.map((d) => d.digest), subject: subject.digest, verified: false };
  const digests: string[] = [];
  for (const d of ordered) {
    try {
      await requireSignature(target, display, d.digest, key, referrers);
      digests.push(d.digest);
    } catch (err) {
      if (!(err instanceof PolicyOciError) || err.code !== 'UNSAFE_CONTENT') throw err;
      options.onWarning?.(`skipped attached artifact ${d.digest}: ${err.message}`);
    }
  }
  if (digests.length === 0) throw new PolicyOciError('UNSAFE_CONTENT', `none of the ${attached.length} policy artifact(s) attached to ${atDigest(display, subject.digest)} is signed with the key; refused`);
  return { digests, subject: subject.digest, verified: true };
}
