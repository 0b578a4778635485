import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describe as describeBlob } from '../../../src/oci/digest.ts';
import { jsonBytes } from '../../../src/oci/manifest.ts';
import { OCI_EMPTY, OCI_MANIFEST } from '../../../src/oci/mediatypes.ts';
import { OciLayout } from '../../../src/content/layout.ts';
import { ReferrersClient } from '../../../src/referrers/client.ts';
import { referrersTag } from '../../../src/referrers/tagschema.ts';

async function layoutWithImage() {
  const layout = new OciLayout(await mkdtemp(join(tmpdir(), 'referrers-layout-')));
  const config = Buffer.from('{}');
  const configDesc = describeBlob(OCI_EMPTY, config);
  await layout.pushBlob(configDesc, config);
  const image = jsonBytes({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: configDesc, layers: [] });
  const subject = describeBlob(OCI_MANIFEST, image);
  await layout.pushManifest(subject, image, 'v1');
  const referrer = (n: number) => {
    const content = jsonBytes({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: `application/x-${n}`, config: configDesc, layers: [], subject, annotations: { n: String(n) } });
    return { desc: describeBlob(OCI_MANIFEST, content), content };
  };
  return { layout, subject, referrer };
}

describe('referrers in an OCI layout (tag schema)', () => {
  it('indexes pushed referrers under sha256-<hex>, with artifactType and annotations, none lost when pushed together', async () => {
    const { layout, subject, referrer } = await layoutWithImage();
    const client = new ReferrersClient(layout, { settleMs: 5 });
    expect(await client.usesApi()).toBe(false);
    const items = [1, 2, 3, 4, 5].map(referrer);
    const results = await Promise.all(items.map((r) => client.push(r.desc, r.content)));
    expect(results.every((r) => r.indexedBy === 'tag' && r.indexTag === referrersTag(subject.digest))).toBe(true);
    const listed = await client.list(subject);
    expect(listed.map((d) => d.digest).sort()).toEqual(items.map((r) => r.desc.digest).sort());
    expect(listed.find((d) => d.digest === items[2]!.desc.digest)).toMatchObject({ artifactType: 'application/x-3', annotations: { n: '3' } });
    expect((await client.list(subject, ['application/x-2'])).map((d) => d.digest)).toEqual([items[1]!.desc.digest]);
    // Pushing the same referrer again changes nothing.
    const before = await readFile(join(layout.dir, 'index.json'), 'utf8');
    await client.push(items[0]!.desc, items[0]!.content);
    expect(await client.list(subject)).toHaveLength(5);
    expect(JSON.parse(await readFile(join(layout.dir, 'index.json'), 'utf8')).manifests).toHaveLength(JSON.parse(before).manifests.length);
  });

  it('refuses a manifest without a subject, and the API mode on a layout', async () => {
    const { layout } = await layoutWithImage();
    const content = jsonBytes({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: describeBlob(OCI_EMPTY, Buffer.from('{}')), layers: [] });
    await expect(new ReferrersClient(layout).push(describeBlob(OCI_MANIFEST, content), content)).rejects.toThrow(/has no subject/);
    expect(() => new ReferrersClient(layout, { mode: 'api' })).toThrow(/no referrers API/);
  });
});
