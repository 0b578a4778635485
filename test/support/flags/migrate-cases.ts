// The flags of migrate. Both contexts ("from", "to") name the one test cluster: each case labels two
// policies of its own in a namespace of its own, selects them with -l, and (where the flag allows)
// retargets them into another namespace, so what migrate wrote is visible there.
import { expect } from 'vitest';
import { clusterOf, type FlagCase, type FlagContext } from './context.ts';
import { expectExit, json, type PolicySpec } from './kit.ts';
import { background, type KubeView } from './kube.ts';
import { registryTags } from './registries.ts';

interface MigrateSet {
  /** namespace the policies live in, and one (not created) to retarget into */
  src: string;
  dst: string;
  p: PolicySpec;
  q: PolicySpec;
  /** selects P and Q (and, in the one cluster, the copies a run made of them) */
  selector: string;
  /** selects P only */
  onlyP: string;
}

async function migrateSet(ctx: FlagContext): Promise<MigrateSet> {
  const id = ctx.kit.id('mig');
  const kube = clusterOf(ctx).kube;
  const src = `${id}-src`;
  await kube.createNamespace(src);
  const p: PolicySpec = { kind: 'Policy', name: `${id}-p`, namespace: src, labels: { 'fw-mig': id, 'fw-keep': id } };
  const q: PolicySpec = { kind: 'KubeArmorPolicy', name: `${id}-q`, namespace: src, labels: { 'fw-mig': id } };
  await Promise.all([kube.applyAs('fw-setup', p), kube.applyAs('fw-setup', q)]);
  return { src, dst: `${id}-dst`, p, q, selector: `fw-mig=${id}`, onlyP: `fw-keep=${id}` };
}

const at = (spec: PolicySpec, namespace: string): PolicySpec => ({ ...spec, namespace });

/** Which of the set's policies exist in `namespace`. */
async function present(kube: KubeView, set: MigrateSet, namespace: string): Promise<string[]> {
  const found: string[] = [];
  for (const spec of [set.p, set.q]) if (await kube.exists(at(spec, namespace))) found.push(spec.kind);
  return found;
}

function contexts(ctx: FlagContext): string[] {
  return ['--kubeconfig', clusterOf(ctx).migrate, '--from-context', 'from', '--to-context', 'to'];
}

/** `fresh()` makes a new set for each run (a run's copies carry the label too). */
function migrateCase(flag: string, how: string, run: (ctx: FlagContext, fresh: () => Promise<MigrateSet>, kube: KubeView) => Promise<void>): FlagCase {
  return { command: 'migrate', flag, cluster: true, how, run: async (ctx) => run(ctx, () => migrateSet(ctx), clusterOf(ctx).kube) };
}

const BOTH = ['Policy', 'KubeArmorPolicy'];

