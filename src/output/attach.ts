// Text of `attach`: the image (by digest) and one line per attached artifact.
import type { AttachResult } from '../core/attach.ts';
import { atDigest } from '../referrers/display.ts';
import { count } from '../util/plural.ts';

export function attachText(r: AttachResult): string {
  return [
    `Attached ${count(r.artifacts.reduce((n, a) => n + a.policies, 0), 'policy')} to ${atDigest(r.image, r.subject.digest)}`,
    ...r.artifacts.map((a) => `  ${a.engine}: ${a.digest} (${count(a.policies, 'policy')}; ${a.indexedBy === 'api' ? 'referrers API' : `tag schema ${a.indexTag}`}${a.signatureTag ? `; signed, ${a.signatureTag}` : ''})`),
  ].join('\n');
}
