// attach and copy as the application layer calls them, on OCI image layouts (no network): policies
// attached and signed in one layout travel with their image to another, by the tag schema.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { packPolicies } from '../../../src/artifact/pack.ts';
import { publish } from '../../../src/artifact/publish.ts';
import { OciLayout } from '../../../src/content/layout.ts';
import { attachPolicies, policyArtifactTypes } from '../../../src/core/attach.ts';
import { copyArtifact } from '../../../src/core/copy.ts';
import type { Reporter } from '../../../src/core/reporter.ts';
import { loadEngines } from '../../../src/engines/index.ts';
import { loadPolicies } from '../../../src/policy/load.ts';
import { ReferrersClient } from '../../../src/referrers/client.ts';
import { cosignTag, referrersTag } from '../../../src/referrers/tagschema.ts';

const EXAMPLES = join(import.meta.dirname, '..', '..', '..', 'examples', 'policies');
const LAYOUT = { ociLayout: true };

function recorder(): Reporter & { said: string[] } {
  const said: string[] = [];
  return { said, warn: (m) => said.push(`warn ${m}`), progress: (m) => said.push(`progress ${m}`) };
}

describe('attachPolicies and copyArtifact on layouts', () => {
  let work: string;
  let image: string;
  let imageDigest: string;
  let keyPath: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'core-attach-copy-'));
    image = join(work, 'src');
    // The "image": any manifest will do as a subject.
    const docs = await loadPolicies([join(EXAMPLES, 'kubearmor')]);
    imageDigest = (await publish(new OciLayout(image), packPolicies(docs, loadEngines()), ['v1'])).digest;
    keyPath = join(work, 'ec.key');
    await writeFile(keyPath, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
  });

  // Signed in cosign v2's format (.sig tags): what copy must carry beside the referrers. Bundle
  // signatures (the default) are referrers themselves: test/e2e/copy.test.ts.
  it('attaches one signed referrer per engine, indexed by the tag schema', async () => {
    const reporter = recorder();
    const result = await attachPolicies(
      { reference: `${image}:v1`, store: LAYOUT, paths: [join(EXAMPLES, 'kyverno'), join(EXAMPLES, 'kubearmor')], signKeyPath: keyPath, signFormat: 'cosign-simplesigning', annotations: { 'org.opencontainers.image.created': '' } },
      reporter,
    );
    expect(result.subject.digest).toBe(imageDigest);
    expect(result.artifacts.map((a) => a.engine)).toEqual(['kubearmor', 'kyverno']);
    for (const a of result.artifacts) {
      expect(a).toMatchObject({ indexedBy: 'tag', indexTag: referrersTag(imageDigest), signatureTag: cosignTag(a.digest, 'sig') });
      expect(policyArtifactTypes()).toContain(a.artifactType);
    }
    expect(result.blobsUploaded).toBeGreaterThan(0);
    expect(reporter.said.some((s) => s.startsWith('progress '))).toBe(true);
    const listed = await new ReferrersClient(new OciLayout(image)).list({ digest: imageDigest }, policyArtifactTypes());
    expect(listed.map((d) => d.digest).sort()).toEqual(result.artifacts.map((a) => a.digest).sort());
  });

  it('copies the image with its referrers and their signatures; again, nothing is sent', async () => {
    const target = join(work, 'dst');
    const options = { source: `${image}:v1`, sourceStore: LAYOUT, destination: target, destinationStore: LAYOUT, includeReferrers: true };
    const copied = await copyArtifact(options);
    expect(copied).toMatchObject({ digest: imageDigest, tags: ['v1'], destination: `oci-layout:${target}` });
    const attached = copied.referrers.filter((r) => r.artifactType && policyArtifactTypes().includes(r.artifactType));
    expect(attached.map((r) => r.subject)).toEqual([imageDigest, imageDigest]);
    for (const r of attached) expect(copied.referrers).toContainEqual({ digest: expect.any(String), subject: r.digest, tag: cosignTag(r.digest, 'sig') });

    const dst = new OciLayout(target);
    expect((await dst.resolve('v1')).digest).toBe(imageDigest);
    const tags = await dst.listTags();
    expect(tags).toContain(referrersTag(imageDigest));
    for (const r of attached) expect(tags).toContain(cosignTag(r.digest, 'sig'));

    const again = await copyArtifact(options);
    expect(again.blobsCopied).toBe(0);
    expect(again.blobsSkipped).toBe(copied.blobsCopied);
  });

  it('refuses a destination named by digest', async () => {
    await expect(copyArtifact({ source: `${image}:v1`, sourceStore: LAYOUT, destination: `${join(work, 'x')}@${imageDigest}`, destinationStore: LAYOUT })).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringMatching(/takes no digest/),
    });
  });

  it('copies a digest-only source untagged', async () => {
    const target = join(work, 'untagged');
    const copied = await copyArtifact({ source: `${image}@${imageDigest}`, sourceStore: LAYOUT, destination: target, destinationStore: LAYOUT });
    expect(copied.tags).toEqual([]);
    expect(await new OciLayout(target).listTags()).toEqual([]);
    expect((await new OciLayout(target).resolve(imageDigest)).digest).toBe(imageDigest);
  });
});
