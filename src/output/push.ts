// Text for `push`: one summary, or with --dry-run the manifest that would be pushed.
import type { PushResult } from '../core/push.ts';

export function pushText(r: PushResult): string {
  if (r.dryRun === 'client') {
    // One engine: its manifest; several: the index the tag would point at.
    return [`Would push ${r.policies} policies to ${r.reference} as ${r.digest}`, JSON.stringify(r.manifests.length === 1 ? r.manifests[0] : r.manifest, null, 2)].join('\n');
  }
  if (r.unchanged) return `unchanged: ${r.reference} already points at ${r.digest} (${r.policies} policies)`;
  return [
    `Pushed ${r.policies} policies (${r.engines.map((e) => `${e.engine}: ${e.policies}`).join(', ')}) to ${r.reference}`,
    `Uploaded ${r.blobsUploaded} of ${r.blobsTotal} blobs (${r.bytesUploaded} bytes)`,
    `Digest: ${r.digest}`,
  ].join('\n');
}
