// Issue 12, the verify side: what cosign v3.1.3 signs by default (a Sigstore bundle v0.3 referrer,
// `cosign sign --key --tlog-upload=false`) is accepted by `verify --key`, `pull --verify-key`,
// `apply --verify-key` and `copy --verify-key`, on docker-registry (tag schema) and ggcr-registry
// (referrers API); a bundle of another key, of another artifact, or tampered is refused (exit 6,
// naming the check), with nothing written, copied or applied, and no cluster contacted. The
// keyless flags refuse a key-signed artifact the same way, before the (dead) cluster.
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteRepository } from '../../src/content/remote.ts';
import { describe as describeBlob } from '../../src/oci/digest.ts';
import { jsonBytes } from '../../src/oci/manifest.ts';
import { OCI_EMPTY, OCI_MANIFEST } from '../../src/oci/mediatypes.ts';
import { ReferrersClient } from '../../src/referrers/client.ts';
import { SIGSTORE_BUNDLE_V03_TYPE } from '../../src/signing/bundles.ts';
import { publicGoodTrustedRoot } from '../../src/signing/sigstore.ts';
import { REPO_ROOT, runCli, runOk } from '../support/cli.ts';
import { pushTestImage, startTestRegistry, TEST_REGISTRY_KINDS, type TestRegistry } from '../support/referrers-registry.ts';
import { runTool } from '../support/tools.ts';

const EXAMPLES = join(REPO_ROOT, 'examples', 'policies');
const COSIGN_ENV = { COSIGN_PASSWORD: 'trust verify', COSIGN_YES: 'true' };
const OFFLINE = ['--tlog-upload=false', '--use-signing-config=false', '--allow-http-registry', '-y'];
const DEAD_KUBECONFIG =
  'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: dead, context: {cluster: c, user: u}}]\ncurrent-context: dead\n';

function cosign3(args: string[], cwd?: string): string {
  return runTool('cosign3', args, { env: COSIGN_ENV, ...(cwd ? { cwd } : {}) });
}

interface Verdict {
  format: string;
  source: string;
  valid: boolean;
  bundleVersion?: string;
  content?: string;
  mode?: string;
  failedCheck?: string;
}

