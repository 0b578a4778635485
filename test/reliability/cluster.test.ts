// The cluster side: apply against a real API server (etcd + kube-apiserver, the KubeArmor CRDs),
// directly and through the fault proxy (TLS, a certificate from the cluster's CA). A conflict with
// another field manager, a ValidatingAdmissionPolicy rejection, a 503, a stall and the server going
// away mid-apply: each object ends at its old or its new version, and the report says which.
// Also: nothing that is not a policy is ever applied, and strings a YAML 1.1 reader would change
// survive push → pull → kubectl (Kubernetes' own Go YAML reader) unchanged.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createServerCert } from '../support/certs.ts';
import { runCli, runOk, type CliResult } from '../support/cli.ts';
import { writeKubeconfig, type RunningCluster } from '../support/cluster.ts';
import { startFaultProxy, type FaultProxy, type FaultRule } from '../support/fault-proxy.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';
import { toolPath } from '../support/tools.ts';
import { expectCleanFailure, KSP_PATH, KYVERNO_YAML, kspPolicy, pushCrafted, RawRegistry, startSmallCluster, TITLE, type SmallCluster, errorLine } from './helpers.ts';

let reg: RunningRegistry;
let raw: RawRegistry;
let small: SmallCluster;
let cluster: RunningCluster;
let work: string;

const KSP = KSP_PATH;
const api: SmallCluster['api'] = (path, options) => small.api(path, options);

beforeAll(async () => {
  [reg, small] = await Promise.all([startRegistry('open'), startSmallCluster('reliability')]);
  cluster = small.cluster;
  raw = new RawRegistry(reg.host);
  work = await mkdtemp(join(tmpdir(), 'reliability-cluster-'));
}, 240_000);
afterAll(async () => {
  await raw?.close();
  await Promise.all([reg?.stop(), small?.stop()]);
  if (work) await rm(work, { recursive: true, force: true });
});

let sets = 0;
async function pushSet(repo: string, objects: object[]): Promise<string> {
  const dir = join(work, `set-${++sets}`);
  await mkdir(dir);
  for (const [i, o] of objects.entries()) await writeFile(join(dir, `${i}.yaml`), stringify(o));
  await runOk(['push', `${reg.host}/${repo}:v1`, dir]);
  return `${reg.host}/${repo}:v1`;
}

async function messageOf(name: string): Promise<string | undefined> {
  const res = await api(`${KSP}/${name}`);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`GET ${name}: ${res.status}`);
  return (res.json as { spec: { message: string } }).spec.message;
}

interface ApplyReport {
  results: Array<{ name: string; action: string; error?: string }>;
  counts: { created: number; configured: number; unchanged: number; failed: number; pruned: number };
}

