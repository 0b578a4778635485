// sign, verify and discover through their core functions, on OCI image layouts (no network): the
// options each command offers change the result. Registry-only behaviour (the OCI 1.1 signature
// referrer, --no-referrer) is covered by test/e2e/sign-flags.test.ts.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { OciLayout } from '../../../src/content/layout.ts';
import { discover } from '../../../src/core/discover.ts';
import { signReference } from '../../../src/core/sign.ts';
import { verifyReference } from '../../../src/core/verify.ts';
import { describe as describeBlob } from '../../../src/oci/digest.ts';
import { jsonBytes } from '../../../src/oci/manifest.ts';
import { COSIGN_SIMPLE_SIGNING, OCI_EMPTY, OCI_MANIFEST } from '../../../src/oci/mediatypes.ts';
import type { Descriptor } from '../../../src/oci/types.ts';
import { discoverText } from '../../../src/output/discover.ts';
import { signText } from '../../../src/output/sign.ts';
import { verifyText } from '../../../src/output/verify.ts';
import { ReferrersClient } from '../../../src/referrers/client.ts';
import { cosignTag } from '../../../src/referrers/tagschema.ts';
import { signingIdentity } from '../../../src/signing/identity.ts';

const POLICY_TYPE = 'application/vnd.cncf.kyverno.config.v1+json';
const store = { ociLayout: true };

async function keyPair(dir: string, name: string): Promise<{ key: string; pub: string }> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key = join(dir, `${name}.key`);
  const pub = join(dir, `${name}.pub`);
  await writeFile(key, privateKey.export({ format: 'pem', type: 'sec1' }));
  await writeFile(pub, publicKey.export({ format: 'pem', type: 'spki' }));
  return { key, pub };
}

/** A layout `<tmp>/My Layout` holding an image tagged v1 and one artifact attached to it. */
async function layoutWithAttachedArtifact(): Promise<{ dir: string; image: Descriptor; attached: Descriptor }> {
  const dir = join(await mkdtemp(join(tmpdir(), 'trust-verbs-')), 'My Layout');
  const layout = new OciLayout(dir);
  const config = Buffer.from('{}');
  const configDesc = describeBlob(OCI_EMPTY, config);
  await layout.pushBlob(configDesc, config);
  const imageContent = jsonBytes({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: configDesc, layers: [] });
  const image = describeBlob(OCI_MANIFEST, imageContent);
  await layout.pushManifest(image, imageContent, 'v1');
  const artifactContent = jsonBytes({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: POLICY_TYPE, config: configDesc, layers: [], subject: image });
  const attached = describeBlob(OCI_MANIFEST, artifactContent);
  await new ReferrersClient(layout, { settleMs: 5 }).push(attached, artifactContent);
  return { dir, image, attached };
}

describe('signingIdentity (docker-reference in the payload)', () => {
  it('names registries as go-containerregistry does, and layouts by their directory', () => {
    expect(signingIdentity({ repository: '127.0.0.1:5000/team/policies' })).toBe('127.0.0.1:5000/team/policies');
    expect(signingIdentity({ repository: 'docker.io/library/nginx' })).toBe('index.docker.io/library/nginx');
    expect(signingIdentity({ repository: 'oci-layout:/tmp/x/My Layout' })).toBe('oci-layout/my-layout');
    expect(signingIdentity({ repository: 'oci-layout:/tmp/x/__' })).toBe('oci-layout/layout');
  });
});

