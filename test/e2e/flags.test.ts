// Issue 11: every flag a command offers changes what it does. This test walks `--help` of the
// executable (every command, every flag it lists) and demands one case per (command, flag): two
// runs, without and with the flag, against real servers on loopback (docker-registry in four
// configurations, ggcr-registry for the referrers API, etcd + kube-apiserver), and an assertion on
// HOW the flag shows itself (an exit code, a line, a JSON field, a file, an object in the cluster, a
// request a proxy saw). A flag without a case, or a case for a flag --help no longer lists, fails.
// The cases live in test/support/flags/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type RunningCluster } from '../support/cluster.ts';
import { applyFlagCases } from '../support/flags/apply-cases.ts';
import { commandCases } from '../support/flags/command-cases.ts';
import { diffCases } from '../support/flags/diff-cases.ts';
import { exportCases } from '../support/flags/export-cases.ts';
import { prepareFiles, SCRATCH_NAMESPACE, SEED, SEED_NAMESPACE, SEED_OTHER_NAMESPACE, seedLayout, seedRegistry, type ClusterContext, type FlagContext } from '../support/flags/context.ts';
import { Kit } from '../support/flags/kit.ts';
import { clusterKubeconfigs, KubeView } from '../support/flags/kube.ts';
import { migrateCases } from '../support/flags/migrate-cases.ts';
import { globalOutputCases } from '../support/flags/output-cases.ts';
import { registryCases } from '../support/flags/registry-cases.ts';
import { rollbackFlagCases } from '../support/flags/rollback-cases.ts';
import { fleetCases } from '../support/flags/status-cases.ts';
import { accessTo } from '../support/flags/registries.ts';
import { coverage, flagHasName, limiter, parseFlags, walkHelp } from '../support/flagwalk.ts';
import { startReferrersRegistry } from '../support/referrers-registry.ts';
import { startRegistry } from '../support/registry.ts';

/**
 * Handled once, by cli.ts, for every command: one case proves it for all (an internal error can
 * only be provoked where the executable has a gap; see the case in command-cases.ts).
 */
const PROVEN_ONCE = ['debug'];
/** Cases running at once (the suite runs on 2 cores). */
const PARALLEL = 4;
const CASE_TIMEOUT_MS = 180_000;

const walk = await walkHelp();
const CASES = [...registryCases(), ...globalOutputCases(), ...commandCases(), ...applyFlagCases(), ...diffCases(), ...exportCases(), ...migrateCases(), ...rollbackFlagCases(), ...fleetCases()];
const listed = CASES.filter((c) => (walk.flags.get(c.command) ?? []).some((flag) => flagHasName(flag, c.flag)));

describe('the flags --help lists', () => {
  it('are parsed with their aliases (yargs layout)', () => {
    const help = [
      'kubectl policyoci pull [ref]',
      '',
      'Positionals:',
      '  ref  Artifact reference',
      '',
      'Writing files (without --apply):',
      '  -o, -d, --output, --dir  Output directory',
      '',
      'Options:',
      '      --format           Output format (json for scripts)',
      '      --force-conflicts  Take ownership of fields another manager set (server-side apply',
      '                         --force)',
      '      --[no-]referrer    Also store the signature as a referrer',
      '',
      'Examples:',
      '  kubectl policyoci pull localhost:5000/policies:v1   Apply',
      '  --apply',
    ].join('\n');
    expect(parseFlags(help)).toEqual([
      { names: ['-o', '-d', '--output', '--dir'], key: 'output' },
      { names: ['--format'], key: 'format' },
      { names: ['--force-conflicts'], key: 'force-conflicts' },
      { names: ['--[no-]referrer'], key: 'referrer' },
    ]);
    expect(walk.commands).toEqual(expect.arrayContaining(['push', 'pull', 'apply', 'export', 'migrate', 'copy']));
    expect(walk.global.map((flag) => flag.key)).toEqual(expect.arrayContaining(['format', 'debug', 'help']));
  });

  it('each have a case, and every case names a flag --help lists', () => {
    const seen = new Set<string>();
    const duplicates = CASES.map((c) => `${c.command} --${c.flag}`).filter((key) => seen.size === seen.add(key).size);
    expect(duplicates, 'one case per (command, flag)').toEqual([]);
    // unproven: offered flags nothing proves (write a case in test/support/flags/, or stop offering
    // the flag where it means nothing); stale: cases for flags --help no longer lists.
    expect(coverage(walk.flags, CASES, PROVEN_ONCE)).toEqual({ unproven: [], stale: [] });
  });
});

