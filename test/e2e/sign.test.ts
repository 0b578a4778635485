// sign / verify / pull --verify-key with the executable and the real cosign (v2 and v3, built from
// Go modules), both directions, on a registry without the referrers API (docker-registry) and one
// with it (go-containerregistry's). Keys: cosign's encrypted format and plain PEM P-256. `sign`
// writes a Sigstore bundle by default (checked with cosign v3, which writes the same);
// --new-bundle-format=false writes cosign v2's .sig tag (checked with cosign v2). Every pairing of
// signer, verifier and format is measured in trust-matrix.test.ts.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describe as describeBlob } from '../../src/oci/digest.ts';
import { RemoteRepository } from '../../src/content/remote.ts';
import { cosignTag } from '../../src/referrers/tagschema.ts';
import { generateKeyPair } from '../../src/signing/keys.ts';
import { REPO_ROOT, runCli, runOk } from '../support/cli.ts';
import { pushTestImage, startTestRegistry, TEST_REGISTRY_KINDS, type TestRegistry } from '../support/referrers-registry.ts';
import { runTool } from '../support/tools.ts';

const EXAMPLES = join(REPO_ROOT, 'examples', 'policies');
const PASSWORD = 'correct horse battery staple';
const COSIGN_ENV = { COSIGN_PASSWORD: PASSWORD, COSIGN_YES: 'true' };

function cosign(args: string[], env: NodeJS.ProcessEnv = {}): string {
  return runTool('cosign', args, { env: { ...COSIGN_ENV, ...env } });
}

