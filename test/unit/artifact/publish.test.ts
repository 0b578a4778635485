// publish: the unchanged check, then the packed artifact copied from memory (copyGraph).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packPolicies } from '../../../src/artifact/pack.ts';
import { publish, stagePacked } from '../../../src/artifact/publish.ts';
import { OciLayout } from '../../../src/content/layout.ts';
import { MemoryStore } from '../../../src/content/memory.ts';
import type { Target } from '../../../src/content/types.ts';
import { loadEngines } from '../../../src/engines/index.ts';
import { OCI_INDEX } from '../../../src/oci/mediatypes.ts';
import type { Descriptor } from '../../../src/oci/types.ts';
import { loadPolicies } from '../../../src/policy/load.ts';

const EXAMPLES = join(import.meta.dirname, '..', '..', '..', 'examples', 'policies');

async function packedExamples() {
  const docs = await loadPolicies([join(EXAMPLES, 'kyverno'), join(EXAMPLES, 'kubearmor')]);
  return packPolicies(docs, loadEngines(), { annotations: { 'org.opencontainers.image.version': 'test' } });
}

/** Counts what a real store is asked (the shape of the requests a registry would get). */
function counting(inner: Target): Target & { calls: string[] } {
  const calls: string[] = [];
  const wrap =
    <A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>) =>
    (...args: A) => {
      calls.push(name);
      return fn(...args);
    };
  return {
    name: inner.name,
    calls,
    resolve: wrap('resolve', (r: string) => inner.resolve(r)),
    fetch: wrap('fetch', (d: Descriptor) => inner.fetch(d)),
    exists: wrap('exists', (d: Descriptor) => inner.exists(d)),
    pushBlob: wrap('pushBlob', (d: Descriptor, c: Buffer) => inner.pushBlob(d, c)),
    pushManifest: wrap('pushManifest', (d: Descriptor, c: Buffer, t?: string) => inner.pushManifest(d, c, t)),
    tag: wrap('tag', (d: Descriptor, t: string) => inner.tag(d, t)),
    listTags: wrap('listTags', () => inner.listTags()),
  };
}

describe('publish', () => {
  it('stages the packed artifact as a store holding every blob and manifest', async () => {
    const packed = await packedExamples();
    expect(packed.root.descriptor.mediaType).toBe(OCI_INDEX);
    const staged = stagePacked(packed);
    expect((await staged.resolve(packed.root.descriptor.digest)).mediaType).toBe(OCI_INDEX);
    for (const m of packed.manifests) for (const b of m.blobs) expect(await staged.fetch(b.descriptor)).toBe(b.content);
  });

  it('sends what a fresh push needs (one check per tag, each blob once, the manifests, one write per tag), then nothing', async () => {
    const packed = await packedExamples();
    const blobs = packed.manifests.reduce((n, m) => n + m.blobs.length, 0);
    const target = counting(new OciLayout(await mkdtemp(join(tmpdir(), 'publish-'))));
    const progress: number[] = [];
    const first = await publish(target, packed, ['v1', 'latest'], { concurrency: 3, onProgress: (done) => progress.push(done) });
    expect(first).toMatchObject({ digest: packed.root.descriptor.digest, unchanged: false, blobsUploaded: blobs, blobsTotal: blobs, tags: ['v1', 'latest'] });
    expect(first.bytesUploaded).toBe(packed.manifests.flatMap((m) => m.blobs).reduce((n, b) => n + b.content.length, 0));
    expect(progress).toHaveLength(blobs);
    const counts = Object.fromEntries(['resolve', 'exists', 'fetch', 'pushBlob', 'pushManifest', 'tag'].map((c) => [c, target.calls.filter((x) => x === c).length]));
    expect(counts).toEqual({ resolve: 2, exists: 0, fetch: 0, pushBlob: blobs, pushManifest: packed.manifests.length + 2, tag: 0 });
    expect(target.calls.at(-1)).toBe('pushManifest');

    target.calls.length = 0;
    const again = await publish(target, packed, ['v1', 'latest']);
    expect(again).toMatchObject({ unchanged: true, blobsUploaded: 0, blobsTotal: blobs, bytesUploaded: 0 });
    expect(target.calls).toEqual(['resolve', 'resolve']);

    // A new tag: everything is offered again and found there; only the manifests are written.
    const more = await publish(target, packed, ['v2']);
    expect(more).toMatchObject({ unchanged: false, blobsUploaded: 0, blobsTotal: blobs });
    expect(await target.listTags()).toEqual(['latest', 'v1', 'v2']);
  });

  it('without tags pushes the root by digest', async () => {
    const packed = await packedExamples();
    const target = new MemoryStore();
    const result = await publish(target, packed, []);
    expect(result.unchanged).toBe(false);
    expect(target.tags.size).toBe(0);
    expect((await target.resolve(packed.root.descriptor.digest)).digest).toBe(packed.root.descriptor.digest);
  });
});