const kit = new Kit('flags');
const limit = limiter(PARALLEL);
const stops: Array<() => Promise<void>> = [];
let base: Promise<Omit<FlagContext, 'cluster'>>;
let cluster: Promise<FlagContext>;
let booted: Promise<RunningCluster>;
let kubeView: KubeView | undefined;

async function startRegistries(): Promise<Omit<FlagContext, 'cluster'>> {
  const starting = [startRegistry('open'), startRegistry('tls'), startRegistry('tls', { requireClientCert: true }), startRegistry('htpasswd'), startReferrersRegistry()] as const;
  for (const server of starting) void server.then((s) => stops.push(() => s.stop()), () => undefined);
  const [open, tls, mtls, htpasswd, referrers] = await Promise.all(starting);
  const files = await prepareFiles(kit);
  const ctx = { kit, open: accessTo('open', open), tls: accessTo('tls', tls), mtls: accessTo('mtls', mtls), htpasswd: accessTo('htpasswd', htpasswd), referrers: accessTo('referrers', referrers) };
  const [layout] = await Promise.all([seedLayout(kit, files), ...[ctx.open, ctx.tls, ctx.mtls, ctx.htpasswd].map((reg) => seedRegistry(kit, reg, files))]);
  return { ...ctx, files: { ...files, layout } };
}

async function bootCluster(): Promise<RunningCluster> {
  const running = await startCluster('flags');
  stops.push(() => running.stop());
  return running;
}

/** Seeds the cluster: the seed policies (applied from the open registry) and one unlabelled policy. */
async function seedCluster(ctx: Omit<FlagContext, 'cluster'>, running: RunningCluster): Promise<ClusterContext> {
  const kube = new KubeView(running);
  kubeView = kube;
  await Promise.all([SEED_NAMESPACE, SEED_OTHER_NAMESPACE, SCRATCH_NAMESPACE].map((ns) => kube.createNamespace(ns)));
  await kit.ok({ args: ['apply', `${ctx.open.host}/${SEED.src}`, '--kubeconfig', running.kubeconfigs.admin] });
  await kube.applyAs('fw-setup', { kind: 'ClusterPolicy', name: 'fw-unlabelled' });
  return { kube, kubeconfig: running.kubeconfigs.admin, restricted: running.kubeconfigs.restricted, ...clusterKubeconfigs(running, kit.dir('kubeconfigs')) };
}

beforeAll(() => {
  // The cluster boots alongside the registries; its cases wait for it (before taking a slot), so
  // the registry cases run meanwhile.
  base = startRegistries();
  booted = bootCluster();
  cluster = Promise.all([base, booted]).then(async ([ctx, running]) => ({ ...ctx, cluster: await seedCluster(ctx, running) }));
  // Each case reports a failed start itself.
  base.catch(() => undefined);
  booted.catch(() => undefined);
  cluster.catch(() => undefined);
});

afterAll(async () => {
  await Promise.allSettled([base, booted, cluster]);
  await kubeView?.close();
  await Promise.allSettled(stops.map((stop) => stop()));
  kit.remove();
}, 60_000);

describe.concurrent('each flag changes what the command does', () => {
  // Registry cases first: vitest starts concurrent tests in order.
  for (const c of [...listed.filter((c) => !c.cluster), ...listed.filter((c) => c.cluster)]) {
    it(`${c.command} --${c.flag}: ${c.how}`, async () => {
      const ctx = await (c.cluster ? cluster : base);
      await limit(() => c.run(ctx));
    }, CASE_TIMEOUT_MS);
  }
});
