// Uploads a packed artifact: staged in memory, then copied to the target like any other graph
// (src/content/copy.ts: blobs, child manifests, the root, tags last — a failure leaves every tag
// where it was). An unchanged artifact costs one request per tag: resolving it.
import { copyGraph } from '../content/copy.ts';
import { MemoryStore } from '../content/memory.ts';
import { resolveOptional } from '../content/resolve.ts';
import type { Target } from '../content/types.ts';
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

/**
 * The packed artifact as a store: the source of the copy (reading it costs no request; each
 * fetch verifies the bytes against the digests pack computed).
 */
export function stagePacked(packed: PackedArtifact): MemoryStore {
  const staged = new MemoryStore();
  for (const m of packed.manifests) {
    for (const blob of m.blobs) staged.blobs.set(blob.descriptor.digest, blob.content);
    staged.blobs.set(m.descriptor.digest, m.content);
  }
  staged.blobs.set(packed.root.descriptor.digest, packed.root.content);
  return staged;
}

export async function publish(target: Target, packed: PackedArtifact, tags: string[], options: PublishOptions = {}): Promise<PublishResult> {
  const root = packed.root.descriptor;
  const base = { digest: root.digest, mediaType: root.mediaType, size: root.size, tags };
  if (tags.length > 0) {
    const current = await mapLimit(tags, 4, async (tag) => (await resolveOptional(target, tag))?.digest);
    if (current.every((d) => d === root.digest)) {
      const blobsTotal = new Set(packed.manifests.flatMap((m) => m.blobs.map((b) => b.descriptor.digest))).size;
      return { ...base, unchanged: true, blobsUploaded: 0, blobsTotal, bytesUploaded: 0 };
    }
  }
  const copied = await copyGraph(stagePacked(packed), target, root, {
    tags,
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.onProgress ? { onBlob: options.onProgress } : {}),
  });
  return { ...base, unchanged: false, blobsUploaded: copied.blobsCopied, blobsTotal: copied.blobsCopied + copied.blobsSkipped, bytesUploaded: copied.bytesCopied };
}
