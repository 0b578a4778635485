// Runs the real Gatekeeper controller manager (github.com/open-policy-agent/gatekeeper/v3, built by
// scripts/tools/build.sh) against a test API server from cluster.ts, outside any cluster: it reads
// the cluster through a kubeconfig, and `--debug-use-fake-pod` is Gatekeeper's own switch for running
// outside Kubernetes (its status objects then name the pod "no-pod"). So a ConstraintTemplate applied
// to the cluster makes the real controller create its constraint kind
// (`<kind>.constraints.gatekeeper.sh`) and report `status.created` and `status.byPod`; constraints and
// mutators get `status.byPod[].enforced`. No webhook runs: admission is not what the tests look at.
//
// What it needs besides the binary (docs/TOOLS.md, "Gatekeeper"):
//   - the policy CRDs of ../shared/corpus/gatekeeper/crds (= the v3.23.1 chart's, byte for byte) and
//     the chart's seven `*podstatuses.status.gatekeeper.sh` CRDs, which the corpus leaves out but
//     without which the controller creates nothing (its watches on them never start);
//   - the namespace `gatekeeper-system`, where it writes those status objects.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request, type Agent } from 'undici';
import { CORPUS } from './cli.ts';
import { clusterAgent, corpusCrds, kubeRequest, type KubeResponse, type RunningCluster } from './cluster.ts';
import { crdsInDirectory, type Crd } from './crds.ts';
import { getFreePort, LOOPBACK } from './ports.ts';
import { removeNow, removeOnExit, startManagedProcess, tailFile, type ManagedProcess } from './process.ts';
import { toolPath } from './tools.ts';

export const GATEKEEPER_NAMESPACE = 'gatekeeper-system';
export const CONSTRAINTS_GROUP = 'constraints.gatekeeper.sh';

const READY_TIMEOUT_MS = 60_000;
const CRD_TIMEOUT_MS = 60_000;
const PORT_ATTEMPTS = 5;
const FIELD_MANAGER = 'test-setup';

export interface RunningGatekeeper {
  /** the controller's stdout+stderr (JSON lines) */
  logFile: string;
  /** from spawn to /readyz answering 200, in ms */
  startMs: number;
  stop(): Promise<void>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The chart's status CRDs, kept next to the binary by build.sh (`<tool dir>/crds/`). */
function statusCrdDir(): string {
  const beside = join(dirname(toolPath('gatekeeper')), 'crds');
  if (!existsSync(beside)) throw new Error(`Gatekeeper's status CRDs are not in ${beside}: run \`POLICYOCI_REBUILD=1 bash scripts/tools/build.sh gatekeeper\``);
  return beside;
}

let crdCache: Crd[] | undefined;

/** Gatekeeper's policy CRDs (the corpus, as cluster.ts installs them) and the status CRDs its controller writes to. */
export function gatekeeperCrds(): Crd[] {
  const corpusDir = join(CORPUS, 'gatekeeper', 'crds');
  crdCache ??= [
    ...corpusCrds().filter((crd) => crd.file.startsWith(corpusDir)),
    ...crdsInDirectory(statusCrdDir(), (file) => file.includes('podstatus')),
  ];
  return crdCache;
}

async function call(cluster: RunningCluster, agent: Agent, path: string, options: { method?: 'GET' | 'POST' | 'PATCH'; body?: unknown; contentType?: string } = {}): Promise<KubeResponse> {
  return kubeRequest(cluster.server, path, { ...options, token: cluster.adminToken, dispatcher: agent });
}

async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(100);
  }
}

/** Installs Gatekeeper's CRDs (server-side apply) and its namespace, and waits until every kind is served. */
export async function installGatekeeperCrds(cluster: RunningCluster): Promise<void> {
  const agent = clusterAgent(cluster);
  try {
    const crds = gatekeeperCrds();
    const base = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
    await Promise.all(
      crds.map(async (crd) => {
        const res = await call(cluster, agent, `${base}/${crd.name}?fieldManager=${FIELD_MANAGER}&force=true`, {
          method: 'PATCH',
          body: crd.object,
          contentType: 'application/apply-patch+yaml',
        });
        if (res.status >= 300) throw new Error(`applying CRD ${crd.name} answered ${res.status}: ${res.text.slice(0, 500)}`);
      }),
    );
    const ns = await call(cluster, agent, '/api/v1/namespaces', { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: GATEKEEPER_NAMESPACE } } });
    if (ns.status >= 300 && ns.status !== 409) throw new Error(`creating namespace ${GATEKEEPER_NAMESPACE} answered ${ns.status}: ${ns.text}`);
    // Served means listable at every served version (a fresh resource may answer 404 or 429 for a moment).
    const lists = crds.flatMap((crd) => crd.servedVersions.map((v) => `/apis/${crd.group}/${v}/${crd.plural}?limit=1`));
    await Promise.all(lists.map((path) => waitUntil(`GET ${path} answers 200`, CRD_TIMEOUT_MS, async () => (await call(cluster, agent, path)).status === 200)));
  } finally {
    await agent.close();
  }
}

