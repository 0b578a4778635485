// rollback through the executable, against a real registry and API server: v1 applied, then v2
// (one policy changed, one removed, one added, one the same) with --prune; rollback restores exactly
// what ran after v1 (the exports of the cluster are byte for byte the same artifact), a second
// rollback goes forward again, --to takes a digest or a tag, and what rollback cannot decide it says.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli, runOk, type CliResult } from '../support/cli.ts';
import { mergedKubeconfig, startCluster, type RunningCluster } from '../support/cluster.ts';
import { installCorpusCrds } from '../support/crds.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';

let cluster: RunningCluster;
let second: RunningCluster;
let reg: RunningRegistry;
let work: string;
let pub: string;
let key: string;

beforeAll(async () => {
  [cluster, second, reg] = await Promise.all([startCluster('rollback', { installCrds: false }), startCluster('rollback-b', { installCrds: false }), startRegistry('open')]);
  const crds = ['clusterpolicies.kyverno.io', 'kubearmorpolicies.security.kubearmor.com'];
  await Promise.all([installCorpusCrds(cluster, crds), installCorpusCrds(second, crds)]);
  work = await mkdtemp(join(tmpdir(), 'rollback-'));
  key = join(work, 'key.pem');
  pub = join(work, 'pub.pem');
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
  execFileSync('openssl', ['pkey', '-in', key, '-pubout', '-out', pub]);
}, 240_000);

afterAll(async () => {
  await Promise.all([cluster?.stop(), second?.stop(), reg?.stop()]);
  if (work) await rm(work, { recursive: true, force: true });
});

const clusterPolicy = (name: string, message: string) => ({
  apiVersion: 'kyverno.io/v1',
  kind: 'ClusterPolicy',
  metadata: { name, labels: { set: 'rollback' } },
  spec: { rules: [{ name: 'check', match: { any: [{ resources: { kinds: ['Pod'] } }] }, validate: { message, pattern: { metadata: { labels: { app: '?*' } } } } }] },
});

const ksp = (name: string, message: string) => ({
  apiVersion: 'security.kubearmor.com/v1',
  kind: 'KubeArmorPolicy',
  metadata: { name, namespace: 'default', labels: { set: 'rollback' } },
  spec: { message, selector: { matchLabels: { app: 'nginx' } }, file: { matchDirectories: [{ dir: '/var/cache/nginx/' }] }, action: 'Audit' },
});

let sets = 0;
/** Pushes the objects to REPO:tag; returns the digest. */
async function push(repo: string, tag: string, objects: object[]): Promise<string> {
  const dir = join(work, `set-${++sets}`);
  await mkdir(dir);
  for (const [i, o] of objects.entries()) await writeFile(join(dir, `${i}.yaml`), stringify(o));
  const r = await runOk(['push', `${reg.host}/${repo}:${tag}`, dir, '--format', 'json']);
  return (JSON.parse(r.stdout) as { digest: string }).digest;
}

const kube = () => ['--kubeconfig', cluster.kubeconfigs.admin];
const apply = (ref: string, ...extra: string[]) => runOk(['apply', ref, ...kube(), '--prune', ...extra]);
const rollback = (repo: string, ...extra: string[]) => runCli(['rollback', `${reg.host}/${repo}`, ...kube(), ...extra]);

/** What the cluster holds of the test's policies, as export writes it: the digest of an export of them. */
let exports = 0;
async function exported(selector: string): Promise<string> {
  const r = await runOk(['export', `${reg.host}/exports:e${++exports}`, ...kube(), '-l', selector, '--kind', 'clusterpolicies.kyverno.io', '--kind', 'kubearmorpolicies.security.kubearmor.com', '--format', 'json']);
  return (JSON.parse(r.stdout) as { digest: string }).digest;
}

interface RollbackJson {
  rollback: { repository: string; from?: string; to: string; toTag?: string; chosenBy: string; live: Array<{ digest?: string; objects: number }> };
  results: Array<{ kind: string; name: string; action: string }>;
  counts: Record<string, number>;
}

