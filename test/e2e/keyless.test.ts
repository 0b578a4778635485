// Keyless verification end to end over OCI, offline, with a Sigstore the test makes itself
// (scripts/tools/sigstore-fixture: a test CA as Fulcio, a Rekor key, a CT log, a TSA). Each bundle is
// attached to a policy artifact we pushed, as cosign v3 `sign` attaches it, and then judged twice:
// by cosign v3 `verify --trusted-root` (so the fixture is proven to be what cosign accepts) and by
// us. Both must accept the good signature and refuse the wrong identity, the wrong issuer, an
// expired certificate, a tampered digest, a signature over another artifact and a foreign root.
// On docker-registry (bundles found through the sha256-<hex> tag schema) and on the registry with
// the referrers API. Then the same for cosign v2's keyless format (a simple-signing layer of the
// sha256-<hex>.sig image carrying certificate, chain and Rekor bundle annotations), judged by
// cosign v2 `verify --trusted-root` and by us.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli, runOk, runProcess, type CliResult } from '../support/cli.ts';
import { removeOnExit } from '../support/process.ts';
import { startTestRegistry, TEST_REGISTRY_KINDS, type TestRegistry } from '../support/referrers-registry.ts';
import {
  attachBundle,
  BUNDLE_MEDIA_TYPE,
  COSIGN_SIGN_PREDICATE,
  makeKeylessFixture,
  pushSimpleSignature,
  SIMPLE_SIGNING_MEDIA_TYPE,
  type FixtureBundle,
  type FixtureSimpleSignature,
  type KeylessFixture,
} from '../support/sigstore-fixture.ts';
import { toolPath } from '../support/tools.ts';

const POLICY = join(REPO_ROOT, 'examples', 'policies', 'kyverno', 'require-labels.yaml');
const GITHUB = { trigger: 'push', repository: 'acme/policies', ref: 'refs/heads/main' };
const OTHER_WORKFLOW = 'https://github.com/acme/policies/.github/workflows/other.yml@refs/heads/main';
const GOOGLE_ISSUER = 'https://accounts.google.com';

interface Subject {
  ref: string;
  digest: string;
  fixture: KeylessFixture;
  /** Digest of the bundle's referrer manifest. */
  bundleManifest: string;
}

