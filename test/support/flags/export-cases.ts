// The flags of export: to files (--output-dir) where the selection is what differs, to a registry
// where the artifact is.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { parse } from 'yaml';
import { inspectJson, layerTypes, open } from './common.ts';
import { clusterOf, SEED_LABEL, SEED_NAMESPACE, SEED_OTHER_NAMESPACE, type FlagCase, type FlagContext } from './context.ts';
import { expectExit, json, plus } from './kit.ts';
import { registryTags } from './registries.ts';

type Exported = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec?: Record<string, unknown> };

/** The YAML objects export wrote into `dir`. */
function exported(dir: string): Exported[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => parse(readFileSync(join(dir, f), 'utf8')) as Exported);
}

/** Names of the namespaced objects (export -n keeps cluster-scoped policies too). */
const namespaced = (objects: Exported[]) => objects.filter((o) => o.metadata.namespace !== undefined).map((o) => o.metadata.name).sort();
const names = (objects: Exported[]) => objects.map((o) => o.metadata.name).sort();
const SEED_NAMESPACED = ['fw-seed-ksp', 'fw-seed-pol'];

export function exportCases(): FlagCase[] {
  const K = (ctx: FlagContext) => clusterOf(ctx).kubeconfig;
  const toDir = async (ctx: FlagContext, extra: string[], base = ['--kubeconfig', K(ctx)]) => {
    const dir = ctx.kit.dir('exported');
    await ctx.kit.ok({ args: ['export', '--output-dir', dir, ...base, ...extra] });
    return exported(dir);
  };
  const exportCase = (flag: string, how: string, run: (ctx: FlagContext) => Promise<void>): FlagCase => ({ command: 'export', flag, cluster: true, how, run });
  return [
    exportCase('kubeconfig', 'KUBECONFIG names no file: fails without; exported with --kubeconfig', async (ctx) => {
      expectExit(await ctx.kit.run({ args: ['export', '--output-dir', ctx.kit.dir('exported'), '-n', SEED_NAMESPACE] }), [2, 8], 'export without --kubeconfig');
      expect(namespaced(await toDir(ctx, ['-n', SEED_NAMESPACE]))).toEqual(SEED_NAMESPACED);
    }),
    exportCase('context', 'current context dead: exit 8 without; exported with --context live', async (ctx) => {
      const base = ['--kubeconfig', clusterOf(ctx).twoContexts, '-n', SEED_NAMESPACE];
      expectExit(await ctx.kit.run({ args: ['export', '--output-dir', ctx.kit.dir('exported'), ...base] }), [8], 'export in the dead context');
      expect(namespaced(await toDir(ctx, ['--context', 'live'], base))).toEqual(SEED_NAMESPACED);
    }),
    exportCase('namespace', `policies of ${SEED_OTHER_NAMESPACE} exported without; with -n ${SEED_NAMESPACE} only that namespace's (and cluster-scoped ones)`, async (ctx) => {
      expect((await toDir(ctx, [])).some((o) => o.metadata.namespace === SEED_OTHER_NAMESPACE)).toBe(true);
      expect(namespaced(await toDir(ctx, ['-n', SEED_NAMESPACE]))).toEqual(SEED_NAMESPACED);
    }),
    exportCase('all-namespaces', `with -n ${SEED_NAMESPACE}: that namespace only without; every namespace with -A`, async (ctx) => {
      expect((await toDir(ctx, ['-n', SEED_NAMESPACE])).some((o) => o.metadata.namespace === SEED_OTHER_NAMESPACE)).toBe(false);
      expect((await toDir(ctx, ['-n', SEED_NAMESPACE, '-A'])).some((o) => o.metadata.namespace === SEED_OTHER_NAMESPACE)).toBe(true);
    }),
    exportCase('selector', `an unlabelled policy exported without; only the 5 ${SEED_LABEL} policies with -l`, async (ctx) => {
      expect(names(await toDir(ctx, []))).toContain('fw-unlabelled');
      expect(names(await toDir(ctx, ['-l', SEED_LABEL]))).toEqual(['fw-seed-cp-a', 'fw-seed-cp-b', 'fw-seed-ksp', 'fw-seed-pol', 'fw-seed-pol-b']);
    }),
    exportCase('engine', `the ${SEED_LABEL} policies: both engines without; the KubeArmorPolicy only with --engine kubearmor`, async (ctx) => {
      expect(names(await toDir(ctx, ['-l', SEED_LABEL]))).toHaveLength(5);
      expect(names(await toDir(ctx, ['-l', SEED_LABEL, '--engine', 'kubearmor']))).toEqual(['fw-seed-ksp']);
    }),
    exportCase('kind', `the ${SEED_LABEL} policies: every kind without; the KubeArmorPolicy only with --kind KubeArmorPolicy`, async (ctx) => {
      expect(names(await toDir(ctx, ['-l', SEED_LABEL]))).toHaveLength(5);
      expect(names(await toDir(ctx, ['-l', SEED_LABEL, '--kind', 'KubeArmorPolicy']))).toEqual(['fw-seed-ksp']);
    }),
    exportCase('output-dir', 'exit 2 without (neither REF nor a directory); the files written with --output-dir', async (ctx) => {
      expectExit(await ctx.kit.run({ args: ['export', '--kubeconfig', K(ctx), '-l', SEED_LABEL] }), [2], 'export without REF or --output-dir');
      expect(names(await toDir(ctx, ['-l', SEED_LABEL]))).toHaveLength(5);
    }),
    exportCase('force', 'an existing fw-seed-pol.yaml: exit 7 and kept without; replaced with --force', async (ctx) => {
      const dir = ctx.kit.dir('exported');
      writeFileSync(join(dir, 'fw-seed-pol.yaml'), 'old\n');
      const base = { args: ['export', '--output-dir', dir, '--kubeconfig', K(ctx), '-l', SEED_LABEL] };
      expectExit(await ctx.kit.run(base), [7], 'export over an existing file');
      expect(readFileSync(join(dir, 'fw-seed-pol.yaml'), 'utf8')).toBe('old\n');
      await ctx.kit.ok(plus(base, '--force'));
      expect(readFileSync(join(dir, 'fw-seed-pol.yaml'), 'utf8')).toMatch(/kind: Policy/);
    }),
    exportCase('dry-run', 'pushed (the tag exists) without; bare --dry-run (client): "Would push", nothing pushed; --dry-run=server refused (exit 2)', async (ctx) => {
      const run = async (extra: string[]) => {
        const repo = ctx.kit.id('export-dry');
        const result = await ctx.kit.run({ args: ['export', `${open(ctx, repo)}:v1`, '--kubeconfig', K(ctx), '-l', SEED_LABEL, ...extra] });
        return { result, tags: await registryTags(ctx.open.origin, repo) };
      };
      const pushed = await run([]);
      expectExit(pushed.result, [0], 'export');
      expect(pushed.tags).toEqual(['v1']);
      const dry = await run(['--dry-run']);
      expectExit(dry.result, [0], 'export --dry-run');
      expect(dry.result.stdout).toMatch(/Would push 5 policies/);
      expect(dry.tags).toEqual([]);
      expectExit((await run(['--dry-run=server'])).result, [2], 'export --dry-run=server');
    }),
    exportCase('bundle', 'inspect: YAML layers without; one tar+gzip layer per engine with --bundle', async (ctx) => {
      const layers = async (extra: string[]) => {
        const ref = `${open(ctx, ctx.kit.id('export-bundle'))}:v1`;
        await ctx.kit.ok({ args: ['export', ref, '--kubeconfig', K(ctx), '-l', SEED_LABEL, ...extra] });
        return layerTypes(await inspectJson(ctx, ref));
      };
      const plain = await layers([]);
      expect(plain).toHaveLength(5);
      expect(plain.some((t) => t.endsWith('tar+gzip'))).toBe(false);
      const bundled = await layers(['--bundle']);
      expect(bundled).toHaveLength(2);
      expect(bundled.every((t) => t.endsWith('tar+gzip'))).toBe(true);
    }),
    exportCase('kyverno-format', `the ${SEED_LABEL} policies: pushed per layer without; with --kyverno-format bundle-1.0 refused (exit 3, nothing pushed): ClusterPolicy and the rest are not policies.kyverno.io kinds`, async (ctx) => {
      const repo = ctx.kit.id('export-kyverno-format');
      const ref = `${open(ctx, repo)}:v1`;
      const run = (extra: string[]) => ctx.kit.run({ args: ['export', ref, '--kubeconfig', K(ctx), '-l', SEED_LABEL, ...extra] });
      const refused = await run(['--kyverno-format', 'bundle-1.0']);
      expectExit(refused, [3], 'export --kyverno-format bundle-1.0 of ClusterPolicies');
      expect(refused.stderr).toMatch(/carries only the policies\.kyverno\.io kinds.*nothing was pushed/);
      expect(await registryTags(ctx.open.origin, repo)).toEqual([]);
      expectExit(await run([]), [0], 'export without --kyverno-format');
      expect(layerTypes(await inspectJson(ctx, ref))).toHaveLength(5);
    }),
    exportCase('strict', 'the restricted user may not list every kind: exported (those kinds under "skipped") without; failed and nothing written with --strict', async (ctx) => {
      const base = (dir: string) => ({ args: ['export', '--output-dir', dir, '--kubeconfig', clusterOf(ctx).restricted, '--format', 'json'] });
      const lenient = await ctx.kit.ok(base(ctx.kit.dir('exported')));
      expect(json<{ skipped: unknown[] }>(lenient, 'export').skipped.length).toBeGreaterThan(0);
      const dir = ctx.kit.dir('exported');
      const strict = await ctx.kit.run(plus(base(dir), '--strict'));
      expect(strict.code, `export --strict: ${strict.stderr}`).not.toBe(0);
      expect(exported(dir)).toEqual([]);
    }),
    exportCase('api-version', 'the seed ClusterPolicy written at kyverno.io/v1 (what kubectl get shows) without; at kyverno.io/v2beta1 with --api-version kyverno.io/v2beta1; a version no kind has: exit 2', async (ctx) => {
      const cp = (objects: Exported[]) => objects.find((o) => o.metadata.name === 'fw-seed-cp-a')!;
      expect(cp(await toDir(ctx, ['-l', SEED_LABEL])).apiVersion).toBe('kyverno.io/v1');
      expect(cp(await toDir(ctx, ['-l', SEED_LABEL, '--api-version', 'kyverno.io/v2beta1'])).apiVersion).toBe('kyverno.io/v2beta1');
      expectExit(await ctx.kit.run({ args: ['export', '--output-dir', ctx.kit.dir('exported'), '--kubeconfig', K(ctx), '--api-version', 'kyverno.io/v9'] }), [2], 'export --api-version kyverno.io/v9');
    }),
    exportCase('strip-defaults', 'the seed ClusterPolicy\'s spec.background: true (its schema default) and the admission: true the server added written without; left out with --strip-defaults, the rules kept', async (ctx) => {
      const spec = (objects: Exported[]) => objects.find((o) => o.metadata.name === 'fw-seed-cp-a')!.spec!;
      const plain = spec(await toDir(ctx, ['-l', SEED_LABEL]));
      expect(plain).toMatchObject({ background: true, admission: true });
      const stripped = spec(await toDir(ctx, ['-l', SEED_LABEL, '--strip-defaults']));
      expect(stripped).not.toHaveProperty('background');
      expect(stripped).not.toHaveProperty('admission');
      expect(stripped).toHaveProperty('rules');
    }),
    exportCase('annotation', 'inspect shows the manifest annotation fw.example/flag=on only with -a', async (ctx) => {
      const annotations = async (extra: string[]) => {
        const ref = `${open(ctx, ctx.kit.id('export-annotation'))}:v1`;
        await ctx.kit.ok({ args: ['export', ref, '--kubeconfig', K(ctx), '-l', SEED_LABEL, ...extra] });
        return (await inspectJson(ctx, ref)).annotations;
      };
      expect(await annotations([])).not.toHaveProperty(['fw.example/flag']);
      expect(await annotations(['-a', 'fw.example/flag=on'])).toHaveProperty(['fw.example/flag'], 'on');
    }),
  ];
}

