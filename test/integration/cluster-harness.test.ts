// The cluster harness itself: two real API servers (etcd + kube-apiserver) side by side, every
// kubeconfig's credentials accepted for who they claim to be, RBAC of the restricted user enforced,
// every corpus CRD kind served, and objects of one cluster invisible to the other.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Agent } from 'undici';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS, REPO_ROOT } from '../support/cli.ts';
import { ADMIN_USER, corpusCrds, kubeRequest, mergedKubeconfig, RESTRICTED_NAMESPACE, RESTRICTED_USER, startCluster, type RunningCluster } from '../support/cluster.ts';
import { isPortOpen } from '../support/ports.ts';
import { toolPath } from '../support/tools.ts';

const run = promisify(execFile);
// The version pinned in scripts/tools/build.sh, e.g. v1.35.4.
const KUBERNETES_VERSION = /^KUBERNETES_VERSION=(v\d+\.\d+\.\d+)/m.exec(readFileSync(join(REPO_ROOT, 'scripts/tools/build.sh'), 'utf8'))![1]!;
const [, MAJOR, MINOR] = /^v(\d+)\.(\d+)\./.exec(KUBERNETES_VERSION)!;
// `go build` without `-X k8s.io/component-base/version.gitVersion=…` (build.sh does not stamp it yet)
const UNSTAMPED = 'v0.0.0-master+$Format:%H$';
const POLICY_FILE = join(CORPUS, 'kyverno/policies/best-practices/disallow-latest-tag.yaml');

interface KubeconfigFile {
  'current-context': string;
  clusters: { name: string; cluster: { server: string; 'certificate-authority'?: string } }[];
  users: { name: string; user: { token?: string; 'client-certificate'?: string; 'client-key'?: string; exec?: { command: string; apiVersion: string; interactiveMode: string } } }[];
  contexts: { name: string; context: { cluster: string; user: string; namespace?: string } }[];
}

/** What a kubeconfig file says: its server and an Agent + token carrying its (only) user's credentials. */
async function credentialsOf(file: string): Promise<{ server: string; dispatcher: Agent; token?: string; config: KubeconfigFile }> {
  const config = parse(readFileSync(file, 'utf8')) as KubeconfigFile;
  expect(config.contexts).toHaveLength(1);
  const context = config.contexts[0]!;
  expect(config['current-context']).toBe(context.name);
  const cluster = config.clusters.find((c) => c.name === context.context.cluster)!;
  const user = config.users.find((u) => u.name === context.context.user)!;
  const ca = readFileSync(cluster.cluster['certificate-authority']!, 'utf8');
  const connect: { ca: string; cert?: string; key?: string } = { ca };
  if (user.user['client-certificate']) {
    connect.cert = readFileSync(user.user['client-certificate'], 'utf8');
    connect.key = readFileSync(user.user['client-key']!, 'utf8');
  }
  let token = user.user.token;
  if (user.user.exec) {
    expect(user.user.exec.apiVersion).toBe('client.authentication.k8s.io/v1');
    expect(user.user.exec.interactiveMode).toBe('Never');
    const { stdout } = await run(user.user.exec.command, []);
    const credential = JSON.parse(stdout) as { apiVersion: string; kind: string; status: { token: string } };
    expect(credential.apiVersion).toBe('client.authentication.k8s.io/v1');
    expect(credential.kind).toBe('ExecCredential');
    token = credential.status.token;
  }
  return { server: cluster.cluster.server, dispatcher: new Agent({ connect }), config, ...(token !== undefined ? { token } : {}) };
}

/** Who the API server says the caller is (SelfSubjectReview, GA since 1.28). */
async function whoAmI(server: string, dispatcher: Agent, token?: string): Promise<{ status: number; username?: string; groups?: string[] }> {
  const res = await kubeRequest(server, '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
    method: 'POST',
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    dispatcher,
    ...(token !== undefined ? { token } : {}),
  });
  const info = (res.json as { status?: { userInfo?: { username?: string; groups?: string[] } } } | undefined)?.status?.userInfo;
  return { status: res.status, ...(info?.username ? { username: info.username } : {}), ...(info?.groups ? { groups: info.groups } : {}) };
}

