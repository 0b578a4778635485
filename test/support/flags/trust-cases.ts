// The flags of the commands around referrers and signatures: attach, discover, sign, verify, copy.
import { expect } from 'vitest';
import { inspectJson, layerTypes, open, type Json } from './common.ts';
import { KUBEARMOR_ARTIFACT_TYPE, KYVERNO_ARTIFACT_TYPE, layoutTags, SEED, type FlagCase, type FlagContext } from './context.ts';
import { expectExit, json, writeInvalidPolicy } from './kit.ts';
import { registryGet, registryTags, uploadImage } from './registries.ts';

/** attach to a new image on the open registry; the JSON result. */
async function attached(ctx: FlagContext, extra: string[], files = ctx.files.attached): Promise<{ repo: string; subject: string; result: Json & { artifacts: Array<Json & { digest: string }> } }> {
  const repo = ctx.kit.id('attach');
  const subject = await uploadImage(ctx.open.origin, repo, 'v1');
  const result = json<Json & { artifacts: Array<Json & { digest: string }> }>(await ctx.kit.ok({ args: ['attach', `${open(ctx, repo)}:v1`, files, '--format', 'json', ...extra] }), 'attach');
  return { repo, subject, result };
}

const attachCases: FlagCase[] = [
  {
    command: 'attach',
    flag: 'bundle',
    how: 'the attached artifacts have YAML layers without; tar+gzip layers with --bundle (inspect)',
    async run(ctx) {
      const types = async (extra: string[]) => {
        const { repo, result } = await attached(ctx, extra);
        const inspected = await Promise.all(result.artifacts.map((a) => inspectJson(ctx, `${open(ctx, repo)}@${a.digest}`)));
        return inspected.flatMap(layerTypes);
      };
      const plain = await types([]);
      expect(plain).toHaveLength(2);
      expect(plain.some((t) => t.endsWith('tar+gzip'))).toBe(false);
      const bundled = await types(['--bundle']);
      expect(bundled).toHaveLength(2);
      expect(bundled.every((t) => t.endsWith('tar+gzip'))).toBe(true);
    },
  },
  {
    command: 'attach',
    flag: 'annotation',
    how: 'inspect of an attached artifact shows fw.example/flag=on only with -a',
    async run(ctx) {
      const annotations = async (extra: string[]) => {
        const { repo, result } = await attached(ctx, extra);
        return (await inspectJson(ctx, `${open(ctx, repo)}@${result.artifacts[0]!.digest}`)).annotations;
      };
      expect(await annotations([])).not.toHaveProperty(['fw.example/flag']);
      expect(await annotations(['-a', 'fw.example/flag=on'])).toHaveProperty(['fw.example/flag'], 'on');
    },
  },
  {
    command: 'attach',
    flag: 'skip-validation',
    how: 'a policy that fails its CRD schema: exit 3 without; attached with',
    async run(ctx) {
      const file = writeInvalidPolicy(ctx.kit, 'fw-invalid');
      const image = async () => {
        const repo = ctx.kit.id('attach-invalid');
        await uploadImage(ctx.open.origin, repo, 'v1');
        return `${open(ctx, repo)}:v1`;
      };
      expectExit(await ctx.kit.run({ args: ['attach', await image(), file] }), [3], 'attach of an invalid policy');
      expectExit(await ctx.kit.run({ args: ['attach', await image(), file, '--skip-validation'] }), [0], 'attach --skip-validation');
    },
  },
  {
    command: 'attach',
    flag: 'sign-key',
    how: 'verify --key of an attached artifact: exit 6 without (unsigned); exit 0 with --sign-key (and JSON "signatureTag")',
    async run(ctx) {
      const verified = async (extra: string[]) => {
        const { repo, result } = await attached(ctx, extra);
        const artifact = result.artifacts[0]!;
        const verify = await ctx.kit.run({ args: ['verify', `${open(ctx, repo)}@${artifact.digest}`, '--key', ctx.files.pub] });
        return { signatureTag: artifact.signatureTag, code: verify.code };
      };
      expect(await verified([])).toEqual({ signatureTag: undefined, code: 6 });
      const signed = await verified(['--sign-key', ctx.files.key]);
      expect(signed.code).toBe(0);
      expect(signed.signatureTag).toMatch(/^sha256-[a-f0-9]{64}\.sig$/);
    },
  },
  {
    command: 'attach',
    flag: 'referrers-mode',
    how: 'registry without the referrers API: indexed by the sha256-<hex> tag without; "api" and no index tag with --referrers-mode api',
    async run(ctx) {
      const indexed = async (extra: string[]) => {
        const { repo, subject, result } = await attached(ctx, extra);
        return { by: [...new Set(result.artifacts.map((a) => a.indexedBy))], tagged: (await registryTags(ctx.open.origin, repo)).includes(subject.replace(':', '-')) };
      };
      expect(await indexed([])).toEqual({ by: ['tag'], tagged: true });
      expect(await indexed(['--referrers-mode', 'api'])).toEqual({ by: ['api'], tagged: false });
    },
  },
];