const jsonOf = (r: CliResult): RollbackJson => {
  if (r.code !== 0) throw new Error(`rollback exited ${r.code}: ${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout) as RollbackJson;
};
const actions = (j: RollbackJson) => Object.fromEntries(j.results.map((x) => [x.name, x.action]));

describe('rollback', () => {
  // v1 {same, changed, removed} → v2 {same, changed', added}, each on a Kyverno and a KubeArmor policy.
  const v1Set = [clusterPolicy('rb-same', 'same'), clusterPolicy('rb-changed', 'v1'), clusterPolicy('rb-removed', 'v1'), ksp('rb-ksp-changed', 'v1')];
  const v2Set = [clusterPolicy('rb-same', 'same'), clusterPolicy('rb-changed', 'v2'), clusterPolicy('rb-added', 'v2'), ksp('rb-ksp-changed', 'v2')];
  let v1: string;
  let v2: string;
  let afterV1: string;
  let afterV2: string;

  it('after v1 then v2 (one changed, one removed, one added): back to exactly what ran after v1, chosen from the objects\' previous-digest', async () => {
    [v1, v2] = [await push('policies', 'v1', v1Set), await push('policies', 'v2', v2Set)];
    await apply(`${reg.host}/policies:v1`);
    afterV1 = await exported('set=rollback');
    await apply(`${reg.host}/policies:v2`);
    afterV2 = await exported('set=rollback');
    expect(afterV2).not.toBe(afterV1);

    const j = jsonOf(await rollback('policies', '--format', 'json'));
    expect(j.rollback).toMatchObject({ repository: `${reg.host}/policies`, from: v2, to: v1, chosenBy: 'previous-digest' });
    // rb-same: only its recorded digest changes (bookkeeping, as apply counts it): unchanged.
    expect(actions(j)).toEqual({ 'rb-same': 'unchanged', 'rb-changed': 'configured', 'rb-removed': 'created', 'rb-ksp-changed': 'configured', 'rb-added': 'pruned' });
    expect(await exported('set=rollback')).toBe(afterV1);
  });

  it('a second rollback goes forward again (the objects now record v2 as the version before); text says from, to and why', async () => {
    const r = await rollback('policies');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Rolled back ${reg.host}/policies in context admin from ${v1} to ${v2}: the version the objects record as the one before the last apply`);
    expect(r.stdout).toMatch(/^clusterpolicy\/rb-removed pruned$/m);
    expect(r.stdout).toMatch(/^1 created, 2 configured, 1 unchanged, 1 pruned, 0 failed \(context admin\)$/m);
    expect(await exported('set=rollback')).toBe(afterV2);
  });

  it('--to DIGEST and --to TAG: to any version the registry still holds', async () => {
    const byDigest = jsonOf(await rollback('policies', '--to', v1, '--format', 'json'));
    expect(byDigest.rollback).toMatchObject({ from: v2, to: v1, chosenBy: 'to-digest' });
    expect(await exported('set=rollback')).toBe(afterV1);
    const byTag = jsonOf(await rollback('policies', '--to', 'v2', '--format', 'json'));
    expect(byTag.rollback).toMatchObject({ from: v1, to: v2, toTag: 'v2', chosenBy: 'to-tag' });
    expect(await exported('set=rollback')).toBe(afterV2);
    // Unchanged when already there (the same digest and tag recorded).
    const again = jsonOf(await rollback('policies', '--to', 'v2', '--format', 'json'));
    expect(again.counts).toMatchObject({ created: 0, configured: 0, pruned: 0 });
  });

  it('--dry-run=server changes nothing; --dry-run=client is refused (the version before is read from the cluster)', async () => {
    const dry = jsonOf(await rollback('policies', '--dry-run=server', '--format', 'json'));
    expect(dry.rollback).toMatchObject({ from: v2, to: v1 });
    expect(actions(dry)['rb-added']).toBe('pruned');
    expect(await exported('set=rollback')).toBe(afterV2);
    const client = await rollback('policies', '--dry-run=client');
    expect(client.code).toBe(2);
    expect(client.stderr).toMatch(/--dry-run=client: rollback reads the version before from the cluster/);
  });

  it('--verify-key: refused (exit 6) while the version rolled back to is unsigned, cluster untouched; rolled back once it is signed', async () => {
    const refused = await rollback('policies', '--verify-key', pub);
    expect(refused.code, refused.stderr).toBe(6);
    expect(await exported('set=rollback')).toBe(afterV2);
    await runOk(['sign', `${reg.host}/policies@${v1}`, '--key', key]);
    const ok = jsonOf(await rollback('policies', '--verify-key', pub, '--format', 'json'));
    expect(ok.rollback.to).toBe(v1);
    expect(await exported('set=rollback')).toBe(afterV1);
  });

  it('nothing to roll back to: a repository applied once (exit 4, suggests --to); one never applied here (exit 4)', async () => {
    await push('once', 'v1', [clusterPolicy('rb-once', 'v1')]);
    await apply(`${reg.host}/once:v1`);
    const once = await rollback('once');
    expect(once.code).toBe(4);
    expect(once.stderr).toMatch(/nothing to roll back to: every object of sha256:[0-9a-f]{64} from .*\/once in context admin was first applied from it .*--to DIGEST\|TAG/);
    const never = await rollback('never-applied');
    expect(never.code).toBe(4);
    expect(never.stderr).toMatch(/nothing to roll back: no policy applied from .*\/never-applied in context admin/);
  });

  it('objects of the current version recording different previous versions: exit 4, every version found listed, nothing changed', async () => {
    const [a1, b1] = [clusterPolicy('rb-mixed-a', 'v1'), clusterPolicy('rb-mixed-b', 'v1')];
    const m1 = await push('mixed', 'v1', [a1, b1]);
    const m2 = await push('mixed', 'v2', [clusterPolicy('rb-mixed-a', 'v2')]);
    const m3 = await push('mixed', 'v3', [clusterPolicy('rb-mixed-a', 'v3'), clusterPolicy('rb-mixed-b', 'v3')]);
    await apply(`${reg.host}/mixed:v1`);
    await runOk(['apply', `${reg.host}/mixed:v2`, ...kube()]); // no prune: b stays at v1
    await apply(`${reg.host}/mixed:v3`); // a: v2 before, b: v1 before
    const r = await rollback('mixed');
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/the objects of sha256:[0-9a-f]{64} from .*\/mixed in context admin record different previous versions; name the version to roll back to with --to DIGEST\|TAG/);
    expect(r.stderr).toContain(`${m3} (tag v3): 2 objects`);
    expect(r.stderr).toContain(`${m1} (1)`);
    expect(r.stderr).toContain(`${m2} (1)`);
    const fixed = jsonOf(await rollback('mixed', '--to', m2, '--format', 'json'));
    expect(actions(fixed)).toEqual({ 'rb-mixed-a': 'configured', 'rb-mixed-b': 'pruned' });
  });

  it('the version before is no longer there (an OCI layout whose v1 manifest was removed): exit 4 naming the digest, nothing changed', async () => {
    const layout = join(work, 'gone-layout');
    const src = async (name: string, objects: object[]) => {
      const dir = join(work, name);
      await mkdir(dir);
      for (const [i, o] of objects.entries()) await writeFile(join(dir, `${i}.yaml`), stringify(o));
      return dir;
    };
    const pushed = async (tag: string, dir: string) => (JSON.parse((await runOk(['push', '--oci-layout', `${layout}:${tag}`, dir, '--format', 'json'])).stdout) as { digest: string }).digest;
    const g1 = await pushed('v1', await src('gone-v1', [clusterPolicy('rb-gone', 'v1')]));
    await pushed('v2', await src('gone-v2', [clusterPolicy('rb-gone', 'v2')]));
    await runOk(['apply', '--oci-layout', `${layout}:v1`, ...kube()]);
    await runOk(['apply', '--oci-layout', `${layout}:v2`, ...kube()]);
    await rm(join(layout, 'blobs', 'sha256', g1.slice('sha256:'.length)));
    const r = await runCli(['rollback', '--oci-layout', layout, ...kube()]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`Error: the version before, ${g1}, is no longer in oci-layout:${layout}`);
  });

  it('several contexts: each rolled back to the version before its own last apply; a context with nothing before fails alone (exit 9), the other is done', async () => {
    const kubeconfig = mergedKubeconfig([cluster, second], await mkdtemp(join(work, 'fleet-')));
    const f1 = await push('fleet', 'v1', [clusterPolicy('rb-fleet', 'v1')]);
    const f2 = await push('fleet', 'v2', [clusterPolicy('rb-fleet', 'v2'), clusterPolicy('rb-fleet-new', 'v2')]);
    await runOk(['apply', `${reg.host}/fleet:v1`, '--kubeconfig', kubeconfig, '--context', 'rollback', '--prune']);
    await runOk(['apply', `${reg.host}/fleet:v2`, '--kubeconfig', kubeconfig, '--context', 'rollback,rollback-b', '--prune']);
    const r = await runCli(['rollback', `${reg.host}/fleet`, '--kubeconfig', kubeconfig, '--context', 'rollback,rollback-b', '--format', 'json']);
    expect(r.code, r.stderr).toBe(9);
    const fleet = JSON.parse(r.stdout) as { verb: string; contexts: Array<{ context: string; status: string; result?: RollbackJson; error?: { message: string } }> };
    expect(fleet.verb).toBe('rollback');
    const [a, b] = [fleet.contexts.find((c) => c.context === 'rollback')!, fleet.contexts.find((c) => c.context === 'rollback-b')!];
    expect(a.status).toBe('ok');
    expect(a.result!.rollback).toMatchObject({ from: f2, to: f1 });
    expect(actions(a.result!)).toEqual({ 'rb-fleet': 'configured', 'rb-fleet-new': 'pruned' });
    expect(b).toMatchObject({ status: 'failed', error: { message: expect.stringMatching(/^nothing to roll back to: every object of sha256:[0-9a-f]{64} from .*\/fleet in context rollback-b/) } });
    const text = await runCli(['rollback', `${reg.host}/fleet`, '--kubeconfig', kubeconfig, '--context', 'rollback*', '--to', 'v2']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`rollback: from ${f1} to ${f2} (tag v2): --to`);
    expect(text.stdout).toMatch(/^CONTEXT +STATUS +CREATED +CONFIGURED/m);
  });

  it('refuses a repository with a tag (exit 2, use --to)', async () => {
    const r = await runCli(['rollback', `${reg.host}/policies:v1`, ...kube()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/rollback takes a repository without a tag or digest .*name the version with --to/);
  });
});
