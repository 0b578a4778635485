// Starts real Kubernetes API servers for the tests, in the spirit of controller-runtime's envtest:
// one etcd and one kube-apiserver per call (no kubelet, no controller-manager, no scheduler), on
// their own loopback ports and temp dir, killed on stop() or when the test process exits (even by
// SIGKILL: see startManagedProcess). The corpus CRDs are installed with server-side apply.
//
// Identities (all in every cluster):
//   admin       client certificate CN=policyoci-admin, O=system:masters (kubeconfigs.admin), and the
//               bearer token `adminToken` of user `policyoci-admin` in group system:masters
//               (kubeconfigs.token, and kubeconfigs.exec through an exec credential plugin)
//   restricted  bearer token `restrictedToken` of user `restricted` (kubeconfigs.restricted); besides
//               what every authenticated user gets (discovery, /version, self-subject reviews) it may
//               only get/list clusterpolicies.kyverno.io (cluster-wide, ClusterRoleBinding) and
//               get/list kubearmorpolicies.security.kubearmor.com in namespace `team-a` (RoleBinding).
//               Nothing else: no other namespace, no other kind, no secrets, no writes.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request, type Dispatcher } from 'undici';
import { parseAllDocuments } from 'yaml';
import type { CertPair, TestCa } from './certs.ts';
import { CORPUS } from './cli.ts';
import { writeClusterKubeconfig } from './kubeconfig.ts';
import type { TestHost } from './netns.ts';
import { getFreePort, LOOPBACK } from './ports.ts';
import { removeNow, removeOnExit, startManagedProcess, tailFile, type ManagedProcess } from './process.ts';
import { toolPath } from './tools.ts';

export { mergedKubeconfig, writeClusterKubeconfig, writeKubeconfig } from './kubeconfig.ts';

export interface RunningCluster {
  /** e.g. "cluster-a" */
  name: string;
  /** "https://127.0.0.1:PORT" (ADDRESS:PORT on a test host) */
  server: string;
  /** API server CA (PEM); it also signed the admin client certificate */
  caFile: string;
  /** temp dir with all files (removed by stop()) */
  dir: string;
  /** kubeconfig files, each with one context named after its user and the cluster entry named `name` */
  kubeconfigs: { admin: string; token: string; exec: string; restricted: string };
  /** bearer token of the admin user (group system:masters) */
  adminToken: string;
  /** bearer token of the `restricted` user (see the top of this file for what it may do) */
  restrictedToken: string;
  /** client certificate CN=policyoci-admin, O=system:masters */
  adminClientCert: CertPair;
  /** the exec credential plugin (a /bin/sh script printing an ExecCredential with adminToken) */
  execPlugin: string;
  /** the test CA (cert and key) */
  ca: TestCa;
  /** "http://127.0.0.1:PORT" */
  etcdUrl: string;
  /** stdout+stderr of each process */
  logFiles: { etcd: string; apiserver: string };
  /** start-up time in ms: etcd, kube-apiserver (until /readyz), CRDs (applied, established, served) */
  timings: { etcdMs: number; apiserverMs: number; crdsMs: number; totalMs: number };
  stop(): Promise<void>;
}

export interface StartClusterOptions {
  /** Install every corpus CRD (default true). */
  installCrds?: boolean;
  /** Keep the temp dir after stop() (it is still removed when the test process exits). */
  keepDir?: boolean;
  /**
   * Run etcd and kube-apiserver on this test host (a network namespace, netns.ts) and serve on its
   * address (the proxy tests: clients never send loopback through a proxy); the certificate names it.
   */
  host?: TestHost;
}

/** A CRD from the corpus, as installed by startCluster. */
export interface CorpusCrd {
  file: string;
  name: string;
  group: string;
  kind: string;
  plural: string;
  scope: 'Namespaced' | 'Cluster';
  /** versions with `served: true` */
  servedVersions: string[];
  /** the CRD object (parsed YAML) */
  object: Record<string, unknown>;
}

export const RESTRICTED_USER = 'restricted';
export const RESTRICTED_NAMESPACE = 'team-a';
export const ADMIN_USER = 'policyoci-admin';