describe.each(TEST_REGISTRY_KINDS)('cosign v3 bundles verified by us, on %s', (kind) => {
  let reg: TestRegistry;
  let work: string;
  let pub: string;
  let otherPub: string;
  let kubeconfig: string;
  let signed: string;
  let signedDigest: string;
  let env: NodeJS.ProcessEnv;
  const ref = (repo: string) => `${reg.host}/${repo}`;

  beforeAll(async () => {
    reg = await startTestRegistry(kind);
    work = await mkdtemp(join(tmpdir(), `trust-verify-${kind}-`));
    env = { POLICYOCI_CACHE_DIR: join(work, 'cache') };
    cosign3(['generate-key-pair'], work);
    pub = join(work, 'cosign.pub');
    otherPub = join(work, 'other.pub');
    await writeFile(otherPub, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }));
    kubeconfig = join(work, 'kubeconfig');
    await writeFile(kubeconfig, DEAD_KUBECONFIG);
    signed = ref('policies:v1');
    signedDigest = JSON.parse((await runOk(['push', signed, join(EXAMPLES, 'kyverno'), '--format', 'json'])).stdout).digest;
    cosign3(['sign', '--key', join(work, 'cosign.key'), ...OFFLINE, signed]);
  });
  afterAll(async () => reg?.stop());

  it('verify --key accepts cosign v3\'s default signature (a bundle referrer); another key is refused naming the check', async () => {
    const ok = JSON.parse((await runOk(['verify', signed, '--key', pub, '--format', 'json'], { env })).stdout) as { digest: string; verified: number; signatures: Verdict[]; trustedRoot?: unknown };
    expect(ok).toMatchObject({ digest: signedDigest, verified: 1 });
    expect(ok.signatures).toEqual([expect.objectContaining({ format: 'sigstore-bundle', source: 'referrer', valid: true, bundleVersion: 'v0.3', content: 'dsse', mode: 'key' })]);
    expect(ok.trustedRoot).toBeUndefined(); // key-based without a log entry: no trusted root, no network
    const text = await runOk(['verify', signed, '--key', pub], { env });
    expect(text.stdout).toMatch(/1 of 1 signature verifies with the key\n {2}ok {6}referrer sha256:[a-f0-9]{64} sigstore bundle v0\.3 dsse \(key\)/);
    const bad = await runCli(['verify', signed, '--key', otherPub], { env });
    expect(bad.code, bad.stderr).toBe(6);
    // cosign's key hint (base64 SHA-256 of the DER SubjectPublicKeyInfo) says why: signed with another key.
    const hint = async (file: string) => createHash('sha256').update(createPublicKey(await readFile(file, 'utf8')).export({ format: 'der', type: 'spki' })).digest('base64');
    const note = `the bundle names another key: hint ${await hint(pub)}, the given key's is ${await hint(otherPub)}`;
    expect(bad.stderr).toContain(`(1 checked; signature: signature verification failed (${note})); refused\n`);
    expect(bad.stderr.trimEnd().split('\n')).toHaveLength(2); // the message, one line per signature; no stack
  });

  it('pull --verify-key writes a cosign-v3-signed artifact and refuses another key, writing nothing', async () => {
    const out = join(work, 'pulled');
    const pulled = JSON.parse((await runOk(['pull', signed, '--verify-key', pub, '-o', out, '--format', 'json'], { env })).stdout);
    expect(pulled.verified).toBe(true);
    expect(existsSync(out)).toBe(true);
    const refused = join(work, 'refused');
    const r = await runCli(['pull', signed, '--verify-key', otherPub, '-o', refused], { env });
    expect(r.code, r.stderr).toBe(6);
    expect(existsSync(refused)).toBe(false);
  });

  it('apply --verify-key and the keyless flags refuse before contacting the (dead) cluster; a good signature gets as far as the cluster', async () => {
    const apply = (extra: string[]) => runCli(['apply', signed, '--kubeconfig', kubeconfig, ...extra], { env });
    const good = await apply(['--verify-key', pub]);
    expect(good.code, good.stderr).toBe(8); // verified, then the dead cluster fails
    const other = await apply(['--verify-key', otherPub]);
    expect(other.code, other.stderr).toBe(6);
    const root = join(work, 'root.json');
    await writeFile(root, JSON.stringify(publicGoodTrustedRoot()));
    const keyless = await apply(['--certificate-identity', 'ci@example.com', '--certificate-oidc-issuer', 'https://issuer.example', '--trusted-root', root]);
    expect(keyless.code, keyless.stderr).toBe(6);
    expect(keyless.stderr).toMatch(/satisfies identity "ci@example\.com" from issuer "https:\/\/issuer\.example" \(1 checked; bundle: the bundle is signed with a key/);
    expect(keyless.stderr).not.toMatch(/127\.0\.0\.1:1|ECONNREFUSED/);
    const half = await apply(['--certificate-identity', 'ci@example.com']);
    expect(half.code).toBe(2);
    expect(half.stderr).toMatch(/--certificate-oidc-issuer/);
  });

  it('apply and diff refuse a wrong signature (exit 6) before reading the kubeconfig: one that does not exist is not what they say', async () => {
    const missing = join(work, 'no-such-kubeconfig');
    const root = join(work, 'root.json');
    await writeFile(root, JSON.stringify(publicGoodTrustedRoot()));
    const keyless = ['--certificate-identity', 'ci@example.com', '--certificate-oidc-issuer', 'https://issuer.example', '--trusted-root', root];
    // No usable kubeconfig either way: --kubeconfig naming no file (exit 2), or KUBECONFIG naming none (exit 8, "no kubeconfig").
    const ways = [
      { flags: ['--kubeconfig', missing], env: { ...env }, code: 2, says: missing },
      { flags: [], env: { ...env, KUBECONFIG: missing, HOME: work, KUBERNETES_SERVICE_HOST: '' }, code: 8, says: 'no kubeconfig' },
    ];
    for (const verb of ['apply', 'diff']) {
      for (const way of ways) {
        const run = (extra: string[]) => runCli([verb, signed, ...way.flags, ...extra], { env: way.env });
        for (const trust of [['--verify-key', otherPub], keyless]) {
          const refused = await run(trust);
          expect(refused.code, `${verb} ${way.flags.join(' ')} ${trust.join(' ')}: ${refused.stderr}`).toBe(6);
          expect(refused.stderr).toMatch(/refused/);
          expect(refused.stderr).not.toContain(missing);
        }
        // A good signature gets as far as the kubeconfig, which then fails, naming it.
        const good = await run(['--verify-key', pub]);
        expect(good.code, good.stderr).toBe(way.code);
        expect(good.stderr).toContain(way.says);
      }
    }
  });

  it('refuses a bundle of another artifact and a tampered one, naming the check; copy --verify-key copies nothing then', async () => {
    // A real cosign v3 bundle, not uploaded, attached by us: as is to its own artifact, then to others.
    const img = ref('tamper:v1');
    const digest = await pushTestImage(img, `tamper-${kind}`);
    const bundlePath = join(work, 'bundle.json');
    cosign3(['sign', '--key', join(work, 'cosign.key'), ...OFFLINE, '--upload=false', '--bundle', bundlePath, img]);
    const bundle = await readFile(bundlePath);
    const repo = new RemoteRepository(reg.host, 'tamper');
    const attach = async (subject: string, content: Buffer) => {
      const config = Buffer.from('{}');
      const configDesc = describeBlob(OCI_EMPTY, config);
      await repo.pushBlob(configDesc, config);
      const layer = describeBlob(SIGSTORE_BUNDLE_V03_TYPE, content);
      await repo.pushBlob(layer, content);
      const subjectDesc = await repo.resolve(subject);
      const manifest = jsonBytes({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: SIGSTORE_BUNDLE_V03_TYPE, config: configDesc, layers: [layer], subject: { mediaType: subjectDesc.mediaType, digest: subjectDesc.digest, size: subjectDesc.size } });
      await new ReferrersClient(repo, { settleMs: 20 }).push(describeBlob(OCI_MANIFEST, manifest), manifest);
    };
    await attach(digest, bundle);
    const verified = JSON.parse((await runOk(['verify', img, '--key', pub, '--format', 'json'], { env })).stdout);
    expect(verified.signatures).toEqual([expect.objectContaining({ valid: true, format: 'sigstore-bundle' })]);

    // The same bundle attached to another artifact: it names the first one.
    const otherDigest = await pushTestImage(ref('tamper:other'), `other-${kind}`);
    await attach(otherDigest, bundle);
    const other = await runCli(['verify', ref('tamper:other'), '--key', pub], { env });
    expect(other.code, other.stderr).toBe(6);
    expect(other.stderr).toMatch(/statement-subject: no subject of the in-toto statement has the artifact's digest/);

    // A flipped signature byte, attached beside the good one: listed as failing "signature"; the good one still passes.
    const tampered = JSON.parse(bundle.toString()) as { dsseEnvelope: { signatures: Array<{ sig: string }> } };
    const sig = Buffer.from(tampered.dsseEnvelope.signatures[0]!.sig, 'base64');
    sig[sig.length - 2] = sig[sig.length - 2]! ^ 1;
    tampered.dsseEnvelope.signatures[0]!.sig = sig.toString('base64');
    await attach(digest, Buffer.from(JSON.stringify(tampered)));
    await repo.close();
    const both = JSON.parse((await runOk(['verify', img, '--key', pub, '--format', 'json'], { env })).stdout) as { verified: number; signatures: Verdict[] };
    expect(both.verified).toBe(1);
    expect(both.signatures.map((v) => v.failedCheck ?? 'ok').sort()).toEqual(['ok', 'signature']);

    const layout = join(work, 'copied');
    const copied = await runCli(['copy', ref('tamper:other'), '--to-oci-layout', `${layout}:v1`, '--verify-key', pub], { env });
    expect(copied.code, copied.stderr).toBe(6);
    expect(existsSync(layout)).toBe(false);
    const good = JSON.parse((await runOk(['copy', img, '--to-oci-layout', `${layout}:v1`, '-r', '--verify-key', pub, '--format', 'json'], { env })).stdout);
    expect(good.verified).toBe(true);
    // The copy carries the bundle: verified again from the layout.
    await runOk(['verify', '--oci-layout', `${layout}:v1`, '--key', pub], { env });
  });
});
