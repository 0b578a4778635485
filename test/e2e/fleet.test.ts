// Fleets (issue 16), through the executable: apply, diff and status over three real API servers
// (etcd + kube-apiserver each) and a fourth context that points at a closed loopback port, from one
// kubeconfig; drift made with the real kubectl (`kubectl edit`, `kubectl delete`).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli, runOk, runProcess, type CliResult } from '../support/cli.ts';
import { clusterAgent, kubeRequest, startCluster, type RunningCluster } from '../support/cluster.ts';
import { clusterUser, writeKubeconfig } from '../support/kubeconfig.ts';
import { getFreePort } from '../support/ports.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';
import { toolPath } from '../support/tools.ts';

const EXAMPLES = join(REPO_ROOT, 'examples', 'policies');
const NAMES = ['fleet-a', 'fleet-b', 'fleet-c'] as const;
const POLICIES = 6;

let reg: RunningRegistry;
let clusters: RunningCluster[];
let work: string;
let kubeconfig: string;
let ref: string;
let digest: string;

beforeAll(async () => {
  [reg, ...clusters] = await Promise.all([startRegistry('open'), ...NAMES.map((n) => startCluster(n))]);
  work = await mkdtemp(join(tmpdir(), 'fleet-'));
  const closed = await getFreePort(); // nothing listens there
  kubeconfig = writeKubeconfig(join(work, 'kubeconfig'), {
    clusters: [...clusters.map((c) => ({ name: c.name, server: c.server, caFile: c.caFile })), { name: 'dead', server: `https://127.0.0.1:${closed}`, caFile: clusters[0]!.caFile }],
    users: clusters.map((c) => clusterUser(c, 'admin', c.name)),
    contexts: [...clusters.map((c) => ({ name: c.name, cluster: c.name, user: c.name })), { name: 'dead', cluster: 'dead', user: 'fleet-a' }],
  });
  ref = `${reg.host}/fleet/policies:v1`;
  const pushed = JSON.parse((await runOk(['push', ref, EXAMPLES, '--format', 'json'])).stdout) as { digest: string };
  digest = pushed.digest;
}, 300_000);

afterAll(async () => {
  await Promise.all([reg?.stop(), ...(clusters ?? []).map((c) => c.stop())]);
});

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli([...args, '--kubeconfig', kubeconfig], { env });

interface Outcome {
  context: string;
  status: 'ok' | 'failed' | 'skipped';
  differs: boolean;
  counts: Record<'created' | 'configured' | 'unchanged' | 'pruned' | 'failed' | 'drifted', number>;
  error?: { code: string; message: string };
  result?: Record<string, unknown>;
}
interface Fleet {
  digest?: string;
  contexts: Outcome[];
  totals: Record<string, number>;
  counts: Record<string, number>;
}

function fleetOf(r: CliResult): Fleet {
  return JSON.parse(r.stdout) as Fleet;
}
function byContext(f: Fleet): Record<string, Outcome> {
  return Object.fromEntries(f.contexts.map((o) => [o.context, o]));
}

function cluster(name: string): RunningCluster {
  return clusters.find((c) => c.name === name)!;
}

async function live(name: string, path: string): Promise<Record<string, unknown> | undefined> {
  const c = cluster(name);
  const res = await kubeRequest(c.server, path, { token: c.adminToken, dispatcher: clusterAgent(c) });
  return res.status === 200 ? (res.json as Record<string, unknown>) : undefined;
}
const REQUIRE_LABELS = '/apis/kyverno.io/v1/clusterpolicies/require-labels';
const annotationsOf = (o: Record<string, unknown> | undefined) => ((o?.metadata as { annotations?: Record<string, string> } | undefined)?.annotations ?? {});

function kubectl(context: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runProcess(toolPath('kubectl'), ['--kubeconfig', kubeconfig, '--context', context, ...args], { env: { ...process.env, ...env }, cwd: work });
}

