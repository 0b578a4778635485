// The flags of diff: each compared against what the cluster holds (exit 0: nothing would change,
// 1: something would, as kubectl diff).
import { expect } from 'vitest';
import { clusterPolicy, open, pushPolicies } from './common.ts';
import { clusterOf, SCRATCH_NAMESPACE, SEED, type FlagCase, type FlagContext } from './context.ts';
import { expectExit, plus, writePolicies, type Invocation, type PolicySpec } from './kit.ts';
import { limitCases } from './push-pull-cases.ts';
import { uploadImage } from './registries.ts';

export function diffCases(): FlagCase[] {
  const K = (ctx: FlagContext) => clusterOf(ctx).kubeconfig;
  const kube = (ctx: FlagContext) => clusterOf(ctx).kube;
  const diffCase = (flag: string, how: string, run: (ctx: FlagContext) => Promise<void>): FlagCase => ({ command: 'diff', flag, cluster: true, how, run });
  return [
    diffCase('kubeconfig', 'KUBECONFIG names no file: fails without; compares with --kubeconfig', async (ctx) => {
      expectExit(await ctx.kit.run({ args: ['diff', open(ctx, SEED.src)] }), [2, 8], 'diff without --kubeconfig');
      expectExit(await ctx.kit.run({ args: ['diff', open(ctx, SEED.src), '--kubeconfig', K(ctx)] }), [0, 1], 'diff --kubeconfig');
    }),
    diffCase('context', 'current context dead: exit 8 without; compares with --context live', async (ctx) => {
      const base = { args: ['diff', open(ctx, SEED.src), '--kubeconfig', clusterOf(ctx).twoContexts] };
      expectExit(await ctx.kit.run(base), [8], 'diff in the dead context');
      expectExit(await ctx.kit.run(plus(base, '--context', 'live')), [0, 1], 'diff --context live');
    }),
    diffCase('namespace', 'a Policy applied in A: exit 0 (no change) without; exit 1 (would create it in B) with -n B', async (ctx) => {
      const [a, b] = [ctx.kit.id('dns-a'), ctx.kit.id('dns-b')];
      await Promise.all([kube(ctx).createNamespace(a), kube(ctx).createNamespace(b)]);
      const ref = await pushPolicies(ctx, 'dns', [{ kind: 'Policy', name: ctx.kit.id('dns'), namespace: a }]);
      await ctx.kit.ok({ args: ['apply', ref, '--kubeconfig', K(ctx)] });
      expectExit(await ctx.kit.run({ args: ['diff', ref, '--kubeconfig', K(ctx)] }), [0], 'diff of what was applied');
      const moved = await ctx.kit.run({ args: ['diff', ref, '--kubeconfig', K(ctx), '-n', b] });
      expectExit(moved, [1], 'diff -n B');
      expect(moved.stdout).toContain(b);
    }),
    diffCase('force-conflicts', 'spec.background owned by another manager: exit 8 (cannot compare) without; exit 1 showing background: true with', async (ctx) => {
      const x = clusterPolicy(ctx.kit.id('dconflict'));
      await kube(ctx).applyAs('fw-other', { ...x, background: false });
      const ref = await pushPolicies(ctx, 'dconflict', [x]);
      expectExit(await ctx.kit.run({ args: ['diff', ref, '--kubeconfig', K(ctx)] }), [8], 'diff over another manager\'s field');
      const forced = await ctx.kit.run({ args: ['diff', ref, '--kubeconfig', K(ctx), '--force-conflicts'] });
      expectExit(forced, [1], 'diff --force-conflicts');
      expect(forced.stdout).toMatch(/^\+\s*background: true/m);
    }),
    diffCase('prune', 'v1 {X, Y} applied with --prune; diff of v2 {X}: Y not named without; exit 1 naming Y with --prune', async (ctx) => {
      const repo = ctx.kit.id('dprune');
      const [x, y] = [clusterPolicy(`${repo}-x`), clusterPolicy(`${repo}-y`)];
      const v1 = await pushPolicies(ctx, 'dprune', [x, y], repo, 'v1');
      const v2 = await pushPolicies(ctx, 'dprune', [x], repo, 'v2');
      await ctx.kit.ok({ args: ['apply', v1, '--kubeconfig', K(ctx), '--prune'] });
      const kept = await ctx.kit.run({ args: ['diff', v2, '--kubeconfig', K(ctx)] });
      expectExit(kept, [0, 1], 'diff of v2');
      expect(kept.stdout).not.toContain(y.name);
      const pruned = await ctx.kit.run({ args: ['diff', v2, '--kubeconfig', K(ctx), '--prune'] });
      expectExit(pruned, [1], 'diff --prune of v2');
      expect(pruned.stdout).toContain(y.name);
    }),
    diffCase('verify-key', 'an unsigned artifact: compared without; exit 6 with --verify-key', async (ctx) => {
      expectExit(await ctx.kit.run({ args: ['diff', open(ctx, SEED.bundle), '--kubeconfig', K(ctx)] }), [0, 1], 'diff of an unsigned artifact');
      expectExit(await ctx.kit.run({ args: ['diff', open(ctx, SEED.bundle), '--kubeconfig', K(ctx), '--verify-key', ctx.files.pub] }), [6], 'diff --verify-key');
    }),
    diffCase('from-referrers', 'REF is an image with a policy attached: the policy is not compared without; exit 1 naming it with --from-referrers', async (ctx) => {
      const x = clusterPolicy(ctx.kit.id('dfr'));
      const repo = ctx.kit.id('dfr-image');
      await uploadImage(ctx.open.origin, repo, 'v1');
      await ctx.kit.ok({ args: ['attach', `${open(ctx, repo)}:v1`, writePolicies(ctx.kit, 'dfr', [x])] });
      expect((await ctx.kit.run({ args: ['diff', `${open(ctx, repo)}:v1`, '--kubeconfig', K(ctx)] })).stdout).not.toContain(x.name);
      const attached = await ctx.kit.run({ args: ['diff', `${open(ctx, repo)}:v1`, '--kubeconfig', K(ctx), '--from-referrers'] });
      expectExit(attached, [1], 'diff --from-referrers');
      expect(attached.stdout).toContain(x.name);
    }),
    diffCase('referrers-mode', '--from-referrers on a registry without the referrers API: compared without; exit 4 with --referrers-mode api', async (ctx) => {
      const base: Invocation = { args: ['diff', open(ctx, SEED.subject), '--from-referrers', '--kubeconfig', K(ctx)] };
      expectExit(await ctx.kit.run(base), [0, 1], 'diff --from-referrers');
      expectExit(await ctx.kit.run(plus(base, '--referrers-mode', 'api')), [4], 'diff --referrers-mode api');
    }),
    diffCase('image', 'exit 2 without a reference; compared with -i REF', async (ctx) => {
      expectExit(await ctx.kit.run({ args: ['diff', '--kubeconfig', K(ctx)] }), [2], 'diff without a reference');
      expectExit(await ctx.kit.run({ args: ['diff', '--kubeconfig', K(ctx), '-i', open(ctx, SEED.src)] }), [0, 1], 'diff -i REF');
    }),
    diffCase('engine', 'ClusterPolicy applied, KubeArmorPolicy not: exit 1 without; exit 0 with --engine kyverno', async (ctx) => {
      const x = clusterPolicy(ctx.kit.id('deng'));
      const y: PolicySpec = { kind: 'KubeArmorPolicy', name: ctx.kit.id('deng'), namespace: SCRATCH_NAMESPACE };
      await ctx.kit.ok({ args: ['apply', await pushPolicies(ctx, 'deng', [x]), '--kubeconfig', K(ctx)] });
      const both = await pushPolicies(ctx, 'deng', [x, y]);
      expectExit(await ctx.kit.run({ args: ['diff', both, '--kubeconfig', K(ctx)] }), [1], 'diff of both engines');
      expectExit(await ctx.kit.run({ args: ['diff', both, '--kubeconfig', K(ctx), '--engine', 'kyverno'] }), [0], 'diff --engine kyverno');
    }),
    ...limitCases('diff', (ctx, ref) => ({ args: ['diff', ref, '--kubeconfig', K(ctx)] }), [0, 1], true),
  ];
}

