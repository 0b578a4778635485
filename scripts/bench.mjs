#!/usr/bin/env node
// npm run bench [-- options]: kubectl-policyoci against the peer tools on the same data, the same
// registry (Debian's docker-registry 2.8) and the same API server (etcd + kube-apiserver with the
// engine CRDs), started with the test harness. Every workload runs us and each peer alternately,
// `--runs` times (default 5), a fresh repository or directory per run. Prints a table of medians
// and writes bench/results/latest.json. See bench/README.md for the method and the last results.
//
//   --runs N             samples per tool and workload (default 5)
//   --scale 100,1000,10000   sizes of the scale series (workload 7)
//   --large-runs N       samples at scale sizes of 10,000 and more (default 1: one push there takes minutes)
//   --only w1,w3,…       a subset of: w1 w2 w3 w4 w5 w6 w7 w8 w9 (w8, w9: three API servers; not in the default set)
//   --no-build           use dist/kubectl-policyoci as it is
//   --out FILE           default bench/results/latest.json
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { clusterAgent, kubeRequest, mergedKubeconfig, startCluster } from '../test/support/cluster.ts';
import { startRegistry } from '../test/support/registry.ts';
import { prepareDatasets } from './bench/datasets.mjs';
import { ApiRequestCounter, RegistryRequestCounter, measure, median } from './bench/measure.mjs';
import { NODE_FLOOR, renderTable, summarise } from './bench/report.mjs';

