// The flags of push, pull (writing files) and the read limits (pull, inspect; apply and diff reuse
// limitCases).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { stringify } from 'yaml';
import { inspectJson, layerTypes, open, yamlFiles } from './common.ts';
import { ATTACHED_POLICIES, SEED, type FlagCase, type FlagContext } from './context.ts';
import { expectExit, json, plus, policyObject, writeInvalidPolicy, type Invocation } from './kit.ts';
import { sharedRun } from './output-cases.ts';
import { ORAS_EMPTY_CONFIG, registryTags, uploadArtifact } from './registries.ts';

const seedFile = (ctx: FlagContext, name: string) => join(ctx.files.policies, name);

/** The limits of reading an artifact: each one low enough to refuse the seeds (exit 6). */
export function limitCases(command: string, base: (ctx: FlagContext, ref: string) => Invocation, okCodes: readonly number[], cluster = false): FlagCase[] {
  const limits: Array<[flag: string, value: string, seed: string, what: string]> = [
    ['max-layers', '1', SEED.src, 'the seed has a manifest of 4 layers'],
    ['max-layer-size', '64', SEED.src, 'every seed layer is larger than 64 bytes'],
    ['max-manifest-size', '200', SEED.src, 'the seed index is larger than 200 bytes'],
    ['max-uncompressed-size', '100', SEED.bundle, 'the bundle layers unpack to more than 100 bytes'],
    ['max-archive-entries', '1', SEED.bundle, 'the Kyverno bundle layer holds 4 files'],
  ];
  return limits.map(([flag, value, seed, what]) => ({
    command,
    flag,
    cluster,
    how: `works without; exit 6 with --${flag} ${value} (${what})`,
    async run(ctx) {
      // The run without is the same for every limit: made once per seed.
      const unlimited = sharedRun(ctx, `${command} unlimited ${seed}`, () => ctx.kit.run(base(ctx, open(ctx, seed))));
      expectExit(await unlimited, okCodes, `${command} without --${flag}`);
      const limited = await ctx.kit.run(plus(base(ctx, open(ctx, seed)), `--${flag}`, value));
      expectExit(limited, [6], `${command} --${flag} ${value}`);
    },
  }));
}

