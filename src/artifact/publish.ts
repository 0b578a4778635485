// Uploads a packed artifact: blobs first, then child manifests, then the tagged root. The tag is
// written last, so a failure at any step leaves every tag where it was (never pointing at a
// manifest whose blobs are missing). An unchanged artifact costs one request: resolve the tag.
import type { Target } from '../content/types.ts';
import { resolveOptional } from '../content/resolve.ts';
import { mapLimit } from '../util/concurrency.ts';
import type { PackedArtifact } from './pack.ts';

export interface PublishOptions {
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface PublishResult {
  digest: string;
  mediaType: string;
  size: number;
  tags: string[];
  unchanged: boolean;
  blobsUploaded: number;
  blobsTotal: number;
  bytesUploaded: number;
}

export async function publish(target: Target, packed: PackedArtifact, tags: string[], options: PublishOptions = {}): Promise<PublishResult> {
  const root = packed.root.descriptor;
  const base = { digest: root.digest, mediaType: root.mediaType, size: root.size, tags };
  const blobs = packed.manifests.flatMap((m) => m.blobs);
  if (tags.length > 0) {
    const current = await mapLimit(tags, 4, async (tag) => (await resolveOptional(target, tag))?.digest);
    if (current.every((d) => d === root.digest)) {
      return { ...base, unchanged: true, blobsUploaded: 0, blobsTotal: blobs.length, bytesUploaded: 0 };
    }
  }
  let done = 0;
  let uploaded = 0;
  let bytes = 0;
  const total = blobs.length;
  await mapLimit(blobs, options.concurrency ?? 8, async (blob) => {
    if (await target.pushBlob(blob.descriptor, blob.content)) {
      uploaded++;
      bytes += blob.content.length;
    }
    options.onProgress?.(++done, total);
  });
  if (packed.index) {
    for (const m of packed.manifests) await target.pushManifest(m.descriptor, m.content);
  }
  if (tags.length === 0) await target.pushManifest(root, packed.root.content);
  for (const tag of tags) await target.pushManifest(root, packed.root.content, tag);
  return { ...base, unchanged: false, blobsUploaded: uploaded, blobsTotal: total, bytesUploaded: bytes };
}
