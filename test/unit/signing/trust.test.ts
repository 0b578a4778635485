// TrustVerifier over real bundles attached as referrers in an OCI layout (the tag-schema path):
// key-based DSSE bundles made here with node:crypto (PAE over an in-toto statement, as cosign v3
// writes them) and Sigstore's conformance bundles (keyless, GitHub Actions certificates), checked
// against a subject digest. No network: the trusted root is a file whenever one is needed.
import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { OciLayout } from '../../../src/content/layout.ts';
import { requireTrust } from '../../../src/core/verify.ts';
import { describe as describeBlob } from '../../../src/oci/digest.ts';
import { jsonBytes } from '../../../src/oci/manifest.ts';
import { OCI_EMPTY, OCI_MANIFEST } from '../../../src/oci/mediatypes.ts';
import { ReferrersClient } from '../../../src/referrers/client.ts';
import { SIGSTORE_BUNDLE_V03_TYPE, summarizeSignatures } from '../../../src/signing/bundles.ts';
import type { Descriptor } from '../../../src/oci/types.ts';
import { publicGoodTrustedRoot, summarizeBundle } from '../../../src/signing/sigstore.ts';
import { checkTrustPolicy, TrustVerifier, type TrustPolicy } from '../../../src/signing/trust.ts';
import { failureReason, readTrustedRootFile, TrustedRootLoader } from '../../../src/signing/trustroot.ts';
import { REPO_ROOT } from '../../support/cli.ts';

const SUITE = join(REPO_ROOT, '..', 'shared', 'fixtures', 'sigstore-conformance', 'bundle-verify');
const BEACON = 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const ACTIONS = 'https://token.actions.githubusercontent.com';

/** DSSE pre-authentication encoding (the DSSE spec's PAE). */
function pae(type: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);
}

/** A key-based bundle v0.3 as cosign v3 signs an image: DSSE over an in-toto statement naming `digest`. */
function keyBundle(key: KeyObject, digest: string, annotations?: Record<string, string>): Buffer {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ digest: { sha256: digest.slice('sha256:'.length) }, ...(annotations ? { annotations } : {}) }],
    predicateType: 'https://sigstore.dev/cosign/sign/v1',
    predicate: {},
  };
  const payload = Buffer.from(JSON.stringify(statement));
  const type = 'application/vnd.in-toto+json';
  const sig = sign('sha256', pae(type, payload), key);
  return Buffer.from(
    JSON.stringify({
      mediaType: SIGSTORE_BUNDLE_V03_TYPE,
      verificationMaterial: { publicKey: { hint: 'test' }, tlogEntries: [], timestampVerificationData: { rfc3161Timestamps: [] } },
      dsseEnvelope: { payload: payload.toString('base64'), payloadType: type, signatures: [{ sig: sig.toString('base64'), keyid: '' }] },
    }),
  );
}

/** Attaches `bundle` to `subject` (a digest) as cosign does: empty config, one bundle layer, tag-schema index. */
async function attachBundle(layout: OciLayout, subject: string, bundle: Buffer): Promise<Descriptor> {
  const config = Buffer.from('{}');
  const configDesc = describeBlob(OCI_EMPTY, config);
  await layout.pushBlob(configDesc, config);
  const layer = describeBlob(SIGSTORE_BUNDLE_V03_TYPE, bundle);
  await layout.pushBlob(layer, bundle);
  const content = jsonBytes({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: SIGSTORE_BUNDLE_V03_TYPE, config: configDesc, layers: [layer], subject: { mediaType: OCI_MANIFEST, digest: subject, size: 2 } });
  const desc = describeBlob(OCI_MANIFEST, content);
  await new ReferrersClient(layout, { settleMs: 1 }).push(desc, content);
  return desc;
}

const fakeDigest = (label: string) => `sha256:${createHash('sha256').update(label).digest('hex')}`;

