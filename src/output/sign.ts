// sign as text: what was signed, in which format, and where the signature lives.
import type { SignResult, WrittenSignature } from '../core/sign.ts';
import { atDigest } from '../referrers/display.ts';

/** The format in a few words (also used by attach). */
export function signatureFormatText(s: Pick<WrittenSignature, 'format' | 'bundleVersion'>): string {
  return s.format === 'sigstore-bundle' ? `Sigstore bundle ${s.bundleVersion ?? 'v0.3'} (DSSE, in-toto statement)` : 'cosign simple signing (legacy, cosign v2)';
}

/** Where a referrer was indexed. */
export function indexedText(s: Pick<WrittenSignature, 'indexedBy' | 'indexTag'>): string {
  return s.indexedBy === 'tag' ? `tag schema ${s.indexTag ?? ''}`.trim() : 'referrers API';
}

export function signText(s: SignResult): string {
  return [
    `Signed ${atDigest(s.reference, s.digest)}${s.added ? '' : ' (this signature was already there)'}`,
    `  format:    ${signatureFormatText(s)}`,
    ...(s.signatureTag ? [`  signature: ${s.signatureTag} (${s.signatureManifest})`] : []),
    ...(s.referrer ? [`  referrer:  ${s.referrer} (${indexedText(s)})`] : []),
  ].join('\n');
}
