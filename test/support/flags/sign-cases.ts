// The flags that choose how signatures are written: sign (every flag) and attach --sign-key /
// --new-bundle-format. The default is a Sigstore bundle v0.3 referrer (cosign v3's);
// --new-bundle-format=false gives cosign v2's .sig tag.
import { expect } from 'vitest';
import { open, type Json } from './common.ts';
import type { FlagCase, FlagContext } from './context.ts';
import { expectExit, json } from './kit.ts';
import { registryGet, registryTags, uploadImage, type RegistryAccess } from './registries.ts';

const BUNDLE_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/** sign a new image on `registry`; the repository, the image digest and the JSON result. */
async function signed(ctx: FlagContext, registry: RegistryAccess, extra: string[]): Promise<{ repo: string; digest: string; result: Json }> {
  const repo = ctx.kit.id('sign');
  const digest = await uploadImage(registry.origin, repo, 'v1');
  return { repo, digest, result: json(await ctx.kit.ok({ args: ['sign', `${registry.host}/${repo}:v1`, '--key', ctx.files.key, '--format', 'json', ...extra] }), 'sign') };
}

const tagOf = (digest: string) => digest.replace(':', '-');

/** The in-toto statement inside the bundle a sign wrote (read back from the registry). */
async function statementOf(ctx: FlagContext, repo: string, result: Json): Promise<{ subject: Array<{ digest: Record<string, string>; annotations?: Record<string, string> }> }> {
  const manifest = JSON.parse(await registryGet(ctx.open.origin, `${repo}/manifests/${result.signatureManifest as string}`)) as { artifactType: string; layers: Array<{ digest: string }> };
  expect(manifest.artifactType).toBe(BUNDLE_TYPE);
  const bundle = JSON.parse(await registryGet(ctx.open.origin, `${repo}/blobs/${manifest.layers[0]!.digest}`)) as { dsseEnvelope: { payload: string } };
  return JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
}

const signFlagCases: FlagCase[] = [
  {
    command: 'sign',
    flag: 'key',
    how: 'exit 2 naming --key without; with: a Sigstore bundle referrer, listed by the sha256-<hex> tag-schema index (no .sig tag)',
    async run(ctx) {
      const repo = ctx.kit.id('sign-key');
      const digest = await uploadImage(ctx.open.origin, repo, 'v1');
      const missing = await ctx.kit.run({ args: ['sign', `${open(ctx, repo)}:v1`] });
      expectExit(missing, [2], 'sign without --key');
      expect(missing.stderr).toMatch(/key/);
      const result = json(await ctx.kit.ok({ args: ['sign', `${open(ctx, repo)}:v1`, '--key', ctx.files.key, '--format', 'json'] }), 'sign');
      expect(result).toMatchObject({ format: 'sigstore-bundle', indexedBy: 'tag', indexTag: tagOf(digest) });
      expect((await registryTags(ctx.open.origin, repo)).sort()).toEqual([tagOf(digest), 'v1']);
    },
  },
  {
    command: 'sign',
    flag: 'annotation',
    how: 'the in-toto statement in the bundle (read from the registry) names the image digest; its subject has annotation fw.example/flag=on only with -a',
    async run(ctx) {
      const annotations = async (extra: string[]) => {
        const { repo, digest, result } = await signed(ctx, ctx.open, extra);
        const statement = await statementOf(ctx, repo, result);
        expect(statement.subject.map((s) => `sha256:${s.digest.sha256}`)).toEqual([digest]);
        return statement.subject[0]!.annotations ?? {};
      };
      expect(await annotations([])).not.toHaveProperty(['fw.example/flag']);
      expect(await annotations(['-a', 'fw.example/flag=on'])).toHaveProperty(['fw.example/flag'], 'on');
    },
  },
  {
    command: 'sign',
    flag: 'new-bundle-format',
    how: 'a Sigstore bundle referrer without (JSON format "sigstore-bundle", no .sig tag); cosign v2\'s sha256-<hex>.sig tag with --new-bundle-format=false',
    async run(ctx) {
      const bundle = await signed(ctx, ctx.open, []);
      expect(bundle.result).toMatchObject({ format: 'sigstore-bundle', bundleVersion: 'v0.3', content: 'dsse' });
      expect(await registryTags(ctx.open.origin, bundle.repo)).not.toContain(`${tagOf(bundle.digest)}.sig`);
      const legacy = await signed(ctx, ctx.open, ['--new-bundle-format=false']);
      expect(legacy.result).toMatchObject({ format: 'cosign-simplesigning', signatureTag: `${tagOf(legacy.digest)}.sig` });
      expect((await registryTags(ctx.open.origin, legacy.repo)).sort()).toEqual([`${tagOf(legacy.digest)}.sig`, 'v1']);
    },
  },
  {
    command: 'sign',
    flag: 'referrer',
    how: '--new-bundle-format=false on the registry with the referrers API: also a signature referrer (JSON "referrer") without; none with --no-referrer; a bundle with --no-referrer: exit 2',
    async run(ctx) {
      expect((await signed(ctx, ctx.referrers, ['--new-bundle-format=false'])).result.referrer).toMatch(/^sha256:/);
      expect((await signed(ctx, ctx.referrers, ['--new-bundle-format=false', '--no-referrer'])).result).not.toHaveProperty('referrer');
      const repo = ctx.kit.id('sign-noref');
      await uploadImage(ctx.referrers.origin, repo, 'v1');
      const refused = await ctx.kit.run({ args: ['sign', `${ctx.referrers.host}/${repo}:v1`, '--key', ctx.files.key, '--no-referrer'] });
      expectExit(refused, [2], 'sign --no-referrer (bundle)');
      expect(refused.stderr).toMatch(/--no-referrer .*--new-bundle-format=false/);
    },
  },
  {
    command: 'sign',
    flag: 'referrers-mode',
    how: 'registry without the referrers API: the bundle referrer is indexed by the sha256-<hex> tag without (auto probes); by the API only (no index tag) with --referrers-mode api',
    async run(ctx) {
      const auto = await signed(ctx, ctx.open, []);
      expect(auto.result).toMatchObject({ indexedBy: 'tag', indexTag: tagOf(auto.digest) });
      const api = await signed(ctx, ctx.open, ['--referrers-mode', 'api']);
      expect(api.result.indexedBy).toBe('api');
      expect(api.result).not.toHaveProperty('indexTag');
      expect(await registryTags(ctx.open.origin, api.repo)).toEqual(['v1']);
    },
  },
];

