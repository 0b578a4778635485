// copyGraph between the local stores (memory, OCI image layout): what arrives, in which order,
// what is refused before anything is written, and how "already there" is learnt.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyGraph, CopySession } from '../../../src/content/copy.ts';
import { OciLayout } from '../../../src/content/layout.ts';
import { MemoryStore } from '../../../src/content/memory.ts';
import type { Target } from '../../../src/content/types.ts';
import { PolicyOciError } from '../../../src/errors.ts';
import { describe as describeContent } from '../../../src/oci/digest.ts';
import { jsonBytes } from '../../../src/oci/manifest.ts';
import { OCI_EMPTY, OCI_INDEX, OCI_MANIFEST } from '../../../src/oci/mediatypes.ts';
import type { Descriptor } from '../../../src/oci/types.ts';

const layout = async (): Promise<OciLayout> => new OciLayout(await mkdtemp(join(tmpdir(), 'copy-')));

interface Stored {
  desc: Descriptor;
  content: Buffer;
}

async function putBlob(store: Target, text: string, mediaType = 'application/yaml'): Promise<Stored> {
  const content = Buffer.from(text);
  const desc = describeContent(mediaType, content);
  await store.pushBlob(desc, content);
  return { desc, content };
}

async function putManifest(store: Target, value: object, mediaType = OCI_MANIFEST, tag?: string): Promise<Stored> {
  const content = jsonBytes({ schemaVersion: 2, mediaType, ...value });
  const desc = describeContent(mediaType, content);
  await store.pushManifest(desc, content, tag);
  return { desc, content };
}

/** An index over two manifests (three layers, one shared, and the empty config): 4 blobs, 3 manifests. */
async function sampleGraph(store: Target) {
  const config = await putBlob(store, '{}', OCI_EMPTY);
  const [a, b, shared] = [await putBlob(store, 'a: 1\n'), await putBlob(store, 'b: 2\n'), await putBlob(store, 'shared: 3\n')];
  const first = await putManifest(store, { artifactType: 'application/x-one', config: config.desc, layers: [a.desc, shared.desc] });
  const second = await putManifest(store, { artifactType: 'application/x-two', config: config.desc, layers: [b.desc, shared.desc, shared.desc] });
  const index = await putManifest(store, { manifests: [first.desc, second.desc] }, OCI_INDEX, 'v1');
  return { config, layers: [a, b, shared], manifests: [first, second], index };
}

/** A real store that records what is asked of it, in order. */
class Recording implements Target {
  readonly calls: string[] = [];
  constructor(
    readonly inner: Target,
    readonly name = `recording:${inner.name}`,
  ) {}
  private note(call: string): void {
    this.calls.push(call);
  }
  resolve(reference: string) {
    this.note(`resolve ${reference}`);
    return this.inner.resolve(reference);
  }
  fetch(desc: Descriptor) {
    this.note(`fetch ${desc.digest}`);
    return this.inner.fetch(desc);
  }
  exists(desc: Descriptor) {
    this.note(`exists ${desc.digest}`);
    return this.inner.exists(desc);
  }
  pushBlob(desc: Descriptor, content: Buffer) {
    this.note(`pushBlob ${desc.digest}`);
    return this.inner.pushBlob(desc, content);
  }
  pushManifest(desc: Descriptor, content: Buffer, tag?: string) {
    this.note(`pushManifest ${desc.digest}${tag ? ` ${tag}` : ''}`);
    return this.inner.pushManifest(desc, content, tag);
  }
  tag(desc: Descriptor, tag: string) {
    this.note(`tag ${desc.digest} ${tag}`);
    return this.inner.tag(desc, tag);
  }
  listTags() {
    return this.inner.listTags();
  }
}

