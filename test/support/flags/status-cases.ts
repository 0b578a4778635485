// The flags of several contexts at once (--all-contexts, --parallel, --fail-fast) on apply, pull
// --apply, diff and status, and the cluster flags of status. The contexts are the flag cluster
// under two names, a context pointing at a closed port ("dead"), and for --parallel three local
// HTTP servers that hold every request a moment and count how many of them are busy at once.
import { createServer, type Server } from 'node:http';
import { expect } from 'vitest';
import type { CliResult } from '../cli.ts';
import { clusterUser, writeKubeconfig } from '../kubeconfig.ts';
import { helpCase } from './command-cases.ts';
import { rollbackTo } from './rollback-cases.ts';
import { clusterPolicy, open, pushPolicies } from './common.ts';
import { clusterOf, SCRATCH_NAMESPACE, SEED, type FlagCase, type FlagContext } from './context.ts';
import { expectExit, json, plus, type Invocation } from './kit.ts';

/** How a command runs over contexts, and its exit codes of success. */
interface FleetVerb {
  command: 'apply' | 'pull' | 'diff' | 'status' | 'rollback';
  /** The command on a new artifact of its own (a ClusterPolicy and a Policy); status: applied first. */
  args(ctx: FlagContext): Promise<string[]>;
  ok: readonly number[];
}

/** A new artifact: a ClusterPolicy, and a Policy in SCRATCH_NAMESPACE. Returns REF (…:v1). */
function ownArtifact(ctx: FlagContext, label: string): Promise<string> {
  const name = ctx.kit.id(label);
  return pushPolicies(ctx, label, [clusterPolicy(name), { kind: 'Policy', name, namespace: SCRATCH_NAMESPACE }], name);
}

const VERBS: readonly FleetVerb[] = [
  { command: 'apply', args: async (ctx) => ['apply', await ownArtifact(ctx, 'fleet-apply')], ok: [0] },
  { command: 'pull', args: async (ctx) => ['pull', await ownArtifact(ctx, 'fleet-pull'), '--apply'], ok: [0] },
  { command: 'rollback', args: async (ctx) => rollbackTo(await ownArtifact(ctx, 'fleet-rollback')), ok: [0] },
  { command: 'diff', args: async (ctx) => ['diff', await ownArtifact(ctx, 'fleet-diff')], ok: [0, 1] },
  { command: 'status', args: appliedStatus, ok: [0, 1] },
];

/** status REPO of a new artifact applied to the flag cluster. */
async function appliedStatus(ctx: FlagContext): Promise<string[]> {
  const ref = await ownArtifact(ctx, 'fleet-status');
  await ctx.kit.ok({ args: ['apply', ref, '--kubeconfig', clusterOf(ctx).kubeconfig] });
  return ['status', ref.slice(0, ref.lastIndexOf(':'))];
}

interface FleetJson {
  contexts?: Array<{ context: string; status: string }>;
}

/** Contexts "one" (current) and "two" (the flag cluster) and "dead" (a closed port). */
function fleetKubeconfig(ctx: FlagContext): string {
  const cluster = clusterOf(ctx).kube.cluster;
  return writeKubeconfig(`${ctx.kit.dir('fleet-kubeconfig')}/config.yaml`, {
    clusters: [
      { name: 'c', server: cluster.server, caFile: cluster.caFile },
      { name: 'dead', server: 'https://127.0.0.1:1', caFile: cluster.caFile },
    ],
    users: [clusterUser(cluster, 'admin', 'admin')],
    contexts: [
      { name: 'one', cluster: 'c', user: 'admin' },
      { name: 'two', cluster: 'c', user: 'admin' },
      { name: 'dead', cluster: 'dead', user: 'admin' },
    ],
    currentContext: 'one',
  });
}

/** Context name → status of a --format json fleet run. */
function statuses(result: CliResult, what: string): Record<string, string> {
  return Object.fromEntries((json<FleetJson>(result, what).contexts ?? []).map((c) => [c.context, c.status]));
}