describe('sign, verify and discover on an OCI layout', () => {
  let dir: string;
  let image: Descriptor;
  let attached: Descriptor;
  let signer: { key: string; pub: string };
  let other: { key: string; pub: string };
  beforeAll(async () => {
    ({ dir, image, attached } = await layoutWithAttachedArtifact());
    const keys = await mkdtemp(join(tmpdir(), 'trust-keys-'));
    signer = await keyPair(keys, 'signer');
    other = await keyPair(keys, 'other');
  });

  it('verify refuses what is not signed (exit 6), then accepts what sign wrote, with its signed annotations', async () => {
    await expect(verifyReference({ reference: `${dir}:v1`, store, keyPath: signer.pub })).rejects.toMatchObject({ code: 'UNSAFE_CONTENT', message: expect.stringMatching(/is not signed/) });
    // cosign v2's format (sign --new-bundle-format=false); the default bundle is in bundle-sign.test.ts.
    const signed = await signReference({ reference: `${dir}:v1`, store, keyPath: signer.key, format: 'cosign-simplesigning', annotations: { team: 'platform' } });
    expect(signed).toMatchObject({ reference: `${dir}:v1`, digest: image.digest, format: 'cosign-simplesigning', signatureTag: cosignTag(image.digest, 'sig'), added: true });
    expect(signed.referrer).toBeUndefined(); // a layout has no referrers API
    expect(signText(signed)).toBe(`Signed ${dir}:v1@${image.digest}\n  format:    cosign simple signing (legacy, cosign v2)\n  signature: ${signed.signatureTag} (${signed.signatureManifest})`);

    const verified = await verifyReference({ reference: `${dir}:v1`, store, keyPath: signer.pub });
    expect(verified).toMatchObject({ digest: image.digest, verified: 1 });
    expect(verified.signatures[0]).toMatchObject({ source: 'tag', valid: true, dockerReference: 'oci-layout/my-layout', annotations: { team: 'platform' } });
    expect(verifyText(verified)).toMatch(/^Verified .*: 1 of 1 signature verifies with the key\n {2}ok {6}tag sha256:/);
    await expect(verifyReference({ reference: `${dir}:v1`, store, keyPath: other.pub })).rejects.toMatchObject({ code: 'UNSAFE_CONTENT', message: expect.stringMatching(/no signature .* verifies with the key/) });
  });

  it('the API referrers mode is refused on a layout, by all three', async () => {
    const api = { reference: `${dir}:v1`, store, referrersMode: 'api' as const };
    await expect(signReference({ ...api, keyPath: signer.key })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(verifyReference({ ...api, keyPath: signer.pub })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(discover(api)).rejects.toMatchObject({ code: 'USAGE' });
  });

  it('discover draws the tree; depth and artifact types cut it', async () => {
    // .sig tags (cosign v2's format): the tree shows them as cosign-tag nodes.
    await signReference({ reference: `${dir}@${attached.digest}`, store, keyPath: other.key, format: 'cosign-simplesigning' });
    await signReference({ reference: `${dir}:v1`, store, keyPath: signer.key, format: 'cosign-simplesigning' });
    const full = await discover({ reference: `${dir}:v1`, store });
    expect(full).toMatchObject({ digest: image.digest, referrersBy: 'tag' });
    expect(full.warnings).toBeUndefined();
    const shape = (nodes: typeof full.referrers): unknown[] => nodes.map((n) => [n.artifactType, n.via, n.signatures, shape(n.referrers)]);
    expect(shape(full.referrers)).toEqual([
      [POLICY_TYPE, 'referrers', undefined, [[COSIGN_SIMPLE_SIGNING, 'cosign-tag', 1, []]]],
      [COSIGN_SIMPLE_SIGNING, 'cosign-tag', 2, []], // two signatures of the image, one .sig image
    ]);
    expect(discoverText(full).split('\n')).toEqual([
      `${dir}:v1@${image.digest}`,
      `├── ${attached.digest} ${POLICY_TYPE}`,
      `│   └── ${full.referrers[0]!.referrers[0]!.digest} cosign sig (tag ${cosignTag(attached.digest, 'sig')}, 1 layer) [cosign simple signing, key]`,
      `└── ${full.referrers[1]!.digest} cosign sig (tag ${cosignTag(image.digest, 'sig')}, 2 layers) [2× cosign simple signing, key]`,
      '(referrers listed by the tag schema)',
    ]);

    const shallow = await discover({ reference: `${dir}:v1`, store, depth: 1 });
    expect(shape(shallow.referrers)).toEqual([
      [POLICY_TYPE, 'referrers', undefined, []],
      [COSIGN_SIMPLE_SIGNING, 'cosign-tag', 2, []],
    ]);
    // The filter applies to the first level only: the policy's own signature is still listed.
    const policies = await discover({ reference: `${dir}:v1`, store, artifactTypes: [POLICY_TYPE] });
    expect(shape(policies.referrers)).toEqual([[POLICY_TYPE, 'referrers', undefined, [[COSIGN_SIMPLE_SIGNING, 'cosign-tag', 1, []]]]]);
    const signatures = await discover({ reference: `${dir}:v1`, store, artifactTypes: [COSIGN_SIMPLE_SIGNING] });
    expect(shape(signatures.referrers)).toEqual([[COSIGN_SIMPLE_SIGNING, 'cosign-tag', 2, []]]);
    const none = await discover({ reference: `${dir}:v1`, store, artifactTypes: ['application/x-nothing'] });
    expect(discoverText(none)).toBe(`${dir}:v1@${image.digest}\n(no referrers)\n(referrers listed by the tag schema)`);
  });
});