const ETCD_READY_TIMEOUT_MS = 30_000;
const APISERVER_READY_TIMEOUT_MS = 180_000;
const CRD_READY_TIMEOUT_MS = 120_000;
const PORT_ATTEMPTS = 5;
const FIELD_MANAGER = 'test-setup';
const APPLY_CONCURRENCY = 4;

function binary(tool: 'etcd' | 'kube-apiserver'): string {
  const override = tool === 'etcd' ? process.env.POLICYOCI_ETCD_BIN : process.env.POLICYOCI_KUBE_APISERVER_BIN;
  return override ?? toolPath(tool);
}

function envWithout(prefixes: readonly string[]): NodeJS.ProcessEnv {
  // etcd reads ETCD_* variables as flags: keep the caller's out.
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!prefixes.some((prefix) => key.startsWith(prefix))) env[key] = value;
  }
  return env;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Corpus CRDs

function yamlFilesUnder(dir: string, recursive: boolean): string[] {
  return readdirSync(dir, { recursive, encoding: 'utf8' })
    .filter((file) => file.endsWith('.yaml') || file.endsWith('.yml'))
    .map((file) => join(dir, file))
    .sort();
}

let crdCache: CorpusCrd[] | undefined;

const PARSE_CACHE_DIR = join(process.env.POLICYOCI_CACHE_DIR ?? join(homedir(), '.cache', 'kubectl-policyoci'), 'crd-json');

/**
 * The documents of a YAML file as JSON values. The big Kyverno CRDs take seconds to parse with the
 * `yaml` package, so the result is cached on disk under the SHA-256 of the file's text.
 */
function parseYamlDocuments(file: string): unknown[] {
  const text = readFileSync(file, 'utf8');
  const cached = join(PARSE_CACHE_DIR, `${createHash('sha256').update(text).digest('hex')}.json`);
  try {
    return JSON.parse(readFileSync(cached, 'utf8')) as unknown[];
  } catch {
    // not cached yet (or unreadable): parse
  }
  const values: unknown[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
    values.push(doc.toJS({ maxAliasCount: -1 }));
  }
  try {
    mkdirSync(PARSE_CACHE_DIR, { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(values));
    renameSync(tmp, cached);
  } catch {
    // a cache is optional
  }
  return values;
}

/**
 * Every CRD of ../shared/corpus/kyverno/crds/**\/*.yaml, ../shared/corpus/kubearmor/crds/*.yaml and
 * ../shared/corpus/gatekeeper/crds/*.yaml (Gatekeeper's kinds are then served, without a controller:
 * no constraint kind exists until test/support/gatekeeper.ts runs one).
 */
export function corpusCrds(): CorpusCrd[] {
  if (crdCache) return crdCache;
  const files = [
    ...yamlFilesUnder(join(CORPUS, 'kyverno', 'crds'), true),
    ...yamlFilesUnder(join(CORPUS, 'kubearmor', 'crds'), false),
    ...yamlFilesUnder(join(CORPUS, 'gatekeeper', 'crds'), false),
  ];
  const crds: CorpusCrd[] = [];
  for (const file of files) {
    for (const object of parseYamlDocuments(file)) {
      if (object === null || object === undefined) continue;
      if (!isRecord(object) || object.kind !== 'CustomResourceDefinition') throw new Error(`${file}: not a CustomResourceDefinition`);
      const metadata = object.metadata as { name?: string } | undefined;
      const spec = object.spec as {
        group: string;
        scope: 'Namespaced' | 'Cluster';
        names: { kind: string; plural: string };
        versions: { name: string; served: boolean }[];
      };
      if (!metadata?.name || !spec?.group) throw new Error(`${file}: CRD without name or group`);
      crds.push({
        file,
        name: metadata.name,
        group: spec.group,
        kind: spec.names.kind,
        plural: spec.names.plural,
        scope: spec.scope,
        servedVersions: spec.versions.filter((version) => version.served).map((version) => version.name),
        object,
      });
    }
  }
  crdCache = crds;
  return crds;
}

// ---------------------------------------------------------------------------------------------
// HTTP

export interface KubeResponse {
  status: number;
  text: string;
  /** parsed body when it is JSON */
  json: unknown;
}

/**
 * One request to the API server. Authenticates with `token` (bearer) and/or through `dispatcher`
 * (e.g. an Agent holding a client certificate); pass neither for an anonymous request.
 */
export async function kubeRequest(
  server: string,
  path: string,
  options: { method?: Dispatcher.HttpMethod; body?: unknown; contentType?: string; token?: string; dispatcher: Dispatcher },
): Promise<KubeResponse> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] = options.contentType ?? 'application/json';
  }
  const res = await request(new URL(path, server), {
    method: options.method ?? 'GET',
    headers,
    ...(body !== undefined ? { body } : {}),
    dispatcher: options.dispatcher,
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
  });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, text, json };
}