const ROOT = join(import.meta.dirname, '..');
const { values: opt } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    scale: { type: 'string', default: '100,1000,10000' },
    'large-runs': { type: 'string', default: '1' },
    only: { type: 'string', default: 'w1,w2,w3,w4,w5,w6,w7' },
    build: { type: 'boolean', default: true },
    out: { type: 'string', default: join(ROOT, 'bench', 'results', 'latest.json') },
  },
  allowNegative: true,
});
const RUNS = Math.max(1, Number(opt.runs));
const SCALE = opt.scale.split(',').filter(Boolean).map(Number);
const LARGE_RUNS = Math.max(1, Number(opt['large-runs']));
const ONLY = new Set(opt.only.split(','));
const started = Date.now();
const log = (msg) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s load ${loadavg()[0].toFixed(1)}] ${msg}\n`);

function toolPath(tool) {
  const r = spawnSync('bash', [join(ROOT, 'scripts/tools/path.sh'), tool], { encoding: 'utf8' });
  if (r.status === 0) return r.stdout.trim();
  log(`building ${tool} (scripts/tools/build.sh; the Kyverno CLI takes ~12 minutes)`);
  return execFileSync('bash', [join(ROOT, 'scripts/tools/build.sh'), tool], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

function firstLine(cmd, args, env) {
  try {
    const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env } });
    return `${r.stdout}${r.stderr}`.split('\n').find((l) => l.trim())?.trim() ?? '?';
  } catch {
    return '?';
  }
}

async function main() {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  if (process.versions.node !== pkg.devDependencies.node) {
    throw new Error(`this is Node ${process.versions.node}; run \`npm run bench\` (the project pins Node ${pkg.devDependencies.node})`);
  }
  const work = await mkdtemp(join(tmpdir(), 'policyoci-bench-'));
  const tmp = join(work, 'tmp');
  mkdirSync(tmp);
  process.on('exit', () => rmSync(work, { recursive: true, force: true }));
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

  if (opt.build) {
    log('npm run build');
    execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  // A private copy: a rebuild by someone else during the run changes nothing here.
  const US = join(work, 'bin', 'kubectl-policyoci');
  mkdirSync(join(work, 'bin'));
  copyFileSync(join(ROOT, 'dist', 'kubectl-policyoci'), US);
  execFileSync('chmod', ['755', US]);
  const ORAS = toolPath('oras');
  const KYVERNO = toolPath('kyverno');
  const fleet = ONLY.has('w8') || ONLY.has('w9');
  const needCluster = ONLY.has('w4') || ONLY.has('w5') || fleet;
  const KUBECTL = needCluster ? toolPath('kubectl') : undefined;
  const env = { ...process.env, NO_COLOR: '1', CI: '1', KYVERNO_EXPERIMENTAL: 'true', HOME: join(work, 'home'), DOCKER_CONFIG: join(work, 'docker') };
  mkdirSync(env.HOME);

  log(`starting the registry${needCluster ? ', etcd and kube-apiserver' : ''}`);
  // w8, w9: two more API servers, the three as contexts bench, bench-b, bench-c of one kubeconfig.
  const [reg, cluster, ...more] = await Promise.all([startRegistry('open'), needCluster ? startCluster('bench') : undefined, ...(fleet ? [startCluster('bench-b'), startCluster('bench-c')] : [])]);
  const R = reg.host;
  const regCount = new RegistryRequestCounter(reg.logFile);
  const run = (cmd, args, o = {}) => measure(cmd, args, { env, tmp, ...o });
  /** One sample: the process (or several, in sequence) and the registry requests it made. */
  const sample = async (steps, counters = [regCount]) => {
    const marks = await Promise.all(counters.map((c) => c.mark()));
    const results = [];
    for (const s of steps) results.push(await run(s.cmd, s.args, s.opts ?? {}));
    const counts = await Promise.all(counters.map((c, i) => c.since(marks[i])));
    return {
      ms: results.reduce((a, r) => a + r.ms, 0),
      cpuMs: results.reduce((a, r) => a + r.cpuMs, 0),
      rssKb: Math.max(...results.map((r) => r.rssKb)),
      requests: counts[0].total,
      byMethod: counts[0].byMethod,
      ...(counts[1] ? { apiRequests: counts[1].total, apiByVerb: counts[1].byMethod } : {}),
      load1: results[0].load1,
      processes: results.length,
      stdout: results.at(-1).stdout,
    };
  };

  log('preparing the data sets');
  const { sets, kinds, namespaces } = await prepareDatasets(join(work, 'data'), {
    scaleSizes: ONLY.has('w7') ? SCALE : [],
    dryRunPush: (dir) => run(US, ['push', '--dry-run', `${R}/dry-run:v1`, dir], { allowFailure: true }),
    kyvernoPush: ONLY.has('w1') || ONLY.has('w3') ? (dir) => run(KYVERNO, ['oci', 'push', dir, '-i', `${R}/kyverno-check:v1`], { allowFailure: true }) : undefined,
  });
  const count = (dir) => readdirSync(dir).length;
  const files = (dir) => readdirSync(dir).sort();

  const results = { workloads: [] };
  const workloads = results.workloads;
  /**
   * Runs each side `runs` times, alternating which goes first; `sides` = [{ tool, run(i) → sample }].
   */
  async function pair(id, title, policies, sides, { runs = RUNS, target, notes } = {}) {
    log(`${id} ${title} (${policies} policies): ${sides.map((s) => s.tool).join(' vs ')}, ${runs} runs`);
    const samples = Object.fromEntries(sides.map((s) => [s.tool, []]));
    for (let i = 0; i < runs; i++) {
      const order = i % 2 === 0 ? sides : [...sides].reverse();
      for (const side of order) {
        const s = await side.run(i);
        delete s.stdout;
        samples[side.tool].push({ run: i, ...s });
      }
    }
    const w = { id, title, policies, runs, tools: {}, ...(target ? { target } : {}), ...(notes ? { notes } : {}) };
    for (const side of sides) w.tools[side.tool] = summarise(samples[side.tool]);
    workloads.push(w);
    for (const side of sides) {
      const t = w.tools[side.tool];
      log(`  ${side.tool.padEnd(12)} median ${(t.medianMs / 1000).toFixed(2)} s, ${t.medianRequests ?? '-'} requests, ${(t.medianRssKb / 1024).toFixed(0)} MB`);
    }
    return w;
  }

  // Our push remembers files it has checked (src/policy/checked-cache.ts, under HOME here). A
  // "cold" push gets an empty cache of its own: files never seen before, as on a fresh CI runner.
  let coldCaches = 0;
  const push = (repo, dir, cache = 'cold') => ({
    cmd: US,
    args: ['push', `${R}/${repo}:v1`, dir, '--format', 'json'],
    ...(cache === 'cold' ? { opts: { env: { ...env, POLICYOCI_CACHE_DIR: join(work, 'cold-caches', String(coldCaches++)) } } } : {}),
  });
  /** A dry-run push: it checks the files, and so fills the (HOME) cache for a "warm" push. */
  const warmCache = (dir) => run(US, ['push', '--dry-run', `${R}/warm:v1`, dir]);
  const orasPush = (repo, dir) => ({ cmd: ORAS, args: ['push', '--plain-http', `${R}/${repo}:v1`, ...files(dir)], opts: { cwd: dir } });
  const kyvernoPush = (repo, dir) => ({ cmd: KYVERNO, args: ['oci', 'push', dir, '-i', `${R}/${repo}:v1`] });
  const freshDir = () => {
    const d = join(work, 'out', `${Date.now()}-${Math.random().toString(36).slice(2)}`);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const cleanOut = () => rmSync(join(work, 'out'), { recursive: true, force: true });
  const pull = (repo, dir) => ({ cmd: US, args: ['pull', `${R}/${repo}:v1`, '-o', dir] });
  const orasPull = (repo, dir) => ({ cmd: ORAS, args: ['pull', '--plain-http', `${R}/${repo}:v1`], opts: { cwd: dir } });
  const kyvernoPull = (repo, dir) => ({ cmd: KYVERNO, args: ['oci', 'pull', dir, '-i', `${R}/${repo}:v1`] });
  const floorPush = (repo, dir) => ({ cmd: process.execPath, args: [join(ROOT, 'scripts', 'bench', 'floor-push.cjs'), `${R}/${repo}:v1`, dir] });
  const floorPull = (repo, dir) => ({ cmd: process.execPath, args: [join(ROOT, 'scripts', 'bench', 'floor-pull.cjs'), `${R}/${repo}:v1`, dir] });
  const ensurePushed = async (repo, dir) => {
    const p = push(repo, dir, 'warm');
    await run(p.cmd, p.args);
    return repo;
  };

  const nLib = count(sets.library);
  const nClassic = count(sets.classic);
  const fresh = (n) => 2 * (n + 1) + 2; // POST+PUT per blob (n layers + config), tag HEAD, manifest PUT

  // 1. push to a new repository
  if (ONLY.has('w1')) {
    await pair('w1', 'push the Kyverno library to a new repository', nLib, [
      { tool: 'us', run: (i) => sample([push(`w1-us-${i}`, sets.library)]) },
      { tool: 'oras', run: (i) => sample([orasPush(`w1-oras-${i}`, sets.library)]) },
    ], { target: { maxRatio: 0.7, vs: 'oras', maxRequests: fresh(nLib) }, notes: 'files never pushed before (empty cache of checked files)' });
    await warmCache(sets.library);
    await pair('w1w', 'push the library to a new repository, files checked before (warm cache)', nLib, [
      { tool: 'us', run: (i) => sample([push(`w1w-us-${i}`, sets.library, 'warm')]) },
      { tool: 'oras', run: (i) => sample([orasPush(`w1w-oras-${i}`, sets.library)]) },
    ], { target: { maxRatio: 0.7, vs: 'oras', maxRequests: fresh(nLib) } });
    await pair('w1k', 'push ClusterPolicy/Policy files to a new repository', nClassic, [
      { tool: 'us', run: (i) => sample([push(`w1k-us-${i}`, sets.classic)]) },
      { tool: 'kyverno', run: (i) => sample([kyvernoPush(`w1k-kyverno-${i}`, sets.classic)]) },
    ], { target: { maxRatio: 0.7, vs: 'kyverno', maxRequests: fresh(nClassic) } });
  }

  // 2. push the same set again, unchanged
  if (ONLY.has('w2')) {
    for (let i = 0; i < RUNS; i++) {
      if (!ONLY.has('w1')) {
        await ensurePushed(`w1-us-${i}`, sets.library);
        await run(ORAS, orasPush(`w1-oras-${i}`, sets.library).args, { cwd: sets.library });
      }
    }
    await warmCache(sets.library);
    await pair('w2', 'push the same library again, unchanged', nLib, [
      { tool: 'us', run: (i) => sample([push(`w1-us-${i}`, sets.library, 'warm')]) },
      { tool: 'oras', run: (i) => sample([orasPush(`w1-oras-${i}`, sets.library)]) },
    ], { target: { maxRatio: 0.2, vs: 'oras', maxRequests: 1 }, notes: 'the files were pushed before, so their checks are cached' });
    await pair('w2c', 'push the same library again, unchanged, cache of checked files empty', nLib, [
      { tool: 'us', run: (i) => sample([push(`w1-us-${i}`, sets.library, 'cold')]) },
      { tool: 'oras', run: (i) => sample([orasPush(`w1-oras-${i}`, sets.library)]) },
    ], { target: { maxRequests: 1 } });
  }

  // 3. pull to an empty directory (every tool pulls the same artifact, the one we pushed)
  if (ONLY.has('w3')) {
    const lib = await ensurePushed('w3-library', sets.library);
    const classic = await ensurePushed('w3-classic', sets.classic);
    await pair('w3', 'pull the library to an empty directory', nLib, [
      { tool: 'us', run: () => sample([pull(lib, freshDir())]) },
      { tool: 'oras', run: () => sample([orasPull(lib, freshDir())]) },
    ], { target: { maxRatio: 0.7, vs: 'oras' } });
    cleanOut();
    await pair('w3k', 'pull ClusterPolicy/Policy artifact to an empty directory', nClassic, [
      { tool: 'us', run: () => sample([pull(classic, freshDir())]) },
      { tool: 'kyverno', run: () => sample([kyvernoPull(classic, freshDir())]) },
    ], { target: { maxRatio: 0.7, vs: 'kyverno' } });
    cleanOut();
  }

  // 4 and 5: the API server
  if (needCluster) {
    const kubeconfig = cluster.kubeconfigs.admin;
    const dispatcher = clusterAgent(cluster);
    const api = (path, o = {}) => kubeRequest(cluster.server, path, { token: cluster.adminToken, dispatcher, ...o });
    const apiCount = new ApiRequestCounter(async () => (await api('/metrics')).text);
    const kube = (args) => ({ cmd: KUBECTL, args: [...args, '--kubeconfig', kubeconfig, '--cache-dir', join(work, 'kube-cache')] });
    for (const ns of namespaces) await api('/api/v1/namespaces', { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } });

    // Served kinds (what both sides list) and their preferred versions (for clearing the cluster).
    const served = [];
    for (const group of [...new Set(kinds.map((k) => k.group))]) {
      const g = await api(`/apis/${group}`);
      if (g.status !== 200) continue;
      // The preferred version first; a kind is listed at the first version that serves it.
      const versions = [g.json.preferredVersion.version, ...g.json.versions.map((v) => v.version)];
      for (const version of [...new Set(versions)]) {
        const res = (await api(`/apis/${group}/${version}`)).json.resources.map((r) => r.name);
        for (const k of kinds.filter((k) => k.group === group && res.includes(k.plural))) {
          if (!served.some((x) => x.group === k.group && x.plural === k.plural)) served.push({ ...k, version });
        }
      }
    }
    const listAll = async () => {
      let n = 0;
      for (const k of served) n += (await api(`/apis/${k.group}/${k.version}/${k.plural}`)).json.items.length;
      return n;
    };
    const clear = async () => {
      for (const k of served) {
        if (!k.namespaced) await api(`/apis/${k.group}/${k.version}/${k.plural}`, { method: 'DELETE' });
        else for (const ns of namespaces) await api(`/apis/${k.group}/${k.version}/namespaces/${ns}/${k.plural}`, { method: 'DELETE' });
      }
      for (let i = 0; (await listAll()) > 0; i++) if (i > 100) throw new Error('the cluster does not empty');
    };

    // What the API server refuses (CEL rules, formats) leaves the set: one apply tells.
    log('loading the cluster set once (objects the API server refuses leave the set)');
    await ensurePushed('w5-source', sets.cluster);
    const first = await run(US, ['apply', `${R}/w5-source:v1`, '--kubeconfig', kubeconfig, '--format', 'json'], { allowFailure: true });
    const refused = JSON.parse(first.stdout).results.filter((r) => r.action === 'failed');
    if (refused.length) {
      const key = (kind, ns, name) => `${kind}/${ns ?? ''}/${name}`;
      const bad = new Set(refused.map((r) => key(r.kind, r.namespace, r.name)));
      for (const f of files(sets.cluster)) {
        const o = parseYaml(await readFile(join(sets.cluster, f), 'utf8'));
        const def = kinds.find((k) => `${k.group}/` === o.apiVersion.replace(/[^/]+$/, '') && k.kind === o.kind);
        if (bad.has(key(o.kind, def?.namespaced ? (o.metadata.namespace ?? 'default') : undefined, o.metadata.name))) await rm(join(sets.cluster, f));
      }
      await ensurePushed('w5-source', sets.cluster);
      log(`  ${refused.length} refused by the API server: ${refused.slice(0, 3).map((r) => `${r.kind} ${r.name}`).join(', ')}…`);
    }
    // kubectl applies the same objects from files: the artifact pulled (validated and canonical;
    // the raw corpus has e.g. `matchExpressions:` left null, which only our validation prunes).
    const applyDir = join(work, 'data', 'cluster-files');
    await run(US, ['pull', `${R}/w5-source:v1`, '-o', applyDir]);
    const nCluster = count(sets.cluster);
    if ((await listAll()) !== nCluster) throw new Error(`the cluster holds ${await listAll()} policies, the set ${nCluster}`);
    await run(KUBECTL, kube(['api-resources', '-o', 'name']).args); // warm kubectl's discovery cache

    if (ONLY.has('w4')) {
      const manual = (i) => {
        const dir = freshDir();
        return sample([
          ...served.map((k) => ({ ...kube(['get', `${k.plural}.${k.group}`, '-A', '-o', 'yaml']), opts: { stdoutFile: join(dir, `${k.plural}.${k.group}.yaml`) } })),
          { cmd: ORAS, args: ['push', '--plain-http', `${R}/w4-manual-${i}:v1`, ...served.map((k) => `${k.plural}.${k.group}.yaml`)], opts: { cwd: dir } },
        ], [regCount, apiCount]);
      };
      const manualNote = `kubectl get -A -o yaml for each of the ${served.length} served policy kinds, then oras push of those ${served.length} files`;
      await pair('w4', 'export the live policies and push them (one layer per policy)', nCluster, [
        { tool: 'us', run: (i) => sample([{ cmd: US, args: ['export', `${R}/w4-us-${i}:v1`, '--kubeconfig', kubeconfig] }], [regCount, apiCount]) },
        { tool: 'kubectl+oras', run: manual },
      ], { target: { maxRatio: 0.7, vs: 'kubectl+oras' }, notes: manualNote });
      // The manual way pushes one file per kind; --bundle is our like-for-like (a layer per engine).
      await pair('w4b', 'export the live policies and push them (--bundle)', nCluster, [
        { tool: 'us', run: (i) => sample([{ cmd: US, args: ['export', `${R}/w4b-us-${i}:v1`, '--bundle', '--kubeconfig', kubeconfig] }], [regCount, apiCount]) },
        { tool: 'kubectl+oras', run: (i) => manual(`b${i}`) },
      ], { target: { maxRatio: 0.7, vs: 'kubectl+oras' }, notes: manualNote });
      cleanOut();
    }

    if (ONLY.has('w5')) {
      const checked = async (s) => {
        const n = await listAll();
        if (n !== nCluster) throw new Error(`after apply the cluster holds ${n} policies, expected ${nCluster}`);
        return s;
      };
      await pair('w5', 'apply the policies into an empty cluster', nCluster, [
        { tool: 'us', run: async () => (await clear(), checked(await sample([{ cmd: US, args: ['apply', `${R}/w5-source:v1`, '--kubeconfig', kubeconfig] }], [regCount, apiCount]))) },
        { tool: 'kubectl', run: async () => (await clear(), checked(await sample([kube(['apply', '--server-side', '-f', applyDir])], [regCount, apiCount]))) },
      ], { target: { maxRatio: 0.7, vs: 'kubectl' }, notes: 'ours reads the artifact from the registry; kubectl reads the same policies from files (the artifact pulled once)' });
      // Both from local disk: the same artifact copied once into an OCI layout.
      const layout = join(work, 'data', 'cluster-layout');
      await run(US, ['copy', `${R}/w5-source:v1`, `${layout}:v1`, '--to-oci-layout']);
      await pair('w5l', 'apply the policies into an empty cluster, artifact in a local OCI layout', nCluster, [
        { tool: 'us', run: async () => (await clear(), checked(await sample([{ cmd: US, args: ['apply', `${layout}:v1`, '--oci-layout', '--kubeconfig', kubeconfig] }], [regCount, apiCount]))) },
        { tool: 'kubectl', run: async () => (await clear(), checked(await sample([kube(['apply', '--server-side', '-f', applyDir])], [regCount, apiCount]))) },
      ], { target: { maxRatio: 0.7, vs: 'kubectl' }, notes: 'both read local files: ours an OCI layout, kubectl the same policies as YAML files' });
    }
    // 8 and 9: the same set into three clusters (contexts bench*), ours in one command (--parallel
    // default 4: the three at once), kubectl in a shell loop over the contexts (one after the other).
    if (fleet) {
      const all = [cluster, ...more];
      const fleetKubeconfig = mergedKubeconfig(all, work, join(work, 'fleet-kubeconfig'));
      const agents = all.map((c) => clusterAgent(c));
      const apiOf = (i) => (path, o = {}) => kubeRequest(all[i].server, path, { token: all[i].adminToken, dispatcher: agents[i], ...o });
      for (const i of [1, 2]) for (const ns of namespaces) await apiOf(i)('/api/v1/namespaces', { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } });
      const countIn = async (i) => {
        let n = 0;
        for (const k of served) n += (await apiOf(i)(`/apis/${k.group}/${k.version}/${k.plural}`)).json.items.length;
        return n;
      };
      const clearAll = async () => {
        for (const i of all.keys()) {
          for (const k of served) {
            if (!k.namespaced) await apiOf(i)(`/apis/${k.group}/${k.version}/${k.plural}`, { method: 'DELETE' });
            else for (const ns of namespaces) await apiOf(i)(`/apis/${k.group}/${k.version}/namespaces/${ns}/${k.plural}`, { method: 'DELETE' });
          }
          for (let j = 0; (await countIn(i)) > 0; j++) if (j > 100) throw new Error(`${all[i].name} does not empty`);
        }
      };
      const checkedAll = async (s) => {
        for (const i of all.keys()) if ((await countIn(i)) !== nCluster) throw new Error(`${all[i].name} holds ${await countIn(i)} policies, expected ${nCluster}`);
        return s;
      };
      const apiCounts = all.map((c, i) => new ApiRequestCounter(async () => (await apiOf(i)('/metrics')).text));
      // One counter over the three API servers: requests to all of them added up.
      const apiAll = { mark: () => Promise.all(apiCounts.map((c) => c.mark())), since: async (m) => {
        const parts = await Promise.all(apiCounts.map((c, i) => c.since(m[i])));
        return { total: parts.reduce((a, p) => a + p.total, 0), byMethod: {} };
      } };
      const contexts = all.map((c) => c.name);
      const kubeIn = (context, args) => ({ cmd: KUBECTL, args: [...args, '--kubeconfig', fleetKubeconfig, '--context', context, '--cache-dir', join(work, 'kube-cache')] });
      for (const c of contexts) await run(KUBECTL, kubeIn(c, ['api-resources', '-o', 'name']).args);
      const loopNote = `kubectl ${'$'}{verb} --server-side -f DIR --context C, for C in ${contexts.join(', ')} (a shell loop: one context after the other); ours: one command, --context 'bench*', the three at once`;
      if (ONLY.has('w8')) {
        await pair('w8', 'apply the policies into 3 empty clusters (3 contexts)', nCluster * 3, [
          { tool: 'us', run: async () => (await clearAll(), checkedAll(await sample([{ cmd: US, args: ['apply', `${R}/w5-source:v1`, '--kubeconfig', fleetKubeconfig, '--context', 'bench*'] }], [regCount, apiAll]))) },
          { tool: 'kubectl', run: async () => (await clearAll(), checkedAll(await sample(contexts.map((c) => kubeIn(c, ['apply', '--server-side', '-f', applyDir])), [regCount, apiAll]))) },
        ], { target: { maxRatio: 0.7, vs: 'kubectl' }, notes: loopNote.replace('${verb}', 'apply') });
        // Here the three clusters share two cores and one disk: one at a time, as the loop does.
        await pair('w8s', 'apply the policies into 3 empty clusters, one after the other (--parallel 1)', nCluster * 3, [
          { tool: 'us', run: async () => (await clearAll(), checkedAll(await sample([{ cmd: US, args: ['apply', `${R}/w5-source:v1`, '--kubeconfig', fleetKubeconfig, '--context', 'bench*', '--parallel', '1'] }], [regCount, apiAll]))) },
          { tool: 'kubectl', run: async () => (await clearAll(), checkedAll(await sample(contexts.map((c) => kubeIn(c, ['apply', '--server-side', '-f', applyDir])), [regCount, apiAll]))) },
        ], { target: { maxRatio: 0.7, vs: 'kubectl' }, notes: loopNote.replace('${verb}', 'apply').replace('the three at once', 'one at a time (--parallel 1)') });
      }
      if (ONLY.has('w9')) {
        // Both compare the same set with three clusters that hold it: nothing would change.
        await clearAll();
        await run(US, ['apply', `${R}/w5-source:v1`, '--kubeconfig', fleetKubeconfig, '--context', 'bench*']);
        await checkedAll();
        await pair('w9', 'diff the policies with 3 clusters that hold them (3 contexts)', nCluster * 3, [
          { tool: 'us', run: () => sample([{ cmd: US, args: ['diff', `${R}/w5-source:v1`, '--kubeconfig', fleetKubeconfig, '--context', 'bench*'] }], [regCount, apiAll]) },
          { tool: 'kubectl', run: () => sample(contexts.map((c) => ({ ...kubeIn(c, ['diff', '--server-side', '-f', applyDir]), opts: { allowFailure: true } })), [regCount, apiAll]) },
        ], { target: { maxRatio: 0.7, vs: 'kubectl' }, notes: loopNote.replace('${verb}', 'diff') });
      }
      await Promise.all(agents.map((a) => a.close()));
    }
    await dispatcher.close();
  }

  // 6. cold start
  if (ONLY.has('w6')) {
    for (let i = 0; i < 3; i++) for (const c of [[US, ['version']], [process.execPath, ['-e', '0']], [ORAS, ['version']]]) await run(c[0], c[1]);
    await pair('w6', 'cold start (version)', 0, [
      { tool: 'us', run: () => sample([{ cmd: US, args: ['version'] }]) },
      { tool: 'node -e 0', run: () => sample([{ cmd: process.execPath, args: ['-e', '0'] }]) },
      { tool: 'oras', run: () => sample([{ cmd: ORAS, args: ['version'] }]) },
    ], { runs: Math.max(20, RUNS * 4), target: { maxRatio: 1.5, vs: 'node -e 0' } });
  }

  // 7. scale. Targets (issue 14): the sets people push most (10) at oras's time and within 60 MB;
  // from 100 on, 0.7× oras; 10,000 within 300 MB.
  const scaleTarget = (n) => ({
    maxRatio: n <= 10 ? 1.0 : 0.7,
    vs: 'oras',
    ...(n <= 10 ? { maxRssMb: 60 } : n >= 10000 ? { maxRssMb: 300 } : {}),
  });
  if (ONLY.has('w7')) {
    for (const n of SCALE) {
      // Only the minutes-long sizes take --large-runs (`--scale 10,100` keeps --runs at 100).
      const runs = n >= 10000 ? LARGE_RUNS : RUNS;
      const dir = sets[`scale-${n}`];
      // The node floor (up to 1,000): the same requests from a bare Node script, to show whether a
      // target is within reach of any Node executable on this machine.
      const floor = n <= 1000;
      await pair(`w7-push-${n}`, `push ${n} policies to a new repository`, n, [
        { tool: 'us', run: (i) => sample([push(`w7-${n}-us-${i}`, dir)]) },
        { tool: 'oras', run: (i) => sample([orasPush(`w7-${n}-oras-${i}`, dir)]) },
        ...(floor ? [{ tool: NODE_FLOOR, run: (i) => sample([floorPush(`w7-${n}-floor-${i}`, dir)]) }] : []),
      ], { runs, target: { ...scaleTarget(n), maxRequests: fresh(n) } });
      await pair(`w7-pull-${n}`, `pull ${n} policies to an empty directory`, n, [
        { tool: 'us', run: () => sample([pull(`w7-${n}-us-0`, freshDir())]) },
        { tool: 'oras', run: () => sample([orasPull(`w7-${n}-us-0`, freshDir())]) },
        ...(floor ? [{ tool: NODE_FLOOR, run: () => sample([floorPull(`w7-${n}-us-0`, freshDir())]) }] : []),
      ], { runs, target: scaleTarget(n) });
      cleanOut();
    }
  }

  results.machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    os: /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'linux',
    loadAtEnd: loadavg().map((l) => Number(l.toFixed(2))),
    note: 'shared machine: other jobs ran during the benchmark; see load1 of each sample',
  };
  results.versions = {
    'kubectl-policyoci': firstLine(US, ['version']),
    node: process.version,
    oras: firstLine(ORAS, ['version']),
    kyverno: firstLine(KYVERNO, ['version']),
    ...(KUBECTL ? { kubectl: firstLine(KUBECTL, ['version', '--client']) } : {}),
    registry: firstLine('docker-registry', ['--version']),
    ...(needCluster ? { 'kube-apiserver': firstLine(toolPath('kube-apiserver'), ['--version']), etcd: firstLine(toolPath('etcd'), ['--version']) } : {}),
  };
  results.config = { runs: RUNS, largeRuns: LARGE_RUNS, scale: SCALE, only: [...ONLY], data: Object.fromEntries(Object.entries(sets).map(([k, v]) => [k, count(v)])) };
  results.date = new Date().toISOString();
  results.durationS = Math.round((Date.now() - started) / 1000);

  await Promise.all([reg.stop(), cluster?.stop(), ...more.map((c) => c.stop())]);
  const table = renderTable(results); // also records each workload's target checks
  mkdirSync(join(opt.out, '..'), { recursive: true });
  writeFileSync(opt.out, `${JSON.stringify(results, null, 1)}\n`);
  writeFileSync(opt.out.replace(/\.json$/, '.md'), table);
  process.stdout.write(`${table}\n`);
  log(`done in ${results.durationS} s; wrote ${relative(ROOT, opt.out)}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