/**
 * Three HTTP servers posing as API servers: each holds every request 300 ms, then refuses it (403,
 * which no one retries). How many of them had a request in hand at the same moment, at most.
 */
async function holdingServers(ctx: FlagContext): Promise<{ kubeconfig: string; maxBusy: () => number; stop: () => Promise<void> }> {
  const inFlight = new Map<Server, number>();
  let maxBusy = 0;
  const servers = await Promise.all(
    [0, 1, 2].map(
      () =>
        new Promise<Server>((resolve) => {
          const server: Server = createServer((req, res) => {
            req.resume();
            inFlight.set(server, (inFlight.get(server) ?? 0) + 1);
            maxBusy = Math.max(maxBusy, [...inFlight.values()].filter((n) => n > 0).length);
            setTimeout(() => {
              inFlight.set(server, inFlight.get(server)! - 1); // free before the client hears the answer
              res.writeHead(403, { 'content-type': 'application/json' });
              res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403, message: 'held, then refused' }));
            }, 300);
          });
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const port = (s: Server) => (s.address() as { port: number }).port;
  const kubeconfig = writeKubeconfig(`${ctx.kit.dir('holding-kubeconfig')}/config.yaml`, {
    clusters: servers.map((s, i) => ({ name: `h${i}`, server: `http://127.0.0.1:${port(s)}` })),
    users: [{ name: 'u', token: 't' }],
    contexts: servers.map((_, i) => ({ name: `hold-${i}`, cluster: `h${i}`, user: 'u' })),
  });
  return {
    kubeconfig,
    maxBusy: () => maxBusy,
    stop: async () => {
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => {
        s.closeAllConnections();
        s.close(() => resolve());
      })));
    },
  };
}

function fleetCase(verb: FleetVerb, flag: string, how: string, flagArgs: string[], prove: (ctx: FlagContext) => Promise<void>): FlagCase {
  return {
    command: verb.command,
    flag,
    cluster: true,
    how: verb.command === 'pull' ? `pull --apply: ${how}; pull without --apply refuses it (exit 2)` : how,
    async run(ctx) {
      await prove(ctx);
      if (verb.command === 'pull') {
        const refused = await ctx.kit.run({ args: ['pull', open(ctx, SEED.src), '-o', ctx.kit.dir('pulled'), ...flagArgs] });
        expectExit(refused, [2], `pull ${flagArgs.join(' ')} without --apply`);
        expect(refused.stderr).toContain(`--${flag}`);
      }
    },
  };
}