interface DiscoverNode {
  artifactType?: string;
  referrers?: DiscoverNode[];
}

const discoverCases: FlagCase[] = [
  {
    command: 'discover',
    flag: 'artifact-type',
    how: 'both attached artifact types listed without; only KubeArmor with --artifact-type <kubearmor type>',
    async run(ctx) {
      const types = async (extra: string[]) =>
        json<{ referrers: DiscoverNode[] }>(await ctx.kit.ok({ args: ['discover', open(ctx, SEED.subject), '--format', 'json', ...extra] }), 'discover').referrers.map((r) => r.artifactType).sort();
      expect(await types([])).toEqual([KUBEARMOR_ARTIFACT_TYPE, KYVERNO_ARTIFACT_TYPE]);
      expect(await types(['--artifact-type', KUBEARMOR_ARTIFACT_TYPE])).toEqual([KUBEARMOR_ARTIFACT_TYPE]);
    },
  },
  {
    command: 'discover',
    flag: 'depth',
    how: 'the signatures of the attached artifacts (level 2) are listed without; not with --depth 1',
    async run(ctx) {
      const nested = async (extra: string[]) =>
        json<{ referrers: DiscoverNode[] }>(await ctx.kit.ok({ args: ['discover', open(ctx, SEED.subject), '--format', 'json', ...extra] }), 'discover').referrers.flatMap((r) => r.referrers ?? []).length;
      expect(await nested([])).toBeGreaterThan(0);
      expect(await nested(['--depth', '1'])).toBe(0);
    },
  },
  {
    command: 'discover',
    flag: 'referrers-mode',
    how: 'registry without the referrers API: listed by the tag schema without; exit 4 with --referrers-mode api',
    async run(ctx) {
      await ctx.kit.ok({ args: ['discover', open(ctx, SEED.subject)] });
      expectExit(await ctx.kit.run({ args: ['discover', open(ctx, SEED.subject), '--referrers-mode', 'api'] }), [4], 'discover --referrers-mode api');
    },
  },
];

/** sign a new image on `registry`; the JSON result. */
async function signed(ctx: FlagContext, registry: FlagContext['open'], extra: string[]): Promise<{ repo: string; result: Json }> {
  const repo = ctx.kit.id('sign');
  await uploadImage(registry.origin, repo, 'v1');
  return { repo, result: json(await ctx.kit.ok({ args: ['sign', `${registry.host}/${repo}:v1`, '--key', ctx.files.key, '--format', 'json', ...extra] }), 'sign') };
}

const signCases: FlagCase[] = [
  {
    command: 'sign',
    flag: 'key',
    how: 'exit 2 naming --key without; signed (a .sig tag) with',
    async run(ctx) {
      const repo = ctx.kit.id('sign-key');
      await uploadImage(ctx.open.origin, repo, 'v1');
      const missing = await ctx.kit.run({ args: ['sign', `${open(ctx, repo)}:v1`] });
      expectExit(missing, [2], 'sign without --key');
      expect(missing.stderr).toMatch(/key/);
      await ctx.kit.ok({ args: ['sign', `${open(ctx, repo)}:v1`, '--key', ctx.files.key] });
      expect((await registryTags(ctx.open.origin, repo)).some((t) => t.endsWith('.sig'))).toBe(true);
    },
  },
  {
    command: 'sign',
    flag: 'annotation',
    how: 'the signed payload (read from the registry) has optional["fw.example/flag"]="on" only with -a',
    async run(ctx) {
      const optional = async (extra: string[]) => {
        const { repo, result } = await signed(ctx, ctx.open, extra);
        const manifest = JSON.parse(await registryGet(ctx.open.origin, `${repo}/manifests/${result.signatureManifest as string}`)) as { layers: Array<{ digest: string }> };
        const payload = JSON.parse(await registryGet(ctx.open.origin, `${repo}/blobs/${manifest.layers[0]!.digest}`)) as { optional?: Record<string, string> | null };
        return payload.optional ?? {};
      };
      expect(await optional([])).not.toHaveProperty(['fw.example/flag']);
      expect(await optional(['-a', 'fw.example/flag=on'])).toHaveProperty(['fw.example/flag'], 'on');
    },
  },
  {
    command: 'sign',
    flag: 'referrer',
    how: 'registry with the referrers API: the signature is also stored as a referrer (JSON "referrer") by default; not with --no-referrer',
    async run(ctx) {
      expect((await signed(ctx, ctx.referrers, [])).result.referrer).toMatch(/^sha256:/);
      expect((await signed(ctx, ctx.referrers, ['--no-referrer'])).result).not.toHaveProperty('referrer');
    },
  },
  {
    command: 'sign',
    flag: 'referrers-mode',
    how: 'registry without the referrers API: no referrer stored by default (auto probes); stored (JSON "referrer") with --referrers-mode api',
    async run(ctx) {
      expect((await signed(ctx, ctx.open, [])).result).not.toHaveProperty('referrer');
      expect((await signed(ctx, ctx.open, ['--referrers-mode', 'api'])).result.referrer).toMatch(/^sha256:/);
    },
  },
];