/** An undici Agent trusting the cluster's CA, optionally presenting the admin client certificate. */
export function clusterAgent(cluster: Pick<RunningCluster, 'caFile' | 'adminClientCert'>, options: { clientCert?: boolean } = {}): Agent {
  const connect: { ca: string; cert?: string; key?: string; timeout: number } = { ca: readFileSync(cluster.caFile, 'utf8'), timeout: 5000 };
  if (options.clientCert) {
    connect.cert = readFileSync(cluster.adminClientCert.certFile, 'utf8');
    connect.key = readFileSync(cluster.adminClientCert.keyFile, 'utf8');
  }
  return new Agent({ connect, keepAliveTimeout: 1000 });
}

// ---------------------------------------------------------------------------------------------
// PKI and auth files

/**
 * Runs openssl with stdin closed. (process.ts's runCommand writes to the child's stdin, and an
 * openssl that has already exited makes that write fail with an unhandled EPIPE under load.)
 */
function openssl(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', [...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    const stderr: Buffer[] = [];
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', (error) => reject(new Error(`cannot run openssl: ${error.message}`)));
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`openssl ${args[0]} failed (${code ?? signal}): ${Buffer.concat(stderr).toString('utf8').trim()}`));
    });
  });
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const DAYS = '7';

function serial(): string {
  return `0x${randomBytes(8).toString('hex')}`;
}

/** A CA like certs.ts's createTestCa (EC P-256, 7 days). */
async function createCa(dir: string, commonName: string): Promise<TestCa> {
  const pair = { certFile: join(dir, 'ca.crt'), keyFile: join(dir, 'ca.key') };
  await openssl([
    'req', '-x509', ...EC_KEY, '-keyout', pair.keyFile, '-out', pair.certFile, '-days', DAYS, '-set_serial', serial(),
    '-subj', `/CN=${commonName}`,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    '-addext', 'subjectKeyIdentifier=hash',
  ]);
  await chmod(pair.keyFile, 0o600);
  return { ...pair, dir };
}

/** A certificate signed by `ca` (like certs.ts's createServerCert / createClientCert, any subject). */
async function issueCert(ca: TestCa, dir: string, name: string, subject: string, extensions: readonly string[]): Promise<CertPair> {
  const pair = { certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`) };
  const csr = join(dir, `${name}.csr`);
  const extFile = join(dir, `${name}.ext`);
  await openssl(['req', '-new', ...EC_KEY, '-keyout', pair.keyFile, '-out', csr, '-subj', subject]);
  await chmod(pair.keyFile, 0o600);
  await writeFile(extFile, `${extensions.join('\n')}\n`);
  await openssl([
    'x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', serial(),
    '-days', DAYS, '-sha256', '-extfile', extFile, '-out', pair.certFile,
  ]);
  await rm(csr, { force: true });
  await rm(extFile, { force: true });
  return pair;
}

interface Pki {
  ca: TestCa;
  serving: CertPair;
  adminClientCert: CertPair;
  saKey: string;
  saPub: string;
  tokenFile: string;
  adminToken: string;
  restrictedToken: string;
}

async function preparePki(dir: string, address?: string): Promise<Pki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ca = await createCa(dir, 'kubectl-policyoci test cluster CA');
  const saKey = join(dir, 'sa.key');
  const saPub = join(dir, 'sa.pub');
  const [serving, adminClientCert] = await Promise.all([
    issueCert(ca, dir, 'apiserver', '/CN=127.0.0.1', [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=IP:127.0.0.1,DNS:localhost${address ? `,IP:${address}` : ''}`,
    ]),
    issueCert(ca, dir, 'admin', `/O=system:masters/CN=${ADMIN_USER}`, [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=clientAuth',
    ]),
    (async () => {
      await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', saKey]);
      await chmod(saKey, 0o600);
      await openssl(['pkey', '-in', saKey, '-pubout', '-out', saPub]);
    })(),
  ]);
  const adminToken = randomBytes(24).toString('base64url');
  const restrictedToken = randomBytes(24).toString('base64url');
  // token,user,uid,"group1,group2"
  const tokenFile = join(dir, 'tokens.csv');
  await writeFile(tokenFile, `${adminToken},${ADMIN_USER},uid-admin,"system:masters"\n${restrictedToken},${RESTRICTED_USER},uid-restricted\n`, { mode: 0o600 });
  return { ca, serving, adminClientCert, saKey, saPub, tokenFile, adminToken, restrictedToken };
}

