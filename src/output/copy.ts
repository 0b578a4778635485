// Text of `copy`: what was copied where, and the referrers that came along.
import type { CopyResult } from '../core/copy.ts';

export function copyText(r: CopyResult): string {
  return [
    `Copied ${r.source} to ${r.destination}${r.tags.length ? `:${r.tags.join(',')}` : ''} (${r.digest})`,
    `  ${r.manifests} manifests, ${r.blobsCopied} blobs copied (${r.bytesCopied} bytes), ${r.blobsSkipped} already there`,
    ...(r.referrers.length ? [`  ${r.referrers.length} referrer(s):`, ...r.referrers.map((x) => `    ${x.digest} ${x.tag ? `tag ${x.tag}` : (x.artifactType ?? '')} -> ${x.subject.slice(0, 19)}`)] : []),
  ].join('\n');
}
