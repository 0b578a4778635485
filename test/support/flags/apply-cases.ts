// The flags of apply and of pull --apply. The apply-only flags are proven on both (pull refuses
// them without --apply, exit 2); the flags pull shares with apply for reading the artifact are
// proven for pull in file mode (push-pull-cases.ts) and for apply here.
import { readdirSync } from 'node:fs';
import { expect } from 'vitest';
import { clusterPolicy, open, pushPolicies } from './common.ts';
import { clusterOf, SCRATCH_NAMESPACE, SEED, type FlagCase, type FlagContext } from './context.ts';
import { expectExit, json, plus, writePolicies, type Invocation, type PolicySpec } from './kit.ts';
import { background } from './kube.ts';
import { limitCases } from './push-pull-cases.ts';
import { uploadImage } from './registries.ts';

/** How a command applies: `apply REF` or `pull REF --apply`. */
interface Verb {
  command: 'apply' | 'pull';
  args(ref: string): string[];
}

const APPLY: Verb = { command: 'apply', args: (ref) => ['apply', ref] };
const PULL_APPLY: Verb = { command: 'pull', args: (ref) => ['pull', ref, '--apply'] };

/**
 * An apply-only flag: proven on `verb` without vs with it; for pull, also refused (exit 2, naming
 * the flag) without --apply.
 */
function applyOnly(verb: Verb, flag: string, how: string, flagArgs: string[], prove: (ctx: FlagContext, verb: Verb) => Promise<void>): FlagCase {
  return {
    command: verb.command,
    flag,
    cluster: true,
    how: verb.command === 'pull' ? `pull --apply: ${how}; pull without --apply refuses it (exit 2)` : how,
    async run(ctx) {
      await prove(ctx, verb);
      if (verb.command === 'pull') {
        const refused = await ctx.kit.run({ args: ['pull', open(ctx, SEED.src), '-o', ctx.kit.dir('pulled'), ...flagArgs] });
        expectExit(refused, [2], `pull ${flagArgs.join(' ')} without --apply`);
        expect(refused.stderr.includes(`--${flag}`) || refused.stderr.includes(flagArgs[0]!), `the refusal names the flag: ${refused.stderr}`).toBe(true);
      }
    },
  };
}

