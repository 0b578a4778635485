// export --strict on a real API server, as the restricted user of test/support/cluster.ts (RBAC
// lets it list clusterpolicies, and kubearmorpolicies in team-a, nothing else): a backup that
// cannot read every policy kind the cluster serves fails, pushing and writing nothing.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli, runOk } from '../support/cli.ts';
import { clusterAgent, corpusCrds, kubeRequest, RESTRICTED_NAMESPACE, RESTRICTED_USER, startCluster, type RunningCluster } from '../support/cluster.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';

const EXAMPLES = join(REPO_ROOT, 'examples', 'policies');

describe('export --strict', () => {
  let cluster: RunningCluster;
  let reg: RunningRegistry;
  let work: string;
  /** HTTP status of the tag list of a repository: 404 when nothing was ever pushed there. */
  const tagList = async (repo: string) => (await request(`${reg.url}/v2/${repo}/tags/list`)).statusCode;

  beforeAll(async () => {
    [cluster, reg] = await Promise.all([startCluster('strict'), startRegistry('open')]);
    work = await mkdtemp(join(tmpdir(), 'export-strict-'));
    await runOk(['push', `${reg.host}/examples:v1`, EXAMPLES]);
    await runOk(['apply', `${reg.host}/examples:v1`, '--kubeconfig', cluster.kubeconfigs.admin]);
  }, 300_000);
  afterAll(async () => {
    await cluster?.stop();
    await reg?.stop();
  });

  it(`fails as ${RESTRICTED_USER} (exit 5, each hidden kind named) and pushes, writes, shows nothing; without it the same export succeeds with "skipped"`, async () => {
    const as = ['--kubeconfig', cluster.kubeconfigs.restricted];
    const pushed = await runCli(['export', `${reg.host}/backup:v1`, '--strict', ...as]);
    expect(pushed.code, pushed.stderr).toBe(5);
    expect(pushed.stdout).toBe('');
    expect(pushed.stderr).toMatch(/^Error: --strict: \d+ kind\(s\) of context restricted could not be read, so the export would be incomplete; nothing was written or pushed/);
    expect(pushed.stderr).toContain('KubeArmorHostPolicy.security.kubearmor.com: forbidden: the user may not list kubearmorhostpolicies.security.kubearmor.com');
    expect(pushed.stderr).toContain(`KubeArmorPolicy.security.kubearmor.com: forbidden: the user may not list kubearmorpolicies.security.kubearmor.com in all namespaces (try -n)`);
    expect(await tagList('backup')).toBe(404);

    const dir = join(work, 'files');
    const files = await runCli(['export', '--output-dir', dir, '--strict', ...as]);
    expect(files.code).toBe(5);
    expect(existsSync(dir)).toBe(false);

    const dry = await runCli(['export', `${reg.host}/backup:v1`, '--dry-run', '--strict', '--format', 'json', ...as]);
    expect(dry.code).toBe(5);
    expect(dry.stdout).toBe('');

    // The flag is what makes the difference: the same export without it succeeds, partially.
    const partial = await runCli(['export', `${reg.host}/backup:v1`, '--format', 'json', ...as]);
    expect(partial.code, partial.stderr).toBe(0);
    const result = JSON.parse(partial.stdout) as { policies: number; skipped: Array<{ kind: string }> };
    expect(result.policies).toBe(3); // the ClusterPolicies it may list
    expect(result.skipped.map((s) => s.kind)).toContain('KubeArmorHostPolicy.security.kubearmor.com');
    expect(await tagList('backup')).toBe(200);
  });

  it('succeeds when every kind selected is readable (--kind, -n)', async () => {
    const as = ['--kubeconfig', cluster.kubeconfigs.restricted, '--strict'];
    const pushed = JSON.parse((await runOk(['export', `${reg.host}/cluster-policies:v1`, '--kind', 'ClusterPolicy', '--format', 'json', ...as])).stdout);
    expect(pushed.policies).toBe(3);
    expect(pushed.skipped).toEqual([]);
    const dir = join(work, 'team-a');
    const r = JSON.parse((await runOk(['export', '--output-dir', dir, '-n', RESTRICTED_NAMESPACE, '--kind', 'KubeArmorPolicy', '--format', 'json', ...as])).stdout);
    expect(r.skipped).toEqual([]);
    expect(existsSync(dir)).toBe(true);
  });

  it('a kind the cluster does not serve hides nothing: with the KubeArmor CRDs removed, the admin --strict export succeeds and says so', async () => {
    const agent = clusterAgent(cluster);
    try {
      for (const crd of corpusCrds().filter((c) => c.group === 'security.kubearmor.com')) {
        const res = await kubeRequest(cluster.server, `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.name}`, { method: 'DELETE', token: cluster.adminToken, dispatcher: agent });
        expect([200, 202]).toContain(res.status);
      }
      // Until discovery stops serving them.
      for (let i = 0; i < 120; i++) {
        const apis = await kubeRequest(cluster.server, '/apis', { token: cluster.adminToken, dispatcher: agent });
        if (!apis.text.includes('security.kubearmor.com')) break;
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      await agent.close();
    }
    const dir = join(work, 'admin');
    const r = await runCli(['export', '--output-dir', dir, '--strict', '--format', 'json', '--kubeconfig', cluster.kubeconfigs.admin]);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { files: string[]; skipped: Array<{ kind: string; reason: string }> };
    expect(result.skipped.length).toBeGreaterThan(0);
    expect(result.skipped.every((s) => s.kind.endsWith('.security.kubearmor.com') && s.reason.startsWith('not served by the cluster'))).toBe(true);
    expect(r.stderr).toContain('not exported: KubeArmorPolicy.security.kubearmor.com: not served by the cluster');
    expect((await readdir(dir)).sort()).toEqual(result.files.slice().sort());
    expect(result.files.length).toBe(4); // the Kyverno examples
  });
});