async function writeExecPlugin(file: string, token: string): Promise<void> {
  const credential = JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token } });
  await writeFile(file, `#!/bin/sh\n# exec credential plugin of a kubectl-policyoci test cluster\ncat <<'EOF'\n${credential}\nEOF\n`, { mode: 0o700 });
}

// ---------------------------------------------------------------------------------------------
// Processes

type ReadyState = 'ready' | 'exited' | 'timeout';

async function poll(proc: ManagedProcess, timeoutMs: number, probe: () => Promise<boolean>): Promise<ReadyState> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!proc.isRunning()) return 'exited';
    try {
      if (await probe()) return 'ready';
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  return 'timeout';
}

function portClash(log: string): boolean {
  return /address already in use/i.test(log);
}

async function startEtcd(root: string, name: string, logFile: string, host?: TestHost): Promise<{ proc: ManagedProcess; url: string }> {
  const dataDir = join(root, 'etcd');
  const dispatcher = new Agent({ connect: { timeout: 2000 }, keepAliveTimeout: 10 });
  try {
    for (let attempt = 1; ; attempt++) {
      const [clientPort, peerPort] = [await getFreePort(), await getFreePort()];
      const address = host?.address ?? LOOPBACK;
      const url = `http://${address}:${clientPort}`;
      const peer = `http://${address}:${peerPort}`;
      await rm(dataDir, { recursive: true, force: true });
      await writeFile(logFile, '');
      const proc = await startManagedProcess(binary('etcd'), [
        `--name=${name}`,
        `--data-dir=${dataDir}`,
        `--listen-client-urls=${url}`,
        `--advertise-client-urls=${url}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=${name}=${peer}`,
        '--initial-cluster-state=new',
        '--unsafe-no-fsync=true',
        '--log-level=warn',
        // the big Kyverno CRDs (1.4 MB of YAML) plus their managedFields
        '--max-request-bytes=10485760',
      ], { logFile, env: envWithout(['ETCD_']), cleanupDir: root, ...(host ? { host } : {}) });
      const state = await poll(proc, ETCD_READY_TIMEOUT_MS, async () => {
        const res = await request(`${url}/health`, { dispatcher, headersTimeout: 2000, bodyTimeout: 2000 });
        const text = await res.body.text();
        return res.statusCode === 200 && text.includes('"health":"true"');
      });
      if (state === 'ready') return { proc, url };
      await proc.stop();
      const log = tailFile(logFile);
      if (state === 'exited' && portClash(log) && attempt < PORT_ATTEMPTS) continue;
      throw new Error(state === 'timeout' ? `etcd did not become healthy within ${ETCD_READY_TIMEOUT_MS} ms:\n${log}` : `etcd exited during startup:\n${log}`);
    }
  } finally {
    await dispatcher.close();
  }
}