export function migrateCases(): FlagCase[] {
  const retarget = (set: MigrateSet) => ['-l', set.selector, '-n', set.dst, '--create-namespace'];
  /** A required flag: exit 2 naming it without; the set copied into its target namespace with. */
  const required = (flag: string, other: string[]) =>
    migrateCase(flag, `exit 2 naming --${flag} without; the policies copied with it`, async (ctx, fresh, kube) => {
      const set = await fresh();
      const args = ['migrate', '--kubeconfig', clusterOf(ctx).migrate, ...other, ...retarget(set)];
      const missing = await ctx.kit.run({ args });
      expectExit(missing, [2], `migrate without --${flag}`);
      expect(missing.stderr).toContain(flag);
      await ctx.kit.ok({ args: [...args, `--${flag}`, flag === 'from-context' ? 'from' : 'to'] });
      expect(await present(kube, set, set.dst)).toEqual(BOTH);
    });
  return [
    required('from-context', ['--to-context', 'to']),
    required('to-context', ['--from-context', 'from']),
    migrateCase('via', 'in memory (no "via" in JSON, nothing pushed) without; through the registry (JSON via.digest, the tag exists) with --via', async (ctx, fresh) => {
      const direct = json(await ctx.kit.ok({ args: ['migrate', ...contexts(ctx), ...retarget(await fresh()), '--format', 'json'] }), 'migrate');
      expect(direct).not.toHaveProperty('via');
      const repo = ctx.kit.id('via');
      const through = json<{ via?: { digest: string } }>(
        await ctx.kit.ok({ args: ['migrate', ...contexts(ctx), ...retarget(await fresh()), '--format', 'json', '--via', `${ctx.open.host}/${repo}:v1`] }),
        'migrate --via',
      );
      expect(through.via?.digest).toMatch(/^sha256:/);
      expect(await registryTags(ctx.open.origin, repo)).toEqual(['v1']);
    }),
    migrateCase('dry-run', 'bare --dry-run (= server) and --dry-run=client (a dead --to-context is not contacted): nothing in the target namespace; copied without', async (ctx, fresh, kube) => {
      const dry = await fresh();
      await ctx.kit.ok({ args: ['migrate', ...contexts(ctx), ...retarget(dry), '--dry-run'] });
      const client = ['migrate', '--kubeconfig', clusterOf(ctx).migrate, '--from-context', 'from', '--to-context', 'dead', ...retarget(dry), '--dry-run=client'];
      await ctx.kit.ok({ args: client });
      expect(await present(kube, dry, dry.dst)).toEqual([]);
      const real = await fresh();
      await ctx.kit.ok({ args: ['migrate', ...contexts(ctx), ...retarget(real)] });
      expect(await present(kube, real, real.dst)).toEqual(BOTH);
    }),
    migrateCase('create-namespace', '-n into a missing namespace: exit 8 without; namespace and policies created with', async (ctx, fresh, kube) => {
      const set = await fresh();
      const args = ['migrate', ...contexts(ctx), '-l', set.selector, '-n', set.dst];
      expectExit(await ctx.kit.run({ args }), [8], 'migrate into a missing namespace');
      expect(await kube.namespaceExists(set.dst)).toBe(false);
      await ctx.kit.ok({ args: [...args, '--create-namespace'] });
      expect(await present(kube, set, set.dst)).toEqual(BOTH);
    }),
    migrateCase('force-conflicts', 'the target Policy\'s spec.background owned by another manager: exit 8 without; taken over with', async (ctx, fresh, kube) => {
      const set = await fresh();
      await kube.createNamespace(set.dst);
      const target = at(set.p, set.dst);
      // Labelled otherwise: the selector must not pick the target up as a source.
      await kube.applyAs('fw-other', { ...target, labels: { 'fw-mig': 'target' }, background: false });
      // P only: nothing is copied by the failing run (a copy would match the selector next time).
      const args = ['migrate', ...contexts(ctx), '-l', set.onlyP, '-n', set.dst];
      expectExit(await ctx.kit.run({ args }), [8], 'migrate over another manager\'s field');
      expect(background(await kube.get(target))).toBe(false);
      await ctx.kit.ok({ args: [...args, '--force-conflicts'] });
      expect(background(await kube.get(target))).toBe(true);
    }),
    migrateCase(
      'atomic',
      'the target Policy\'s spec.background owned by another manager (the server refuses P): exit 8 and Q applied without; ' +
        'exit 8 as apply --atomic, nothing applied, "nothing was applied", JSON atomic.applied false with (all applied once the check passes: ' +
        '--atomic --force-conflicts); refused with --dry-run=client (exit 2)',
      async (ctx, fresh, kube) => {
        /** A fresh set whose P the target refuses: a copy in the target namespace, its field owned by another manager. */
        const refusedSet = async () => {
          const set = await fresh();
          await kube.createNamespace(set.dst);
          // Labelled otherwise: the selector must not pick the target up as a source.
          await kube.applyAs('fw-other', { ...at(set.p, set.dst), labels: { 'fw-mig': 'target' }, background: false });
          return { set, args: ['migrate', ...contexts(ctx), '-l', set.selector, '-n', set.dst] };
        };
        const plain = await refusedSet();
        expectExit(await ctx.kit.run({ args: plain.args }), [8], 'migrate of a set with a refused policy');
        expect(await kube.exists(at(plain.set.q, plain.set.dst))).toBe(true);
        expect(background(await kube.get(at(plain.set.p, plain.set.dst)))).toBe(false);

        const { set, args: base } = await refusedSet();
        const args = [...base, '--atomic'];
        const text = await ctx.kit.run({ args });
        expectExit(text, [8], 'migrate --atomic of a set with a refused policy');
        expect(text.stdout).toMatch(/^Checked first with a server dry run \(--atomic\): 2 objects, 1 would fail; nothing was applied/m);
        expect(text.stderr).toMatch(/--atomic: 1 of 2 objects would fail .*nothing was applied/);
        const jsonRun = await ctx.kit.run({ args: [...args, '--format', 'json'] });
        expectExit(jsonRun, [8], 'migrate --atomic --format json');
        const report = json<{ atomic: Record<string, unknown>; results: Array<{ name: string; action: string }> }>(jsonRun, 'migrate --atomic --format json');
        expect(report.atomic).toMatchObject({ checkedWith: 'server-dry-run', checked: 2, wouldFail: 1, applied: false });
        expect(report.results.filter((r) => r.action === 'failed').map((r) => r.name)).toEqual([set.p.name]);
        expect(await kube.exists(at(set.q, set.dst))).toBe(false);
        expect(background(await kube.get(at(set.p, set.dst)))).toBe(false);

        const client = await ctx.kit.run({ args: [...args, '--dry-run=client'] });
        expectExit(client, [2], 'migrate --atomic --dry-run=client');
        expect(client.stderr).toMatch(/--atomic .*--dry-run=client/);

        // A set that passes the check is applied, and says it was checked first.
        const passed = await ctx.kit.ok({ args: [...args, '--force-conflicts'] });
        expect(passed.stdout).toMatch(/^Checked first with a server dry run \(--atomic\): 2 objects, none would fail; then applied$/m);
        expect(await present(kube, set, set.dst)).toEqual(BOTH);
        expect(background(await kube.get(at(set.p, set.dst)))).toBe(true);
      },
    ),
    migrateCase('strip-defaults', 'the copied Policy\'s managed fields: migrate sent spec.background (true, its schema default) without; left it out with --strip-defaults (the target fills it in, owned by no one)', async (ctx, fresh, kube) => {
      /** Whether what migrate sent for the copy of P held spec.background: the fields its apply owns. */
      const sentBackground = async (extra: string[]) => {
        const set = await fresh();
        await ctx.kit.ok({ args: ['migrate', ...contexts(ctx), '-l', set.onlyP, '-n', set.dst, '--create-namespace', ...extra] });
        const copy = await kube.get(at(set.p, set.dst));
        expect(background(copy)).toBe(true);
        const managed = (copy?.metadata as { managedFields?: Array<{ operation: string; fieldsV1?: { 'f:spec'?: Record<string, unknown> } }> }).managedFields ?? [];
        const applied = managed.filter((m) => m.operation === 'Apply');
        expect(applied).toHaveLength(1);
        return Object.hasOwn(applied[0]!.fieldsV1?.['f:spec'] ?? {}, 'f:background');
      };
      expect(await sentBackground([])).toBe(true);
      expect(await sentBackground(['--strip-defaults'])).toBe(false);
    }),
    migrateCase('api-version', 'client dry run: the Policy sent as kyverno.io/v1 (what kubectl get shows) without; as kyverno.io/v2beta1 with --api-version kyverno.io/v2beta1', async (ctx, fresh) => {
      const set = await fresh();
      const args = ['migrate', ...contexts(ctx), '-l', set.onlyP, '-n', set.dst, '--dry-run=client', '--format', 'json'];
      const sent = async (extra: string[]) => json<{ results: Array<{ kind: string; apiVersion: string }> }>(await ctx.kit.ok({ args: [...args, ...extra] }), 'migrate').results.map((r) => `${r.apiVersion} ${r.kind}`);
      expect(await sent([])).toEqual(['kyverno.io/v1 Policy']);
      expect(await sent(['--api-version', 'kyverno.io/v2beta1'])).toEqual(['kyverno.io/v2beta1 Policy']);
    }),
    migrateCase('namespace', 'applied back where they came from without; into namespace B with -n B', async (ctx, fresh, kube) => {
      const set = await fresh();
      await kube.createNamespace(set.dst);
      const same = json<{ results: Array<{ namespace?: string }> }>(await ctx.kit.ok({ args: ['migrate', ...contexts(ctx), '-l', set.selector, '--format', 'json'] }), 'migrate');
      expect(same.results.map((r) => r.namespace)).toEqual([set.src, set.src]);
      expect(await present(kube, set, set.dst)).toEqual([]);
      const moved = await fresh();
      await kube.createNamespace(moved.dst);
      await ctx.kit.ok({ args: ['migrate', ...contexts(ctx), '-l', moved.selector, '-n', moved.dst] });
      expect(await present(kube, moved, moved.dst)).toEqual(BOTH);
    }),
    migrateCase('selector', 'server dry run into namespace B: every policy of the cluster exported without; the 2 labelled ones with -l', async (ctx, fresh, kube) => {
      const set = await fresh();
      await kube.createNamespace(set.dst);
      const args = ['migrate', ...contexts(ctx), '-n', set.dst, '--dry-run=server', '--format', 'json'];
      // Other cases' policies may fail a dry run into one namespace (two of the same name): count what was exported.
      const all = await ctx.kit.run({ args });
      expectExit(all, [0, 8], 'migrate without -l');
      expect(json<{ exported: number }>(all, 'migrate').exported).toBeGreaterThan(2);
      expect(json<{ exported: number }>(await ctx.kit.ok({ args: [...args, '-l', set.selector] }), 'migrate -l').exported).toBe(2);
    }),
    migrateCase('engine', 'both policies copied without; only the KubeArmorPolicy with --engine kubearmor', async (ctx, fresh, kube) => {
      const one = await fresh();
      await ctx.kit.ok({ args: ['migrate', ...contexts(ctx), ...retarget(one), '--engine', 'kubearmor'] });
      expect(await present(kube, one, one.dst)).toEqual(['KubeArmorPolicy']);
      const both = await fresh();
      await ctx.kit.ok({ args: ['migrate', ...contexts(ctx), ...retarget(both)] });
      expect(await present(kube, both, both.dst)).toEqual(BOTH);
    }),
    migrateCase('kind', 'both policies copied without; only the KubeArmorPolicy with --kind KubeArmorPolicy', async (ctx, fresh, kube) => {
      const one = await fresh();
      await ctx.kit.ok({ args: ['migrate', ...contexts(ctx), ...retarget(one), '--kind', 'KubeArmorPolicy'] });
      expect(await present(kube, one, one.dst)).toEqual(['KubeArmorPolicy']);
      const both = await fresh();
      await ctx.kit.ok({ args: ['migrate', ...contexts(ctx), ...retarget(both)] });
      expect(await present(kube, both, both.dst)).toEqual(BOTH);
    }),
    migrateCase('prune', 'after migrate --prune of {P, Q}, Q deleted at the source: Q stays in the target without; deleted there with --prune', async (ctx, fresh, kube) => {
      const set = await fresh();
      await ctx.kit.ok({ args: ['migrate', ...contexts(ctx), ...retarget(set), '--prune'] });
      await kube.delete(set.q);
      // The one cluster is source and target: the copies in the target must not be selected as
      // sources, so before each run P gets a label value of its own at the source.
      const onlyP = async (round: string, extra: string[]) => {
        const value = `${set.onlyP.split('=')[1]}-${round}`;
        await kube.applyAs('fw-setup', { ...set.p, labels: { ...set.p.labels, 'fw-keep': value } });
        await ctx.kit.ok({ args: ['migrate', ...contexts(ctx), '-l', `fw-keep=${value}`, '-n', set.dst, ...extra] });
      };
      await onlyP('2', []);
      expect(await present(kube, set, set.dst)).toEqual(BOTH);
      await onlyP('3', ['--prune']);
      expect(await present(kube, set, set.dst)).toEqual(['Policy']);
    }),
    migrateCase('kubeconfig', 'KUBECONFIG names no file: fails without; copied with --kubeconfig', async (ctx, fresh, kube) => {
      const set = await fresh();
      const args = ['migrate', '--from-context', 'from', '--to-context', 'to', ...retarget(set)];
      expectExit(await ctx.kit.run({ args }), [2, 8], 'migrate without --kubeconfig');
      await ctx.kit.ok({ args: [...args, '--kubeconfig', clusterOf(ctx).migrate] });
      expect(await present(kube, set, set.dst)).toEqual(BOTH);
    }),
  ];
}