/** cosign verify, key-based and offline (no transparency log); returns the verified payloads. */
function cosignVerify(ref: string, pub: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Array<{ critical: { image: { 'docker-manifest-digest': string } } }> {
  return JSON.parse(cosign(['verify', '--key', pub, '--insecure-ignore-tlog=true', '--allow-http-registry', ...extra, ref], env));
}

/** cosign v3 verify, key-based and offline: reads the Sigstore bundle referrers `sign` writes by default. */
function cosign3Verify(ref: string, pub: string): Array<{ critical: { image: { 'docker-manifest-digest': string } } }> {
  return JSON.parse(runTool('cosign3', ['verify', '--key', pub, '--insecure-ignore-tlog=true', '--allow-http-registry', ref], { env: COSIGN_ENV }));
}

function cosign3VerifyFails(ref: string, pub: string): string {
  try {
    cosign3Verify(ref, pub);
  } catch (err) {
    return String((err as { stderr?: string }).stderr ?? err);
  }
  throw new Error(`cosign v3 verify accepted ${ref}`);
}

/** cosign v2's format: the .sig tag (and a signature referrer where the registry has the API). */
const LEGACY = ['--new-bundle-format=false'];

function cosignVerifyFails(ref: string, pub: string): string {
  try {
    cosign(['verify', '--key', pub, '--insecure-ignore-tlog=true', '--allow-http-registry', ref]);
  } catch (err) {
    return String((err as { stderr?: string }).stderr ?? err);
  }
  throw new Error(`cosign verify accepted ${ref}`);
}

describe.each(TEST_REGISTRY_KINDS)('sign and verify, with cosign, on %s', (kind) => {
  let reg: TestRegistry;
  let work: string;
  let cosignKey: string;
  let cosignPub: string;
  let pemKey: string;
  let pemPub: string;
  let policies: string;
  let policiesDigest: string;
  beforeAll(async () => {
    reg = await startTestRegistry(kind);
    work = await mkdtemp(join(tmpdir(), `sign-${kind}-`));
    // A key pair made by cosign itself (ENCRYPTED SIGSTORE PRIVATE KEY, scrypt + secretbox)…
    runTool('cosign', ['generate-key-pair'], { cwd: work, env: COSIGN_ENV });
    cosignKey = join(work, 'cosign.key');
    cosignPub = join(work, 'cosign.pub');
    // …and a plain PEM P-256 pair (SEC1 private key, SPKI public key).
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    pemKey = join(work, 'ec.key');
    pemPub = join(work, 'ec.pub');
    await writeFile(pemKey, privateKey.export({ format: 'pem', type: 'sec1' }));
    await writeFile(pemPub, publicKey.export({ format: 'pem', type: 'spki' }));
    policies = `${reg.host}/policies:v1`;
    policiesDigest = JSON.parse((await runOk(['push', policies, join(EXAMPLES, 'kyverno'), '--format', 'json'])).stdout).digest;
  });
  afterAll(async () => reg?.stop());

  it('cosign verify accepts what we sign with cosign\'s own encrypted key, in both formats', async () => {
    // The legacy format first, read by cosign v2 (the tests below also use this .sig). Once a bundle
    // is there too, cosign v2 reads only the bundle, and offline it cannot without --trusted-root.
    const legacy = JSON.parse((await runOk(['sign', policies, '--key', cosignKey, ...LEGACY, '--format', 'json'], { env: { COSIGN_PASSWORD: PASSWORD } })).stdout);
    expect(legacy).toMatchObject({ digest: policiesDigest, format: 'cosign-simplesigning', signatureTag: cosignTag(policiesDigest, 'sig') });
    expect(legacy.referrer !== undefined).toBe(reg.referrersApi);
    const payloads = cosignVerify(policies, cosignPub);
    expect(payloads.map((p) => p.critical.image['docker-manifest-digest'])).toContain(policiesDigest);
    // The default: a Sigstore bundle, read by cosign v3.
    const signed = JSON.parse((await runOk(['sign', policies, '--key', cosignKey, '--format', 'json'], { env: { COSIGN_PASSWORD: PASSWORD } })).stdout);
    expect(signed).toMatchObject({ digest: policiesDigest, format: 'sigstore-bundle', indexedBy: reg.referrersApi ? 'api' : 'tag' });
    expect(cosign3Verify(policies, cosignPub).map((p) => p.critical.image['docker-manifest-digest'])).toContain(policiesDigest);
    // The wrong password is refused before anything is written.
    const wrong = await runCli(['sign', policies, '--key', cosignKey], { env: { COSIGN_PASSWORD: 'nope' } });
    expect(wrong.code).toBe(5);
    expect(wrong.stderr).toMatch(/wrong password/);
  });

  it('cosign verify accepts what we sign with a PEM P-256 key; we verify it too', async () => {
    const img = `${reg.host}/pem:v1`;
    await pushTestImage(img, 'pem');
    await runOk(['sign', img, '--key', pemKey]);
    expect(cosign3Verify(img, pemPub)).toHaveLength(1);
    expect(cosign3VerifyFails(img, cosignPub)).toMatch(/no matching|invalid|error/i);
    await runOk(['verify', img, '--key', pemPub]);
    expect((await runCli(['verify', img, '--key', cosignPub])).code).toBe(6);
  });

  it('we verify what cosign signs (an image and our policy artifact), and refuse other keys', async () => {
    const img = `${reg.host}/by-cosign:v1`;
    const digest = await pushTestImage(img, 'by-cosign');
    cosign(['sign', '--key', cosignKey, '--tlog-upload=false', '--allow-http-registry', img]);
    const ok = JSON.parse((await runOk(['verify', img, '--key', cosignPub, '--format', 'json'])).stdout);
    expect(ok).toMatchObject({ digest, verified: 1 });
    const bad = await runCli(['verify', img, '--key', pemPub]);
    expect(bad.code).toBe(6);
    expect(bad.stderr).toMatch(/no signature .* verifies with the key/);
    // Signatures of different signers accumulate in one .sig image, as cosign does it.
    await runOk(['sign', img, '--key', pemKey, ...LEGACY]);
    expect(cosignVerify(img, cosignPub)).toHaveLength(1);
    expect(cosignVerify(img, pemPub)).toHaveLength(1);
  });

  it('reads cosign\'s OCI 1.1 signature referrers, and cosign reads ours', async () => {
    const img = `${reg.host}/oci11:v1`;
    const digest = await pushTestImage(img, 'oci11');
    cosign(['sign', '--registry-referrers-mode=oci-1-1', '--key', cosignKey, '--tlog-upload=false', '--allow-http-registry', img], { COSIGN_EXPERIMENTAL: '1' });
    const found = JSON.parse((await runOk(['verify', img, '--key', cosignPub, '--format', 'json'])).stdout);
    expect(found.signatures.map((s: { source: string }) => s.source)).toEqual(['referrer']);
    expect(found.digest).toBe(digest);
    if (reg.referrersApi) {
      const img2 = `${reg.host}/oci11-ours:v1`;
      await pushTestImage(img2, 'oci11-ours');
      await runOk(['sign', img2, '--key', pemKey, ...LEGACY, '--referrer']);
      expect(cosignVerify(img2, pemPub, ['--experimental-oci11'], { COSIGN_EXPERIMENTAL: '1' })).toHaveLength(1);
    }
  });

  it('pull --verify-key writes signed artifacts and refuses unsigned or tampered ones, writing nothing', async () => {
    const pulled = JSON.parse((await runOk(['pull', policies, '--verify-key', cosignPub, '-o', join(work, 'ok'), '--format', 'json'])).stdout);
    expect(pulled.verified).toBe(true);
    expect(pulled.files.length).toBeGreaterThan(0);

    // Unsigned: a different policy set under another tag.
    const unsigned = `${reg.host}/policies:unsigned`;
    await runOk(['push', unsigned, join(EXAMPLES, 'kubearmor')]);
    const out1 = join(work, 'unsigned');
    const r1 = await runCli(['pull', unsigned, '--verify-key', cosignPub, '-o', out1]);
    expect(r1.code).toBe(6);
    expect(r1.stderr).toMatch(/is not signed/);
    expect(existsSync(out1)).toBe(false);

    // Tampered: the signed tag now points at other content (the old signature names the old digest).
    const moved = `${reg.host}/policies:moved`;
    await runOk(['push', moved, join(EXAMPLES, 'kyverno')]);
    await runOk(['sign', moved, '--key', cosignKey], { env: { COSIGN_PASSWORD: PASSWORD } });
    await runOk(['push', moved, join(EXAMPLES, 'kyverno', 'require-labels.yaml')]);
    const out2 = join(work, 'moved');
    expect((await runCli(['pull', moved, '--verify-key', cosignPub, '-o', out2])).code).toBe(6);
    expect(existsSync(out2)).toBe(false);

    // Tampered: the signature's bytes are altered in the registry (a .sig whose signature is another payload's).
    const forged = `${reg.host}/policies:forged`;
    const forgedDigest = JSON.parse((await runOk(['push', forged, join(EXAMPLES, 'kubearmor'), '--annotation', 'x=forged', '--format', 'json'])).stdout).digest as string;
    const repo = new RemoteRepository(reg.host, 'policies');
    const goodSig = await repo.resolve(cosignTag(policiesDigest, 'sig'));
    const manifest = JSON.parse((await repo.fetch(goodSig)).toString('utf8'));
    // Same signature, same payload (which names policiesDigest), under the forged artifact's tag.
    const content = Buffer.from(JSON.stringify(manifest));
    await repo.pushManifest(describeBlob(goodSig.mediaType, content), content, cosignTag(forgedDigest, 'sig'));
    // …and a flipped signature byte under a third artifact.
    const flipped = `${reg.host}/policies:flipped`;
    const flippedDigest = JSON.parse((await runOk(['push', flipped, join(EXAMPLES, 'kubearmor'), '--annotation', 'x=flipped', '--format', 'json'])).stdout).digest as string;
    const sig = Buffer.from(manifest.layers[0].annotations['dev.cosignproject.cosign/signature'], 'base64');
    sig[sig.length - 3] = sig[sig.length - 3]! ^ 0x01;
    manifest.layers = [{ ...manifest.layers[0], annotations: { 'dev.cosignproject.cosign/signature': sig.toString('base64') } }];
    const content2 = Buffer.from(JSON.stringify(manifest));
    await repo.pushManifest(describeBlob(goodSig.mediaType, content2), content2, cosignTag(flippedDigest, 'sig'));
    await repo.close();
    for (const [ref, why] of [
      [forged, /names sha256:[a-f0-9]{64}, not/],
      [flipped, /does not verify with this key/],
    ] as const) {
      const out = join(work, ref.split(':').pop()!);
      const r = await runCli(['pull', ref, '--verify-key', cosignPub, '-o', out]);
      expect(r.code, r.stderr).toBe(6);
      expect(r.stderr).toMatch(why);
      expect(existsSync(out)).toBe(false);
      expect(cosignVerifyFails(ref, cosignPub)).toMatch(/no matching signatures|invalid|error/i);
    }
  });

  it('pull --from-referrers --verify-key reads only the signed attached artifacts', async () => {
    const img = `${reg.host}/guarded:v1`;
    await pushTestImage(img, 'guarded');
    await runOk(['attach', img, join(EXAMPLES, 'kyverno'), '--sign-key', cosignKey], { env: { COSIGN_PASSWORD: PASSWORD } });
    await runOk(['attach', img, join(EXAMPLES, 'kubearmor')]); // unsigned
    const out = join(work, 'guarded');
    const r = await runOk(['pull', img, '--from-referrers', '--verify-key', cosignPub, '-o', out, '--format', 'json']);
    const pulled = JSON.parse(r.stdout);
    expect(pulled.artifacts).toHaveLength(1);
    expect(pulled.files.every((f: { engine: string }) => f.engine === 'kyverno')).toBe(true);
    expect(r.stderr).toMatch(/skipped attached artifact sha256:[a-f0-9]{64}: .*is not signed/);
    expect((await readdir(out)).length).toBe(pulled.files.length);
    // The attached artifact's signature (a Sigstore bundle, attach's default) is cosign-verifiable.
    const tree = JSON.parse((await runOk(['discover', img, '--format', 'json'])).stdout);
    const kyverno = tree.referrers.find((n: { artifactType?: string }) => n.artifactType === 'application/vnd.cncf.kyverno.config.v1+json');
    expect(cosign3Verify(`${reg.host}/guarded@${kyverno.digest}`, cosignPub)).toHaveLength(1);
    // Nothing signed with this key: refused.
    const none = await runCli(['pull', img, '--from-referrers', '--verify-key', pemPub, '-o', join(work, 'none')]);
    expect(none.code).toBe(6);
  });

  it('apply --verify-key refuses an unsigned artifact before contacting any cluster', async () => {
    const kubeconfig = join(work, 'kubeconfig');
    // A cluster that does not exist: reaching it would fail with exit 8, not 6.
    await writeFile(
      kubeconfig,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
    );
    const r = await runCli(['apply', `${reg.host}/policies:unsigned`, '--verify-key', cosignPub, '--kubeconfig', kubeconfig]);
    expect(r.code).toBe(6);
    const signed = await runCli(['apply', policies, '--verify-key', cosignPub, '--kubeconfig', kubeconfig]);
    expect(signed.code).toBe(8); // verified, then the (absent) cluster fails
  });
});

describe('keys made by us, used by cosign', () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startTestRegistry('docker-registry');
  });
  afterAll(async () => reg?.stop());

  it('cosign signs with our encrypted key; both verify', async () => {
    const work = await mkdtemp(join(tmpdir(), 'ourkeys-'));
    const pair = await generateKeyPair(PASSWORD);
    await writeFile(join(work, 'our.key'), pair.privateKey);
    await writeFile(join(work, 'our.pub'), pair.publicKey);
    const img = `${reg.host}/ourkey:v1`;
    await pushTestImage(img, 'ourkey');
    cosign(['sign', '--key', join(work, 'our.key'), '--tlog-upload=false', '--allow-http-registry', img]);
    expect(cosignVerify(img, join(work, 'our.pub'))).toHaveLength(1);
    await runOk(['verify', img, '--key', join(work, 'our.pub')]);
  });
});
