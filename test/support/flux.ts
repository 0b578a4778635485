// Runs Flux's real source-controller and kustomize-controller (github.com/fluxcd/…, built by
// scripts/tools/build.sh) against a test API server from cluster.ts, outside any cluster, the way
// Flux's own developers run them locally: the cluster comes from KUBECONFIG (they have no kubeconfig
// flag), their namespace from RUNTIME_NAMESPACE, no leader election, and every listener on loopback.
// source-controller keeps the artifacts it pulls in a temp dir and serves them over HTTP on
// `--storage-addr`; it writes `--storage-adv-addr` into each OCIRepository's status.artifact.url,
// from which kustomize-controller downloads them. Both run with the admin kubeconfig
// (system:masters), so kustomize-controller may impersonate the ServiceAccount a Kustomization names.
//
// The CRDs are the controllers' own (config/crd/bases of the same modules), which build.sh copies
// beside each binary, into crds/.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request, type Agent } from 'undici';
import { clusterAgent, kubeRequest, type KubeResponse, type RunningCluster } from './cluster.ts';
import { crdsInDirectory, type Crd } from './crds.ts';
import { getFreePort, LOOPBACK } from './ports.ts';
import { removeNow, removeOnExit, startManagedProcess, tailFile, type ManagedProcess } from './process.ts';
import { toolPath } from './tools.ts';

export const FLUX_NAMESPACE = 'flux-system';
export const SOURCE_API = 'source.toolkit.fluxcd.io/v1';
export const KUSTOMIZE_API = 'kustomize.toolkit.fluxcd.io/v1';
/** The annotation `flux reconcile` sets: a new value makes a controller reconcile the object now. */
export const REQUESTED_AT = 'reconcile.fluxcd.io/requestedAt';

const CONTROLLERS = ['flux-source-controller', 'flux-kustomize-controller'] as const;
type Controller = (typeof CONTROLLERS)[number];
const READY_TIMEOUT_MS = 90_000;
const CRD_TIMEOUT_MS = 60_000;
const PORT_ATTEMPTS = 5;
const FIELD_MANAGER = 'test-setup';

export type FluxKind = 'OCIRepository' | 'Kustomization';

export interface FluxCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