function apiserverArgs(port: number, certDir: string, etcdUrl: string, pki: Pki, address: string): string[] {
  return [
    `--etcd-servers=${etcdUrl}`,
    `--cert-dir=${certDir}`,
    `--tls-cert-file=${pki.serving.certFile}`,
    `--tls-private-key-file=${pki.serving.keyFile}`,
    `--secure-port=${port}`,
    `--bind-address=${address}`,
    `--advertise-address=${address}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.saPub}`,
    `--service-account-signing-key-file=${pki.saKey}`,
    '--authorization-mode=RBAC',
    `--client-ca-file=${pki.ca.certFile}`,
    `--token-auth-file=${pki.tokenFile}`,
    // no controller-manager runs: nothing would create service account tokens
    '--disable-admission-plugins=ServiceAccount',
    '--allow-privileged=true',
    // MutatingAdmissionPolicy is beta and off by default in v1.35: its feature gate, and every
    // version of admissionregistration.k8s.io (the alpha and beta ones are not served by default)
    '--feature-gates=MutatingAdmissionPolicy=true',
    '--runtime-config=admissionregistration.k8s.io/v1beta1=true,admissionregistration.k8s.io/v1alpha1=true',
    // nothing else runs on this machine's loopback that should be part of the cluster
    '--endpoint-reconciler-type=none',
    '--profiling=false',
    '--v=0',
  ];
}

async function startApiserver(root: string, logFile: string, etcdUrl: string, pki: Pki, host?: TestHost): Promise<{ proc: ManagedProcess; server: string }> {
  const address = host?.address ?? LOOPBACK;
  const certDir = join(root, 'apiserver-certs');
  await mkdir(certDir, { recursive: true });
  const dispatcher = new Agent({
    connect: {
      ca: readFileSync(pki.ca.certFile, 'utf8'),
      cert: readFileSync(pki.adminClientCert.certFile, 'utf8'),
      key: readFileSync(pki.adminClientCert.keyFile, 'utf8'),
      timeout: 2000,
    },
    keepAliveTimeout: 10,
  });
  try {
    for (let attempt = 1; ; attempt++) {
      const port = await getFreePort(); // on a test host every port is free: any number will do
      const server = `https://${address}:${port}`;
      await writeFile(logFile, '');
      const proc = await startManagedProcess(binary('kube-apiserver'), apiserverArgs(port, certDir, etcdUrl, pki, address), { logFile, cleanupDir: root, ...(host ? { host } : {}) });
      const state = await poll(proc, APISERVER_READY_TIMEOUT_MS, async () => {
        const res = await request(`${server}/readyz`, { dispatcher, headersTimeout: 5000, bodyTimeout: 5000 });
        await res.body.dump();
        return res.statusCode === 200;
      });
      if (state === 'ready') return { proc, server };
      await proc.stop();
      const log = tailFile(logFile, 30);
      if (state === 'exited' && portClash(log) && attempt < PORT_ATTEMPTS) continue;
      throw new Error(
        state === 'timeout' ? `kube-apiserver did not report /readyz within ${APISERVER_READY_TIMEOUT_MS} ms:\n${log}` : `kube-apiserver exited during startup:\n${log}`,
      );
    }
  } finally {
    await dispatcher.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Setup through the API

class Api {
  private readonly server: string;
  private readonly token: string;
  private readonly dispatcher: Dispatcher;

  constructor(server: string, token: string, dispatcher: Dispatcher) {
    this.server = server;
    this.token = token;
    this.dispatcher = dispatcher;
  }

  call(path: string, options: { method?: Dispatcher.HttpMethod; body?: unknown; contentType?: string } = {}): Promise<KubeResponse> {
    return kubeRequest(this.server, path, { ...options, token: this.token, dispatcher: this.dispatcher });
  }

  async apply(path: string, object: unknown): Promise<KubeResponse> {
    const res = await this.call(`${path}?fieldManager=${FIELD_MANAGER}&force=true`, {
      method: 'PATCH',
      body: object,
      contentType: 'application/apply-patch+yaml',
    });
    if (res.status !== 200 && res.status !== 201) throw new Error(`server-side apply of ${path} answered ${res.status}: ${res.text.slice(0, 2000)}`);
    return res;
  }
}

async function ensureNamespace(api: Api, name: string): Promise<void> {
  const existing = await api.call(`/api/v1/namespaces/${name}`);
  if (existing.status === 200) return;
  if (existing.status !== 404) throw new Error(`GET namespace ${name} answered ${existing.status}: ${existing.text}`);
  const created = await api.call('/api/v1/namespaces', { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } });
  if (created.status !== 201 && created.status !== 409) throw new Error(`creating namespace ${name} answered ${created.status}: ${created.text}`);
}

async function setupRbac(api: Api): Promise<void> {
  const rbac = '/apis/rbac.authorization.k8s.io/v1';
  const policies = 'policyoci-restricted-policies';
  const clusterPolicies = 'policyoci-restricted-clusterpolicies';
  await api.apply(`${rbac}/clusterroles/${policies}`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: policies },
    rules: [
      { apiGroups: ['kyverno.io'], resources: ['clusterpolicies'], verbs: ['get', 'list'] },
      { apiGroups: ['security.kubearmor.com'], resources: ['kubearmorpolicies'], verbs: ['get', 'list'] },
    ],
  });
  await api.apply(`${rbac}/namespaces/${RESTRICTED_NAMESPACE}/rolebindings/${policies}`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: policies, namespace: RESTRICTED_NAMESPACE },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: policies },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: RESTRICTED_USER }],
  });
  // clusterpolicies are cluster-scoped: the RoleBinding above cannot grant them.
  await api.apply(`${rbac}/clusterroles/${clusterPolicies}`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: clusterPolicies },
    rules: [{ apiGroups: ['kyverno.io'], resources: ['clusterpolicies'], verbs: ['get', 'list'] }],
  });
  await api.apply(`${rbac}/clusterrolebindings/${clusterPolicies}`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: clusterPolicies },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterPolicies },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: RESTRICTED_USER }],
  });
}