/** attach to a new image on the open registry; the JSON result's artifacts. */
async function attachedArtifacts(ctx: FlagContext, extra: string[]): Promise<{ repo: string; artifacts: Array<Json & { digest: string }> }> {
  const repo = ctx.kit.id('attach-sign');
  await uploadImage(ctx.open.origin, repo, 'v1');
  const result = json<{ artifacts: Array<Json & { digest: string }> }>(await ctx.kit.ok({ args: ['attach', `${open(ctx, repo)}:v1`, ctx.files.attached, '--format', 'json', ...extra] }), 'attach');
  return { repo, artifacts: result.artifacts };
}

const attachSignCases: FlagCase[] = [
  {
    command: 'attach',
    flag: 'sign-key',
    how: 'verify --key of an attached artifact: exit 6 without (unsigned); exit 0 with --sign-key (JSON signatureFormat "sigstore-bundle")',
    async run(ctx) {
      const verified = async (extra: string[]) => {
        const { repo, artifacts } = await attachedArtifacts(ctx, extra);
        const artifact = artifacts[0]!;
        const verify = await ctx.kit.run({ args: ['verify', `${open(ctx, repo)}@${artifact.digest}`, '--key', ctx.files.pub] });
        return { format: artifact.signatureFormat, code: verify.code };
      };
      expect(await verified([])).toEqual({ format: undefined, code: 6 });
      expect(await verified(['--sign-key', ctx.files.key])).toEqual({ format: 'sigstore-bundle', code: 0 });
    },
  },
  {
    command: 'attach',
    flag: 'new-bundle-format',
    how: 'with --sign-key: Sigstore bundle referrers without; cosign v2 .sig tags with --new-bundle-format=false; exit 2 without --sign-key',
    async run(ctx) {
      const signatures = async (extra: string[]) => {
        const { repo, artifacts } = await attachedArtifacts(ctx, ['--sign-key', ctx.files.key, ...extra]);
        const tags = await registryTags(ctx.open.origin, repo);
        return artifacts.map((a) => [a.signatureFormat, tags.includes(`${tagOf(a.digest)}.sig`), tags.includes(tagOf(a.digest))]);
      };
      expect(await signatures([])).toEqual([
        ['sigstore-bundle', false, true],
        ['sigstore-bundle', false, true],
      ]);
      expect(await signatures(['--new-bundle-format=false'])).toEqual([
        ['cosign-simplesigning', true, false],
        ['cosign-simplesigning', true, false],
      ]);
      const repo = ctx.kit.id('attach-nbf');
      await uploadImage(ctx.open.origin, repo, 'v1');
      const refused = await ctx.kit.run({ args: ['attach', `${open(ctx, repo)}:v1`, ctx.files.attached, '--new-bundle-format=false'] });
      expectExit(refused, [2], 'attach --new-bundle-format=false without --sign-key');
      expect(refused.stderr).toMatch(/--sign-key/);
    },
  },
];

export function signCases(): FlagCase[] {
  return [...signFlagCases, ...attachSignCases];
}
