// An in-memory Target for unit tests and for staging content before a copy.
import { verifyContent } from '../oci/digest.ts';
import { PolicyOciError } from '../errors.ts';
import type { Descriptor } from '../oci/types.ts';
import type { Target } from './types.ts';

export class MemoryStore implements Target {
  readonly name = 'memory';
  readonly blobs = new Map<string, Buffer>();
  readonly tags = new Map<string, Descriptor>();

  async resolve(reference: string): Promise<Descriptor> {
    const tagged = this.tags.get(reference);
    if (tagged) return tagged;
    const content = this.blobs.get(reference);
    if (content) {
      const mediaType = (JSON.parse(content.toString('utf8')) as { mediaType?: string }).mediaType ?? '';
      return { mediaType, digest: reference, size: content.length };
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