async function inBatches<T>(items: readonly T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}

function established(crd: unknown): boolean {
  if (!isRecord(crd) || !isRecord(crd.status) || !Array.isArray(crd.status.conditions)) return false;
  return crd.status.conditions.some((c: unknown) => isRecord(c) && c.type === 'Established' && c.status === 'True');
}

async function installCrds(api: Api): Promise<void> {
  const crds = corpusCrds();
  const base = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
  await inBatches(crds, APPLY_CONCURRENCY, async (crd) => {
    await api.apply(`${base}/${crd.name}`, crd.object);
  });
  const deadline = Date.now() + CRD_READY_TIMEOUT_MS;
  const waitFor = async (what: string, check: () => Promise<boolean>): Promise<void> => {
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`CRDs not ready within ${CRD_READY_TIMEOUT_MS} ms: ${what}`);
      await sleep(100);
    }
  };
  const groupVersions = new Map<string, Set<string>>();
  for (const crd of crds) {
    for (const version of crd.servedVersions) {
      const key = `${crd.group}/${version}`;
      const plurals = groupVersions.get(key) ?? new Set<string>();
      plurals.add(crd.plural);
      groupVersions.set(key, plurals);
    }
  }
  await inBatches([...groupVersions], APPLY_CONCURRENCY, async ([groupVersion, plurals]) => {
    await waitFor(`/apis/${groupVersion} does not list ${[...plurals].join(', ')}`, async () => {
      const res = await api.call(`/apis/${groupVersion}`);
      if (res.status !== 200 || !isRecord(res.json) || !Array.isArray(res.json.resources)) return false;
      const served = new Set(res.json.resources.map((r: unknown) => (isRecord(r) ? r.name : undefined)));
      return [...plurals].every((plural) => served.has(plural));
    });
  });
  // Then every served version can be listed (a fresh resource may answer 429 "storage is
  // (re)initializing" for a moment).
  const lists = crds.flatMap((crd) => crd.servedVersions.map((version) => `/apis/${crd.group}/${version}/${crd.plural}?limit=1`));
  await inBatches(lists, APPLY_CONCURRENCY, async (path) => {
    await waitFor(`GET ${path} does not answer 200`, async () => (await api.call(path)).status === 200);
  });
  // Discovery lists a CRD's kinds only once it is Established, so this normally passes at once
  // (each GET returns the whole CRD, up to 1.5 MB: hence not the first thing polled).
  await inBatches(crds, APPLY_CONCURRENCY, async (crd) => {
    await waitFor(`${crd.name} not Established`, async () => established((await api.call(`${base}/${crd.name}`)).json));
  });
}