describe('copyGraph', () => {
  it('copies an index from memory into a layout: blobs first, then the children, then the root and its tags', async () => {
    const src = new MemoryStore();
    const g = await sampleGraph(src);
    const dst = new Recording(await layout());
    const progress: Array<[number, number]> = [];
    const result = await copyGraph(src, dst, g.index.desc, { tags: ['v1', 'latest'], onBlob: (done, total) => progress.push([done, total]) });
    expect(result).toMatchObject({ manifests: 3, blobsCopied: 4, blobsSkipped: 0, bytesCopied: 2 + 5 + 5 + 10 });
    expect(result.root.digest).toBe(g.index.desc.digest);
    expect(progress.at(-1)).toEqual([4, 4]);
    expect(progress).toHaveLength(4);

    const pushes = dst.calls.filter((c) => c.startsWith('push'));
    expect(pushes.slice(0, 4).every((c) => c.startsWith('pushBlob'))).toBe(true);
    expect(pushes.slice(4)).toEqual([
      `pushManifest ${g.manifests[0]!.desc.digest}`,
      `pushManifest ${g.manifests[1]!.desc.digest}`,
      `pushManifest ${g.index.desc.digest} v1`,
      `pushManifest ${g.index.desc.digest} latest`,
    ]);
    // Content staged in memory is offered, not asked about: the destination learns "already there" in pushBlob.
    expect(dst.calls.some((c) => c.startsWith('exists'))).toBe(false);

    expect(await dst.listTags()).toEqual(['latest', 'v1']);
    expect((await dst.resolve('v1')).digest).toBe(g.index.desc.digest);
    for (const s of [g.config, ...g.layers, ...g.manifests]) expect(await dst.fetch(s.desc)).toEqual(s.content);
  });

  it('copies a layout into memory byte for byte, and a second copy reads no blob', async () => {
    const src = new Recording(await layout());
    const g = await sampleGraph(src);
    const dst = new MemoryStore();
    await copyGraph(src, dst, await src.resolve('v1'), { tags: ['v1'] });
    expect((await dst.fetch(g.index.desc)).equals(g.index.content)).toBe(true);
    expect((await dst.resolve('v1')).digest).toBe(g.index.desc.digest);
    src.calls.length = 0;
    const again = await copyGraph(src, dst, g.index.desc, { tags: ['v1'] });
    expect(again).toMatchObject({ blobsCopied: 0, blobsSkipped: 4, bytesCopied: 0 });
    expect(src.calls).toEqual([g.index, ...g.manifests].map((m) => `fetch ${m.desc.digest}`));
  });

  it('reads nothing from a source that the destination already has', async () => {
    const inner = new MemoryStore();
    const g = await sampleGraph(inner);
    const src = new Recording(inner, 'remote-like');
    const dst = await layout();
    await dst.pushBlob(g.config.desc, g.config.content);
    const result = await copyGraph(src, dst, g.index.desc);
    expect(result).toMatchObject({ blobsCopied: 3, blobsSkipped: 1 });
    expect(src.calls).not.toContain(`fetch ${g.config.desc.digest}`);
    // No tags: the root is stored by its digest only.
    expect(await dst.listTags()).toEqual([]);
    expect((await dst.resolve(g.index.desc.digest)).digest).toBe(g.index.desc.digest);
  });

  it('leaves no tag (and no root) when a blob is missing from the source', async () => {
    const src = new MemoryStore();
    const g = await sampleGraph(src);
    src.blobs.delete(g.layers[1]!.desc.digest);
    const dst = await layout();
    await expect(copyGraph(src, dst, g.index.desc, { tags: ['v1'] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await dst.listTags()).toEqual([]);
    expect(await dst.exists(g.index.desc)).toBe(false);
  });

  it('refuses a corrupted blob of a layout, and writes no tag', async () => {
    const src = await layout();
    const g = await sampleGraph(src);
    await writeFile(join(src.dir, 'blobs', 'sha256', g.layers[0]!.desc.digest.slice(7)), 'a: 666\n');
    const dst = new MemoryStore();
    await expect(copyGraph(src, dst, g.index.desc, { tags: ['v1'] })).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(await dst.listTags()).toEqual([]);
    expect(dst.blobs.has(g.layers[0]!.desc.digest)).toBe(false);
  });

  it('checks sizes before reading or writing anything', async () => {
    const src = new MemoryStore();
    const g = await sampleGraph(src);
    const dst = new Recording(new MemoryStore());
    const big = await copyGraph(src, dst, g.index.desc, { tags: ['v1'], maxManifestBytes: 100 }).catch((e: unknown) => e);
    expect(big).toBeInstanceOf(PolicyOciError);
    expect((big as PolicyOciError).code).toBe('LIMIT');
    await expect(copyGraph(src, dst, g.index.desc, { tags: ['v1'], maxBlobBytes: 5 })).rejects.toThrow(/blob sha256:[a-f0-9]{64} is 10 bytes, above the copy limit of 5/);
    expect(dst.calls.filter((c) => c.startsWith('push'))).toEqual([]);
  });

  it('refuses indexes nested without end and graphs above the manifest budget', async () => {
    const src = new MemoryStore();
    const config = await putBlob(src, '{}', OCI_EMPTY);
    let node = await putManifest(src, { config: config.desc, layers: [] });
    for (let i = 0; i < 40; i++) node = await putManifest(src, { manifests: [node.desc], annotations: { level: String(i) } }, OCI_INDEX);
    await expect(copyGraph(src, new MemoryStore(), node.desc)).rejects.toThrow(/nested deeper than 32/);
    const session = new CopySession();
    session.visited = 10_000;
    const leaf = await putManifest(src, { config: config.desc, layers: [] });
    await expect(copyGraph(src, new MemoryStore(), leaf.desc, { session })).rejects.toThrow(/more than 10000 manifests/);
  });

  it('hands manifests with a subject to pushReferrer, and the others to the destination', async () => {
    const src = new MemoryStore();
    const image = await sampleGraph(src);
    const config = await putBlob(src, '{}', OCI_EMPTY);
    const layer = await putBlob(src, 'policy: 1\n');
    const subject = { mediaType: OCI_INDEX, digest: image.index.desc.digest, size: image.index.desc.size };
    const referrer = await putManifest(src, { artifactType: 'application/x-policy', config: config.desc, layers: [layer.desc], subject });
    const dst = new Recording(new MemoryStore());
    const routed: string[] = [];
    const pushReferrer = async (desc: Descriptor, content: Buffer, tag?: string) => {
      routed.push(`${desc.digest}${tag ? ` ${tag}` : ''}`);
      await dst.inner.pushManifest(desc, content, tag);
    };
    await copyGraph(src, dst, image.index.desc, { tags: ['v1'], pushReferrer });
    expect(routed).toEqual([]);
    await copyGraph(src, dst, referrer.desc, { tags: ['attached'], pushReferrer });
    expect(routed).toEqual([`${referrer.desc.digest} attached`]);
    expect(dst.calls).not.toContain(`pushManifest ${referrer.desc.digest} attached`);
    expect((await dst.resolve('attached')).digest).toBe(referrer.desc.digest);
  });

  it('shares one session between copies: nothing twice, tags still written; checkRoot refuses before any write', async () => {
    const src = new MemoryStore();
    const g = await sampleGraph(src);
    const dst = new Recording(new MemoryStore());
    const session = new CopySession();
    const first = await copyGraph(src, dst, g.manifests[0]!.desc, { session });
    expect(first).toMatchObject({ manifests: 1, blobsCopied: 3 });
    const second = await copyGraph(src, dst, g.index.desc, { session, tags: ['v1'] });
    // The config and the shared layer went up with the first manifest; the first manifest too.
    expect(second).toMatchObject({ manifests: 2, blobsCopied: 1, blobsSkipped: 0 });
    const third = await copyGraph(src, dst, g.index.desc, { session, tags: ['v2'] });
    expect(third).toMatchObject({ manifests: 0, blobsCopied: 0 });
    expect(await dst.listTags()).toEqual(['v1', 'v2']);

    const before = dst.calls.length;
    const refused = copyGraph(src, dst, g.manifests[1]!.desc, {
      checkRoot: (m) => {
        if (m.subject === undefined) throw new PolicyOciError('UNSAFE_CONTENT', 'no subject');
      },
    });
    await expect(refused).rejects.toThrow(/no subject/);
    expect(dst.calls.slice(before).filter((c) => c.startsWith('push'))).toEqual([]);
  });

  it('refuses a manifest that is not JSON', async () => {
    const src = await layout();
    const content = Buffer.from('not json');
    const desc = describeContent(OCI_MANIFEST, content);
    await src.pushBlob(desc, content);
    await expect(copyGraph(src, new MemoryStore(), desc)).rejects.toMatchObject({ code: 'UNSAFE_CONTENT' });
    expect(await readFile(join(src.dir, 'blobs', 'sha256', desc.digest.slice(7)), 'utf8')).toBe('not json');
  });
});
