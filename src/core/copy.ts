// copy: an artifact (or image) from one store to another — registry or OCI image layout, either
// side — byte for byte, so digests and therefore signatures stay valid. With includeReferrers the
// artifacts that refer to it travel too (attached policies, OCI 1.1 signatures, recursively) and
// cosign's `sha256-<hex>.sig/.att/.sbom` tags: what an air-gapped transfer needs.
// Order: blobs, then child manifests, then parents, tags last; referrers after their subject, each
// indexed on the destination the way the destination supports (API or tag schema).
import { MAX_MANIFEST_BYTES } from '../oci/limits.ts';
import { isManifestType } from '../oci/manifest.ts';
import type { Descriptor, ImageIndex, ImageManifest } from '../oci/types.ts';
import type { Target } from '../content/types.ts';
import { PolicyOciError } from '../errors.ts';
import { ReferrersClient, type ReferrersMode } from '../referrers/client.ts';
import { cosignTag, referrerDescriptor } from '../referrers/tagschema.ts';
import { mapLimit } from '../util/concurrency.ts';
import { resolveOptional } from '../content/resolve.ts';

export interface CopyOptions {
  tags: string[];
  includeReferrers?: boolean;
  concurrency?: number;
  sourceMode?: ReferrersMode;
  destinationMode?: ReferrersMode;
  /** Largest manifest read (default 4 MiB). */
  maxManifestBytes?: number;
  /** Largest blob copied (default 4 GiB: blobs are held in memory one at a time per worker). */
  maxBlobBytes?: number;
}

export interface CopiedReferrer {
  digest: string;
  subject: string;
  artifactType?: string;
  /** For cosign's tag-based signatures: the tag. */
  tag?: string;
}

export interface CopySummary {
  source: string;
  destination: string;
  digest: string;
  mediaType: string;
  tags: string[];
  manifests: number;
  blobsCopied: number;
  blobsSkipped: number;
  bytesCopied: number;
  referrers: CopiedReferrer[];
}

const MAX_NODES = 10_000;
const COSIGN_SUFFIXES = ['sig', 'att', 'sbom'] as const;

export async function copyArtifact(src: Target, srcDisplay: string, srcReference: string, dst: Target, dstDisplay: string, options: CopyOptions): Promise<CopySummary> {
  const maxManifest = options.maxManifestBytes ?? MAX_MANIFEST_BYTES;
  const maxBlob = options.maxBlobBytes ?? 4 * 1024 ** 3;
  const concurrency = options.concurrency ?? 8;
  const srcReferrers = new ReferrersClient(src, options.sourceMode ? { mode: options.sourceMode } : {});
  const dstReferrers = new ReferrersClient(dst, options.destinationMode ? { mode: options.destinationMode } : {});
  const stats = { manifests: 0, blobsCopied: 0, blobsSkipped: 0, bytesCopied: 0 };
  const copiedBlobs = new Set<string>();
  const copiedManifests = new Set<string>();
  let nodes = 0;

  const copyBlob = async (desc: Descriptor): Promise<void> => {
    if (copiedBlobs.has(desc.digest)) return;
    copiedBlobs.add(desc.digest);
    if (desc.size > maxBlob) throw new PolicyOciError('LIMIT', `blob ${desc.digest} is ${desc.size} bytes, above the copy limit of ${maxBlob}`);
    if (await dst.exists(desc)) {
      stats.blobsSkipped++;
      return;
    }
    const content = await src.fetch(desc);
    if (await dst.pushBlob(desc, content)) {
      stats.blobsCopied++;
      stats.bytesCopied += content.length;
    } else {
      stats.blobsSkipped++;
    }
  };

  /** Copies the manifest `desc` and everything below it; pushes it untagged unless `push` is given. */
  const copyManifest = async (desc: Descriptor, push?: (content: Buffer) => Promise<void>): Promise<{ content: Buffer; parsed: Partial<ImageManifest & ImageIndex> }> => {
    if (++nodes > MAX_NODES) throw new PolicyOciError('LIMIT', `more than ${MAX_NODES} manifests to copy`);
    if (desc.size > maxManifest) throw new PolicyOciError('LIMIT', `manifest ${desc.digest} is ${desc.size} bytes, above ${maxManifest}`);
    const content = await src.fetch(desc);
    let parsed: Partial<ImageManifest & ImageIndex>;
    try {
      parsed = JSON.parse(content.toString('utf8')) as Partial<ImageManifest & ImageIndex>;
    } catch {
      throw new PolicyOciError('UNSAFE_CONTENT', `manifest ${desc.digest} is not JSON`);
    }
    if (!copiedManifests.has(desc.digest)) {
      if (Array.isArray(parsed.manifests)) {
        for (const child of parsed.manifests) if (isManifestType(child.mediaType)) await copyManifest(child);
      } else {
        const blobs = [...(parsed.config ? [parsed.config] : []), ...(Array.isArray(parsed.layers) ? parsed.layers : [])];
        await mapLimit(blobs, concurrency, copyBlob);
      }
      if (push) await push(content);
      else if (parsed.subject) await dstReferrers.push(desc, content);
      else await dst.pushManifest(desc, content);
      copiedManifests.add(desc.digest);
      stats.manifests++;
    }
    return { content, parsed };
  };

  const referrers: CopiedReferrer[] = [];
  /** Referrers of `subject` and cosign's tags next to it, recursively. */
  const copyReferrersOf = async (subject: Descriptor, depth: number): Promise<void> => {
    if (depth > 8) return;
    for (const r of await srcReferrers.list({ digest: subject.digest })) {
      if (copiedManifests.has(r.digest)) continue;
      const { parsed } = await copyManifest(r);
      // A registry that returned a referrer whose subject is elsewhere is not trusted blindly.
      if (parsed.subject?.digest !== subject.digest) throw new PolicyOciError('UNSAFE_CONTENT', `${srcDisplay}: referrer ${r.digest} does not name ${subject.digest} as its subject`);
      const entry: CopiedReferrer = { digest: r.digest, subject: subject.digest };
      const artifactType = referrerDescriptor(r, parsed).artifactType;
      if (artifactType) entry.artifactType = artifactType;
      referrers.push(entry);
      await copyReferrersOf(r, depth + 1);
    }
    for (const suffix of COSIGN_SUFFIXES) {
      const tag = cosignTag(subject.digest, suffix);
      const desc = await resolveOptional(src, tag);
      if (!desc) continue;
      const { content } = await copyManifest(desc, async () => undefined);
      await dst.pushManifest(desc, content, tag);
      referrers.push({ digest: desc.digest, subject: subject.digest, tag });
    }
  };

  const root = await src.resolve(srcReference);
  const tags = options.tags;
  const { parsed } = await copyManifest(root, async (content) => {
    const subject = (JSON.parse(content.toString('utf8')) as { subject?: unknown }).subject;
    const [first, ...rest] = tags;
    // A root that is itself a referrer (an attached artifact copied by digest) is indexed too.
    if (subject) await dstReferrers.push(root, content, first);
    else await dst.pushManifest(root, content, first);
    for (const tag of rest) await dst.pushManifest(root, content, tag);
  });
  if (options.includeReferrers) {
    await copyReferrersOf(root, 0);
    // Referrers of an index's children (per-platform signatures, per-engine policies) too.
    if (Array.isArray(parsed.manifests)) for (const child of parsed.manifests) if (isManifestType(child.mediaType)) await copyReferrersOf(child, 0);
  }
  return { source: srcDisplay, destination: dstDisplay, digest: root.digest, mediaType: root.mediaType, tags, ...stats, referrers };
}