// ---------------------------------------------------------------------------------------------

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

export async function startCluster(name: string, opts: StartClusterOptions = {}): Promise<RunningCluster> {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) throw new Error(`cluster name must be a DNS label: ${name}`);
  const started = Date.now();
  const root = await mkdtemp(join(tmpdir(), `policyoci-cluster-${name}-`));
  removeOnExit(root);
  const logFiles = { etcd: join(root, 'etcd.log'), apiserver: join(root, 'kube-apiserver.log') };
  let etcd: ManagedProcess | undefined;
  let apiserver: ManagedProcess | undefined;
  try {
    const [pki, etcdStarted] = await Promise.all([preparePki(join(root, 'pki'), opts.host?.address), startEtcd(root, name, logFiles.etcd, opts.host)]);
    etcd = etcdStarted.proc;
    const etcdReady = Date.now();
    // Parse the CRDs (synchronous) while kube-apiserver boots in its own process.
    const crdsParsed = (opts.installCrds ?? true) ? sleep(200).then(() => corpusCrds()) : Promise.resolve([]);
    const apiserverStarted = await startApiserver(root, logFiles.apiserver, etcdStarted.url, pki, opts.host);
    await crdsParsed;
    apiserver = apiserverStarted.proc;
    const server = apiserverStarted.server;
    const apiserverReady = Date.now();

    const dispatcher = new Agent({ connect: { ca: readFileSync(pki.ca.certFile, 'utf8'), timeout: 5000 }, keepAliveTimeout: 1000 });
    try {
      const api = new Api(server, pki.adminToken, dispatcher);
      await ensureNamespace(api, 'default');
      await ensureNamespace(api, RESTRICTED_NAMESPACE);
      await setupRbac(api);
      if (opts.installCrds ?? true) await installCrds(api);
    } finally {
      await dispatcher.close();
    }
    const crdsReady = Date.now();

    const execPlugin = join(root, 'exec-credential.sh');
    await writeExecPlugin(execPlugin, pki.adminToken);
    const timings = {
      etcdMs: etcdReady - started,
      apiserverMs: apiserverReady - etcdReady,
      crdsMs: crdsReady - apiserverReady,
      totalMs: crdsReady - started,
    };
    let stopping: Promise<void> | undefined;
    const procs = { etcd, apiserver };
    const cluster: RunningCluster = {
      name,
      server,
      caFile: pki.ca.certFile,
      dir: root,
      kubeconfigs: { admin: '', token: '', exec: '', restricted: '' },
      adminToken: pki.adminToken,
      restrictedToken: pki.restrictedToken,
      adminClientCert: pki.adminClientCert,
      execPlugin,
      ca: pki.ca,
      etcdUrl: etcdStarted.url,
      logFiles,
      timings,
      stop() {
        stopping ??= (async () => {
          await procs.apiserver.stop();
          await procs.etcd.stop();
          if (!opts.keepDir) removeNow(root);
        })();
        return stopping;
      },
    };
    for (const credentials of ['admin', 'token', 'exec', 'restricted'] as const) {
      cluster.kubeconfigs[credentials] = writeClusterKubeconfig(cluster, join(root, `kubeconfig-${credentials}.yaml`), { credentials });
    }
    process.stderr.write(
      `[cluster] ${name} ready at ${server} in ${seconds(timings.totalMs)} ` +
        `(etcd+PKI ${seconds(timings.etcdMs)}, kube-apiserver ${seconds(timings.apiserverMs)}, ` +
        `${opts.installCrds ?? true ? `${corpusCrds().length} CRDs` : 'setup'} ${seconds(timings.crdsMs)})\n`,
    );
    return cluster;
  } catch (error) {
    await apiserver?.stop();
    await etcd?.stop();
    removeNow(root);
    throw error;
  }
}
