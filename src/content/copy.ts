// One copy between any two stores, after oras-go's Copy: a manifest or index and everything below
// it, from `src` to `dst`. Order: every blob first (bounded concurrency), then the child manifests
// bottom-up, then the root, its tags last — a copy that fails at any step leaves every tag where
// it was, never pointing at content that is missing. The stores verify every byte (fetch and push
// check digest and size); here sizes and counts are bounded before anything is read.
import { PolicyOciError } from '../errors.ts';
import { MAX_MANIFEST_BYTES } from '../oci/limits.ts';
import { descriptorsOf, isManifestType, parseManifest } from '../oci/manifest.ts';
import type { Descriptor, ImageIndex, ImageManifest } from '../oci/types.ts';
import { mapLimit } from '../util/concurrency.ts';
import { MemoryStore } from './memory.ts';
import type { Target } from './types.ts';

export type ParsedManifest = Partial<ImageManifest & ImageIndex>;

/** Manifests one copy session may visit (an index of indexes cannot make us walk forever). */
export const MAX_COPY_MANIFESTS = 10_000;
/** Index nesting deeper than this is refused. */
export const MAX_COPY_DEPTH = 32;
/** Blobs are held in memory, one per worker: the largest one copied (4 GiB). */
export const MAX_COPY_BLOB_BYTES = 4 * 1024 ** 3;

export interface CopyCounters {
  /** Manifests and indexes pushed (tags written again on a manifest already there do not count). */
  manifests: number;
  blobsCopied: number;
  /** Blobs the destination already had. */
  blobsSkipped: number;
  bytesCopied: number;
}

/**
 * What the copies of one operation share (copy with its referrers: one graph per referrer): what
 * is already on the destination, and the manifest budget.
 */
export class CopySession {
  readonly blobs = new Set<string>();
  readonly manifests = new Set<string>();
  visited = 0;
}

export interface CopyGraphOptions {
  /** Tags to write on the root, after everything else; none: the root is pushed by digest. */
  tags?: readonly string[];
  /** Blobs in flight at once (default 8). */
  concurrency?: number;
  /** Called after each blob (copied or already there), with the number of blobs to copy. */
  onBlob?: (done: number, total: number) => void;
  /**
   * How a manifest with a `subject` (a referrer) is pushed, so the caller can index it (the
   * referrers API or the tag schema); default: `dst.pushManifest`.
   */
  pushReferrer?: (desc: Descriptor, content: Buffer, tag?: string) => Promise<void>;
  /** Looks at the root once it is read, before anything is written (throw to refuse it). */
  checkRoot?: (manifest: ParsedManifest) => void;
  maxManifestBytes?: number;
  maxBlobBytes?: number;
  session?: CopySession;
}

export interface CopyGraphResult extends CopyCounters {
  root: Descriptor;
  /** The root's bytes, as read (and verified) from the source. */
  content: Buffer;
  manifest: ParsedManifest;
}

interface Node {
  desc: Descriptor;
  content: Buffer;
  manifest: ParsedManifest;
}

/**
 * Whether to ask the destination for each blob before reading it from the source. Not for content
 * staged in memory (publish, attach: mostly new, and free to read): it is offered straight to
 * `dst.pushBlob`, which learns "already there" by itself — a registry in its mount request, one
 * request, as a push always sent. Everything else is asked first: a remote source is not read for
 * what the destination has, and a repeated copy from a layout sends no bytes even to registries
 * that ignore the mount request (go-containerregistry's answers every mount with a new upload).
 */
function askDestinationFirst(src: Target): boolean {
  return !(src instanceof MemoryStore);
}