const pushCases: FlagCase[] = [
  {
    command: 'push',
    flag: 'image',
    how: '`push DIR`: exit 2 (no destination); `push DIR -i REF` pushes DIR to REF (the registry lists the tag)',
    async run(ctx) {
      expectExit(await ctx.kit.run({ args: ['push', ctx.files.policies] }), [2], 'push DIR');
      const repo = ctx.kit.id('push-image');
      expectExit(await ctx.kit.run({ args: ['push', ctx.files.policies, '-i', `${open(ctx, repo)}:v1`] }), [0], 'push DIR -i REF');
      expect(await registryTags(ctx.open.origin, repo)).toEqual(['v1']);
    },
  },
  {
    command: 'push',
    flag: 'policy',
    how: '`push REF a.yaml` holds 1 policy; with `-p b.yaml` it holds 2 (JSON "policies")',
    async run(ctx) {
      const run = (extra: string[]) => ctx.kit.ok({ args: ['push', `${open(ctx, ctx.kit.id('push-p'))}:v1`, seedFile(ctx, 'clusterpolicy-fw-seed-cp-a.yaml'), '--format', 'json', ...extra] });
      expect(json(await run([]), 'push').policies).toBe(1);
      expect(json(await run(['-p', seedFile(ctx, 'clusterpolicy-fw-seed-cp-b.yaml')]), 'push -p').policies).toBe(2);
    },
  },
  {
    command: 'push',
    flag: 'bundle',
    how: 'inspect: one YAML layer per policy without; one tar+gzip layer per engine with --bundle',
    async run(ctx) {
      const pushed = async (extra: string[]) => {
        const ref = `${open(ctx, ctx.kit.id('push-bundle'))}:v1`;
        await ctx.kit.ok({ args: ['push', ref, ctx.files.policies, ...extra] });
        return inspectJson(ctx, ref);
      };
      const plain = await pushed([]);
      expect(layerTypes(plain)).toHaveLength(5);
      expect(layerTypes(plain).filter((t) => t.endsWith('tar+gzip'))).toEqual([]);
      const bundled = await pushed(['--bundle']);
      expect(bundled.manifests.map((m) => m.layers.length)).toEqual([1, 1]);
      expect(layerTypes(bundled).every((t) => t.endsWith('tar+gzip'))).toBe(true);
    },
  },
  {
    command: 'push',
    flag: 'kyverno-format',
    how: 'inspect: a per-layer Kyverno manifest (config …kyverno.config.v1+json) without; one …bundle.content.v1.tar+gzip layer and the bundle config with --kyverno-format bundle-1.0',
    async run(ctx) {
      const dir = ctx.kit.dir('cel-root');
      writeFileSync(
        join(dir, 'vpol.yaml'),
        `# kept byte for byte\napiVersion: policies.kyverno.io/v1\nkind: ValidatingPolicy\nmetadata:\n  name: fw-cel\nspec:\n  validationActions: [Audit]\n  matchConstraints:\n    resourceRules:\n      - apiGroups: ['']\n        apiVersions: [v1]\n        operations: [CREATE]\n        resources: [pods]\n  validations:\n    - expression: "true"\n`,
      );
      const pushed = async (extra: string[]) => {
        const ref = `${open(ctx, ctx.kit.id('push-kyverno-format'))}:v1`;
        await ctx.kit.ok({ args: ['push', ref, dir, ...extra] });
        return inspectJson(ctx, ref);
      };
      const plain = await pushed([]);
      expect((plain.manifests[0] as unknown as { configMediaType: string }).configMediaType).toBe('application/vnd.cncf.kyverno.config.v1+json');
      expect(layerTypes(plain)).toEqual(['application/vnd.cncf.kyverno.policy.layer.v1+yaml']);
      const bundle = await pushed(['--kyverno-format', 'bundle-1.0']);
      expect((bundle.manifests[0] as unknown as { configMediaType: string }).configMediaType).toBe('application/vnd.cncf.kyverno.bundle.config.v1+json');
      expect(layerTypes(bundle)).toEqual(['application/vnd.cncf.kyverno.bundle.content.v1.tar+gzip']);
    },
  },
  {
    command: 'push',
    flag: 'annotation',
    how: 'inspect shows the manifest annotation fw.example/flag=on only with -a',
    async run(ctx) {
      const annotations = async (extra: string[]) => {
        const ref = `${open(ctx, ctx.kit.id('push-annotation'))}:v1`;
        await ctx.kit.ok({ args: ['push', ref, ctx.files.policies, ...extra] });
        return (await inspectJson(ctx, ref)).annotations;
      };
      expect(await annotations([])).not.toHaveProperty(['fw.example/flag']);
      expect(await annotations(['-a', 'fw.example/flag=on'])).toHaveProperty(['fw.example/flag'], 'on');
    },
  },
  {
    command: 'push',
    flag: 'skip-validation',
    how: 'a policy that fails its CRD schema: exit 3 without; pushed (exit 0) with',
    async run(ctx) {
      const file = writeInvalidPolicy(ctx.kit, 'fw-invalid');
      expectExit(await ctx.kit.run({ args: ['push', `${open(ctx, ctx.kit.id('push-invalid'))}:v1`, file] }), [3], 'push of an invalid policy');
      expectExit(await ctx.kit.run({ args: ['push', `${open(ctx, ctx.kit.id('push-invalid'))}:v1`, file, '--skip-validation'] }), [0], 'push --skip-validation');
    },
  },
  {
    command: 'push',
    flag: 'dry-run',
    how: 'without: the tag exists; bare --dry-run (client): "Would push", the repository stays empty; --dry-run=server is refused (exit 2)',
    async run(ctx) {
      const pushed = ctx.kit.id('push-dry');
      await ctx.kit.ok({ args: ['push', `${open(ctx, pushed)}:v1`, ctx.files.policies] });
      expect(await registryTags(ctx.open.origin, pushed)).toEqual(['v1']);
      const dry = ctx.kit.id('push-dry');
      const result = await ctx.kit.ok({ args: ['push', `${open(ctx, dry)}:v1`, ctx.files.policies, '--dry-run'] });
      expect(result.stdout).toMatch(/Would push 5 policies/);
      expect(await registryTags(ctx.open.origin, dry)).toEqual([]);
      expectExit(await ctx.kit.run({ args: ['push', `${open(ctx, dry)}:v1`, ctx.files.policies, '--dry-run=server'] }), [2], 'push --dry-run=server');
    },
  },
  {
    command: 'push',
    flag: 'exclude',
    how: 'the 5 seed files pushed without; 4 with --exclude "kubearmorpolicy-*" (JSON "policies")',
    async run(ctx) {
      const run = (extra: string[]) => ctx.kit.ok({ args: ['push', `${open(ctx, ctx.kit.id('push-exclude'))}:v1`, ctx.files.policies, '--format', 'json', ...extra] });
      expect(json(await run([]), 'push').policies).toBe(5);
      expect(json(await run(['--exclude', 'kubearmorpolicy-*']), 'push --exclude').policies).toBe(4);
    },
  },
  {
    command: 'push',
    flag: 'split-engines',
    how: 'one index tagged v1 without; one artifact per engine, tagged v1-kubearmor and v1-kyverno, with --split-engines',
    async run(ctx) {
      const tags = async (extra: string[]) => {
        const repo = ctx.kit.id('push-split');
        await ctx.kit.ok({ args: ['push', `${open(ctx, repo)}:v1`, ctx.files.policies, ...extra] });
        return (await registryTags(ctx.open.origin, repo)).sort();
      };
      expect(await tags([])).toEqual(['v1']);
      expect(await tags(['--split-engines'])).toEqual(['v1-kubearmor', 'v1-kyverno']);
    },
  },
];

