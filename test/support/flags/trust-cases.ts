// The flags of the commands around referrers and signatures: attach, discover, sign, verify, copy.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { publicGoodTrustedRoot } from '../../../src/signing/sigstore.ts';
import { inspectJson, layerTypes, open, type Json } from './common.ts';
import { KUBEARMOR_ARTIFACT_TYPE, KYVERNO_ARTIFACT_TYPE, layoutTags, SEED, type FlagCase, type FlagContext } from './context.ts';
import { expectExit, json, writeInvalidPolicy } from './kit.ts';
import { registryTags, uploadImage } from './registries.ts';

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

// sign's cases (and attach --sign-key's) are in sign-cases.ts.

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
    how: 'copy of the subject image: the destination has only its tag without; also the sha256-<hex> referrers indexes (of the image, and of each signed attached artifact) with -r',
    async run(ctx) {
      const copied = async (extra: string[]) => {
        const repo = ctx.kit.id('copy-r');
        await ctx.kit.ok({ args: ['copy', open(ctx, SEED.subject), `${open(ctx, repo)}:v1`, ...extra] });
        return registryTags(ctx.open.origin, repo);
      };
      expect(await copied([])).toEqual(['v1']);
      const tags = await copied(['-r']);
      // The image's index, and one per attached artifact listing its signature (a bundle referrer).
      expect(tags.filter((t) => /^sha256-[a-f0-9]{64}$/.test(t)).length).toBe(3);
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

copyCases.push({
  command: 'copy',
  flag: 'verify-key',
  how: 'the unsigned seed (fw-bundle) is copied without; exit 6 and nothing written (no tag) with --verify-key',
  async run(ctx) {
    const repo = ctx.kit.id('copy-vk');
    expectExit(await ctx.kit.run({ args: ['copy', open(ctx, SEED.bundle), `${open(ctx, repo)}:v1`, '--verify-key', ctx.files.pub] }), [6], 'copy --verify-key of an unsigned artifact');
    expect(await registryTags(ctx.open.origin, repo).catch(() => [])).toEqual([]);
    await ctx.kit.ok({ args: ['copy', open(ctx, SEED.bundle), `${open(ctx, repo)}:v1`] });
    expect(await registryTags(ctx.open.origin, repo)).toEqual(['v1']);
  },
});

// The keyless flags, on every command that verifies. The seeds are signed with a key, so a keyless
// policy refuses them (exit 6, before any cluster is contacted: apply and diff get a dead one) and the message names
// the policy; a flag missing from a pair is a usage error naming it (exit 2).
const ISSUER = 'https://token.actions.githubusercontent.com';
const IDENTITY = 'https://github.com/acme/policies/.github/workflows/release.yml@refs/heads/main';

/** The public-good root (the shipped copy) as a --trusted-root file, so no case fetches anything. */
function rootFile(ctx: FlagContext): string {
  const file = join(ctx.kit.dir('root'), 'trusted_root.json');
  writeFileSync(file, JSON.stringify(publicGoodTrustedRoot()));
  return file;
}

/** A kubeconfig whose only cluster does not exist: reaching it would be exit 8, not 6. */
function deadCluster(ctx: FlagContext): string {
  const file = join(ctx.kit.dir('dead-kubeconfig'), 'config.yaml');
  writeFileSync(
    file,
    'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: dead, context: {cluster: c, user: u}}]\ncurrent-context: dead\n',
  );
  return file;
}

const VERIFYING: ReadonlyArray<[string, (ctx: FlagContext) => string[]]> = [
  ['verify', (ctx) => ['verify', open(ctx, SEED.src)]],
  ['pull', (ctx) => ['pull', open(ctx, SEED.src), '-o', join(ctx.kit.dir('pull-keyless'), 'out')]],
  ['apply', (ctx) => ['apply', open(ctx, SEED.src), '--kubeconfig', deadCluster(ctx)]],
  ['diff', (ctx) => ['diff', open(ctx, SEED.src), '--kubeconfig', deadCluster(ctx)]],
  ['rollback', (ctx) => ['rollback', open(ctx, SEED.src.split(':')[0]!), '--to', SEED.src.split(':')[1]!, '--kubeconfig', deadCluster(ctx)]],
  ['copy', (ctx) => ['copy', open(ctx, SEED.src), `${open(ctx, ctx.kit.id('copy-keyless'))}:v1`]],
];

function keylessCases(): FlagCase[] {
  const cases: FlagCase[] = [];
  for (const [command, base] of VERIFYING) {
    const pairs = [
      ['certificate-identity', IDENTITY, ['--certificate-oidc-issuer', ISSUER], /--certificate-identity/],
      ['certificate-identity-regexp', '^https://github\\.com/acme/', ['--certificate-oidc-issuer', ISSUER], /--certificate-identity/],
      ['certificate-oidc-issuer', ISSUER, ['--certificate-identity', IDENTITY], /--certificate-oidc-issuer/],
      ['certificate-oidc-issuer-regexp', 'githubusercontent', ['--certificate-identity', IDENTITY], /--certificate-oidc-issuer/],
    ] as const;
    for (const [flag, value, partner, named] of pairs) {
      cases.push({
        command,
        flag,
        how: `with only ${partner[0]}: exit 2 naming the missing flag; with --${flag} too: keyless check of the key-signed seed, exit 6 naming the constraint`,
        async run(ctx) {
          const without = await ctx.kit.run({ args: [...base(ctx), ...partner, '--trusted-root', rootFile(ctx)] });
          expectExit(without, [2], `${command} keyless without --${flag}`);
          expect(without.stderr).toMatch(named);
          const withFlag = await ctx.kit.run({ args: [...base(ctx), ...partner, `--${flag}`, value, '--trusted-root', rootFile(ctx)] });
          expectExit(withFlag, [6], `${command} --${flag}`);
          expect(withFlag.stderr).toMatch(/no signature of .* satisfies identity .* from issuer /);
          expect(withFlag.stderr).toContain(flag.endsWith('regexp') ? `/${value}/` : JSON.stringify(value));
        },
      });
    }
    for (const claim of ['trigger', 'sha', 'name', 'repository', 'ref'] as const) {
      cases.push({
        command,
        flag: `certificate-github-workflow-${claim}`,
        how: `keyless refusal of the key-signed seed (exit 6) names no GitHub claim without; names "${claim}=fw-${claim}" in the policy with the flag`,
        async run(ctx) {
          const keyless = [...base(ctx), '--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER, '--trusted-root', rootFile(ctx)];
          const without = await ctx.kit.run({ args: keyless });
          expectExit(without, [6], `${command} keyless`);
          expect(without.stderr).not.toMatch(/GitHub workflow/);
          const withFlag = await ctx.kit.run({ args: [...keyless, `--certificate-github-workflow-${claim}`, `fw-${claim}`] });
          expectExit(withFlag, [6], `${command} --certificate-github-workflow-${claim}`);
          expect(withFlag.stderr).toContain(`with GitHub workflow ${claim}=fw-${claim}`);
          // Alone (no identity and issuer) it is a usage error.
          expectExit(await ctx.kit.run({ args: [...base(ctx), `--certificate-github-workflow-${claim}`, `fw-${claim}`] }), [2], `${command} --certificate-github-workflow-${claim} alone`);
        },
      });
    }
    cases.push({
      command,
      flag: 'trusted-root',
      how: 'keyless check of the key-signed seed: exit 6 (public-good root) without; with --trusted-root of a file that is not a trusted root, exit 3 naming it',
      async run(ctx) {
        const keyless = [...base(ctx), '--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER];
        expectExit(await ctx.kit.run({ args: keyless }), [6], `${command} keyless, default root`);
        const bad = join(ctx.kit.dir('bad-root'), 'root.json');
        writeFileSync(bad, 'not json');
        const withFlag = await ctx.kit.run({ args: [...keyless, '--trusted-root', bad] });
        expectExit(withFlag, [3], `${command} --trusted-root not-json`);
        expect(withFlag.stderr).toMatch(/--trusted-root .* is not a trusted root/);
      },
    });
  }
  return cases;
}

export function trustCases(): FlagCase[] {
  return [...attachCases, ...discoverCases, ...verifyCases, ...copyCases, ...keylessCases()];
}
