// An in-memory Target: where publish stages a packed artifact before copying it to its
// destination (src/content/copy.ts), and a store for unit tests. Holds references to the buffers
// it is given (no copy), and verifies them on every fetch (publish puts packed blobs straight into
// `blobs`: their digests were just computed, and the copy's fetch checks them).
import { verifyContent } from '../oci/digest.ts';
import { PolicyOciError } from '../errors.ts';
import { isManifestType, looksLikeIndex, parseManifest } from '../oci/manifest.ts';
import { OCI_INDEX, OCI_MANIFEST } from '../oci/mediatypes.ts';
import type { Descriptor } from '../oci/types.ts';
import type { Target } from './types.ts';

/** The media type of manifest bytes (its own field, else by shape); undefined for anything else. */
function manifestMediaType(content: Buffer): string | undefined {
  let parsed;
  try {
    parsed = parseManifest(content, 'memory content');
  } catch {
    return undefined;
  }
  if (isManifestType(parsed.mediaType)) return parsed.mediaType;
  if (parsed.mediaType !== undefined) return undefined;
  if (looksLikeIndex(parsed)) return OCI_INDEX;
  return Array.isArray(parsed.layers) ? OCI_MANIFEST : undefined;
}

export class MemoryStore implements Target {
  readonly name = 'memory';
  readonly blobs = new Map<string, Buffer>();
  readonly tags = new Map<string, Descriptor>();

  async resolve(reference: string): Promise<Descriptor> {
    const tagged = this.tags.get(reference);
    if (tagged) return tagged;
    const content = this.blobs.get(reference);
    if (content) {
      // By digest, like a registry: only a manifest resolves, and its media type is its own.
      const mediaType = manifestMediaType(content);
      if (mediaType !== undefined) return { mediaType, digest: reference, size: content.length };
    }
    throw new PolicyOciError('NOT_FOUND', `memory: "${reference}" not found`);
  }

  async fetch(desc: Descriptor): Promise<Buffer> {
    const content = this.blobs.get(desc.digest);
    if (!content) throw new PolicyOciError('NOT_FOUND', `memory: blob ${desc.digest} not found`);
    verifyContent(desc, content);
    return content;
  }

  async exists(desc: Descriptor): Promise<boolean> {
    return this.blobs.has(desc.digest);
  }

  async pushBlob(desc: Descriptor, content: Buffer): Promise<boolean> {
    verifyContent(desc, content);
    if (this.blobs.has(desc.digest)) return false;
    this.blobs.set(desc.digest, content);
    return true;
  }

  async pushManifest(desc: Descriptor, content: Buffer, tag?: string): Promise<void> {
    await this.pushBlob(desc, content);
    if (tag !== undefined) await this.tag(desc, tag);
  }

  async tag(desc: Descriptor, tag: string): Promise<void> {
    if (!this.blobs.has(desc.digest)) throw new PolicyOciError('NOT_FOUND', `memory: manifest ${desc.digest} not found`);
    this.tags.set(tag, { mediaType: desc.mediaType, digest: desc.digest, size: desc.size });
  }

  async listTags(): Promise<string[]> {
    return [...this.tags.keys()].sort();
  }
}