const pullCases: FlagCase[] = [
  {
    command: 'pull',
    flag: 'image',
    how: '`pull -o DIR`: exit 2 (no reference); with `-i REF` the 5 policies are written',
    async run(ctx) {
      expectExit(await ctx.kit.run({ args: ['pull', '-o', ctx.kit.dir('pulled')] }), [2], 'pull without a reference');
      const out = ctx.kit.dir('pulled');
      await ctx.kit.ok({ args: ['pull', '-o', out, '-i', open(ctx, SEED.src)] });
      expect(yamlFiles(out)).toHaveLength(5);
    },
  },
  {
    command: 'pull',
    flag: 'engine',
    how: '5 files (both engines) without; only the KubeArmor policy with --engine kubearmor',
    async run(ctx) {
      const pulled = async (extra: string[]) => {
        const out = ctx.kit.dir('pulled');
        await ctx.kit.ok({ args: ['pull', open(ctx, SEED.src), '-o', out, ...extra] });
        return yamlFiles(out);
      };
      expect(await pulled([])).toHaveLength(5);
      expect(await pulled(['--engine', 'kubearmor'])).toEqual(['fw-seed-ksp.yaml']);
    },
  },
  {
    command: 'pull',
    flag: 'output',
    how: 'files land in the working directory without; in DIR with -o DIR (none in the working directory); -o with --apply is refused (exit 2)',
    async run(ctx) {
      const cwd = ctx.kit.dir('cwd');
      await ctx.kit.ok({ args: ['pull', open(ctx, SEED.src)], cwd });
      expect(yamlFiles(cwd)).toHaveLength(5);
      const cwd2 = ctx.kit.dir('cwd');
      const out = ctx.kit.dir('out');
      await ctx.kit.ok({ args: ['pull', open(ctx, SEED.src), '-o', out], cwd: cwd2 });
      expect(yamlFiles(out)).toHaveLength(5);
      expect(yamlFiles(cwd2)).toEqual([]);
      expectExit(await ctx.kit.run({ args: ['pull', open(ctx, SEED.src), '--apply', '-o', ctx.kit.dir('out')] }), [2], 'pull --apply -o');
    },
  },
  {
    command: 'pull',
    flag: 'force',
    how: 'an existing fw-seed-cp-a.yaml: exit 7 and kept without; replaced with --force; --force with --apply is refused (exit 2)',
    async run(ctx) {
      const out = ctx.kit.dir('pulled');
      const existing = join(out, 'fw-seed-cp-a.yaml');
      writeFileSync(existing, 'old\n');
      expectExit(await ctx.kit.run({ args: ['pull', open(ctx, SEED.src), '-o', out] }), [7], 'pull over an existing file');
      expect(readFileSync(existing, 'utf8')).toBe('old\n');
      await ctx.kit.ok({ args: ['pull', open(ctx, SEED.src), '-o', out, '--force'] });
      expect(readFileSync(existing, 'utf8')).toMatch(/kind: ClusterPolicy/);
      expectExit(await ctx.kit.run({ args: ['pull', open(ctx, SEED.src), '--apply', '--force'] }), [2], 'pull --apply --force');
    },
  },
  {
    command: 'pull',
    flag: 'verify-key',
    how: 'an unsigned artifact: pulled without; exit 6 and nothing written with --verify-key',
    async run(ctx) {
      const out = ctx.kit.dir('pulled');
      await ctx.kit.ok({ args: ['pull', open(ctx, SEED.bundle), '-o', out] });
      expect(yamlFiles(out)).toHaveLength(5);
      const refused = ctx.kit.dir('pulled');
      expectExit(await ctx.kit.run({ args: ['pull', open(ctx, SEED.bundle), '-o', refused, '--verify-key', ctx.files.pub] }), [6], 'pull --verify-key of an unsigned artifact');
      expect(yamlFiles(refused)).toEqual([]);
    },
  },
  {
    command: 'pull',
    flag: 'from-referrers',
    how: 'REF is an image: its attached policies are not pulled without; written with --from-referrers',
    async run(ctx) {
      const out = ctx.kit.dir('pulled');
      await ctx.kit.run({ args: ['pull', open(ctx, SEED.subject), '-o', out] });
      expect(yamlFiles(out)).not.toContain('fw-att-cp.yaml');
      const attached = ctx.kit.dir('pulled');
      await ctx.kit.ok({ args: ['pull', open(ctx, SEED.subject), '-o', attached, '--from-referrers'] });
      expect(yamlFiles(attached)).toEqual(ATTACHED_POLICIES.map((p) => `${p.name}.yaml`).sort());
    },
  },
  {
    command: 'pull',
    flag: 'referrers-mode',
    how: '--from-referrers on a registry without the referrers API: found by the tag schema without; exit 4 with --referrers-mode api',
    async run(ctx) {
      await ctx.kit.ok({ args: ['pull', open(ctx, SEED.subject), '--from-referrers', '-o', ctx.kit.dir('pulled')] });
      const forced = await ctx.kit.run({ args: ['pull', open(ctx, SEED.subject), '--from-referrers', '-o', ctx.kit.dir('pulled'), '--referrers-mode', 'api'] });
      expectExit(forced, [4], 'pull --referrers-mode api');
      expect(forced.stderr).toMatch(/referrers API/);
    },
  },
  {
    command: 'pull',
    flag: 'preserve-paths',
    how: 'an oras-style artifact, one file team/two.yaml holding 2 policies: one <name>.yaml per policy without; team/two.yaml as it is with --preserve-paths',
    async run(ctx) {
      const repo = ctx.kit.id('oras');
      const two = [policyObject({ kind: 'ClusterPolicy', name: `${repo}-a` }), policyObject({ kind: 'ClusterPolicy', name: `${repo}-b` })];
      await uploadArtifact(ctx.open.origin, repo, 'v1', [{ title: 'team/two.yaml', content: two.map((p) => stringify(p)).join('---\n') }], ORAS_EMPTY_CONFIG);
      const pulled = async (extra: string[]) => {
        const out = ctx.kit.dir('pulled');
        await ctx.kit.ok({ args: ['pull', `${open(ctx, repo)}:v1`, '-o', out, ...extra] });
        return readdirSync(out, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.yaml')).sort();
      };
      expect(await pulled([])).toEqual([`${repo}-a.yaml`, `${repo}-b.yaml`]);
      expect(await pulled(['--preserve-paths'])).toEqual([join('team', 'two.yaml')]);
    },
  },
  ...limitCases('pull', (ctx, ref) => ({ args: ['pull', ref, '-o', ctx.kit.dir('pulled')] }), [0]),
];

export function pushPullCases(): FlagCase[] {
  return [...pushCases, ...pullCases, ...limitCases('inspect', (_ctx, ref) => ({ args: ['inspect', ref] }), [0])];
}
