// verify as text: the verdict, every signature found (its format, where, and why one does not
// count), and the Sigstore trusted root when one was used.
import { verdictName, type VerifyResult } from '../core/verify.ts';
import { atDigest } from '../referrers/display.ts';
import { count } from '../util/plural.ts';
import { trustedRootLines } from './trustroot.ts';

export function verifyText(s: VerifyResult): string {
  const satisfies = s.policy.startsWith('the key') ? (s.verified === 1 ? 'verifies with the key' : 'verify with the key') : `${s.verified === 1 ? 'satisfies' : 'satisfy'} ${s.policy}`;
  return [
    `Verified ${atDigest(s.reference, s.digest)}: ${s.verified} of ${count(s.signatures.length, 'signature')} ${satisfies}`,
    ...s.signatures.map((g) => {
      const signer = g.signer?.identity ? ` signer ${g.signer.identity} (issuer ${g.signer.issuer ?? '?'})` : '';
      const why = g.valid ? '' : `: ${g.failedCheck ?? 'invalid'}: ${g.reason ?? 'invalid'}`;
      return `  ${g.valid ? 'ok     ' : 'invalid'} ${g.source} ${g.manifest}${g.layer && g.format === 'cosign-simplesigning' ? ` layer ${g.layer}` : ''} ${verdictName(g)}${signer}${why}`;
    }),
    ...trustedRootLines(s.trustedRoot),
  ].join('\n');
}
