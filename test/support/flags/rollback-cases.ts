// The flags of rollback (its own; the registry, output, limit and keyless flags are proven by the
// generic cases through its op in registry-ops.ts, limitCases and trust-cases.ts), and --wait of
// apply and pull --apply.
import { expect } from 'vitest';
import { helpCase } from './command-cases.ts';
import { clusterPolicy, open, pushPolicies } from './common.ts';
import { clusterOf, SEED, type FlagCase, type FlagContext } from './context.ts';
import { expectExit, json, type PolicySpec } from './kit.ts';
import { background } from './kube.ts';
import { limitCases } from './push-pull-cases.ts';

const K = (ctx: FlagContext) => clusterOf(ctx).kubeconfig;
const kube = (ctx: FlagContext) => clusterOf(ctx).kube;

/** A repository of the open registry at v1 {x} and v2 {x, y}; v1 then v2 applied (--prune). */
async function appliedTwice(ctx: FlagContext, label: string): Promise<{ repo: string; x: PolicySpec; y: PolicySpec }> {
  const repo = ctx.kit.id(label);
  const [x, y] = [clusterPolicy(`${repo}-x`), clusterPolicy(`${repo}-y`)];
  await pushPolicies(ctx, label, [x], repo, 'v1');
  await pushPolicies(ctx, label, [x, y], repo, 'v2');
  await ctx.kit.ok({ args: ['apply', `${open(ctx, repo)}:v1`, '--kubeconfig', K(ctx), '--prune'] });
  await ctx.kit.ok({ args: ['apply', `${open(ctx, repo)}:v2`, '--kubeconfig', K(ctx), '--prune'] });
  return { repo: open(ctx, repo), x, y };
}

