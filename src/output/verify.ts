// verify as text: the verdict, then every signature found and why one does not count.
import type { VerifyResult } from '../core/verify.ts';
import { atDigest } from '../referrers/display.ts';
import { count } from '../util/plural.ts';

export function verifyText(s: VerifyResult): string {
  return [
    `Verified ${atDigest(s.reference, s.digest)}: ${s.verified} of ${count(s.signatures.length, 'signature')} ${s.verified === 1 ? 'verifies' : 'verify'} with the key`,
    ...s.signatures.map((g) => `  ${g.valid ? 'ok     ' : 'invalid'} ${g.source} ${g.manifest} layer ${g.layer}${g.reason ? `: ${g.reason}` : ''}`),
  ].join('\n');
}
