import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describe as describeBlob } from '../../../src/oci/digest.ts';
import { OciLayout } from '../../../src/content/layout.ts';
import { PolicyOciError } from '../../../src/errors.ts';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

describe('OCI image layout store', () => {
  it('stores blobs and tags in the image-spec layout', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'layout-'));
    const store = new OciLayout(dir);
    const blob = Buffer.from('hello');
    const desc = describeBlob('text/plain', blob);
    expect(await store.pushBlob(desc, blob)).toBe(true);
    expect(await store.pushBlob(desc, blob)).toBe(false);
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST, config: desc, layers: [] }));
    const mdesc = describeBlob(MANIFEST, manifest);
    await store.pushManifest(mdesc, manifest, 'v1');
    await store.tag(mdesc, 'latest');
    expect(await store.listTags()).toEqual(['latest', 'v1']);
    expect((await store.resolve('v1')).digest).toBe(mdesc.digest);
    expect((await store.resolve(mdesc.digest)).digest).toBe(mdesc.digest);
    expect(JSON.parse(await readFile(join(dir, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
    expect(index.manifests).toHaveLength(2);
    expect(await readFile(join(dir, 'blobs', 'sha256', desc.digest.slice(7)), 'utf8')).toBe('hello');
  });

  it('refuses a blob whose bytes do not match the digest, on write and on read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'layout-'));
    const store = new OciLayout(dir);
    const desc = describeBlob('text/plain', Buffer.from('good'));
    await expect(store.pushBlob(desc, Buffer.from('evil'))).rejects.toThrow(/does not match|bytes/);
    await store.pushBlob(desc, Buffer.from('good'));
    await writeFile(join(dir, 'blobs', 'sha256', desc.digest.slice(7)), 'bad!');
    await expect(store.fetch(desc)).rejects.toThrow(/does not match its digest/);
  });

  it('says NOT_FOUND for an unknown tag', async () => {
    const store = new OciLayout(await mkdtemp(join(tmpdir(), 'layout-')));
    const err = await store.resolve('nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyOciError);
    expect((err as PolicyOciError).code).toBe('NOT_FOUND');
  });
});
