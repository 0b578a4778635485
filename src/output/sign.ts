// sign as text: what was signed, and where the signature lives.
import type { SignResult } from '../core/sign.ts';
import { atDigest } from '../referrers/display.ts';

export function signText(s: SignResult): string {
  return [
    `Signed ${atDigest(s.reference, s.digest)}${s.added ? '' : ' (this signature was already there)'}`,
    `  signature: ${s.signatureTag} (${s.signatureManifest})`,
    ...(s.referrer ? [`  referrer:  ${s.referrer}`] : []),
  ].join('\n');
}