describe('TrustVerifier', () => {
  let layout: OciLayout;
  let dir: string;
  let keys: Record<'signer' | 'other', { key: KeyObject; pub: string }>;
  let rootFile: string;
  const check = (policy: TrustPolicy, digest: string) => new TrustVerifier(policy).check(layout, digest, new ReferrersClient(layout));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trust-'));
    layout = new OciLayout(join(dir, 'layout'));
    const pair = async (name: string) => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const pub = join(dir, `${name}.pub`);
      await writeFile(pub, publicKey.export({ format: 'pem', type: 'spki' }));
      return { key: privateKey, pub };
    };
    keys = { signer: await pair('signer'), other: await pair('other') };
    rootFile = join(dir, 'public-good.json');
    await writeFile(rootFile, JSON.stringify(publicGoodTrustedRoot()));
  });

  it('accepts a key-based DSSE bundle without a log entry, needing no trusted root, and reads its signed annotations', async () => {
    const digest = fakeDigest('key-ok');
    const manifest = (await attachBundle(layout, digest, keyBundle(keys.signer.key, digest, { team: 'platform' }))).digest;
    const verifier = new TrustVerifier({ keyPath: keys.signer.pub });
    const result = await verifier.check(layout, digest, new ReferrersClient(layout));
    expect(result).toMatchObject({ digest, verified: 1 });
    expect(result.verdicts).toEqual([
      { format: 'sigstore-bundle', source: 'referrer', manifest, layer: expect.stringMatching(/^sha256:/), mode: 'key', valid: true, bundleVersion: 'v0.3', content: 'dsse', annotations: { team: 'platform' } },
    ]);
    expect(verifier.trustedRoot).toBeUndefined(); // nothing loaded, nothing fetched
  });

  it('refuses, naming the check: another key (signature), another subject (statement-subject), a keyless policy (bundle)', async () => {
    const digest = fakeDigest('key-bad');
    await attachBundle(layout, digest, keyBundle(keys.signer.key, digest));
    expect((await check({ keyPath: keys.other.pub }, digest)).verdicts).toEqual([expect.objectContaining({ valid: false, failedCheck: 'signature' })]);
    const elsewhere = fakeDigest('key-elsewhere');
    await attachBundle(layout, elsewhere, keyBundle(keys.signer.key, digest)); // names `digest`, attached to `elsewhere`
    expect((await check({ keyPath: keys.signer.pub }, elsewhere)).verdicts).toEqual([expect.objectContaining({ valid: false, failedCheck: 'statement-subject' })]);
    const keyless = await check({ keyless: { identity: BEACON, issuer: ACTIONS }, trustedRootPath: rootFile }, digest);
    expect(keyless.verdicts).toEqual([expect.objectContaining({ valid: false, failedCheck: 'bundle', reason: expect.stringMatching(/signed with a key/) })]);
    await expect(requireTrust(layout, 'layout', digest, new TrustVerifier({ keyPath: keys.other.pub }))).rejects.toMatchObject({
      code: 'UNSAFE_CONTENT',
      message: expect.stringMatching(/no signature of .* verifies with the key \(1 checked; signature: .*\); refused/),
    });
  });

  it('checks every signature and passes when one satisfies the policy', async () => {
    const digest = fakeDigest('several');
    await attachBundle(layout, digest, keyBundle(keys.other.key, digest));
    await attachBundle(layout, digest, keyBundle(keys.signer.key, digest));
    const flipped = JSON.parse(keyBundle(keys.signer.key, digest).toString()) as { dsseEnvelope: { payload: string } };
    flipped.dsseEnvelope.payload = Buffer.from(Buffer.from(flipped.dsseEnvelope.payload, 'base64').toString().replace('"predicate":{}', '"predicate":{"x":1}')).toString('base64');
    await attachBundle(layout, digest, Buffer.from(JSON.stringify(flipped)));
    const result = await requireTrust(layout, 'layout', digest, new TrustVerifier({ keyPath: keys.signer.pub }));
    expect(result.verified).toBe(1);
    expect(result.verdicts.map((v) => v.failedCheck ?? 'ok')).toEqual(['signature', 'ok', 'signature']);
  });

  it('says "not signed" when nothing is there, and refuses an unreadable bundle as a verdict', async () => {
    await expect(requireTrust(layout, 'layout', fakeDigest('none'), new TrustVerifier({ keyPath: keys.signer.pub }))).rejects.toMatchObject({ code: 'UNSAFE_CONTENT', message: expect.stringMatching(/is not signed/) });
    const digest = fakeDigest('garbage');
    await attachBundle(layout, digest, Buffer.from('{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}'));
    expect((await check({ keyPath: keys.signer.pub }, digest)).verdicts).toEqual([expect.objectContaining({ valid: false, failedCheck: 'bundle' })]);
  });

  describe('keyless, over the conformance bundles (GitHub Actions certificates)', () => {
    const load = async (name: string) => {
      const bundle = await readFile(join(SUITE, name, 'bundle.sigstore.json'));
      const artifact = await readFile(join(SUITE, 'a.txt'));
      return { bundle, digest: `sha256:${createHash('sha256').update(artifact).digest('hex')}` };
    };

    it('verifies identity, issuer and every GitHub workflow claim with a given trusted root, and names a failing claim', async () => {
      const { bundle, digest } = await load('happy-path-v0.3');
      const referrer = await attachBundle(layout, digest, bundle);
      // discover and inspect read what the certificate says without verifying it.
      expect(await summarizeSignatures(layout, referrer)).toEqual([{ format: 'sigstore-bundle', bundleVersion: 'v0.3', content: 'message-signature', mode: 'keyless', identity: BEACON, issuer: ACTIONS }]);
      const github = { trigger: 'workflow_dispatch', sha: 'c7b3dfb335f051e1c86bda4c716fac97df62ad81', name: 'Extremely dangerous OIDC beacon', repository: 'sigstore-conformance/extremely-dangerous-public-oidc-beacon', ref: 'refs/heads/main' };
      const verifier = new TrustVerifier({ keyless: { identity: BEACON, issuer: ACTIONS, github }, trustedRootPath: rootFile });
      const ok = await verifier.check(layout, digest, new ReferrersClient(layout));
      expect(ok.verdicts).toEqual([expect.objectContaining({ valid: true, format: 'sigstore-bundle', mode: 'keyless', content: 'message-signature', signer: { identity: BEACON, issuer: ACTIONS } })]);
      expect(verifier.trustedRoot).toEqual({ source: 'file', detail: rootFile });

      const regexp = await check({ keyless: { identityRegexp: '^https://github\\.com/sigstore-conformance/', issuerRegexp: 'githubusercontent' }, trustedRootPath: rootFile }, digest);
      expect(regexp.verified).toBe(1);
      for (const [policy, failed] of [
        [{ identity: `${BEACON}x`, issuer: ACTIONS }, 'identity'],
        [{ identity: BEACON, issuerRegexp: '^https://accounts\\.google\\.com$' }, 'issuer'],
        [{ identity: BEACON, issuer: ACTIONS, github: { ref: 'refs/heads/release' } }, 'github-workflow-ref'],
        [{ identity: BEACON, issuer: ACTIONS, github: { repository: 'acme/other' } }, 'github-workflow-repository'],
        [{ identity: BEACON, issuer: ACTIONS, github: { trigger: 'push' } }, 'github-workflow-trigger'],
      ] as const) {
        const r = await check({ keyless: policy, trustedRootPath: rootFile }, digest);
        expect(r.verdicts, failed).toEqual([expect.objectContaining({ valid: false, failedCheck: failed })]);
      }
      // A regular expression is shown as typed (RegExp.source would print https:\/\/…).
      const slashes = await check({ keyless: { identityRegexp: '^https://github.com/someone-else/', issuer: ACTIONS }, trustedRootPath: rootFile }, digest);
      expect(slashes.verdicts[0]?.reason).toBe(`certificate identity "${BEACON}" does not match /^https://github.com/someone-else//`);
      // A key cannot satisfy a certificate bundle.
      expect((await check({ keyPath: keys.signer.pub }, digest)).verdicts).toEqual([expect.objectContaining({ valid: false, failedCheck: 'bundle' })]);
    });

    it('checks a DSSE in-toto keyless bundle against its own trusted root, and refuses the wrong root', async () => {
      const name = 'intoto-with-custom-trust-root';
      const bundle = await readFile(join(SUITE, name, 'bundle.sigstore.json'));
      const artifact = await readFile(join(SUITE, name, 'artifact'));
      const digest = `sha256:${createHash('sha256').update(artifact).digest('hex')}`;
      await attachBundle(layout, digest, bundle);
      const summary = summarizeBundle(bundle);
      expect(summary).toMatchObject({ mode: 'keyless', content: 'dsse' });
      const keyless = { identity: summary.identity!, issuer: summary.issuer! };
      expect((await check({ keyless, trustedRootPath: join(SUITE, name, 'trusted_root.json') }, digest)).verified).toBe(1);
      const wrongRoot = await check({ keyless, trustedRootPath: rootFile }, digest);
      expect(wrongRoot.verdicts).toEqual([expect.objectContaining({ valid: false, failedCheck: expect.stringMatching(/certificate|tlog|timestamps/) })]);
      // sigstore-js's words ("timestamp could not be verified", …) get what they mean: the root lacks the authority.
      expect(wrongRoot.verdicts[0]?.reason).toMatch(/\((no (timestamp authority|transparency log|CT log|certificate authority) of the trusted root|the certificate does not chain to a certificate authority of the trusted root)\b/);
      // The root was a file the user gave: no public-good hint under the refusal.
      const refused = await requireTrust(layout, 'layout', digest, new TrustVerifier({ keyless, trustedRootPath: rootFile })).catch((err: unknown) => err as { details: string[] });
      expect((refused as { details: string[] }).details).toHaveLength(1);
    });
  });

  it('refuses policies that cannot be meant, naming the flags', () => {
    const usage = (policy: TrustPolicy) => {
      try {
        checkTrustPolicy(policy);
      } catch (err) {
        return (err as { code: string; message: string }).code === 'USAGE' ? (err as Error).message : `not usage: ${String(err)}`;
      }
      return 'accepted';
    };
    expect(usage({ keyless: { identity: 'a' } })).toMatch(/--certificate-oidc-issuer or --certificate-oidc-issuer-regexp/);
    expect(usage({ keyless: { issuer: 'a' } })).toMatch(/--certificate-identity or --certificate-identity-regexp/);
    expect(usage({ keyless: { identity: 'a', identityRegexp: 'b', issuer: 'c' } })).toMatch(/only one of --certificate-identity and --certificate-identity-regexp/);
    expect(usage({ keyless: { identityRegexp: '(', issuer: 'c' } })).toMatch(/--certificate-identity-regexp: not a regular expression/);
    expect(usage({ keyPath: 'k.pub', keyless: { identity: 'a', issuer: 'b' } })).toMatch(/--verify-key and the --certificate-\* flags exclude each other/);
    expect(usage({ trustedRootPath: 'r.json' })).toMatch(/--trusted-root needs/);
    expect(usage({ keyless: { identity: 'a', issuer: 'b', github: { ref: 'x' } } })).toBe('accepted');
  });

  it('falls back to the shipped public-good root, quickly, when the TUF repository cannot be reached', async () => {
    const started = Date.now();
    const loader = new TrustedRootLoader({ cacheDir: join(dir, 'cache'), timeoutMs: 3000 });
    const loaded = await loader.load();
    // Online machines get the repository's root; this one (no internet) the shipped copy.
    expect(['tuf', 'shipped']).toContain(loaded.used.source);
    if (loaded.used.source === 'shipped') expect(loaded.json).toEqual(publicGoodTrustedRoot());
    expect(Date.now() - started).toBeLessThan(4000);
    // The reason names what failed (tuf-js's own message alone is "error refreshing TUF metadata").
    if (loaded.used.source === 'shipped') expect(loaded.used.detail).toMatch(/^https:\/\/tuf-repo-cdn\.sigstore\.dev not reachable \(.+: .+\)$/);
  });

  it('words an unreachable TUF repository with the causes of the error, on one bounded line', () => {
    const dns = Object.assign(new Error('getaddrinfo ENOTFOUND tuf-repo-cdn.sigstore.dev'), { code: 'ENOTFOUND' });
    const chained = new Error('error refreshing TUF metadata', { cause: new TypeError('fetch failed', { cause: dns }) });
    expect(failureReason(chained)).toBe('error refreshing TUF metadata: fetch failed: getaddrinfo ENOTFOUND tuf-repo-cdn.sigstore.dev');
    // A cause already in its parent's words is not repeated; only first lines; at most 200 characters.
    expect(failureReason(new Error('fetch failed: boom', { cause: new Error('boom') }))).toBe('fetch failed: boom');
    expect(failureReason(new Error('first\nsecond'))).toBe('first');
    expect(failureReason(new Error('x'.repeat(500)))).toHaveLength(200);
    expect(failureReason('a string')).toBe('a string');
  });

  it('refuses an unreadable --trusted-root in one line without Node\'s errno prefix (exit 2)', () => {
    const missing = join(dir, 'no-such-root.json');
    expect(() => readTrustedRootFile(missing)).toThrow(expect.objectContaining({ code: 'NOT_FOUND', message: `--trusted-root ${missing} cannot be read: no such file or directory` }));
    expect(() => readTrustedRootFile(dir)).toThrow(expect.objectContaining({ code: 'IO', message: `--trusted-root ${dir} cannot be read: it is a directory` }));
  });
});