describe.each(TEST_REGISTRY_KINDS)('keyless signatures over OCI, judged by cosign v3 and by us, on %s', (kind) => {
  let reg: TestRegistry;
  let work: string;
  let cosignEnv: NodeJS.ProcessEnv;
  /** One pushed artifact per bundle variant, carrying only that bundle. */
  const subjects = {} as Record<FixtureBundle, Subject>;
  /** A second, unrelated test Sigstore: its trusted root must not vouch for the first one's bundles. */
  let foreignRoot: string;

  beforeAll(async () => {
    reg = await startTestRegistry(kind);
    work = await mkdtemp(join(tmpdir(), `keyless-${kind}-`));
    removeOnExit(work);
    // cosign must never go online here: a fresh HOME and TUF cache, checked empty at the end.
    cosignEnv = { ...process.env, HOME: join(work, 'home'), TUF_ROOT: join(work, 'tuf') };
    await mkdir(join(work, 'home'));
    await mkdir(join(work, 'tuf'));
    const text = await readFile(POLICY, 'utf8');
    for (const variant of ['good', 'expired', 'tampered', 'wrong-subject'] as const) {
      // A distinct policy per variant, so each artifact has its own digest and only its own bundle.
      const dir = join(work, 'policies', variant);
      await mkdir(dir, { recursive: true });
      const renamed = text.replace(/^  name: require-labels$/m, `  name: require-labels-${variant}`);
      if (renamed === text) throw new Error(`${POLICY}: metadata.name line not found`);
      await writeFile(join(dir, 'require-labels.yaml'), renamed);
      const ref = `${reg.host}/keyless/${variant}:v1`;
      const pushed = JSON.parse((await runOk(['push', ref, dir, '--format', 'json'])).stdout) as { digest: string };
      const fixture = await makeKeylessFixture({ digest: pushed.digest, github: GITHUB });
      const bundleManifest = attachBundle(`${reg.host}/keyless/${variant}@${pushed.digest}`, fixture.bundles[variant]);
      subjects[variant] = { ref, digest: pushed.digest, fixture, bundleManifest };
    }
    foreignRoot = (await makeKeylessFixture({ digest: subjects.good.digest })).trustedRoot;
  });
  afterAll(async () => reg?.stop());

  function cosign3(args: string[]): Promise<CliResult> {
    return runProcess(toolPath('cosign3'), ['verify', '--allow-http-registry', ...args], { env: cosignEnv, cwd: work });
  }
  const identityFlags = (s: Subject): string[] => ['--certificate-identity', s.fixture.identity, '--certificate-oidc-issuer', s.fixture.issuer];

  it('the fixture is what it claims: sigstore-go accepts good.json and refuses every other bundle', () => {
    for (const s of Object.values(subjects)) {
      expect(s.fixture.selfCheck.map((c) => [c.file, c.sigstoreGo])).toEqual([
        ['good.json', 'pass'],
        ['expired.json', 'fail'],
        ['tampered.json', 'fail'],
        ['wrong-subject.json', 'fail'],
      ]);
    }
  });

  it('the bundle is attached as cosign v3 attaches it: an OCI 1.1 referrer of the bundle type', async () => {
    const { digest, bundleManifest } = subjects.good;
    const oras = (args: string[]): Promise<CliResult> => runProcess(toolPath('oras'), [...args, '--plain-http'], { env: process.env, cwd: work });
    // Listed for the subject (referrers API, or the sha256-<hex> tag-schema index)…
    const listed = JSON.parse((await oras(['discover', '--format', 'json', `${reg.host}/keyless/good@${digest}`])).stdout) as { referrers?: Array<{ digest: string }>; manifests?: Array<{ digest: string }> };
    expect((listed.referrers ?? listed.manifests ?? []).map((r) => r.digest)).toEqual([bundleManifest]);
    // …and shaped as cosign's WriteAttestationNewBundleFormat writes it. (Read from the manifest:
    // ggcr-registry's referrers index gives config.mediaType as artifactType, ignoring the field.)
    const manifest = JSON.parse((await oras(['manifest', 'fetch', `${reg.host}/keyless/good@${bundleManifest}`])).stdout) as {
      artifactType: string; config: { mediaType: string }; layers: Array<{ mediaType: string }>; subject: { digest: string }; annotations: Record<string, string>;
    };
    expect(manifest.artifactType).toBe(BUNDLE_MEDIA_TYPE);
    expect(manifest.config.mediaType).toBe('application/vnd.oci.empty.v1+json');
    expect(manifest.layers.map((l) => l.mediaType)).toEqual([BUNDLE_MEDIA_TYPE]);
    expect(manifest.subject.digest).toBe(digest);
    expect(manifest.annotations).toMatchObject({ 'dev.sigstore.bundle.content': 'dsse-envelope', 'dev.sigstore.bundle.predicateType': COSIGN_SIGN_PREDICATE });
  });

  it('cosign v3 verifies the good signature offline with --trusted-root: exact, regexp and GitHub claims', async () => {
    const s = subjects.good;
    const exact = await cosign3(['--trusted-root', s.fixture.trustedRoot, ...identityFlags(s), s.ref]);
    expect(exact.code, exact.stderr).toBe(0);
    const payloads = JSON.parse(exact.stdout) as Array<{ critical: { image: { 'docker-manifest-digest': string }; type: string } }>;
    expect(payloads.map((p) => p.critical.image['docker-manifest-digest'])).toEqual([s.digest]);
    expect(payloads[0]!.critical.type).toBe(COSIGN_SIGN_PREDICATE);
    expect(exact.stderr).toMatch(/transparency log was verified offline/);

    const regexp = await cosign3(['--trusted-root', s.fixture.trustedRoot, '--certificate-identity-regexp', '^https://github\\.com/acme/', '--certificate-oidc-issuer-regexp', 'githubusercontent', s.ref]);
    expect(regexp.code, regexp.stderr).toBe(0);
    const claims = await cosign3([
      '--trusted-root', s.fixture.trustedRoot, ...identityFlags(s),
      '--certificate-github-workflow-trigger', GITHUB.trigger, '--certificate-github-workflow-repository', GITHUB.repository, '--certificate-github-workflow-ref', GITHUB.ref,
      s.ref,
    ]);
    expect(claims.code, claims.stderr).toBe(0);
  });

  it('we verify the good signature with the same trusted root: exact, regexp and GitHub claims', async () => {
    const s = subjects.good;
    const exact = await runCli(['verify', s.ref, ...identityFlags(s), '--trusted-root', s.fixture.trustedRoot]);
    expect(exact.code, exact.stderr).toBe(0);
    const json = await runCli(['verify', s.ref, ...identityFlags(s), '--trusted-root', s.fixture.trustedRoot, '--format', 'json']);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as { digest: string; verified: number; signatures: Array<Record<string, unknown>>; trustedRoot: { source: string } };
    expect(report.digest).toBe(s.digest);
    expect(report.verified).toBe(1);
    expect(report.trustedRoot.source).toBe('file');
    expect(report.signatures).toHaveLength(1);
    expect(report.signatures[0]).toMatchObject({
      format: 'sigstore-bundle',
      bundleVersion: 'v0.3',
      content: 'dsse',
      source: 'referrer',
      manifest: s.bundleManifest,
      valid: true,
      signer: { identity: s.fixture.identity, issuer: s.fixture.issuer },
    });

    const regexp = await runCli(['verify', s.ref, '--certificate-identity-regexp', '^https://github\\.com/acme/', '--certificate-oidc-issuer-regexp', 'githubusercontent', '--trusted-root', s.fixture.trustedRoot]);
    expect(regexp.code, regexp.stderr).toBe(0);
    const claims = await runCli([
      'verify', s.ref, ...identityFlags(s), '--trusted-root', s.fixture.trustedRoot,
      '--certificate-github-workflow-trigger', GITHUB.trigger, '--certificate-github-workflow-repository', GITHUB.repository, '--certificate-github-workflow-ref', GITHUB.ref,
    ]);
    expect(claims.code, claims.stderr).toBe(0);
  });

  it('pull with the keyless flags writes the verified policies', async () => {
    const s = subjects.good;
    const out = join(work, 'pulled-good');
    const r = await runCli(['pull', s.ref, ...identityFlags(s), '--trusted-root', s.fixture.trustedRoot, '-o', out, '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const pulled = JSON.parse(r.stdout) as { files: unknown[] };
    expect(pulled.files.length).toBeGreaterThan(0);
    expect((await readdir(out)).length).toBeGreaterThan(0);
  });

  // Each refusal: which artifact, the flags that differ from the signer's truth, and why each side
  // must say it refused (cosign's words come from sigstore-go; ours name the failed check).
  const refusals: Array<{ name: string; variant: FixtureBundle; flags: (s: Subject) => string[]; cosign: RegExp; ours: RegExp }> = [
    {
      name: 'the wrong identity',
      variant: 'good',
      flags: (s) => ['--certificate-identity', OTHER_WORKFLOW, '--certificate-oidc-issuer', s.fixture.issuer, '--trusted-root', s.fixture.trustedRoot],
      cosign: /expected SAN value/,
      ours: /\bidentity: certificate identity "[^"]+" does not match "/,
    },
    {
      name: 'an identity regexp that does not match',
      variant: 'good',
      flags: (s) => ['--certificate-identity-regexp', '^https://github\\.com/someone-else/', '--certificate-oidc-issuer', s.fixture.issuer, '--trusted-root', s.fixture.trustedRoot],
      cosign: /expected SAN value to match regex/,
      // the pattern as typed, not RegExp.source's https:\/\/…
      ours: /\bidentity: certificate identity "[^"]+" does not match \/\^https:\/\/github\\\.com\/someone-else\/\//,
    },
    {
      name: 'the wrong issuer',
      variant: 'good',
      flags: (s) => ['--certificate-identity', s.fixture.identity, '--certificate-oidc-issuer', GOOGLE_ISSUER, '--trusted-root', s.fixture.trustedRoot],
      cosign: /expected issuer value/,
      ours: /\bissuer: certificate OIDC issuer "[^"]+" does not match "/,
    },
    {
      name: 'the wrong GitHub workflow trigger',
      variant: 'good',
      flags: (s) => [...identityFlags(s), '--certificate-github-workflow-trigger', 'pull_request', '--trusted-root', s.fixture.trustedRoot],
      cosign: /expected GithubWorkflowTrigger to be "pull_request", got "push"/,
      ours: /github-workflow-trigger: .* is "push", not "pull_request"/,
    },
    {
      name: 'the trusted root of another Sigstore (its own CA, log, CT log and TSA keys)',
      variant: 'good',
      flags: (s) => [...identityFlags(s), '--trusted-root', foreignRoot],
      cosign: /not enough verified log entries|unknown authority/,
      ours: /\b(timestamps|certificate|tlog): .*\((no (timestamp authority|transparency log|CT log|certificate authority) of the trusted root|the certificate does not chain)/,
    },
    {
      name: 'a certificate expired before the log entry',
      variant: 'expired',
      flags: (s) => [...identityFlags(s), '--trusted-root', s.fixture.trustedRoot],
      cosign: /integrated time outside certificate validity/,
      ours: /\bcertificate: .*expired/,
    },
    {
      name: 'a tampered digest (a signature over another artifact, its statement edited to name this one)',
      variant: 'tampered',
      flags: (s) => [...identityFlags(s), '--trusted-root', s.fixture.trustedRoot],
      cosign: /payload hash .* does not match/,
      ours: /\btlog: .*payload hash mismatch/i,
    },
    {
      name: 'a valid signature over another artifact',
      variant: 'wrong-subject',
      flags: (s) => [...identityFlags(s), '--trusted-root', s.fixture.trustedRoot],
      cosign: /artifact digest does not match/,
      ours: /statement-subject: no subject of the in-toto statement has the artifact's digest/,
    },
  ];

  describe.each(refusals)('both refuse $name', ({ variant, flags, cosign, ours }) => {
    it('cosign v3 verify refuses', async () => {
      const s = subjects[variant];
      const r = await cosign3([...flags(s), s.ref]);
      expect(r.code, r.stdout).not.toBe(0);
      expect(r.stderr).toMatch(cosign);
    });

    it('our verify exits 6 naming the failed check; pull writes nothing', async () => {
      const s = subjects[variant];
      const v = await runCli(['verify', s.ref, ...flags(s)]);
      expect(v.code, v.stderr).toBe(6);
      expect(v.stderr).toMatch(ours);
      const j = await runCli(['verify', s.ref, ...flags(s), '--format', 'json']);
      expect(j.code).toBe(6);
      const error = (JSON.parse(j.stderr) as { error: { code: string; details: string[] } }).error;
      expect(error.code).toBe('UNSAFE_CONTENT');
      expect(error.details).toHaveLength(1);
      expect(error.details[0]).toMatch(ours);
      const out = join(work, `pulled-${variant}-${Math.random().toString(36).slice(2)}`);
      const p = await runCli(['pull', s.ref, ...flags(s), '-o', out]);
      expect(p.code, p.stderr).toBe(6);
      expect(p.stderr).toMatch(ours);
      expect(existsSync(out) ? await readdir(out) : []).toEqual([]);
    });
  });

  it('without --trusted-root (the public-good default) the test Sigstore\'s signature is refused quickly, naming the root tried and --trusted-root', async () => {
    const s = subjects.good;
    // Our own TUF cache, so the user's is not touched; offline the fetch fails at once and the shipped copy is used.
    const env = { POLICYOCI_CACHE_DIR: join(work, 'policyoci-cache') };
    const started = Date.now();
    const v = await runCli(['verify', s.ref, ...identityFlags(s)], { env });
    expect(v.code, v.stderr).toBe(6);
    expect(Date.now() - started).toBeLessThan(15_000); // the TUF attempt is bounded to 5 s
    expect(v.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const hint = /checked against Sigstore's public-good trusted root \((the copy shipped with the executable|from https:\/\/tuf-repo-cdn\.sigstore\.dev)\); a signature made with another Sigstore \(a private deployment\) needs its --trusted-root FILE/;
    expect(v.stderr).toMatch(hint);
    // Offline, the warning says why the shipped copy was used (the network error, not just "error refreshing TUF metadata").
    if (/the copy shipped/.test(v.stderr)) expect(v.stderr).toMatch(/Warning: using Sigstore's public-good trusted root as shipped with the executable \(not refreshed\): https:\/\/tuf-repo-cdn\.sigstore\.dev not reachable \(.+: .+\)/);
    const j = await runCli(['verify', s.ref, ...identityFlags(s), '--format', 'json'], { env });
    expect(j.code).toBe(6);
    const error = (JSON.parse(j.stderr.split('\n').find((l) => l.startsWith('{'))!) as { error: { code: string; details: string[] } }).error;
    expect(error.code).toBe('UNSAFE_CONTENT');
    expect(error.details).toHaveLength(2);
    expect(error.details[1]).toMatch(hint);
    const out = join(work, 'pulled-public-good');
    const p = await runCli(['pull', s.ref, ...identityFlags(s), '-o', out], { env });
    expect(p.code, p.stderr).toBe(6);
    expect(p.stderr).toMatch(hint);
    expect(existsSync(out)).toBe(false);
  });

  it('cosign stayed offline throughout: its TUF cache is still empty', async () => {
    expect(await readdir(join(work, 'tuf'))).toEqual([]);
    expect(await readdir(join(work, 'home'))).toEqual([]);
  });
});

describe.each(TEST_REGISTRY_KINDS)('cosign v2 keyless simple-signing signatures (.sig tag), judged by cosign v2 and by us, on %s', (kind) => {
  let reg: TestRegistry;
  let work: string;
  let cosignEnv: NodeJS.ProcessEnv;
  /** One pushed artifact per variant, its `.sig` image carrying only that signature. */
  const subjects = {} as Record<FixtureSimpleSignature, { ref: string; digest: string; fixture: KeylessFixture; sigManifest: string }>;

  beforeAll(async () => {
    reg = await startTestRegistry(kind);
    work = await mkdtemp(join(tmpdir(), `keyless-v2-${kind}-`));
    removeOnExit(work);
    cosignEnv = { ...process.env, HOME: join(work, 'home'), TUF_ROOT: join(work, 'tuf') };
    await mkdir(join(work, 'home'));
    await mkdir(join(work, 'tuf'));
    const text = await readFile(POLICY, 'utf8');
    for (const variant of ['good', 'wrong-subject', 'tampered'] as const) {
      const dir = join(work, 'policies', variant);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'require-labels.yaml'), text.replace(/^  name: require-labels$/m, `  name: require-labels-v2-${variant}`));
      const repo = `${reg.host}/keyless-v2/${variant}`;
      const pushed = JSON.parse((await runOk(['push', `${repo}:v1`, dir, '--format', 'json'])).stdout) as { digest: string };
      const fixture = await makeKeylessFixture({ digest: pushed.digest, github: GITHUB, simpleSigning: repo });
      const sigManifest = await pushSimpleSignature(repo, pushed.digest, fixture.simpleSignatures![variant]);
      subjects[variant] = { ref: `${repo}:v1`, digest: pushed.digest, fixture, sigManifest };
    }
  });
  afterAll(async () => reg?.stop());

  function cosign2(args: string[]): Promise<CliResult> {
    return runProcess(toolPath('cosign'), ['verify', '--allow-http-registry', ...args], { env: cosignEnv, cwd: work });
  }
  const keyless = (s: { fixture: KeylessFixture }, identity = s.fixture.identity): string[] => [
    '--certificate-identity', identity, '--certificate-oidc-issuer', s.fixture.issuer, '--trusted-root', s.fixture.trustedRoot,
  ];

  it('the signature is laid out as cosign v2 writes it: sha256-<hex>.sig, one simplesigning layer with its annotations', async () => {
    const s = subjects.good;
    const r = await runProcess(toolPath('oras'), ['manifest', 'fetch', '--plain-http', `${reg.host}/keyless-v2/good:${s.digest.replace(':', '-')}.sig`], { env: process.env, cwd: work });
    expect(r.code, r.stderr).toBe(0);
    const manifest = JSON.parse(r.stdout) as { config: { mediaType: string }; layers: Array<{ mediaType: string; annotations: Record<string, string> }> };
    expect(manifest.config.mediaType).toBe('application/vnd.oci.image.config.v1+json');
    expect(manifest.layers).toHaveLength(1);
    expect(manifest.layers[0]!.mediaType).toBe(SIMPLE_SIGNING_MEDIA_TYPE);
    const a = manifest.layers[0]!.annotations;
    expect(a['dev.cosignproject.cosign/signature']).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(a['dev.sigstore.cosign/certificate']).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    expect(a['dev.sigstore.cosign/chain']!.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    const bundle = JSON.parse(a['dev.sigstore.cosign/bundle']!) as { SignedEntryTimestamp: string; Payload: { body: string; integratedTime: number; logIndex: number; logID: string } };
    expect(Object.keys(bundle.Payload).sort()).toEqual(['body', 'integratedTime', 'logID', 'logIndex']);
    expect(JSON.parse(Buffer.from(bundle.Payload.body, 'base64').toString('utf8'))).toMatchObject({ kind: 'hashedrekord', apiVersion: '0.0.1' });
  });

  it('cosign v2 verifies it offline with --trusted-root (the Rekor bundle checked offline)', async () => {
    const s = subjects.good;
    const r = await cosign2([...keyless(s), s.ref]);
    expect(r.code, r.stderr).toBe(0);
    const payloads = JSON.parse(r.stdout) as Array<{ critical: { image: { 'docker-manifest-digest': string }; type: string }; optional: Record<string, string> }>;
    expect(payloads.map((p) => p.critical.image['docker-manifest-digest'])).toEqual([s.digest]);
    expect(payloads[0]!.critical.type).toBe('cosign container image signature');
    expect(payloads[0]!.optional).toMatchObject({ Subject: s.fixture.identity, Issuer: s.fixture.issuer });
    expect(r.stderr).toMatch(/Existence of the claims in the transparency log was verified offline/);
    expect(r.stderr).toMatch(/The code-signing certificate was verified using trusted certificate authority certificates/);
  });

  it('we verify it with the same trusted root: a keyless cosign-simplesigning verdict naming the signer', async () => {
    const s = subjects.good;
    const text = await runCli(['verify', s.ref, ...keyless(s)]);
    expect(text.code, text.stderr).toBe(0);
    const r = await runCli(['verify', s.ref, ...keyless(s), '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { digest: string; verified: number; signatures: Array<Record<string, unknown>>; trustedRoot: { source: string } };
    expect(report.digest).toBe(s.digest);
    expect(report.verified).toBe(1);
    expect(report.trustedRoot.source).toBe('file');
    expect(report.signatures).toEqual([
      expect.objectContaining({
        format: 'cosign-simplesigning',
        source: 'tag',
        manifest: s.sigManifest,
        mode: 'keyless',
        valid: true,
        signer: { identity: s.fixture.identity, issuer: s.fixture.issuer },
        dockerReference: `${reg.host}/keyless-v2/good`,
      }),
    ]);
    const regexp = await runCli(['verify', s.ref, '--certificate-identity-regexp', '^https://github\\.com/acme/', '--certificate-oidc-issuer-regexp', 'githubusercontent', '--trusted-root', s.fixture.trustedRoot]);
    expect(regexp.code, regexp.stderr).toBe(0);
  });

  const refusals: Array<{ name: string; variant: FixtureSimpleSignature; identity?: string; cosign: RegExp; ours: RegExp }> = [
    { name: 'the wrong identity', variant: 'good', identity: OTHER_WORKFLOW, cosign: /none of the expected identities matched what was in the certificate/, ours: /\bidentity: certificate identity "[^"]+" does not match "/ },
    {
      name: 'a tampered payload digest (a signature over another artifact, its payload edited to name this one)',
      variant: 'tampered',
      cosign: /error verifying bundle: matching bundle to payload: bundle="[0-9a-f]{64}", payload="[0-9a-f]{64}"/,
      ours: /\btlog: digest mismatch/,
    },
    {
      name: 'a valid signature whose payload names another artifact',
      variant: 'wrong-subject',
      cosign: /invalid or missing digest in claim/,
      ours: /\bartifact-digest: the signed payload names sha256:[0-9a-f]{64}, not sha256:/,
    },
  ];

  describe.each(refusals)('both refuse $name', ({ variant, identity, cosign, ours }) => {
    it('cosign v2 verify refuses', async () => {
      const s = subjects[variant];
      const r = await cosign2([...keyless(s, identity), s.ref]);
      expect(r.code, r.stdout).not.toBe(0);
      expect(r.stderr).toMatch(cosign);
    });

    it('our verify exits 6 naming the failed check', async () => {
      const s = subjects[variant];
      const v = await runCli(['verify', s.ref, ...keyless(s, identity)]);
      expect(v.code, v.stderr).toBe(6);
      expect(v.stderr).toMatch(ours);
      const j = await runCli(['verify', s.ref, ...keyless(s, identity), '--format', 'json']);
      expect(j.code).toBe(6);
      const error = (JSON.parse(j.stderr) as { error: { code: string; details: string[] } }).error;
      expect(error.code).toBe('UNSAFE_CONTENT');
      expect(error.details).toHaveLength(1);
      expect(error.details[0]).toMatch(ours);
    });
  });

  it('cosign stayed offline throughout: its TUF cache is still empty', async () => {
    expect(await readdir(join(work, 'tuf'))).toEqual([]);
    expect(await readdir(join(work, 'home'))).toEqual([]);
  });
});