function applyCases(verb: Verb): FlagCase[] {
  const K = (ctx: FlagContext) => clusterOf(ctx).kubeconfig;
  const kube = (ctx: FlagContext) => clusterOf(ctx).kube;
  return [
    applyOnly(verb, 'kubeconfig', 'KUBECONFIG names no file: fails without; applied with --kubeconfig', ['--kubeconfig', '/dev/null'], async (ctx, v) => {
      const x = clusterPolicy(ctx.kit.id('kc'));
      const ref = await pushPolicies(ctx, 'kc', [x]);
      expectExit(await ctx.kit.run({ args: v.args(ref) }), [2, 8], `${v.command} without --kubeconfig`);
      expect(await kube(ctx).exists(x)).toBe(false);
      await ctx.kit.ok({ args: [...v.args(ref), '--kubeconfig', K(ctx)] });
      expect(await kube(ctx).exists(x)).toBe(true);
    }),
    applyOnly(verb, 'context', 'kubeconfig whose current context is dead: exit 8 without; applied with --context live', ['--context', 'live'], async (ctx, v) => {
      const x = clusterPolicy(ctx.kit.id('ctx'));
      const ref = await pushPolicies(ctx, 'ctx', [x]);
      const base = { args: [...v.args(ref), '--kubeconfig', clusterOf(ctx).twoContexts] };
      expectExit(await ctx.kit.run(base), [8], `${v.command} to the current (dead) context`);
      await ctx.kit.ok(plus(base, '--context', 'live'));
      expect(await kube(ctx).exists(x)).toBe(true);
    }),
    applyOnly(verb, 'namespace', 'a Policy of namespace A lands in A without; in B with -n B', ['-n', 'default'], async (ctx, v) => {
      const [a, b] = [ctx.kit.id('ns-a'), ctx.kit.id('ns-b')];
      await Promise.all([kube(ctx).createNamespace(a), kube(ctx).createNamespace(b)]);
      const p: PolicySpec = { kind: 'Policy', name: ctx.kit.id('ns'), namespace: a };
      const ref = await pushPolicies(ctx, 'ns', [p]);
      await ctx.kit.ok({ args: [...v.args(ref), '--kubeconfig', K(ctx), '-n', b] });
      expect([await kube(ctx).exists(p), await kube(ctx).exists({ ...p, namespace: b })]).toEqual([false, true]);
      await ctx.kit.ok({ args: [...v.args(ref), '--kubeconfig', K(ctx)] });
      expect(await kube(ctx).exists(p)).toBe(true);
    }),
    applyOnly(verb, 'create-namespace', 'a Policy of a missing namespace: exit 8 without; namespace and policy created with', ['--create-namespace'], async (ctx, v) => {
      const ns = ctx.kit.id('new-ns');
      const p: PolicySpec = { kind: 'Policy', name: ctx.kit.id('cn'), namespace: ns };
      const ref = await pushPolicies(ctx, 'cn', [p]);
      expectExit(await ctx.kit.run({ args: [...v.args(ref), '--kubeconfig', K(ctx)] }), [8], `${v.command} into a missing namespace`);
      expect(await kube(ctx).namespaceExists(ns)).toBe(false);
      await ctx.kit.ok({ args: [...v.args(ref), '--kubeconfig', K(ctx), '--create-namespace'] });
      expect([await kube(ctx).namespaceExists(ns), await kube(ctx).exists(p)]).toEqual([true, true]);
    }),
    applyOnly(verb, 'dry-run', 'bare --dry-run (= server) and --dry-run=client (no cluster contacted: dead context) leave the policy absent; created without', ['--dry-run'], async (ctx, v) => {
      const x = clusterPolicy(ctx.kit.id('dry'));
      const ref = await pushPolicies(ctx, 'dry', [x]);
      await ctx.kit.ok({ args: [...v.args(ref), '--kubeconfig', K(ctx), '--dry-run'] });
      await ctx.kit.ok({ args: [...v.args(ref), '--kubeconfig', clusterOf(ctx).twoContexts, '--dry-run=client'] });
      expect(await kube(ctx).exists(x)).toBe(false);
      await ctx.kit.ok({ args: [...v.args(ref), '--kubeconfig', K(ctx)] });
      expect(await kube(ctx).exists(x)).toBe(true);
    }),
    applyOnly(verb, 'force-conflicts', 'spec.background owned by another manager: exit 8 (conflict), unchanged without; taken over with', ['--force-conflicts'], async (ctx, v) => {
      const x = clusterPolicy(ctx.kit.id('conflict'));
      await kube(ctx).applyAs('fw-other', { ...x, background: false });
      const ref = await pushPolicies(ctx, 'conflict', [x]);
      const conflict = await ctx.kit.run({ args: [...v.args(ref), '--kubeconfig', K(ctx)] });
      expectExit(conflict, [8], `${v.command} over another manager's field`);
      expect(conflict.stdout + conflict.stderr).toMatch(/conflict|managed by/);
      expect(background(await kube(ctx).get(x))).toBe(false);
      await ctx.kit.ok({ args: [...v.args(ref), '--kubeconfig', K(ctx), '--force-conflicts'] });
      expect(background(await kube(ctx).get(x))).toBe(true);
    }),
    applyOnly(verb, 'prune', 'v1 {X, Y} applied with --prune, then v2 {X} of the same repository: Y stays without; Y deleted with --prune', ['--prune'], async (ctx, v) => {
      const repo = ctx.kit.id('prune');
      const [x, y] = [clusterPolicy(`${repo}-x`), clusterPolicy(`${repo}-y`)];
      const v1 = await pushPolicies(ctx, 'prune', [x, y], repo, 'v1');
      const v2 = await pushPolicies(ctx, 'prune', [x], repo, 'v2');
      // apply marks what it applies as its own (label and source annotation) with --prune.
      await ctx.kit.ok({ args: ['apply', v1, '--kubeconfig', K(ctx), '--prune'] });
      await ctx.kit.ok({ args: [...v.args(v2), '--kubeconfig', K(ctx)] });
      expect(await kube(ctx).exists(y)).toBe(true);
      const pruned = await ctx.kit.ok({ args: [...v.args(v2), '--kubeconfig', K(ctx), '--prune'] });
      expect(pruned.stdout).toMatch(/pruned/);
      expect([await kube(ctx).exists(x), await kube(ctx).exists(y)]).toEqual([true, false]);
    }),
    applyOnly(
      verb,
      'atomic',
      'a set of two new policies and one the server refuses (a field another manager owns: conflict): exit 8 and the two applied without; ' +
        'exit 8, none applied, "nothing was applied", JSON atomic.applied false with (with --dry-run=server the check alone; all applied once the check passes: ' +
        '--atomic --force-conflicts); refused with --dry-run=client (exit 2)',
      ['--atomic'],
      async (ctx, v) => {
        const refused = clusterPolicy(ctx.kit.id('at-conflict'));
        await kube(ctx).applyAs('fw-other', { ...refused, background: false });
        const setOf = async (label: string) => {
          const valid = [clusterPolicy(ctx.kit.id(`${label}-a`)), clusterPolicy(ctx.kit.id(`${label}-b`))];
          return { valid, ref: await pushPolicies(ctx, label, [...valid, refused]) };
        };
        const exist = (specs: PolicySpec[]) => Promise.all(specs.map((p) => kube(ctx).exists(p)));

        const plain = await setOf('at-plain');
        expectExit(await ctx.kit.run({ args: [...v.args(plain.ref), '--kubeconfig', K(ctx)] }), [8], `${v.command} of a set with a refused object`);
        expect(await exist(plain.valid)).toEqual([true, true]);

        const atomic = await setOf('at-atomic');
        const args = [...v.args(atomic.ref), '--kubeconfig', K(ctx), '--atomic'];
        const text = await ctx.kit.run({ args });
        expectExit(text, [8], `${v.command} --atomic of a set with a refused object`);
        expect(text.stdout).toMatch(/^Checked first with a server dry run \(--atomic\): 3 objects, 1 would fail; nothing was applied/);
        expect(text.stdout).toMatch(new RegExp(`^clusterpolicy/${refused.name} failed: .*(conflict|managed by)`, 'm'));
        expect(text.stderr).toMatch(/--atomic: 1 of 3 objects would fail .*nothing was applied/);
        const jsonRun = await ctx.kit.run({ args: [...args, '--format', 'json'] });
        expectExit(jsonRun, [8], `${v.command} --atomic --format json`);
        const report = json<{ atomic: Record<string, unknown>; dryRunStrategy: string; results: Array<{ name: string; action: string }> }>(jsonRun, `${v.command} --atomic --format json`);
        expect(report.atomic).toMatchObject({ checkedWith: 'server-dry-run', checked: 3, wouldFail: 1, applied: false });
        expect(report.dryRunStrategy).toBe('server');
        expect(report.results.filter((r) => r.action === 'failed').map((r) => r.name)).toEqual([refused.name]);
        expect(await exist(atomic.valid)).toEqual([false, false]);
        expect(background(await kube(ctx).get(refused))).toBe(false);

        // With --dry-run=server: the check alone, which now passes; still nothing applied.
        const check = json<{ atomic: Record<string, unknown> }>(await ctx.kit.ok({ args: [...args, '--force-conflicts', '--dry-run=server', '--format', 'json'] }), 'the check alone');
        expect(check.atomic).toMatchObject({ checked: 3, wouldFail: 0, applied: false });
        expect(await exist(atomic.valid)).toEqual([false, false]);

        // A set that passes the check is applied, and says it was checked first.
        const passed = await ctx.kit.ok({ args: [...args, '--force-conflicts'] });
        expect(passed.stdout).toMatch(/^Checked first with a server dry run \(--atomic\): 3 objects, none would fail; then applied$/m);
        expect(await exist([...atomic.valid, refused])).toEqual([true, true, true]);
        expect(background(await kube(ctx).get(refused))).toBe(true);

        const client = await ctx.kit.run({ args: [...args, '--dry-run=client'] });
        expectExit(client, [2], `${v.command} --atomic --dry-run=client`);
        expect(client.stderr).toMatch(/--atomic .*--dry-run=client/);
      },
    ),
  ];
}

