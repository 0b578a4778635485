// Text of `attach`: the image (by digest) and one line per attached artifact.
import type { AttachResult } from '../core/attach.ts';
import { atDigest } from '../referrers/display.ts';
import { count } from '../util/plural.ts';

function signedText(a: AttachResult['artifacts'][number]): string {
  if (a.signatureTag) return `; signed (cosign simple signing), ${a.signatureTag}`;
  return a.signature ? `; signed (Sigstore bundle), referrer ${a.signature}` : '';
}

export function attachText(r: AttachResult): string {
  return [
    `Attached ${count(r.artifacts.reduce((n, a) => n + a.policies, 0), 'policy')} to ${atDigest(r.image, r.subject.digest)}`,
    ...r.artifacts.map((a) => `  ${a.engine}: ${a.digest} (${count(a.policies, 'policy')}; ${a.indexedBy === 'api' ? 'referrers API' : `tag schema ${a.indexTag}`}${signedText(a)})`),
  ].join('\n');
}