const verifyCases: FlagCase[] = [
  {
    command: 'verify',
    flag: 'key',
    how: 'exit 2 naming --key without; the seed signature verifies (exit 0) with',
    async run(ctx) {
      const missing = await ctx.kit.run({ args: ['verify', open(ctx, SEED.src)] });
      expectExit(missing, [2], 'verify without --key');
      expect(missing.stderr).toMatch(/key/);
      const verified = json<{ verified: number }>(await ctx.kit.ok({ args: ['verify', open(ctx, SEED.src), '--key', ctx.files.pub, '--format', 'json'] }), 'verify');
      expect(verified.verified).toBeGreaterThan(0);
    },
  },
  {
    command: 'verify',
    flag: 'referrers-mode',
    how: 'registry without the referrers API: verified (tag schema) without; exit 4 with --referrers-mode api',
    async run(ctx) {
      await ctx.kit.ok({ args: ['verify', open(ctx, SEED.src), '--key', ctx.files.pub] });
      expectExit(await ctx.kit.run({ args: ['verify', open(ctx, SEED.src), '--key', ctx.files.pub, '--referrers-mode', 'api'] }), [4], 'verify --referrers-mode api');
    },
  },
];

const copyCases: FlagCase[] = [
  {
    command: 'copy',
    flag: 'include-referrers',
    how: 'copy of the subject image: the destination has only its tag without; also the sha256-<hex> referrers index and .sig tags with -r',
    async run(ctx) {
      const copied = async (extra: string[]) => {
        const repo = ctx.kit.id('copy-r');
        await ctx.kit.ok({ args: ['copy', open(ctx, SEED.subject), `${open(ctx, repo)}:v1`, ...extra] });
        return registryTags(ctx.open.origin, repo);
      };
      expect(await copied([])).toEqual(['v1']);
      const tags = await copied(['-r']);
      expect(tags.some((t) => /^sha256-[a-f0-9]{64}$/.test(t))).toBe(true);
      expect(tags.some((t) => t.endsWith('.sig'))).toBe(true);
    },
  },
  {
    command: 'copy',
    flag: 'from-oci-layout',
    how: 'SRC is DIR:tag: exit 2 without; copied into the registry with --from-oci-layout',
    async run(ctx) {
      expectExit(await ctx.kit.run({ args: ['copy', `${ctx.files.layout}:src`, `${open(ctx, ctx.kit.id('copy-from'))}:v1`] }), [2], 'copy DIR:tag REF');
      const repo = ctx.kit.id('copy-from');
      await ctx.kit.ok({ args: ['copy', `${ctx.files.layout}:src`, `${open(ctx, repo)}:v1`, '--from-oci-layout'] });
      expect(await registryTags(ctx.open.origin, repo)).toEqual(['v1']);
    },
  },
  {
    command: 'copy',
    flag: 'to-oci-layout',
    how: 'DST is DIR:tag: exit 2 without; the layout gets the tag with --to-oci-layout',
    async run(ctx) {
      expectExit(await ctx.kit.run({ args: ['copy', open(ctx, SEED.src), `${ctx.kit.dir('copy-to')}:v1`] }), [2], 'copy REF DIR:tag');
      const dir = ctx.kit.dir('copy-to');
      await ctx.kit.ok({ args: ['copy', open(ctx, SEED.src), `${dir}:v1`, '--to-oci-layout'] });
      expect(layoutTags(dir)).toEqual(['v1']);
    },
  },
  {
    command: 'copy',
    flag: 'referrers-mode',
    how: 'copy -r from a registry without the referrers API: works (tag schema) without; exit 4 with --referrers-mode api',
    async run(ctx) {
      await ctx.kit.ok({ args: ['copy', open(ctx, SEED.subject), `${open(ctx, ctx.kit.id('copy-mode'))}:v1`, '-r'] });
      expectExit(await ctx.kit.run({ args: ['copy', open(ctx, SEED.subject), `${open(ctx, ctx.kit.id('copy-mode'))}:v1`, '-r', '--referrers-mode', 'api'] }), [4], 'copy -r --referrers-mode api');
    },
  },
  {
    command: 'copy',
    flag: 'oci-layout',
    how: 'copied without; refused with exit 2 naming --oci-layout (copy takes --from-oci-layout/--to-oci-layout)',
    async run(ctx) {
      await ctx.kit.ok({ args: ['copy', open(ctx, SEED.src), `${open(ctx, ctx.kit.id('copy-layout'))}:v1`] });
      const refused = await ctx.kit.run({ args: ['copy', open(ctx, SEED.src), `${open(ctx, ctx.kit.id('copy-layout'))}:v1`, '--oci-layout'] });
      expectExit(refused, [2], 'copy --oci-layout');
      expect(refused.stderr).toMatch(/--oci-layout/);
    },
  },
];

export function trustCases(): FlagCase[] {
  return [...attachCases, ...discoverCases, ...signCases, ...verifyCases, ...copyCases];
}
