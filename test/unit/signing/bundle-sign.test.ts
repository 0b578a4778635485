// What `sign --key` writes by default: a Sigstore bundle v0.3 (DSSE over an in-toto statement,
// public-key hint, no log entry) as an OCI 1.1 referrer — checked field by field against what
// cosign v3.1.3 writes (docs/TRUST.md), and verified by sigstore-js. On OCI image layouts (no
// network); cosign itself reads what we write in test/e2e/trust-matrix.test.ts.
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { beforeAll, describe, expect, it } from 'vitest';
import { OciLayout } from '../../../src/content/layout.ts';
import { attachPolicies } from '../../../src/core/attach.ts';
import { signReference } from '../../../src/core/sign.ts';
import { describe as describeBlob } from '../../../src/oci/digest.ts';
import { jsonBytes } from '../../../src/oci/manifest.ts';
import { OCI_EMPTY, OCI_MANIFEST } from '../../../src/oci/mediatypes.ts';
import type { Descriptor, ImageManifest } from '../../../src/oci/types.ts';
import { signText } from '../../../src/output/sign.ts';
import { ReferrersClient } from '../../../src/referrers/client.ts';
import { referrersTag } from '../../../src/referrers/tagschema.ts';
import { buildSignatureBundle, COSIGN_SIGN_PREDICATE_TYPE, publicKeyHint, SIGSTORE_BUNDLE_ARTIFACT_TYPE } from '../../../src/signing/bundle-sign.ts';
import { verifyBundle } from '../../../src/signing/sigstore.ts';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const store = { ociLayout: true };

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(), publicKey };
}

interface BundleJson {
  mediaType: string;
  verificationMaterial: { publicKey: { hint: string }; tlogEntries?: unknown[] };
  dsseEnvelope: { payload: string; payloadType: string; signatures: Array<{ sig: string; keyid?: string }> };
}

describe('buildSignatureBundle', () => {
  const signer = keyPair();
  const other = keyPair();
  const bytes = buildSignatureBundle(signer.privateKey, DIGEST, { 'z.example/b': '2', 'a.example/a': '1' });
  const bundle = JSON.parse(bytes.toString('utf8')) as BundleJson;

  it('is a v0.3 bundle with a DSSE in-toto statement over the digest, as cosign v3 writes it', () => {
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    // The hint is the base64 SHA-256 of the SPKI DER; no log entry.
    expect(bundle.verificationMaterial.publicKey.hint).toBe(createHash('sha256').update(signer.publicKey.export({ format: 'der', type: 'spki' })).digest('base64'));
    expect(bundle.verificationMaterial.publicKey.hint).toBe(publicKeyHint(signer.privateKey));
    expect(bundle.verificationMaterial.tlogEntries ?? []).toEqual([]);
    expect(bundle.dsseEnvelope.payloadType).toBe('application/vnd.in-toto+json');
    expect(bundle.dsseEnvelope.signatures).toHaveLength(1);
    expect(bundle.dsseEnvelope.signatures[0]).not.toHaveProperty('keyid');
    expect(JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'))).toEqual({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ digest: { sha256: 'ab'.repeat(32) }, annotations: { 'a.example/a': '1', 'z.example/b': '2' } }],
      predicateType: COSIGN_SIGN_PREDICATE_TYPE,
      predicate: {},
    });
    // sigstore-js reads it as a valid bundle.
    expect(() => bundleFromJSON(bundle)).not.toThrow();
  });

  it('verifies with the key for that digest only, and not with another key', () => {
    const check = (digest: string, publicKey: string) => verifyBundle({ bundle: bytes, artifact: { digest }, signer: { kind: 'key', publicKey }, ignoreTlog: true });
    expect(check(DIGEST, signer.publicPem)).toMatchObject({ verified: true });
    expect(check(`sha256:${'cd'.repeat(32)}`, signer.publicPem)).toMatchObject({ verified: false });
    expect(check(DIGEST, other.publicPem)).toMatchObject({ verified: false });
  });
});

describe('sign and attach --sign-key on an OCI layout', () => {
  let dir: string;
  let image: Descriptor;
  let keyPath: string;
  let publicPem: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bundle-sign-'));
    const layout = new OciLayout(dir);
    const config = Buffer.from('{}');
    const configDesc = describeBlob(OCI_EMPTY, config);
    await layout.pushBlob(configDesc, config);
    const content = jsonBytes({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: configDesc, layers: [] });
    image = describeBlob(OCI_MANIFEST, content);
    await layout.pushManifest(image, content, 'v1');
    const pair = keyPair();
    publicPem = pair.publicPem;
    keyPath = join(dir, '..', `${dir.split('/').pop()}.key`);
    await writeFile(keyPath, pair.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  });

  it('sign writes a bundle referrer by default, indexed by the tag schema, with cosign\'s manifest', async () => {
    const signed = await signReference({ reference: `${dir}:v1`, store, keyPath, annotations: { team: 'platform' } });
    expect(signed).toMatchObject({ digest: image.digest, format: 'sigstore-bundle', bundleVersion: 'v0.3', content: 'dsse', indexedBy: 'tag', indexTag: referrersTag(image.digest), added: true });
    expect(signed.referrer).toBe(signed.signatureManifest);
    expect(signed).not.toHaveProperty('signatureTag');
    expect(signText(signed)).toBe(
      `Signed ${dir}:v1@${image.digest}\n  format:    Sigstore bundle v0.3 (DSSE, in-toto statement)\n  referrer:  ${signed.referrer} (tag schema ${referrersTag(image.digest)})`,
    );

    const layout = new OciLayout(dir);
    const listed = await new ReferrersClient(layout).list({ digest: image.digest }, [SIGSTORE_BUNDLE_ARTIFACT_TYPE]);
    expect(listed.map((d) => d.digest)).toEqual([signed.referrer]);
    const manifest = JSON.parse((await layout.fetch(listed[0]!)).toString('utf8')) as ImageManifest;
    expect(manifest).toMatchObject({
      mediaType: OCI_MANIFEST,
      artifactType: SIGSTORE_BUNDLE_ARTIFACT_TYPE,
      config: { mediaType: OCI_EMPTY, size: 2 },
      subject: { mediaType: image.mediaType, digest: image.digest, size: image.size },
      annotations: { 'dev.sigstore.bundle.content': 'dsse-envelope', 'dev.sigstore.bundle.predicateType': COSIGN_SIGN_PREDICATE_TYPE },
    });
    expect(manifest.annotations!['org.opencontainers.image.created']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(manifest.layers.map((l) => l.mediaType)).toEqual([SIGSTORE_BUNDLE_ARTIFACT_TYPE]);
    const bundle = await layout.fetch(manifest.layers[0]!);
    expect(verifyBundle({ bundle, artifact: { digest: image.digest }, signer: { kind: 'key', publicKey: publicPem }, ignoreTlog: true })).toMatchObject({ verified: true });
  });

  it('refuses --no-referrer with a bundle, and a format without a signing key, before reading anything', async () => {
    const nowhere = join(dir, 'does-not-exist');
    await expect(signReference({ reference: `${nowhere}:v1`, store, keyPath, referrer: false })).rejects.toMatchObject({ code: 'USAGE', message: expect.stringMatching(/--no-referrer/) });
    await expect(attachPolicies({ reference: `${nowhere}:v1`, store, paths: ['x.yaml'], signFormat: 'sigstore-bundle' })).rejects.toMatchObject({ code: 'USAGE', message: expect.stringMatching(/--sign-key/) });
  });
});