/** apply's own flags beyond the apply-only ones pull shares (pull proves those in file mode). */
/** apply's own flags beyond the apply-only ones pull shares (pull proves those in file mode). */
function applyReadCases(): FlagCase[] {
  const K = (ctx: FlagContext) => clusterOf(ctx).kubeconfig;
  const kube = (ctx: FlagContext) => clusterOf(ctx).kube;
  return [
    {
      command: 'apply',
      flag: 'verify-key',
      cluster: true,
      how: 'an unsigned artifact: exit 6 and nothing applied with --verify-key; applied without',
      async run(ctx) {
        const x = clusterPolicy(ctx.kit.id('vk'));
        const ref = await pushPolicies(ctx, 'vk', [x]);
        expectExit(await ctx.kit.run({ args: ['apply', ref, '--kubeconfig', K(ctx), '--verify-key', ctx.files.pub] }), [6], 'apply --verify-key of an unsigned artifact');
        expect(await kube(ctx).exists(x)).toBe(false);
        await ctx.kit.ok({ args: ['apply', ref, '--kubeconfig', K(ctx)] });
        expect(await kube(ctx).exists(x)).toBe(true);
      },
    },
    {
      command: 'apply',
      flag: 'from-referrers',
      cluster: true,
      how: 'REF is an image with a policy attached: not applied without; applied with --from-referrers',
      async run(ctx) {
        const x = clusterPolicy(ctx.kit.id('fr'));
        const repo = ctx.kit.id('fr-image');
        await uploadImage(ctx.open.origin, repo, 'v1');
        await ctx.kit.ok({ args: ['attach', `${open(ctx, repo)}:v1`, writePolicies(ctx.kit, 'fr', [x])] });
        await ctx.kit.run({ args: ['apply', `${open(ctx, repo)}:v1`, '--kubeconfig', K(ctx)] });
        expect(await kube(ctx).exists(x)).toBe(false);
        await ctx.kit.ok({ args: ['apply', `${open(ctx, repo)}:v1`, '--kubeconfig', K(ctx), '--from-referrers'] });
        expect(await kube(ctx).exists(x)).toBe(true);
      },
    },
    {
      command: 'apply',
      flag: 'referrers-mode',
      cluster: true,
      how: '--from-referrers on a registry without the referrers API: applied (tag schema) without; exit 4 with --referrers-mode api',
      async run(ctx) {
        const base: Invocation = { args: ['apply', open(ctx, SEED.subject), '--from-referrers', '--kubeconfig', K(ctx)] };
        await ctx.kit.ok(base);
        expectExit(await ctx.kit.run(plus(base, '--referrers-mode', 'api')), [4], 'apply --referrers-mode api');
      },
    },
    {
      command: 'apply',
      flag: 'image',
      cluster: true,
      how: 'exit 2 without a reference; applied with -i REF',
      async run(ctx) {
        const x = clusterPolicy(ctx.kit.id('img'));
        const ref = await pushPolicies(ctx, 'img', [x]);
        expectExit(await ctx.kit.run({ args: ['apply', '--kubeconfig', K(ctx)] }), [2], 'apply without a reference');
        await ctx.kit.ok({ args: ['apply', '--kubeconfig', K(ctx), '-i', ref] });
        expect(await kube(ctx).exists(x)).toBe(true);
      },
    },
    {
      command: 'apply',
      flag: 'engine',
      cluster: true,
      how: 'artifact with a ClusterPolicy and a KubeArmorPolicy: only the KubeArmor one applied with --engine kubearmor; both without',
      async run(ctx) {
        const x = clusterPolicy(ctx.kit.id('eng'));
        const y: PolicySpec = { kind: 'KubeArmorPolicy', name: ctx.kit.id('eng'), namespace: SCRATCH_NAMESPACE };
        const ref = await pushPolicies(ctx, 'eng', [x, y]);
        await ctx.kit.ok({ args: ['apply', ref, '--kubeconfig', K(ctx), '--engine', 'kubearmor'] });
        expect([await kube(ctx).exists(x), await kube(ctx).exists(y)]).toEqual([false, true]);
        await ctx.kit.ok({ args: ['apply', ref, '--kubeconfig', K(ctx)] });
        expect(await kube(ctx).exists(x)).toBe(true);
      },
    },
    {
      command: 'pull',
      flag: 'apply',
      cluster: true,
      how: '(KUBECONFIG set) files in the working directory and nothing applied without; applied and no files with --apply',
      async run(ctx) {
        const x = clusterPolicy(ctx.kit.id('pa'));
        const ref = await pushPolicies(ctx, 'pa', [x]);
        const env = { KUBECONFIG: K(ctx) };
        const cwd = ctx.kit.dir('cwd');
        await ctx.kit.ok({ args: ['pull', ref], env, cwd });
        expect(readdirSync(cwd)).toEqual([`${x.name}.yaml`]);
        expect(await kube(ctx).exists(x)).toBe(false);
        const cwd2 = ctx.kit.dir('cwd');
        await ctx.kit.ok({ args: ['pull', ref, '--apply'], env, cwd: cwd2 });
        expect(readdirSync(cwd2)).toEqual([]);
        expect(await kube(ctx).exists(x)).toBe(true);
      },
    },
    ...limitCases('apply', (ctx, ref) => ({ args: ['apply', ref, '--kubeconfig', K(ctx)] }), [0], true),
  ];
}

export function applyFlagCases(): FlagCase[] {
  return [...applyCases(APPLY), ...applyCases(PULL_APPLY), ...applyReadCases()];
}
