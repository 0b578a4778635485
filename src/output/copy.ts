// Text of `copy`: what was copied where, and the referrers that came along.
import type { CopyResult } from '../core/copy.ts';
import { count } from '../util/plural.ts';

export function copyText(r: CopyResult): string {
  return [
    `Copied ${r.source} to ${r.destination}${r.tags.length ? `:${r.tags.join(',')}` : ''} (${r.digest})${r.verified ? ', signature verified' : ''}`,
    `  ${count(r.manifests, 'manifest')}, ${count(r.blobsCopied, 'blob')} copied (${count(r.bytesCopied, 'byte')}), ${r.blobsSkipped} already there`,
    ...(r.referrers.length ? [`  ${count(r.referrers.length, 'referrer')}:`, ...r.referrers.map((x) => `    ${x.digest} ${x.tag ? `tag ${x.tag}` : (x.artifactType ?? '')} -> ${x.subject.slice(0, 19)}`)] : []),
    ...(r.trustedRoot ? [`  trusted root: ${r.trustedRoot.source} (${r.trustedRoot.detail})`] : []),
  ].join('\n');
}