describe('two test clusters', () => {
  let a: RunningCluster;
  let b: RunningCluster;
  let caOnly: Map<string, Agent>;
  let adminCert: Map<string, Agent>;
  const agents: Agent[] = [];
  const tmp = mkdtempSync(join(tmpdir(), 'policyoci-cluster-harness-'));

  function agent(cluster: RunningCluster, withCert: boolean): Agent {
    return (withCert ? adminCert : caOnly).get(cluster.name)!;
  }
  function admin(cluster: RunningCluster, path: string, options: { method?: 'GET' | 'POST' | 'DELETE'; body?: unknown } = {}) {
    return kubeRequest(cluster.server, path, { ...options, token: cluster.adminToken, dispatcher: agent(cluster, false) });
  }

  beforeAll(async () => {
    [a, b] = await Promise.all([startCluster('cluster-a'), startCluster('cluster-b')]);
    caOnly = new Map();
    adminCert = new Map();
    for (const cluster of [a, b]) {
      const ca = readFileSync(cluster.caFile, 'utf8');
      const plain = new Agent({ connect: { ca } });
      const cert = new Agent({
        connect: { ca, cert: readFileSync(cluster.adminClientCert.certFile, 'utf8'), key: readFileSync(cluster.adminClientCert.keyFile, 'utf8') },
      });
      agents.push(plain, cert);
      caOnly.set(cluster.name, plain);
      adminCert.set(cluster.name, cert);
    }
  }, 400_000);

  afterAll(async () => {
    await Promise.all(agents.map((x) => x.close()));
    await Promise.all([a?.stop(), b?.stop()]);
    rmSync(tmp, { recursive: true, force: true });
  }, 60_000);

  it('runs each cluster on its own port, dir and etcd', () => {
    for (const cluster of [a, b]) {
      expect(cluster.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(cluster.etcdUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(existsSync(cluster.dir)).toBe(true);
      expect(cluster.timings.totalMs).toBeGreaterThan(0);
    }
    expect(a.server).not.toBe(b.server);
    expect(a.etcdUrl).not.toBe(b.etcdUrl);
    expect(a.dir).not.toBe(b.dir);
    expect(a.adminToken).not.toBe(b.adminToken);
    expect(readFileSync(a.caFile, 'utf8')).not.toBe(readFileSync(b.caFile, 'utf8'));
  });

  it('answers /version with the pinned Kubernetes version, over TLS verified with caFile', async () => {
    for (const cluster of [a, b]) {
      const res = await kubeRequest(cluster.server, '/version', { dispatcher: agent(cluster, true) });
      expect(res.status).toBe(200);
      const info = res.json as { major: string; minor: string; emulationMajor: string; emulationMinor: string; gitVersion: string };
      expect([info.major, info.minor, info.emulationMajor, info.emulationMinor]).toEqual([MAJOR, MINOR, MAJOR, MINOR]);
      expect([KUBERNETES_VERSION, UNSTAMPED]).toContain(info.gitVersion);
    }
    // The other cluster's CA does not verify this server.
    const wrongCa = new Agent({ connect: { ca: readFileSync(b.caFile, 'utf8') } });
    try {
      await expect(kubeRequest(a.server, '/version', { dispatcher: wrongCa })).rejects.toThrow();
    } finally {
      await wrongCa.close();
    }
  });

  it('accepts the credentials of every kubeconfig as the identity it stands for', async () => {
    for (const cluster of [a, b]) {
      const expected = {
        admin: { username: ADMIN_USER, group: 'system:masters' },
        token: { username: ADMIN_USER, group: 'system:masters' },
        exec: { username: ADMIN_USER, group: 'system:masters' },
        restricted: { username: RESTRICTED_USER, group: 'system:authenticated' },
      };
      for (const [kind, want] of Object.entries(expected) as [keyof typeof expected, { username: string; group: string }][]) {
        const creds = await credentialsOf(cluster.kubeconfigs[kind]);
        try {
          expect(creds.server).toBe(cluster.server);
          expect(creds.config.contexts[0]!.name).toBe(kind);
          expect(creds.config.contexts[0]!.context.namespace).toBeUndefined();
          if (kind === 'admin') expect(creds.token).toBeUndefined();
          else expect(creds.token).toBeTruthy();
          const me = await whoAmI(creds.server, creds.dispatcher, creds.token);
          expect(me.status, `${cluster.name} ${kind}`).toBe(201);
          expect(me.username).toBe(want.username);
          expect(me.groups).toContain(want.group);
          if (kind === 'restricted') expect(me.groups).not.toContain('system:masters');
        } finally {
          await creds.dispatcher.close();
        }
      }
    }
  });

  it('refuses unknown tokens, the other cluster\'s token and anonymous requests to resources', async () => {
    const dispatcher = agent(a, false);
    expect((await whoAmI(a.server, dispatcher, 'not-a-token')).status).toBe(401);
    expect((await whoAmI(a.server, dispatcher, b.adminToken)).status).toBe(401);
    const anonymous = await kubeRequest(a.server, '/apis/kyverno.io/v1/clusterpolicies', { dispatcher });
    expect(anonymous.status).toBe(403);
    expect(anonymous.text).toContain('system:anonymous');
  });

  it('serves every corpus CRD kind in every served version', async () => {
    const crds = corpusCrds();
    expect(crds.length).toBeGreaterThanOrEqual(26);
    for (const name of ['clusterpolicies.kyverno.io', 'kubearmorpolicies.security.kubearmor.com', 'kubearmorhostpolicies.security.kubearmor.com']) {
      expect(crds.map((crd) => crd.name)).toContain(name);
    }
    for (const cluster of [a, b]) {
      for (const crd of crds) {
        expect(crd.servedVersions.length).toBeGreaterThan(0);
        for (const version of crd.servedVersions) {
          const path = `/apis/${crd.group}/${version}/${crd.plural}`;
          const res = await admin(cluster, path);
          expect(res.status, `${cluster.name} GET ${path}: ${res.text.slice(0, 300)}`).toBe(200);
          expect((res.json as { kind: string }).kind).toBe(`${crd.kind}List`);
        }
      }
      expect((await admin(cluster, '/apis/security.kubearmor.com/v1/kubearmorpolicies')).status).toBe(200);
      // and something that is not installed is not
      expect((await admin(cluster, '/apis/kyverno.io/v1/doesnotexist')).status).toBe(404);
    }
  });

  it('creates a corpus ClusterPolicy in cluster A that cluster B does not see', async () => {
    const policy = parse(readFileSync(POLICY_FILE, 'utf8')) as { metadata: { name: string } };
    const created = await admin(a, '/apis/kyverno.io/v1/clusterpolicies', { method: 'POST', body: policy });
    expect(created.status, created.text.slice(0, 500)).toBe(201);
    const onA = await admin(a, `/apis/kyverno.io/v1/clusterpolicies/${policy.metadata.name}`);
    expect(onA.status).toBe(200);
    const stored = onA.json as { spec: { rules: { name: string }[] }; metadata: { uid: string } };
    expect(stored.spec.rules.map((rule) => rule.name)).toEqual(['require-image-tag', 'validate-image-tag']);
    expect(stored.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    // a second create conflicts: it really is stored
    expect((await admin(a, '/apis/kyverno.io/v1/clusterpolicies', { method: 'POST', body: policy })).status).toBe(409);

    expect((await admin(b, `/apis/kyverno.io/v1/clusterpolicies/${policy.metadata.name}`)).status).toBe(404);
    const listB = await admin(b, '/apis/kyverno.io/v1/clusterpolicies');
    expect((listB.json as { items: unknown[] }).items).toEqual([]);
    const listA = await admin(a, '/apis/kyverno.io/v1/clusterpolicies');
    expect((listA.json as { items: { metadata: { name: string } }[] }).items.map((item) => item.metadata.name)).toEqual([policy.metadata.name]);
  });

  it('rejects an object that violates the CRD schema', async () => {
    const bad = { apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', metadata: { name: 'schema-violation' }, spec: { rules: 'not-a-list' } };
    const res = await admin(a, '/apis/kyverno.io/v1/clusterpolicies', { method: 'POST', body: bad });
    expect(res.status).toBe(422);
  });

  it('lets the restricted user read clusterpolicies and team-a kubearmorpolicies, nothing else', async () => {
    const creds = await credentialsOf(a.kubeconfigs.restricted);
    const as = (path: string, method: 'GET' | 'POST' = 'GET', body?: unknown) =>
      kubeRequest(creds.server, path, { method, dispatcher: creds.dispatcher, token: creds.token!, ...(body !== undefined ? { body } : {}) });
    try {
      const list = await as('/apis/kyverno.io/v1/clusterpolicies');
      expect(list.status).toBe(200);
      expect((list.json as { items: { metadata: { name: string } }[] }).items.map((item) => item.metadata.name)).toContain('disallow-latest-tag');
      expect((await as('/apis/kyverno.io/v1/clusterpolicies/disallow-latest-tag')).status).toBe(200);
      expect((await as(`/apis/security.kubearmor.com/v1/namespaces/${RESTRICTED_NAMESPACE}/kubearmorpolicies`)).status).toBe(200);

      const forbidden = [
        '/apis/security.kubearmor.com/v1/kubearmorhostpolicies',
        `/api/v1/namespaces/${RESTRICTED_NAMESPACE}/secrets`,
        '/api/v1/secrets',
        '/apis/security.kubearmor.com/v1/namespaces/default/kubearmorpolicies',
        '/apis/security.kubearmor.com/v1/kubearmorpolicies',
        `/apis/kyverno.io/v1/namespaces/${RESTRICTED_NAMESPACE}/policies`,
        '/api/v1/namespaces',
      ];
      for (const path of forbidden) {
        const res = await as(path);
        expect(res.status, `restricted GET ${path}`).toBe(403);
        expect((res.json as { reason: string }).reason).toBe('Forbidden');
      }
      const policy = { apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', metadata: { name: 'restricted-write' }, spec: { rules: [] } };
      expect((await as('/apis/kyverno.io/v1/clusterpolicies', 'POST', policy)).status).toBe(403);
    } finally {
      await creds.dispatcher.close();
    }
  });

  it('works with kubectl through a merged kubeconfig and through each single kubeconfig', async () => {
    const kubectl = toolPath('kubectl');
    const merged = mergedKubeconfig([a, b], tmp);
    const config = parse(readFileSync(merged, 'utf8')) as KubeconfigFile;
    expect(config.contexts.map((c) => c.name)).toEqual(['cluster-a', 'cluster-b']);

    // (not `kubectl version`: an unstamped kubectl refuses to parse its own version)
    const version = await run(kubectl, ['--kubeconfig', merged, '--context', 'cluster-b', 'get', '--raw', '/version']);
    expect((JSON.parse(version.stdout) as { minor: string }).minor).toBe(MINOR);

    const getA = await run(kubectl, ['--kubeconfig', merged, 'get', 'clusterpolicies', '--context', 'cluster-a', '-o', 'name']);
    expect(getA.stdout.trim().split('\n')).toEqual(['clusterpolicy.kyverno.io/disallow-latest-tag']);
    const getB = await run(kubectl, ['--kubeconfig', merged, 'get', 'clusterpolicies', '--context', 'cluster-b', '-o', 'name']);
    expect(getB.stdout.trim()).toBe('');

    for (const kind of ['admin', 'token', 'exec', 'restricted'] as const) {
      const who = await run(kubectl, ['--kubeconfig', a.kubeconfigs[kind], 'auth', 'whoami', '-o', 'json']);
      const username = (JSON.parse(who.stdout) as { status: { userInfo: { username: string } } }).status.userInfo.username;
      expect(username, kind).toBe(kind === 'restricted' ? RESTRICTED_USER : ADMIN_USER);
    }
    await expect(run(kubectl, ['--kubeconfig', a.kubeconfigs.restricted, 'get', 'secrets', '-n', RESTRICTED_NAMESPACE])).rejects.toThrow(/Forbidden/);
    const canI = await run(kubectl, ['--kubeconfig', a.kubeconfigs.restricted, 'auth', 'can-i', 'list', 'kubearmorpolicies.security.kubearmor.com', '-n', RESTRICTED_NAMESPACE]);
    expect(canI.stdout.trim()).toBe('yes');
  });

  it('stop() kills both processes and removes the dir', async () => {
    const apiPort = Number(new URL(b.server).port);
    const etcdPort = Number(new URL(b.etcdUrl).port);
    expect(await isPortOpen(apiPort)).toBe(true);
    expect(await isPortOpen(etcdPort)).toBe(true);
    await b.stop();
    expect(await isPortOpen(apiPort)).toBe(false);
    expect(await isPortOpen(etcdPort)).toBe(false);
    expect(existsSync(b.dir)).toBe(false);
    // cluster A is unaffected
    expect((await admin(a, '/readyz')).status).toBe(200);
  });
});