/** The parts of an OCIRepository or Kustomization the tests read. */
export interface FluxObject {
  metadata: { name: string; namespace: string; generation?: number; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
  status?: {
    conditions?: FluxCondition[];
    observedGeneration?: number;
    lastHandledReconcileAt?: string;
    /** OCIRepository: what it pulled; Kustomization: lastAppliedRevision */
    artifact?: { revision: string; digest: string; url: string };
    lastAppliedRevision?: string;
    lastAttemptedRevision?: string;
    inventory?: { entries: Array<{ id: string; v: string }> };
  };
}

export interface RunningFlux {
  /** where the controllers run and where the tests put Flux objects */
  namespace: string;
  logFiles: Record<'source' | 'kustomize', string>;
  /** source-controller's artifact server, e.g. http://127.0.0.1:PORT */
  storageUrl: string;
  /** The object now, or undefined when it does not exist. */
  get(kind: FluxKind, name: string): Promise<FluxObject | undefined>;
  /** Sets reconcile.fluxcd.io/requestedAt to a new value (what `flux reconcile` does); returns that value. */
  requestReconcile(kind: FluxKind, name: string): Promise<string>;
  /**
   * Waits until the object's Ready condition is `status` for its current generation (and, given
   * `handled`, for the reconcile requested with that value). Fails with the condition's message and
   * the tail of the controller's log.
   */
  waitReady(kind: FluxKind, name: string, options?: { status?: 'True' | 'False'; handled?: string; revision?: string; timeoutMs?: number }): Promise<FluxObject>;
  /** Waits until the object is gone (finalizers done: for a Kustomization with prune, its objects are deleted). */
  waitGone(kind: FluxKind, name: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Flux's CRDs, as build.sh copied them beside each controller. */
export function fluxCrds(): Crd[] {
  return CONTROLLERS.flatMap((tool) => crdsInDirectory(join(dirname(toolPath(tool)), 'crds')));
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>, explain: () => Promise<string> = async () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs / 1000}s: ${what}${await explain()}`);
    await sleep(200);
  }
}

function call(cluster: RunningCluster, agent: Agent, path: string, options: { method?: 'GET' | 'POST' | 'PATCH' | 'DELETE'; body?: unknown; contentType?: string } = {}): Promise<KubeResponse> {
  return kubeRequest(cluster.server, path, { ...options, token: cluster.adminToken, dispatcher: agent });
}

/** Installs Flux's CRDs (server-side apply) and `namespace`, and waits until every kind is served. */
export async function installFluxCrds(cluster: RunningCluster, namespace: string = FLUX_NAMESPACE): Promise<void> {
  const agent = clusterAgent(cluster);
  try {
    const crds = fluxCrds();
    await Promise.all(
      crds.map(async (crd) => {
        const res = await call(cluster, agent, `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.name}?fieldManager=${FIELD_MANAGER}&force=true`, {
          method: 'PATCH',
          body: crd.object,
          contentType: 'application/apply-patch+yaml',
        });
        if (res.status >= 300) throw new Error(`applying CRD ${crd.name} answered ${res.status}: ${res.text.slice(0, 500)}`);
      }),
    );
    const ns = await call(cluster, agent, '/api/v1/namespaces', { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } } });
    if (ns.status >= 300 && ns.status !== 409) throw new Error(`creating namespace ${namespace} answered ${ns.status}: ${ns.text}`);
    const lists = crds.flatMap((crd) => crd.servedVersions.map((v) => `/apis/${crd.group}/${v}/${crd.plural}?limit=1`));
    await Promise.all(lists.map((path) => until(`GET ${path} answers 200`, CRD_TIMEOUT_MS, async () => (await call(cluster, agent, path)).status === 200)));
  } finally {
    await agent.close();
  }
}

interface Started {
  proc: ManagedProcess;
  logFile: string;
  storageUrl?: string;
}

/** Starts one controller on free loopback ports and waits for its /readyz; retries when a port was taken meanwhile. */
async function startController(tool: Controller, cluster: RunningCluster, namespace: string, dir: string): Promise<Started> {
  const logFile = join(dir, `${tool}.log`);
  const env = { ...process.env, KUBECONFIG: cluster.kubeconfigs.admin, RUNTIME_NAMESPACE: namespace };
  for (let attempt = 1; ; attempt++) {
    const [health, metrics, storage] = await Promise.all([getFreePort(), getFreePort(), getFreePort()]);
    const args = [
      '--enable-leader-election=false',
      `--health-addr=${LOOPBACK}:${health}`,
      `--metrics-addr=${LOOPBACK}:${metrics}`,
      '--log-level=info',
      // a failed reconcile is retried within a second or two, not after Flux's default back-off
      '--min-retry-delay=500ms',
      '--max-retry-delay=5s',
    ];
    const storageUrl = `http://${LOOPBACK}:${storage}`;
    if (tool === 'flux-source-controller') {
      args.push(`--storage-path=${join(dir, 'storage')}`, `--storage-addr=${LOOPBACK}:${storage}`, `--storage-adv-addr=${LOOPBACK}:${storage}`);
    } else {
      args.push('--no-remote-bases=true');
    }
    const started = Date.now();
    const proc = await startManagedProcess(toolPath(tool), args, { logFile, env, cwd: dir, cleanupDir: dir });
    let ready = false;
    while (!ready && proc.isRunning() && Date.now() - started < READY_TIMEOUT_MS) {
      try {
        const res = await request(`http://${LOOPBACK}:${health}/readyz`, { headersTimeout: 2000, bodyTimeout: 2000 });
        await res.body.dump();
        ready = res.statusCode === 200;
      } catch {
        // not listening yet
      }
      if (!ready) await sleep(100);
    }
    if (ready) {
      process.stderr.write(`[flux] ${tool} ready on ${cluster.name} in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
      return { proc, logFile, ...(tool === 'flux-source-controller' ? { storageUrl } : {}) };
    }
    const exited = !proc.isRunning();
    await proc.stop();
    const log = tailFile(logFile, 30);
    if (exited && /address already in use/i.test(log) && attempt < PORT_ATTEMPTS) continue;
    throw new Error(exited ? `${tool} exited during start-up:\n${log}` : `${tool} not ready within ${READY_TIMEOUT_MS / 1000}s:\n${log}`);
  }
}

function plural(kind: FluxKind): string {
  return kind === 'OCIRepository' ? `/apis/${SOURCE_API}/namespaces/NS/ocirepositories` : `/apis/${KUSTOMIZE_API}/namespaces/NS/kustomizations`;
}

/** Installs Flux's CRDs and namespace in `cluster`, then starts both controllers there. */
export async function startFlux(cluster: RunningCluster, options: { namespace?: string } = {}): Promise<RunningFlux> {
  const namespace = options.namespace ?? FLUX_NAMESPACE;
  await installFluxCrds(cluster, namespace);
  const dir = mkdtempSync(join(tmpdir(), `policyoci-flux-${cluster.name}-`));
  removeOnExit(dir);
  mkdirSync(join(dir, 'storage'));
  const started: Started[] = [];
  try {
    started.push(await startController('flux-source-controller', cluster, namespace, dir));
    started.push(await startController('flux-kustomize-controller', cluster, namespace, dir));
  } catch (error) {
    await Promise.all(started.map((s) => s.proc.stop()));
    removeNow(dir);
    throw error;
  }
  const [source, kustomize] = started as [Started, Started];
  const agent = clusterAgent(cluster);
  const path = (kind: FluxKind, name: string) => `${plural(kind).replace('NS', namespace)}/${name}`;

  const get = async (kind: FluxKind, name: string): Promise<FluxObject | undefined> => {
    const res = await call(cluster, agent, path(kind, name));
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`GET ${kind} ${name} answered ${res.status}: ${res.text.slice(0, 300)}`);
    return res.json as FluxObject;
  };
  const ready = (o: FluxObject | undefined) => o?.status?.conditions?.find((c) => c.type === 'Ready');
  const explain = (kind: FluxKind, name: string) => async () => {
    const o = await get(kind, name);
    const log = kind === 'OCIRepository' ? source.logFile : kustomize.logFile;
    const lines = tailFile(log, 400).split('\n').filter((l) => l.includes(`"name":"${name}"`) || l.includes(`"${name}"`)).slice(-8);
    return `\n${kind} ${name} status: ${JSON.stringify(o?.status ?? null)}\nits lines in ${log}:\n${lines.join('\n')}`;
  };

  let stopping: Promise<void> | undefined;
  return {
    namespace,
    logFiles: { source: source.logFile, kustomize: kustomize.logFile },
    storageUrl: source.storageUrl!,
    get,
    async requestReconcile(kind, name) {
      const value = new Date().toISOString().replace(/Z$/, `${Math.random().toString(36).slice(2, 6)}Z`);
      const res = await call(cluster, agent, path(kind, name), {
        method: 'PATCH',
        body: { metadata: { annotations: { [REQUESTED_AT]: value } } },
        contentType: 'application/merge-patch+json',
      });
      if (res.status !== 200) throw new Error(`annotating ${kind} ${name} answered ${res.status}: ${res.text.slice(0, 300)}`);
      return value;
    },
    async waitReady(kind, name, waitOptions = {}) {
      const want = waitOptions.status ?? 'True';
      let last: FluxObject | undefined;
      await until(
        `${kind} ${name} Ready=${want}${waitOptions.handled ? ` after the reconcile requested at ${waitOptions.handled}` : ''}${waitOptions.revision ? ` at revision ${waitOptions.revision}` : ''}`,
        waitOptions.timeoutMs ?? 60_000,
        async () => {
          last = await get(kind, name);
          const c = ready(last);
          if (!last || !c || c.status !== want) return false;
          // (status.observedGeneration moves only on success: a failure shows on the condition's own)
          if (c.observedGeneration !== last.metadata.generation) return false;
          if (waitOptions.handled !== undefined && last.status?.lastHandledReconcileAt !== waitOptions.handled) return false;
          if (waitOptions.revision !== undefined) {
            const revision = kind === 'OCIRepository' ? last.status?.artifact?.revision : want === 'True' ? last.status?.lastAppliedRevision : last.status?.lastAttemptedRevision;
            if (revision !== waitOptions.revision) return false;
          }
          return true;
        },
        explain(kind, name),
      );
      return last!;
    },
    async waitGone(kind, name, timeoutMs = 60_000) {
      await until(`${kind} ${name} deleted`, timeoutMs, async () => (await get(kind, name)) === undefined, explain(kind, name));
    },
    stop() {
      stopping ??= (async () => {
        await Promise.all([kustomize.proc.stop(), source.proc.stop()]);
        await agent.close();
        removeNow(dir);
      })();
      return stopping;
    },
  };
}
