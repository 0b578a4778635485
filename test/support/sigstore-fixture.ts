// Keyless Sigstore material made by the test itself, offline: scripts/tools/sigstore-fixture (our Go
// program over sigstore-go's test CA, built by scripts/tools/build.sh) plays Fulcio, Rekor, a CT log
// and a TSA, and writes a trusted root plus cosign-v3-shaped bundles for one subject digest.
// attachBundle() puts a bundle next to its subject the way `cosign sign` (v3) does, with oras;
// pushSimpleSignature() pushes a cosign v2 keyless signature (-simplesigning) as cosign v2 does.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { removeOnExit } from './process.ts';
import { toolPath } from './tools.ts';

export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';
export const RELEASE_WORKFLOW = 'https://github.com/acme/policies/.github/workflows/release.yml@refs/heads/main';
export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** The predicate type of the in-toto statement cosign v3 `sign` signs (cosign pkg/types). */
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';

export interface GithubWorkflowClaims {
  trigger?: string;
  sha?: string;
  name?: string;
  repository?: string;
  ref?: string;
}

export interface KeylessFixtureOptions {
  /** The subject: `sha256:<hex>` of the manifest the bundles sign. */
  digest: string;
  /** Certificate SAN: a URI when it contains ://, else an e-mail. Default: a GitHub Actions workflow. */
  identity?: string;
  issuer?: string;
  github?: GithubWorkflowClaims;
  /** Also write cosign v2 keyless simple-signing signatures, with this docker-reference (a repository). */
  simpleSigning?: string;
}

export type FixtureBundle = 'good' | 'expired' | 'tampered' | 'wrong-subject';

/** good: signed for the digest; wrong-subject: over another digest; tampered: that payload edited to name the digest. */
export type FixtureSimpleSignature = 'good' | 'wrong-subject' | 'tampered';

export interface KeylessFixture {
  dir: string;
  digest: string;
  /** The digest wrong-subject.json is signed for (tampered.json was too, before its edit). */
  otherDigest: string;
  identity: string;
  issuer: string;
  /** Path of trusted_root.json (dev.sigstore.trustroot.v1). */
  trustedRoot: string;
  /** Path of each bundle file. */
  bundles: Record<FixtureBundle, string>;
  /** What sigstore-go (cosign v3's verifier) said of each bundle when the tool checked its own output. */
  selfCheck: Array<{ file: string; expect: 'pass' | 'fail'; sigstoreGo: 'pass' | 'fail'; error?: string }>;
  /** With options.simpleSigning: each variant's directory (payload.json, annotations.json). */
  simpleSignatures?: Record<FixtureSimpleSignature, string>;
}

/** Runs sigstore-fixture into a fresh temp dir; it exits non-zero unless good.json verifies and the others do not. */
export async function makeKeylessFixture(options: KeylessFixtureOptions): Promise<KeylessFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'policyoci-keyless-'));
  removeOnExit(dir);
  const identity = options.identity ?? RELEASE_WORKFLOW;
  const issuer = options.issuer ?? GITHUB_ACTIONS_ISSUER;
  const args = ['-digest', options.digest, '-identity', identity, '-issuer', issuer, '-out', dir];
  for (const [claim, value] of Object.entries(options.github ?? {})) {
    if (value !== undefined) args.push(`-github-workflow-${claim}`, value);
  }
  if (options.simpleSigning) args.push('-simplesigning', options.simpleSigning);
  const summary = JSON.parse(execFileSync(toolPath('sigstore-fixture'), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as {
    otherDigest: string;
    bundles: KeylessFixture['selfCheck'];
  };
  const file = (name: FixtureBundle): string => join(dir, `${name}.json`);
  return {
    dir,
    digest: options.digest,
    otherDigest: summary.otherDigest,
    identity,
    issuer,
    trustedRoot: join(dir, 'trusted_root.json'),
    bundles: { good: file('good'), expired: file('expired'), tampered: file('tampered'), 'wrong-subject': file('wrong-subject') },
    selfCheck: summary.bundles,
    ...(options.simpleSigning
      ? { simpleSignatures: { good: join(dir, 'simplesigning', 'good'), 'wrong-subject': join(dir, 'simplesigning', 'wrong-subject'), tampered: join(dir, 'simplesigning', 'tampered') } }
      : {}),
  };
}

/**
 * Attaches a bundle to `repoRef@digest` as cosign v3 `sign` does (pkg/oci/remote
 * WriteAttestationNewBundleFormat): an OCI 1.1 artifact of type BUNDLE_MEDIA_TYPE, one layer of that
 * media type holding the bundle JSON, subject = the signed manifest, cosign's annotations. oras
 * uses the referrers API where the registry has it, else the `sha256-<hex>` tag-schema index.
 * Returns the digest of the bundle manifest.
 */
export function attachBundle(subject: string, bundlePath: string, options: { plainHttp?: boolean } = {}): string {
  const args = [
    'attach',
    ...(options.plainHttp === false ? [] : ['--plain-http']),
    '--artifact-type', BUNDLE_MEDIA_TYPE,
    '--annotation', 'dev.sigstore.bundle.content=dsse-envelope',
    '--annotation', `dev.sigstore.bundle.predicateType=${COSIGN_SIGN_PREDICATE}`,
    '--format', 'json',
    subject,
    `${basename(bundlePath)}:${BUNDLE_MEDIA_TYPE}`,
  ];
  const out = JSON.parse(execFileSync(toolPath('oras'), args, { encoding: 'utf8', cwd: dirname(bundlePath), stdio: ['ignore', 'pipe', 'pipe'] })) as { digest?: string };
  if (!out.digest) throw new Error(`oras attach printed no digest for ${subject}`);
  return out.digest;
}

export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';

/**
 * Pushes a fixture's cosign v2 signature for `repo@subjectDigest` as cosign v2 `sign` does
 * (pkg/oci/remote, pkg/oci/static): the image tagged `sha256-<hex>.sig` in the same repository,
 * OCI manifest, an image config whose rootfs lists the layer (go-containerregistry's), one layer of
 * media type simplesigning holding payload.json with the fixture's annotations. With oras (which
 * adds its own org.opencontainers.image.title on the layer). Returns the signature manifest digest.
 */
export async function pushSimpleSignature(repo: string, subjectDigest: string, dir: string): Promise<string> {
  const payload = await readFile(join(dir, 'payload.json'));
  const annotations = JSON.parse(await readFile(join(dir, 'annotations.json'), 'utf8')) as Record<string, string>;
  const zero = '0001-01-01T00:00:00Z';
  const diffId = `sha256:${createHash('sha256').update(payload).digest('hex')}`;
  const config = { architecture: '', created: zero, history: [{ created: zero }], os: '', rootfs: { type: 'layers', diff_ids: [diffId] }, config: {} };
  await writeFile(join(dir, 'config.json'), JSON.stringify(config));
  await writeFile(join(dir, 'oras-annotations.json'), JSON.stringify({ 'payload.json': annotations }));
  const tag = `${subjectDigest.replace(':', '-')}.sig`;
  const args = [
    'push', '--plain-http', '--format', 'json',
    '--config', 'config.json:application/vnd.oci.image.config.v1+json',
    '--annotation-file', 'oras-annotations.json',
    `${repo}:${tag}`,
    `payload.json:${SIMPLE_SIGNING_MEDIA_TYPE}`,
  ];
  const out = JSON.parse(execFileSync(toolPath('oras'), args, { encoding: 'utf8', cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })) as { digest?: string };
  if (!out.digest) throw new Error(`oras push printed no digest for ${repo}:${tag}`);
  return out.digest;
}