function controllerArgs(cluster: RunningCluster, healthPort: number, dir: string): string[] {
  return [
    `--kubeconfig=${cluster.kubeconfigs.admin}`,
    // outside Kubernetes: no Pod to look up (status objects are named after the pod "no-pod")
    '--debug-use-fake-pod',
    // no webhook runs, so no serving certificate to rotate, and external data (which loads a client
    // certificate from --cert-dir at start) stays off
    '--disable-cert-rotation',
    '--enable-external-data=false',
    // `generate` is the operation that creates the constraint CRDs; `status` and `mutation-status`
    // write byPod status; audit (or webhook) must be assigned for templates to be ingested at all,
    // and --audit-interval=0 keeps it from ever running an audit
    '--operation=generate',
    '--operation=status',
    '--operation=mutation-status',
    '--operation=audit',
    '--audit-interval=0',
    `--api-cache-dir=${join(dir, 'audit')}`,
    // `generate` would also create ValidatingAdmissionPolicies and bindings from templates with a
    // CEL engine: kinds of another engine that no test applied
    '--default-create-vap-for-templates=false',
    '--default-create-vap-binding-for-constraints=false',
    // loopback only: health on a free port; metrics through the OpenTelemetry exporter, which opens
    // no listening socket (the Prometheus one binds every interface) and, at this interval, never sends
    `--health-addr=${LOOPBACK}:${healthPort}`,
    '--metrics-addr=0',
    '--metrics-backend=opentelemetry',
    `--otlp-endpoint=${LOOPBACK}:9`,
    '--otlp-metric-interval=24h',
    '--shutdown-delay=0',
    '--log-level=WARNING',
  ];
}

/**
 * Installs Gatekeeper's CRDs and namespace in `cluster`, then starts the controller and waits until
 * its readiness probe passes (informers synced, existing templates and constraints ingested).
 */
export async function startGatekeeper(cluster: RunningCluster): Promise<RunningGatekeeper> {
  const binary = toolPath('gatekeeper');
  await installGatekeeperCrds(cluster);
  const dir = mkdtempSync(join(tmpdir(), `policyoci-gatekeeper-${cluster.name}-`));
  removeOnExit(dir);
  const logFile = join(dir, 'gatekeeper.log');
  for (let attempt = 1; ; attempt++) {
    const healthPort = await getFreePort();
    const started = Date.now();
    const proc: ManagedProcess = await startManagedProcess(binary, controllerArgs(cluster, healthPort, dir), { logFile, cwd: dir, cleanupDir: dir });
    let ready = false;
    while (!ready && proc.isRunning() && Date.now() - started < READY_TIMEOUT_MS) {
      try {
        const res = await request(`http://${LOOPBACK}:${healthPort}/readyz`, { headersTimeout: 2000, bodyTimeout: 2000 });
        await res.body.dump();
        ready = res.statusCode === 200;
      } catch {
        // not listening yet
      }
      if (!ready) await sleep(100);
    }
    if (ready) {
      const startMs = Date.now() - started;
      process.stderr.write(`[gatekeeper] controller ready on ${cluster.name} in ${(startMs / 1000).toFixed(1)}s\n`);
      let stopping: Promise<void> | undefined;
      return {
        logFile,
        startMs,
        stop() {
          stopping ??= proc.stop().then(() => removeNow(dir));
          return stopping;
        },
      };
    }
    const exited = !proc.isRunning();
    await proc.stop();
    const log = tailFile(logFile, 30);
    if (exited && /address already in use/i.test(log) && attempt < PORT_ATTEMPTS) continue;
    removeNow(dir);
    throw new Error(exited ? `gatekeeper exited during start-up:\n${log}` : `gatekeeper not ready within ${READY_TIMEOUT_MS} ms:\n${log}`);
  }
}

/**
 * Waits until the controller has created the constraint kind of each named ConstraintTemplate and
 * the API server serves it (listable at v1beta1), and the template reports `status.created: true`.
 */
export async function waitForConstraintKinds(cluster: RunningCluster, templates: readonly string[], timeoutMs = 60_000): Promise<void> {
  const agent = clusterAgent(cluster);
  try {
    await Promise.all(
      templates.map(async (name) => {
        await waitUntil(`ConstraintTemplate ${name} reports status.created`, timeoutMs, async () => {
          const res = await call(cluster, agent, `/apis/templates.gatekeeper.sh/v1/constrainttemplates/${name}`);
          return res.status === 200 && isRecord(res.json) && isRecord(res.json.status) && res.json.status.created === true;
        });
        // the template's name is its kind in lower case, and the kind's plural (Gatekeeper's rule)
        await waitUntil(`constraint kind of ${name} served`, timeoutMs, async () => (await call(cluster, agent, `/apis/${CONSTRAINTS_GROUP}/v1beta1/${name}?limit=1`)).status === 200);
      }),
    );
  } finally {
    await agent.close();
  }
}