describe('apply over several contexts', () => {
  it('rolls out to 3 of 3 with a pattern, records the provenance on every object, and a re-apply stays unchanged', async () => {
    const first = await cli(['apply', ref, '--context', 'fleet-*', '--format', 'json']);
    expect(first.code, first.stderr).toBe(0);
    const f = fleetOf(first);
    expect(f.digest).toBe(digest);
    expect(f.contexts.map((o) => [o.context, o.status, o.counts.created])).toEqual(NAMES.map((n) => [n, 'ok', POLICIES]));
    expect(f.totals).toEqual({ contexts: 3, ok: 3, failed: 0, skipped: 0, differ: 0 });
    expect(f.counts).toMatchObject({ created: 3 * POLICIES, failed: 0 });

    const marks = annotationsOf(await live('fleet-b', REQUIRE_LABELS));
    expect(marks).toMatchObject({
      'policyoci.dev/source': `${reg.host}/fleet/policies`,
      'policyoci.dev/source-digest': digest,
      'policyoci.dev/source-tag': 'v1',
    });
    expect(marks['policyoci.dev/applied-at']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(marks['policyoci.dev/applied-by']).toMatch(/^kubectl-policyoci\/\S+$/);
    expect(marks['policyoci.dev/previous-digest']).toBeUndefined();

    const again = await cli(['apply', ref, '--context', 'fleet-a,fleet-b,fleet-c']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^CONTEXT\s+STATUS\s+CREATED\s+CONFIGURED\s+UNCHANGED\s+PRUNED\s+FAILED\s+DRIFTED$/m);
    for (const n of NAMES) expect(again.stdout).toMatch(new RegExp(`^${n}\\s+ok\\s+0\\s+0\\s+${POLICIES}\\s+0\\s+0\\s+0$`, 'm'));
    expect(annotationsOf(await live('fleet-b', REQUIRE_LABELS))['policyoci.dev/applied-at']).toBe(marks['policyoci.dev/applied-at']);
  });

  it('one --context keeps the one-cluster output', async () => {
    const one = await cli(['apply', ref, '--context', 'fleet-a']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/^clusterpolicy\/require-labels unchanged$/m);
    expect(one.stdout).toMatch(new RegExp(`^0 created, 0 configured, ${POLICIES} unchanged, 0 pruned, 0 failed \\(context fleet-a\\)$`, 'm'));
    expect(one.stdout).not.toContain('CONTEXT');
  });

  it('one context down: the others are applied, exit 9 names it', async () => {
    const r = await cli(['apply', ref, '--context', 'fleet-a,dead,fleet-c', '--format', 'json']);
    expect(r.code, r.stderr).toBe(9);
    const o = byContext(fleetOf(r));
    expect([o['fleet-a']!.status, o.dead!.status, o['fleet-c']!.status]).toEqual(['ok', 'failed', 'ok']);
    expect(o['fleet-a']!.counts.unchanged).toBe(POLICIES);
    expect(o.dead!.error?.message).toMatch(/ECONNREFUSED|connect|refused/i);
    expect(JSON.parse(r.stderr.trim().split('\n').at(-1)!)).toMatchObject({ error: { code: 'PARTIAL', exitCode: 9 } });

    const text = await cli(['apply', ref, '--all-contexts']);
    expect(text.code).toBe(9);
    expect(text.stdout).toMatch(/^dead\s+failed\s+-/m);
    expect(text.stdout).toMatch(/^3 of 4 contexts ok, 1 failed$/m);
    expect(text.stderr).toMatch(/apply: 1 of 4 contexts failed/);
  });

  it('--fail-fast starts no context after a failure; without it the next one runs', async () => {
    const careful = await cli(['apply', ref, '--context', 'dead,fleet-c', '--parallel', '1', '--fail-fast', '--format', 'json']);
    expect(careful.code).toBe(9);
    expect(fleetOf(careful).contexts.map((o) => [o.context, o.status])).toEqual([['dead', 'failed'], ['fleet-c', 'skipped']]);
    const plain = await cli(['apply', ref, '--context', 'dead,fleet-c', '--parallel', '1', '--format', 'json']);
    expect(plain.code).toBe(9);
    expect(fleetOf(plain).contexts.map((o) => [o.context, o.status])).toEqual([['dead', 'failed'], ['fleet-c', 'ok']]);
  });

  it('refuses a context name the kubeconfig lacks and a pattern matching none (exit 2), before reading anything', async () => {
    const missing = await cli(['apply', ref, '--context', 'fleet-a,nope']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/context "nope" not found .*available: fleet-a, fleet-b, fleet-c, dead/);
    expect((await cli(['diff', ref, '--context', 'prod-*'])).code).toBe(2);
  });
});

describe('drift', () => {
  it('kubectl edit in fleet-b and kubectl delete in fleet-c: status and diff name them in their context only; apply puts them back', async () => {
    // The editor of the README's walkthrough (kubectl runs it through sh: it holds a backslash).
    const edited = await kubectl('fleet-b', ['edit', 'clusterpolicy', 'require-labels'], { KUBE_EDITOR: 'sed -i s/background:\\ true/background:\\ false/' });
    expect(edited.code, edited.stderr).toBe(0);
    const deleted = await kubectl('fleet-c', ['delete', 'clusterpolicy', 'require-ro-rootfs']);
    expect(deleted.code, deleted.stderr).toBe(0);

    const status = await cli(['status', `${reg.host}/fleet/policies`, '--context', 'fleet-*', '--format', 'json']);
    expect(status.code, status.stderr).toBe(1);
    const s = byContext(fleetOf(status));
    const drifted = (n: string) => ((s[n]!.result as { artifacts: Array<{ digest: string; policies: number; drifted: Array<{ name: string; drift: string; by?: string[] }> }> }).artifacts);
    expect(drifted('fleet-a')).toEqual([expect.objectContaining({ digest, policies: POLICIES, drifted: [] })]);
    expect(drifted('fleet-b')[0]!.drifted).toEqual([expect.objectContaining({ name: 'require-labels', drift: 'modified', by: ['kubectl-edit'] })]);
    expect(drifted('fleet-c')[0]).toMatchObject({ policies: POLICIES - 1, drifted: [{ kind: 'ClusterPolicy', name: 'require-ro-rootfs', drift: 'deleted' }] });
    expect([s['fleet-a']!.differs, s['fleet-b']!.differs, s['fleet-c']!.differs]).toEqual([false, true, true]);

    const text = await cli(['status', '--context', 'fleet-b']);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/clusterpolicy\/require-labels: modified \(by kubectl-edit\)/);
    expect(text.stdout).not.toContain('require-ro-rootfs');

    const diff = await cli(['diff', ref, '--context', 'fleet-*', '--force-conflicts', '--format', 'json']);
    expect(diff.code, diff.stderr).toBe(1);
    const d = byContext(fleetOf(diff));
    const driftOf = (n: string) => (d[n]!.result as { results: Array<{ name: string; drift?: string }> }).results.filter((r) => r.drift).map((r) => [r.name, r.drift]);
    expect([driftOf('fleet-a'), driftOf('fleet-b'), driftOf('fleet-c')]).toEqual([[], [['require-labels', 'modified']], [['require-ro-rootfs', 'deleted']]]);
    expect([d['fleet-a']!.counts.configured, d['fleet-b']!.counts.configured, d['fleet-c']!.counts.created]).toEqual([0, 1, 1]);

    const one = await cli(['diff', ref, '--context', 'fleet-b', '--force-conflicts']);
    expect(one.code).toBe(1);
    expect(one.stdout).toMatch(/^clusterpolicy\/require-labels: drifted \(modified by kubectl-edit\) from the digest applied here$/m);
    expect(one.stdout).toMatch(/^-\s+background: false$/m);

    // Without --force-conflicts, kubectl-edit owns spec.background now: the apply conflicts there.
    const repaired = await cli(['apply', ref, '--context', 'fleet-*', '--force-conflicts', '--format', 'json']);
    expect(repaired.code, repaired.stderr).toBe(0);
    const a = byContext(fleetOf(repaired));
    expect([a['fleet-b']!.counts, a['fleet-c']!.counts.created]).toEqual([expect.objectContaining({ configured: 1, drifted: 1 }), 1]);
    expect(((await live('fleet-b', REQUIRE_LABELS))?.spec as { background?: boolean }).background).toBe(true);
    const clean = await cli(['status', '--all-contexts', '--format', 'json']);
    expect(clean.code).toBe(9); // dead
    expect(fleetOf(clean).contexts.filter((o) => o.status === 'ok').map((o) => [o.context, o.differs])).toEqual(NAMES.map((n) => [n, false]));
  });

  it('a digest applied later records the one before it (previous-digest), and status shows it live', async () => {
    const v2 = `${reg.host}/fleet/policies:v2`;
    const pushed = JSON.parse((await runOk(['push', v2, join(EXAMPLES, 'kyverno'), '--format', 'json'])).stdout) as { digest: string };
    const r = await cli(['apply', v2, '--context', 'fleet-a', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const marks = annotationsOf(await live('fleet-a', REQUIRE_LABELS));
    expect(marks).toMatchObject({ 'policyoci.dev/source-digest': pushed.digest, 'policyoci.dev/previous-digest': digest, 'policyoci.dev/source-tag': 'v2' });
    const status = await cli(['status', '--context', 'fleet-a', '--format', 'json']);
    expect(status.code, status.stdout).toBe(0);
    const artifacts = (fleetOf(status).contexts[0]!.result as { artifacts: Array<{ digest: string; policies: number; tags: string[] }> }).artifacts;
    expect(artifacts.map((x) => [x.digest, x.policies, x.tags])).toEqual(
      expect.arrayContaining([
        [pushed.digest, 4, ['v2']],
        [digest, 2, ['v1']],
      ]),
    );
  });
});