export async function copyGraph(src: Target, dst: Target, root: Descriptor, options: CopyGraphOptions = {}): Promise<CopyGraphResult> {
  const session = options.session ?? new CopySession();
  const maxManifest = options.maxManifestBytes ?? MAX_MANIFEST_BYTES;
  const maxBlob = options.maxBlobBytes ?? MAX_COPY_BLOB_BYTES;
  const counters: CopyCounters = { manifests: 0, blobsCopied: 0, blobsSkipped: 0, bytesCopied: 0 };

  // 1. Read the manifests (bottom-up order) and gather the blobs they name.
  const manifests: Node[] = [];
  const blobs = new Map<string, Descriptor>();
  const seen = new Set<string>();
  const visit = async (desc: Descriptor, depth: number): Promise<Node> => {
    if (depth > MAX_COPY_DEPTH) throw new PolicyOciError('LIMIT', `${src.name}: indexes nested deeper than ${MAX_COPY_DEPTH} below ${root.digest}`);
    if (++session.visited > MAX_COPY_MANIFESTS) throw new PolicyOciError('LIMIT', `more than ${MAX_COPY_MANIFESTS} manifests to copy`);
    if (desc.size > maxManifest) throw new PolicyOciError('LIMIT', `manifest ${desc.digest} is ${desc.size} bytes, above the limit of ${maxManifest}`);
    const content = await src.fetch(desc);
    const manifest = parseManifest(content, `manifest ${desc.digest}`);
    if (Array.isArray(manifest.manifests)) {
      for (const child of descriptorsOf(manifest.manifests, `index ${desc.digest}`)) {
        // Entries that are not manifests (or were copied already) are not walked.
        if (!isManifestType(child.mediaType) || seen.has(child.digest) || session.manifests.has(child.digest)) continue;
        seen.add(child.digest);
        manifests.push(await visit(child, depth + 1));
      }
    } else {
      const config = manifest.config === undefined ? [] : descriptorsOf([manifest.config], `manifest ${desc.digest}`);
      for (const blob of [...config, ...descriptorsOf(manifest.layers, `manifest ${desc.digest} layers`)]) {
        if (session.blobs.has(blob.digest) || blobs.has(blob.digest)) continue;
        if (blob.size > maxBlob) throw new PolicyOciError('LIMIT', `blob ${blob.digest} is ${blob.size} bytes, above the copy limit of ${maxBlob}`);
        blobs.set(blob.digest, blob);
      }
    }
    return { desc, content, manifest };
  };
  seen.add(root.digest);
  const top = await visit(root, 0);
  options.checkRoot?.(top.manifest);

  // 2. Blobs.
  const pending = [...blobs.values()];
  for (const blob of pending) session.blobs.add(blob.digest);
  const askFirst = askDestinationFirst(src);
  let done = 0;
  await mapLimit(pending, options.concurrency ?? 8, async (blob) => {
    if (askFirst && (await dst.exists(blob))) {
      counters.blobsSkipped++;
    } else {
      const content = await src.fetch(blob);
      if (await dst.pushBlob(blob, content)) {
        counters.blobsCopied++;
        counters.bytesCopied += content.length;
      } else {
        counters.blobsSkipped++;
      }
    }
    options.onBlob?.(++done, pending.length);
  });

  // 3. Child manifests, bottom-up; 4. the root, its first tag with it and the others after.
  const push = (node: Node, tag?: string): Promise<void> =>
    node.manifest.subject && options.pushReferrer ? options.pushReferrer(node.desc, node.content, tag) : dst.pushManifest(node.desc, node.content, tag);
  for (const node of manifests) {
    if (session.manifests.has(node.desc.digest)) continue;
    await push(node);
    session.manifests.add(node.desc.digest);
    counters.manifests++;
  }
  const [first, ...rest] = options.tags ?? [];
  if (!session.manifests.has(root.digest)) {
    await push(top, first);
    session.manifests.add(root.digest);
    counters.manifests++;
  } else if (first !== undefined) {
    await dst.pushManifest(root, top.content, first);
  }
  // By tag with the bytes at hand: one request each (`dst.tag` would read the manifest again).
  for (const tag of rest) await dst.pushManifest(root, top.content, tag);
  return { ...counters, root, content: top.content, manifest: top.manifest };
}

/** Sums the counters of several copies of one operation. */
export function addCounters(into: CopyCounters, from: CopyCounters): void {
  into.manifests += from.manifests;
  into.blobsCopied += from.blobsCopied;
  into.blobsSkipped += from.blobsSkipped;
  into.bytesCopied += from.bytesCopied;
}