function casesOf(verb: FleetVerb): FlagCase[] {
  const run = async (ctx: FlagContext, kubeconfig: string, ...extra: string[]): Promise<Invocation> => ({ args: [...(await verb.args(ctx)), '--kubeconfig', kubeconfig, '--format', 'json', ...extra] });
  return [
    fleetCase(verb, 'all-contexts', 'kubeconfig of contexts one (current), two and dead: one context without (no table, its own result); all three with, exit 9, dead failed and the others ok', ['--all-contexts'], async (ctx) => {
      const kubeconfig = fleetKubeconfig(ctx);
      const base = await run(ctx, kubeconfig);
      const one = await ctx.kit.run(base);
      expectExit(one, verb.ok, `${verb.command} in the current context`);
      expect((json<FleetJson>(one, verb.command).contexts ?? [{}]).length).toBe(1);
      const all = await ctx.kit.run(plus(base, '--all-contexts'));
      expectExit(all, [9], `${verb.command} --all-contexts`);
      expect(statuses(all, `${verb.command} --all-contexts`)).toEqual({ one: 'ok', two: 'ok', dead: 'failed' });
    }),
    fleetCase(
      verb,
      'parallel',
      'three contexts whose servers hold each request 300 ms: all three busy at once without (default 4); never more than one with --parallel 1; --parallel with one context: exit 2',
      ['--parallel', '1'],
      async (ctx) => {
        const args = await verb.args(ctx);
        const busyAtOnce = async (extra: string[]): Promise<number> => {
          const held = await holdingServers(ctx);
          try {
            expectExit(await ctx.kit.run({ args: [...args, '--kubeconfig', held.kubeconfig, '--context', 'hold-*', ...extra] }), [9], `${verb.command} to three holding servers ${extra.join(' ')}`);
            return held.maxBusy();
          } finally {
            await held.stop();
          }
        };
        expect(await busyAtOnce([]), 'servers busy at once by default').toBe(3);
        expect(await busyAtOnce(['--parallel', '1']), 'servers busy at once with --parallel 1').toBe(1);
        const single = await ctx.kit.run({ args: [...args, '--kubeconfig', clusterOf(ctx).kubeconfig, '--parallel', '2'] });
        expectExit(single, [2], `${verb.command} --parallel with one context`);
      },
    ),
    fleetCase(verb, 'fail-fast', 'contexts dead then one, one at a time: one is done after dead failed without; skipped with --fail-fast (exit 9 both)', ['--fail-fast'], async (ctx) => {
      const base = await run(ctx, fleetKubeconfig(ctx), '--context', 'dead,one', '--parallel', '1');
      const plain = await ctx.kit.run(base);
      expectExit(plain, [9], `${verb.command} dead,one`);
      expect(statuses(plain, verb.command)).toEqual({ dead: 'failed', one: 'ok' });
      const careful = await ctx.kit.run(plus(base, '--fail-fast'));
      expectExit(careful, [9], `${verb.command} dead,one --fail-fast`);
      expect(statuses(careful, `${verb.command} --fail-fast`)).toEqual({ dead: 'failed', one: 'skipped' });
    }),
  ];
}

/** status: the cluster flags (its registry and output flags are REGISTRY_OPS' status op). */
function statusCases(): FlagCase[] {
  const statusCase = (flag: string, how: string, prove: (ctx: FlagContext, args: string[]) => Promise<void>): FlagCase => ({
    command: 'status',
    flag,
    cluster: true,
    how,
    run: async (ctx) => prove(ctx, await appliedStatus(ctx)),
  });
  const policies = (r: CliResult) => json<{ contexts: Array<{ result?: { artifacts: Array<{ policies: number }> } }> }>(r, 'status').contexts[0]!.result!.artifacts.reduce((n, a) => n + a.policies, 0);
  return [
    statusCase('kubeconfig', 'KUBECONFIG names no file: fails without; lists the 2 policies applied with --kubeconfig', async (ctx, args) => {
      expectExit(await ctx.kit.run({ args }), [2, 8], 'status without --kubeconfig');
      const r = await ctx.kit.run({ args: [...args, '--kubeconfig', clusterOf(ctx).kubeconfig, '--format', 'json'] });
      expectExit(r, [0], 'status --kubeconfig');
      expect(policies(r)).toBe(2);
    }),
    statusCase('context', 'current context dead: exit 8 without; lists the 2 policies applied with --context live', async (ctx, args) => {
      const base = { args: [...args, '--kubeconfig', clusterOf(ctx).twoContexts, '--format', 'json'] };
      expectExit(await ctx.kit.run(base), [8], 'status in the dead context');
      const live = await ctx.kit.run(plus(base, '--context', 'live'));
      expectExit(live, [0], 'status --context live');
      expect(policies(live)).toBe(2);
    }),
    statusCase('namespace', `a ClusterPolicy and a Policy of ${SCRATCH_NAMESPACE}: 2 policies without; 1 (the ClusterPolicy) with -n default`, async (ctx, args) => {
      const base = { args: [...args, '--kubeconfig', clusterOf(ctx).kubeconfig, '--format', 'json'] };
      const all = await ctx.kit.run(base);
      expectExit(all, [0], 'status');
      expect(policies(all)).toBe(2);
      const one = await ctx.kit.run(plus(base, '-n', 'default'));
      expectExit(one, [0], 'status -n default');
      expect(policies(one)).toBe(1);
    }),
  ];
}

export function fleetCases(): FlagCase[] {
  return [...VERBS.flatMap(casesOf), ...statusCases(), helpCase('status')];
}