const rollbackCases: FlagCase[] = [
  {
    command: 'rollback',
    flag: 'to',
    cluster: true,
    how: 'a repository applied once: exit 4 without (no version before it); with --to v1, that version (JSON rollback.chosenBy "to-tag")',
    async run(ctx) {
      const repo = ctx.kit.id('rb-to');
      const x = clusterPolicy(`${repo}-x`);
      await pushPolicies(ctx, 'rb-to', [x], repo, 'v1');
      await ctx.kit.ok({ args: ['apply', `${open(ctx, repo)}:v1`, '--kubeconfig', K(ctx)] });
      expectExit(await ctx.kit.run({ args: ['rollback', open(ctx, repo), '--kubeconfig', K(ctx)] }), [4], 'rollback of a repository applied once');
      const r = await ctx.kit.ok({ args: ['rollback', open(ctx, repo), '--kubeconfig', K(ctx), '--to', 'v1', '--format', 'json'] });
      expect(json<{ rollback: { chosenBy: string } }>(r, 'rollback --to').rollback.chosenBy).toBe('to-tag');
    },
  },
  {
    command: 'rollback',
    flag: 'kubeconfig',
    cluster: true,
    how: 'KUBECONFIG names no file: exit 2 or 8 without, the policy the last apply added still there; rolled back (it is pruned) with --kubeconfig',
    async run(ctx) {
      const { repo, y } = await appliedTwice(ctx, 'rb-kc');
      expectExit(await ctx.kit.run({ args: ['rollback', repo] }), [2, 8], 'rollback without --kubeconfig');
      expect(await kube(ctx).exists(y)).toBe(true);
      await ctx.kit.ok({ args: ['rollback', repo, '--kubeconfig', K(ctx)] });
      expect(await kube(ctx).exists(y)).toBe(false);
    },
  },
  {
    command: 'rollback',
    flag: 'context',
    cluster: true,
    how: 'kubeconfig whose current context is dead: exit 8 without; rolled back with --context live',
    async run(ctx) {
      const { repo, y } = await appliedTwice(ctx, 'rb-ctx');
      const base = ['rollback', repo, '--kubeconfig', clusterOf(ctx).twoContexts];
      expectExit(await ctx.kit.run({ args: base }), [8], 'rollback in the current (dead) context');
      expect(await kube(ctx).exists(y)).toBe(true);
      await ctx.kit.ok({ args: [...base, '--context', 'live'] });
      expect(await kube(ctx).exists(y)).toBe(false);
    },
  },
  {
    command: 'rollback',
    flag: 'namespace',
    cluster: true,
    how: 'a Policy of namespace A applied with -n B: rolled back without -n it goes to A (the one in B pruned); with -n B it stays in B, A untouched',
    async run(ctx) {
      const [a, b] = [ctx.kit.id('rb-ns-a'), ctx.kit.id('rb-ns-b')];
      await Promise.all([kube(ctx).createNamespace(a), kube(ctx).createNamespace(b)]);
      const repo = ctx.kit.id('rb-ns');
      const p: PolicySpec = { kind: 'Policy', name: repo, namespace: a };
      await pushPolicies(ctx, 'rb-ns', [p], repo, 'v1');
      await ctx.kit.ok({ args: ['apply', `${open(ctx, repo)}:v1`, '--kubeconfig', K(ctx), '-n', b] });
      await ctx.kit.ok({ args: ['rollback', open(ctx, repo), '--to', 'v1', '--kubeconfig', K(ctx)] });
      expect([await kube(ctx).exists(p), await kube(ctx).exists({ ...p, namespace: b })]).toEqual([true, false]);
      await ctx.kit.ok({ args: ['rollback', open(ctx, repo), '--to', 'v1', '--kubeconfig', K(ctx), '-n', b] });
      expect([await kube(ctx).exists(p), await kube(ctx).exists({ ...p, namespace: b })]).toEqual([true, true]);
    },
  },
  {
    command: 'rollback',
    flag: 'dry-run',
    cluster: true,
    how: 'bare --dry-run (= server): the policy the last apply added is still there, exit 0; --dry-run=client refused (exit 2); without, it is pruned',
    async run(ctx) {
      const { repo, y } = await appliedTwice(ctx, 'rb-dry');
      await ctx.kit.ok({ args: ['rollback', repo, '--kubeconfig', K(ctx), '--dry-run'] });
      expect(await kube(ctx).exists(y)).toBe(true);
      expectExit(await ctx.kit.run({ args: ['rollback', repo, '--kubeconfig', K(ctx), '--dry-run=client'] }), [2], 'rollback --dry-run=client');
      await ctx.kit.ok({ args: ['rollback', repo, '--kubeconfig', K(ctx)] });
      expect(await kube(ctx).exists(y)).toBe(false);
    },
  },
  {
    command: 'rollback',
    flag: 'verify-key',
    cluster: true,
    how: 'the version before is unsigned: exit 6 and nothing changed with --verify-key; rolled back without',
    async run(ctx) {
      const { repo, y } = await appliedTwice(ctx, 'rb-vk');
      expectExit(await ctx.kit.run({ args: ['rollback', repo, '--kubeconfig', K(ctx), '--verify-key', ctx.files.pub] }), [6], 'rollback --verify-key to an unsigned version');
      expect(await kube(ctx).exists(y)).toBe(true);
      await ctx.kit.ok({ args: ['rollback', repo, '--kubeconfig', K(ctx)] });
      expect(await kube(ctx).exists(y)).toBe(false);
    },
  },
  {
    command: 'rollback',
    flag: 'force-conflicts',
    cluster: true,
    how: 'spec.background changed since by another manager: exit 8 (conflict), left as it is without; taken back with',
    async run(ctx) {
      const { repo, x } = await appliedTwice(ctx, 'rb-fc');
      await kube(ctx).applyAs('fw-other', { ...x, background: false });
      const conflict = await ctx.kit.run({ args: ['rollback', repo, '--kubeconfig', K(ctx)] });
      expectExit(conflict, [8], 'rollback over another manager\'s field');
      expect(conflict.stdout + conflict.stderr).toMatch(/conflict|managed by/);
      expect(background(await kube(ctx).get(x))).toBe(false);
      await ctx.kit.ok({ args: ['rollback', repo, '--kubeconfig', K(ctx), '--force-conflicts'] });
      expect(background(await kube(ctx).get(x))).toBe(true);
    },
  },
];