function report(r: CliResult): ApplyReport {
  try {
    return JSON.parse(r.stdout) as ApplyReport;
  } catch {
    throw new Error(`apply printed no JSON report (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}

function actionOf(rep: ApplyReport, name: string): { action: string; error?: string } {
  const found = rep.results.find((x) => x.name === name);
  if (!found) throw new Error(`${name} is not in the report`);
  return found;
}

const admin = (args: string[]) => runCli([...args, '--kubeconfig', cluster.kubeconfigs.admin, '--format', 'json']);

/** A TLS fault proxy in front of the API server, and a kubeconfig (bearer token) that goes through it. */
async function apiProxy(...rules: FaultRule[]): Promise<{ proxy: FaultProxy; kubeconfig: string }> {
  const dir = await mkdtemp(join(work, 'proxy-'));
  const cert = await createServerCert(cluster.ca, dir, { hosts: ['127.0.0.1'] });
  const proxy = await startFaultProxy({
    upstream: cluster.server,
    upstreamCa: await readFile(cluster.caFile),
    tls: { cert: await readFile(cert.certFile), key: await readFile(cert.keyFile) },
  });
  for (const r of rules) proxy.addRule(r);
  const kubeconfig = writeKubeconfig(join(dir, 'kubeconfig'), {
    clusters: [{ name: 'via-proxy', server: proxy.url, caFile: cluster.caFile }],
    users: [{ name: 'token', token: cluster.adminToken }],
    contexts: [{ name: 'via-proxy', cluster: 'via-proxy', user: 'token' }],
  });
  return { proxy, kubeconfig };
}

const STATUS_503 = JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'injected: the server is currently unable to handle the request', reason: 'ServiceUnavailable', code: 503 });

describe('apply against API server faults', () => {
  it('A01 a conflict with another field manager: that policy fails naming the manager and keeps its value, the others apply; --force-conflicts takes over', async () => {
    const owned = await api(`${KSP}/a01-shared?fieldManager=other-team`, { method: 'PATCH', body: kspPolicy('a01-shared', 'theirs'), contentType: 'application/apply-patch+yaml' });
    expect(owned.status).toBe(201);
    const ref = await pushSet('a01', [kspPolicy('a01-shared', 'ours'), kspPolicy('a01-free', 'ours')]);
    const r = await admin(['apply', ref]);
    expect(r.code, r.stderr).toBe(8);
    const rep = report(r);
    expect(actionOf(rep, 'a01-shared').action).toBe('failed');
    expect(actionOf(rep, 'a01-shared').error).toMatch(/fields are managed by "other-team"; use --force-conflicts to take them over/);
    expect(actionOf(rep, 'a01-free').action).toBe('created');
    expect(await messageOf('a01-shared')).toBe('theirs');
    expect(await messageOf('a01-free')).toBe('ours');
    const forced = await admin(['apply', ref, '--force-conflicts']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(actionOf(report(forced), 'a01-shared').action).toBe('configured');
    expect(await messageOf('a01-shared')).toBe('ours');
  });

  it('A02 a webhook-style rejection (a ValidatingAdmissionPolicy denying a name): that policy fails with the server’s reason, the others apply', async () => {
    const vap = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies';
    const vapb = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings';
    const policy = await api(`${vap}/deny-forbidden-names?fieldManager=test&force=true`, {
      method: 'PATCH',
      contentType: 'application/apply-patch+yaml',
      body: {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicy',
        metadata: { name: 'deny-forbidden-names' },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: { resourceRules: [{ apiGroups: ['security.kubearmor.com'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: ['kubearmorpolicies'] }] },
          validations: [{ expression: "!object.metadata.name.startsWith('forbidden-')", message: 'policy names starting with forbidden- are not allowed here' }],
        },
      },
    });
    expect(policy.status, policy.text).toBeLessThan(300);
    const binding = await api(`${vapb}/deny-forbidden-names?fieldManager=test&force=true`, {
      method: 'PATCH',
      contentType: 'application/apply-patch+yaml',
      body: { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', metadata: { name: 'deny-forbidden-names' }, spec: { policyName: 'deny-forbidden-names', validationActions: ['Deny'] } },
    });
    expect(binding.status, binding.text).toBeLessThan(300);
    try {
      // The API server loads admission policies asynchronously: wait until a dry run is denied.
      const deadline = Date.now() + 60_000;
      for (;;) {
        const probe = await api(`${KSP}/forbidden-probe?fieldManager=probe&dryRun=All`, { method: 'PATCH', body: kspPolicy('forbidden-probe', 'x'), contentType: 'application/apply-patch+yaml' });
        if (probe.status >= 400) break;
        if (Date.now() > deadline) throw new Error('the ValidatingAdmissionPolicy never took effect');
        await sleep(250);
      }
      const ref = await pushSet('a02', [kspPolicy('a02-ok-1', 'm'), kspPolicy('forbidden-a02', 'm'), kspPolicy('a02-ok-2', 'm')]);
      const r = await admin(['apply', ref]);
      expect(r.code, r.stderr).toBe(8);
      const rep = report(r);
      expect(actionOf(rep, 'forbidden-a02').action).toBe('failed');
      expect(actionOf(rep, 'forbidden-a02').error).toMatch(/deny-forbidden-names.*denied request: policy names starting with forbidden- are not allowed here/);
      expect(actionOf(rep, 'a02-ok-1').action).toBe('created');
      expect(actionOf(rep, 'a02-ok-2').action).toBe('created');
      expect(errorLine(r)).toMatch(/^Error: 1 of 3 objects failed/);
      expect(await messageOf('forbidden-a02')).toBeUndefined();
    } finally {
      await api(`${vapb}/deny-forbidden-names`, { method: 'DELETE' });
      await api(`${vap}/deny-forbidden-names`, { method: 'DELETE' });
    }
  });

  it('A03 the API server goes away in the middle of an apply: every policy holds its old or its new version, the report says which, a re-run converges', async () => {
    const names = Array.from({ length: 16 }, (_, i) => `a03-p${String(i).padStart(2, '0')}`);
    const v1 = await pushSet('a03-v1', names.map((n) => kspPolicy(n, 'v1')));
    expect((await admin(['apply', v1])).code).toBe(0);
    const v2 = await pushSet('a03-v2', names.map((n) => kspPolicy(n, 'v2')));
    const { proxy, kubeconfig } = await apiProxy();
    // At the 7th PATCH, once the first 6 have been answered, the server goes away.
    const answered = (log: typeof proxy.log) => log.filter((e) => e.method === 'PATCH' && e.status !== undefined).length >= 6;
    proxy.addRule({ name: 'gone', method: 'PATCH', skip: 6, times: 1, fault: { kind: 'hook', run: async () => (await proxy.waitFor(answered), await sleep(100), await proxy.goAway()) } });
    try {
      const r = await runCli(['apply', v2, '--kubeconfig', kubeconfig, '--format', 'json']);
      expect(r.code, r.stderr).toBe(8);
      const rep = report(r);
      expect(rep.results.map((x) => x.name).sort()).toEqual(names);
      let failed = 0;
      for (const name of names) {
        const { action, error } = actionOf(rep, name);
        const live = await messageOf(name);
        if (action === 'configured') expect(live, name).toBe('v2');
        else {
          failed++;
          expect(action, name).toBe('failed');
          // A request cut while in flight may or may not have been applied: old or new, nothing else.
          expect(['v1', 'v2'], name).toContain(live);
          expect(error, name).toMatch(/cannot reach the API server at https:\/\/127\.0\.0\.1:\d+/);
        }
      }
      expect(failed).toBeGreaterThan(0);
      expect(rep.counts.configured).toBeGreaterThanOrEqual(6);
      // Once the server is back, a re-run applies the rest and says which changed now.
      const again = await admin(['apply', v2]);
      expect(again.code, again.stderr).toBe(0);
      const rep2 = report(again);
      for (const name of names) expect(await messageOf(name)).toBe('v2');
      expect(rep2.counts.configured + rep2.counts.unchanged).toBe(names.length);
      for (const name of names.filter((x) => actionOf(rep, x).action === 'configured')) expect(actionOf(rep2, name).action).toBe('unchanged');
    } finally {
      await proxy.stop();
    }
  });

  it('A04 the API server answers 503 for one policy: that one fails with the status, keeps its old version; the others apply', async () => {
    const names = ['a04-p1', 'a04-p2', 'a04-p3'];
    expect((await admin(['apply', await pushSet('a04-v1', names.map((n) => kspPolicy(n, 'v1')))])).code).toBe(0);
    const v2 = await pushSet('a04-v2', names.map((n) => kspPolicy(n, 'v2')));
    const { proxy, kubeconfig } = await apiProxy({ name: '503', method: 'PATCH', path: '/a04-p2?', fault: { kind: 'status', status: 503, body: STATUS_503 } });
    try {
      const r = await runCli(['apply', v2, '--kubeconfig', kubeconfig, '--format', 'json']);
      expect(r.code, r.stderr).toBe(8);
      const rep = report(r);
      expect(actionOf(rep, 'a04-p2')).toMatchObject({ action: 'failed', error: expect.stringMatching(/503 ServiceUnavailable: injected/) });
      expect(actionOf(rep, 'a04-p1').action).toBe('configured');
      expect(actionOf(rep, 'a04-p3').action).toBe('configured');
      expect([await messageOf('a04-p1'), await messageOf('a04-p2'), await messageOf('a04-p3')]).toEqual(['v2', 'v1', 'v2']);
    } finally {
      await proxy.stop();
    }
  });

  it('A05 the API server stops answering for one policy: --request-timeout ends the wait, that one is reported, keeps its old version', async () => {
    const names = ['a05-p1', 'a05-p2'];
    expect((await admin(['apply', await pushSet('a05-v1', names.map((n) => kspPolicy(n, 'v1')))])).code).toBe(0);
    const v2 = await pushSet('a05-v2', names.map((n) => kspPolicy(n, 'v2')));
    const { proxy, kubeconfig } = await apiProxy({ name: 'stall', method: 'PATCH', path: '/a05-p1?', fault: { kind: 'stall' } });
    try {
      const t0 = Date.now();
      const r = await runCli(['apply', v2, '--kubeconfig', kubeconfig, '--format', 'json', '--request-timeout', '2s']);
      expect(Date.now() - t0).toBeLessThan(30_000);
      expect(r.code, r.stderr).toBe(8);
      const rep = report(r);
      expect(actionOf(rep, 'a05-p1')).toMatchObject({ action: 'failed', error: expect.stringMatching(/gave no answer within 2000 ms/) });
      expect(actionOf(rep, 'a05-p2').action).toBe('configured');
      expect(await messageOf('a05-p1')).toBe('v1');
      expect(await messageOf('a05-p2')).toBe('v2');
    } finally {
      await proxy.stop();
    }
  });

  it('A06 the API server is gone before apply starts: one clear message, nothing changed', async () => {
    const { proxy, kubeconfig } = await apiProxy();
    await proxy.goAway();
    const ref = await pushSet('a06', [kspPolicy('a06-p1', 'v1')]);
    const r = await runCli(['apply', ref, '--kubeconfig', kubeconfig]);
    expectCleanFailure(r, 8, /cannot reach the API server at https:\/\/127\.0\.0\.1:\d+.*ECONNREFUSED/);
    expect(await messageOf('a06-p1')).toBeUndefined();
  });
});

describe('nothing that is not a policy is ever applied', () => {
  it('H16 apply of an artifact holding a Secret, a ClusterRoleBinding and a ValidatingWebhookConfiguration beside a policy: refused, none of them exists afterwards', async () => {
    const repo = 'smuggle';
    const texts = [
      ['ok.yaml', stringify(kspPolicy('h16-innocent', 'm'))],
      ['Secret.yaml', 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: stolen\n  namespace: default\nstringData:\n  password: hunter2\n'],
      ['ClusterRoleBinding.yaml', 'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: pwned\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: cluster-admin\nsubjects:\n  - kind: User\n    name: eve\n    apiGroup: rbac.authorization.k8s.io\n'],
      ['ValidatingWebhookConfiguration.yaml', 'apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata:\n  name: intercept\nwebhooks: []\n'],
    ];
    const layers = [];
    for (const [title, text] of texts) layers.push(await raw.pushBlob(repo, Buffer.from(text!), KYVERNO_YAML, { [TITLE]: title! }));
    await pushCrafted(raw, repo, 'v1', layers);
    for (const args of [['apply', `${reg.host}/${repo}:v1`, '--create-namespace'], ['pull', `${reg.host}/${repo}:v1`, '--apply']]) {
      const r = await runCli([...args, '--kubeconfig', cluster.kubeconfigs.admin]);
      expectCleanFailure(r, 6, /refused the artifact: 3 problems/);
    }
    expect((await api('/api/v1/namespaces/default/secrets/stolen')).status).toBe(404);
    expect((await api('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/pwned')).status).toBe(404);
    expect((await api('/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/intercept')).status).toBe(404);
    expect(await messageOf('h16-innocent')).toBeUndefined(); // all or nothing
  });
});

describe('YAML 1.1 lookalikes through Kubernetes’ own YAML reader', () => {
  const TRICKY = [
    'yes', 'no', 'on', 'off', 'y', 'n', 'Y', 'N', 'true', 'False', 'null', 'Null', '~', '', '0755', '0o17', '0x1F', '0b101',
    '1e3', '1_000', '.5', '+1', '-0', '.inf', '.nan', '12:30:00', '1:20', '2024-01-01', '<<', '=', '- a', 'a: b', '#x', '*a',
    '&a', '!tag', '%x', '@x', '"q"', "'q'", ' lead', 'trail ', 'multi\nline', 'tab\there', '---', '...', 'é', '\u00a0', '😀',
  ];
  /** Line breaks to YAML 1.1 (Go's reader) but not to YAML 1.2, and a non-character Go refuses. */
  const LINE_BREAKS_11 = ['a\u2028b', '\u2028', 'a\u2029b', 'a\u0085b', '\u0085', 'x\ufffe', 'c1\u0080\u009f', 'mixed "q" \\ \u2028 yes'];
  const KEYS = ['yes', 'no', 'on', 'off', 'y', 'n', 'true', 'null', '0755', '1e3', '0x1F', '1_000'];
  /** Every string of one to five spaces, tabs, line breaks and `a` (1,364): the edge cases of block scalars. */
  const BLOCK_EDGES = (() => {
    const out: string[] = [];
    let level = [''];
    for (let n = 1; n <= 5; n++) {
      level = level.flatMap((p) => [' ', '\t', '\n', 'a'].map((c) => p + c));
      out.push(...level);
    }
    return out;
  })();
  const tricky = (strings = TRICKY) => {
    const o = kspPolicy('yaml11-roundtrip', 'null') as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
    o.metadata.annotations = Object.fromEntries([...KEYS.map((k, i) => [k, strings[i % strings.length]!]), ...strings.map((v, i) => [`example.com/v${i}`, v])]);
    o.metadata.labels = { yes: 'on', on: 'yes', null: 'null', '0755': '0755', '1e3': '1e3', y: 'n', true: 'false', '0x1F': '1_000' };
    o.spec.tags = strings;
    return o;
  };

  function kubectlJson(file: string): Promise<{ ok: boolean; json?: { metadata: Record<string, unknown>; spec: Record<string, unknown> }; err: string }> {
    return new Promise((resolve) => {
      execFile(toolPath('kubectl'), ['create', '--dry-run=server', '-o', 'json', '-f', file, '--kubeconfig', cluster.kubeconfigs.admin], { encoding: 'utf8' }, (error, stdout, stderr) => {
        if (error) resolve({ ok: false, err: stderr });
        else resolve({ ok: true, json: JSON.parse(stdout), err: stderr });
      });
    });
  }

  const picked = (o: { metadata: Record<string, unknown>; spec: Record<string, unknown> }) => ({
    annotations: o.metadata.annotations,
    labels: o.metadata.labels,
    tags: o.spec.tags,
    message: o.spec.message,
  });

  async function roundTrip(repo: string, original: ReturnType<typeof tricky>): Promise<{ ok: boolean; json?: { metadata: Record<string, unknown>; spec: Record<string, unknown> }; err: string }> {
    const src = join(work, repo);
    await mkdir(src);
    await writeFile(join(src, 'p.json'), JSON.stringify(original));
    await runOk(['push', `${reg.host}/${repo}:v1`, src]);
    const out = join(work, `${repo}-out`);
    await runOk(['pull', `${reg.host}/${repo}:v1`, '-o', out]);
    const [file] = await readdir(out);
    return kubectlJson(join(out, file!));
  }

  it('I04 strings YAML 1.1 reads differently (yes, on, 0755, 1e3, null, ~, …) as keys and values, pushed then pulled: kubectl reads the pulled file back to exactly the original strings', async () => {
    const original = tricky();
    const res = await roundTrip('yaml11', original);
    expect(res.err).toBe('');
    expect(res.ok).toBe(true);
    expect(picked(res.json!)).toEqual(picked(original));
  });

  it('I04 U+2028, U+2029, U+0085 (line breaks to YAML 1.1), C1 controls and U+FFFE, pushed then pulled: written escaped in double quotes (\\L, \\P, \\N, \\x80, \\uFFFE), so kubectl reads back exactly the original strings', async () => {
    const original = tricky(LINE_BREAKS_11);
    const res = await roundTrip('yaml11-breaks', original);
    expect(res.err).toBe('');
    expect(picked(res.json!)).toEqual(picked(original));
  });

  it('I04 every string of up to five spaces, tabs, line breaks and letters (" \\n" and "\\ta\\n" are block scalars the YAML library writes without the indentation indicator readers need): pushed then pulled, kubectl reads back exactly the original strings', async () => {
    expect(BLOCK_EDGES).toHaveLength(1364);
    const original = tricky(BLOCK_EDGES);
    const res = await roundTrip('blank-lines', original);
    expect(res.err).toBe('');
    expect(picked(res.json!)).toEqual(picked(original));
  });

  it('I04 control, the same object from a plain YAML 1.2 writer: kubectl changes or refuses it (the trap is real)', async () => {
    const file = join(work, 'yaml12.yaml');
    await writeFile(file, stringify(tricky())); // yaml's default: YAML 1.2, `yes`/`on`/`0755` left unquoted
    const res = await kubectlJson(file);
    expect(res.ok && JSON.stringify(picked(res.json!)) === JSON.stringify(picked(tricky()))).toBe(false);
  });
});
