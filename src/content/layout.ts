// An OCI image layout directory (image-spec "image-layout.md"): `oci-layout`, `index.json`, and
// `blobs/<alg>/<hex>`. Tags are `org.opencontainers.image.ref.name` annotations in index.json,
// as oras and skopeo write them. Writes go to a temp file and are renamed into place.
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { isDigest, verifyContent } from '../oci/digest.ts';
import { OCI_INDEX, OCI_MANIFEST } from '../oci/mediatypes.ts';
import { PolicyOciError } from '../errors.ts';
import type { Descriptor, ImageIndex } from '../oci/types.ts';
import type { Target } from './types.ts';
import { rmSync } from 'node:fs';
import { onInterrupt } from '../util/interrupt.ts';

const REF_NAME = 'org.opencontainers.image.ref.name';

async function writeAtomic(path: string, content: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  // Ctrl-C between the write and the rename must not leave the temp file in the layout.
  const forget = onInterrupt(() => rmSync(tmp, { force: true }));
  try {
    await writeFile(tmp, content);
    await rename(tmp, path);
  } finally {
    forget();
  }
}

export class OciLayout implements Target {
  readonly name: string;
  // Serialises index.json updates within this process.
  private indexLock: Promise<unknown> = Promise.resolve();

  constructor(readonly dir: string) {
    this.name = `oci-layout:${dir}`;
  }

  private blobPath(digest: string): string {
    if (!isDigest(digest)) throw new PolicyOciError('DIGEST_MISMATCH', `unsupported digest "${digest.slice(0, 80)}"`);
    const [algorithm, hex] = digest.split(':');
    return join(this.dir, 'blobs', algorithm!, hex!);
  }

  private async readIndex(): Promise<ImageIndex> {
    try {
      const parsed = JSON.parse(await readFile(join(this.dir, 'index.json'), 'utf8')) as ImageIndex;
      if (!Array.isArray(parsed.manifests)) throw new Error('index.json has no manifests array');
      return parsed;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] };
      throw new PolicyOciError('IO', `${this.name}: unreadable index.json (${(err as Error).message})`);
    }
  }

  private async init(): Promise<void> {
    await mkdir(join(this.dir, 'blobs', 'sha256'), { recursive: true });
    try {
      await stat(join(this.dir, 'oci-layout'));
    } catch {
      await writeAtomic(join(this.dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    }
  }

  async resolve(reference: string): Promise<Descriptor> {
    const index = await this.readIndex();
    const found = isDigest(reference)
      ? index.manifests.find((m) => m.digest === reference)
      : index.manifests.find((m) => m.annotations?.[REF_NAME] === reference);
    if (found) {
      const { annotations, ...rest } = found;
      const others = Object.fromEntries(Object.entries(annotations ?? {}).filter(([k]) => k !== REF_NAME));
      return Object.keys(others).length > 0 ? { ...rest, annotations: others } : rest;
    }
    if (isDigest(reference)) {
      // A manifest stored without a tag is still addressable by digest.
      try {
        const content = await readFile(this.blobPath(reference));
        const parsed = JSON.parse(content.toString('utf8')) as { mediaType?: string };
        return { mediaType: parsed.mediaType ?? OCI_MANIFEST, digest: reference, size: content.length };
      } catch {
        /* fall through */
      }
    }
    await this.requireLayout();
    const hint = isDigest(reference) ? '' : `; \`kubectl policyoci tags --oci-layout ${this.dir}\` lists its tags`;
    throw new PolicyOciError('NOT_FOUND', `${this.name}: "${reference}" not found${hint}`);
  }

  async fetch(desc: Descriptor): Promise<Buffer> {
    let content: Buffer;
    try {
      content = await readFile(this.blobPath(desc.digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new PolicyOciError('NOT_FOUND', `${this.name}: blob ${desc.digest} not found`);
      throw new PolicyOciError('IO', `${this.name}: ${(err as Error).message}`);
    }
    verifyContent(desc, content, `${this.name} blob`);
    return content;
  }

  async exists(desc: Descriptor): Promise<boolean> {
    try {
      return (await stat(this.blobPath(desc.digest))).size === desc.size;
    } catch {
      return false;
    }
  }

  async pushBlob(desc: Descriptor, content: Buffer): Promise<boolean> {
    verifyContent(desc, content, 'blob');
    if (await this.exists(desc)) return false;
    await this.init();
    await writeAtomic(this.blobPath(desc.digest), content);
    return true;
  }

  async pushManifest(desc: Descriptor, content: Buffer, tag?: string): Promise<void> {
    await this.pushBlob(desc, content);
    if (tag !== undefined) await this.tag(desc, tag);
  }

  tag(desc: Descriptor, tag: string): Promise<void> {
    const next = this.indexLock.then(async () => {
      await this.init();
      const index = await this.readIndex();
      const entry: Descriptor = { mediaType: desc.mediaType, digest: desc.digest, size: desc.size };
      if (desc.artifactType) entry.artifactType = desc.artifactType;
      entry.annotations = { ...(desc.annotations ?? {}), [REF_NAME]: tag };
      index.manifests = [...index.manifests.filter((m) => m.annotations?.[REF_NAME] !== tag), entry];
      await writeAtomic(join(this.dir, 'index.json'), JSON.stringify(index));
    });
    this.indexLock = next.catch(() => undefined);
    return next;
  }

  /** Reading from a directory that is not a layout is an error (an empty layout is not). */
  private async requireLayout(): Promise<void> {
    let isDir: boolean;
    try {
      isDir = (await stat(this.dir)).isDirectory();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new PolicyOciError('NOT_FOUND', `no OCI image layout at ${this.dir}: the directory does not exist`);
      throw new PolicyOciError('IO', `${this.name}: ${(err as Error).message}`);
    }
    if (!isDir) throw new PolicyOciError('NOT_FOUND', `${this.dir} is not an OCI image layout (it is a file, not a directory)`);
    const has = async (name: string) => stat(join(this.dir, name)).then(() => true, () => false);
    if (!(await has('oci-layout')) && !(await has('index.json'))) {
      throw new PolicyOciError('NOT_FOUND', `${this.dir} is not an OCI image layout (it has no oci-layout or index.json file)`);
    }
  }

  async listTags(): Promise<string[]> {
    await this.requireLayout();
    const index = await this.readIndex();
    return index.manifests.flatMap((m) => (m.annotations?.[REF_NAME] ? [m.annotations[REF_NAME]] : [])).sort();
  }
}