/** apply, pull --apply and rollback: --wait (the flag cluster runs no controller: KubeArmor reports nothing). */
function waitCase(command: 'apply' | 'pull' | 'rollback'): FlagCase {
  const verb = (ref: string) => (command === 'apply' ? ['apply', ref] : command === 'pull' ? ['pull', ref, '--apply'] : rollbackTo(ref));
  return {
    command,
    flag: 'wait',
    cluster: true,
    how:
      'without: no readiness in the JSON result; with --wait=5s: one per policy (KubeArmor "not reported", said at once), and with a dry run refused (exit 2)' +
      (command === 'pull' ? '; pull without --apply refuses it (exit 2)' : ''),
    async run(ctx) {
      const ksp: PolicySpec = { kind: 'KubeArmorPolicy', name: ctx.kit.id('wait'), namespace: 'default' };
      const ref = await pushPolicies(ctx, 'wait', [ksp]);
      const without = json<{ readiness?: unknown }>(await ctx.kit.ok({ args: [...verb(ref), '--kubeconfig', K(ctx), '--format', 'json'] }), `${command} without --wait`);
      expect(without.readiness).toBeUndefined();
      const waited = json<{ readiness: { results: Array<{ name: string; outcome: string }> } }>(
        await ctx.kit.ok({ args: [...verb(ref), '--kubeconfig', K(ctx), '--wait=5s', '--format', 'json'] }),
        `${command} --wait`,
      );
      expect(waited.readiness.results).toEqual([expect.objectContaining({ name: ksp.name, outcome: 'not-reported' })]);
      expectExit(await ctx.kit.run({ args: [...verb(ref), '--kubeconfig', K(ctx), '--wait', '--dry-run=server'] }), [2], `${command} --wait --dry-run`);
      if (command === 'pull') {
        const refused = await ctx.kit.run({ args: ['pull', open(ctx, SEED.src), '-o', ctx.kit.dir('pulled'), '--wait'] });
        expectExit(refused, [2], 'pull --wait without --apply');
        expect(refused.stderr).toContain('--wait');
      }
    },
  };
}

/** `rollback REPO --to TAG` for REPO:TAG. */
export function rollbackTo(ref: string): string[] {
  const colon = ref.lastIndexOf(':');
  return ['rollback', ref.slice(0, colon), '--to', ref.slice(colon + 1)];
}

/** migrate --wait: a KubeArmorPolicy of its own, labelled, copied into another namespace of the one cluster. */
const migrateWaitCase: FlagCase = {
  command: 'migrate',
  flag: 'wait',
  cluster: true,
  how: 'without: no readiness in the JSON result; with --wait=5s: the copied KubeArmorPolicy "not reported" (KubeArmor reports nothing); with --dry-run refused (exit 2)',
  async run(ctx) {
    // A new policy each run (a run's copy carries the label too).
    const fresh = async (): Promise<{ id: string; args: string[] }> => {
      const id = ctx.kit.id('mig-wait');
      await kube(ctx).createNamespace(`${id}-src`);
      await kube(ctx).applyAs('fw-setup', { kind: 'KubeArmorPolicy', name: id, namespace: `${id}-src`, labels: { 'fw-mig-wait': id } });
      return { id, args: ['migrate', '--kubeconfig', clusterOf(ctx).migrate, '--from-context', 'from', '--to-context', 'to', '-l', `fw-mig-wait=${id}`, '-n', `${id}-dst`, '--create-namespace', '--format', 'json'] };
    };
    const plain = await fresh();
    expect(json<{ readiness?: unknown }>(await ctx.kit.ok({ args: plain.args }), 'migrate without --wait').readiness).toBeUndefined();
    const waiting = await fresh();
    const waited = json<{ readiness: { results: Array<{ name: string; outcome: string }> } }>(await ctx.kit.ok({ args: [...waiting.args, '--wait=5s'] }), 'migrate --wait');
    expect(waited.readiness.results).toEqual([expect.objectContaining({ name: waiting.id, outcome: 'not-reported' })]);
    expectExit(await ctx.kit.run({ args: [...(await fresh()).args, '--wait', '--dry-run=server'] }), [2], 'migrate --wait --dry-run');
  },
};

export function rollbackFlagCases(): FlagCase[] {
  return [
    ...rollbackCases,
    helpCase('rollback'),
    ...limitCases('rollback', (ctx, ref) => ({ args: [...rollbackTo(ref), '--kubeconfig', K(ctx)] }), [0], true),
    waitCase('apply'),
    waitCase('pull'),
    waitCase('rollback'),
    migrateWaitCase,
  ];
}
