// Shared helpers of the reliability suite: a registry that can be stopped and started again on the
// same port and data, raw registry access (to craft hostile artifacts the tool would never write
// and to check what a tag points at), directory snapshots, and the one-clear-message check.
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { clusterAgent, corpusCrds, kubeRequest, startCluster, type KubeResponse, type RunningCluster } from '../support/cluster.ts';
import { expect } from 'vitest';
import type { CliResult } from '../support/cli.ts';
import { removeNow, startManagedProcess, type ManagedProcess } from '../support/process.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const KYVERNO_CONFIG = 'application/vnd.cncf.kyverno.config.v1+json';
export const KYVERNO_YAML = 'application/vnd.cncf.kyverno.policy.layer.v1+yaml';
export const KYVERNO_TGZ = 'application/vnd.cncf.kyverno.policy.layer.v1.tar+gzip';
export const KUBEARMOR_CONFIG = 'application/vnd.cncf.kubearmor.config.v1+json';
export const KUBEARMOR_YAML = 'application/vnd.cncf.kubearmor.policy.layer.v1.yaml';
export const TITLE = 'org.opencontainers.image.title';

export function sha256(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

// ---------------------------------------------------------------------------------------------
// Policies

/** A KubeArmorPolicy (small CRD, namespaced) with a free-text message. */
export function kspPolicy(name: string, message: string, namespace = 'default'): Record<string, unknown> {
  return {
    apiVersion: 'security.kubearmor.com/v1',
    kind: 'KubeArmorPolicy',
    metadata: { name, namespace },
    spec: {
      tags: ['reliability'],
      message,
      severity: 1,
      selector: { matchLabels: { app: 'nginx' } },
      file: { matchDirectories: [{ dir: '/var/cache/nginx/', fromSource: [{ path: '/usr/sbin/nginx' }] }], action: 'Audit' },
    },
  };
}

/** A Kyverno ClusterPolicy as YAML text (what a layer of our own format holds). */
export function clusterPolicyYaml(name: string): string {
  return [
    'apiVersion: kyverno.io/v1',
    'kind: ClusterPolicy',
    'metadata:',
    `  name: ${JSON.stringify(name)}`,
    'spec:',
    '  rules:',
    '    - match:',
    '        any:',
    '          - resources:',
    '              kinds:',
    '                - Pod',
    '      name: check',
    '      validate:',
    '        message: denied',
    '        pattern:',
    '          metadata:',
    '            labels:',
    '              app: "?*"',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Raw registry access: nothing verified, nothing refused

export interface RawDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export class RawRegistry {
  readonly base: string;
  private readonly dispatcher = new Agent({ keepAliveTimeout: 1000, connections: 8 });

  /** `host`: "127.0.0.1:PORT" (plain HTTP). */
  constructor(host: string) {
    this.base = `http://${host}`;
  }

  private async call(method: 'GET' | 'HEAD' | 'PUT' | 'POST', path: string, headers: Record<string, string> = {}, body?: Buffer) {
    const res = await request(new URL(path, this.base), { method, headers, body: body ?? null, dispatcher: this.dispatcher, headersTimeout: 60_000, bodyTimeout: 60_000 });
    const data = method === 'HEAD' ? Buffer.alloc(0) : Buffer.from(await res.body.arrayBuffer());
    if (method === 'HEAD') await res.body.dump();
    return { status: res.statusCode, headers: res.headers, body: data };
  }

  /** Uploads a blob (monolithic) and returns its descriptor. */
  async pushBlob(repo: string, bytes: Buffer, mediaType = 'application/octet-stream', annotations?: Record<string, string>): Promise<RawDescriptor> {
    const digest = sha256(bytes);
    const started = await this.call('POST', `/v2/${repo}/blobs/uploads/`);
    if (started.status !== 202) throw new Error(`upload start answered ${started.status}: ${started.body.toString()}`);
    const location = String(started.headers.location);
    const url = new URL(location, this.base);
    url.searchParams.set('digest', digest);
    const put = await this.call('PUT', url.pathname + url.search, { 'content-type': 'application/octet-stream' }, bytes);
    if (put.status !== 201) throw new Error(`blob PUT answered ${put.status}: ${put.body.toString()}`);
    return { mediaType, digest, size: bytes.byteLength, ...(annotations ? { annotations } : {}) };
  }

  /** Stores a manifest under `ref` as given; returns its digest. */
  async putManifest(repo: string, ref: string, manifest: Buffer | object, mediaType = OCI_MANIFEST): Promise<{ digest: string; size: number }> {
    const bytes = Buffer.isBuffer(manifest) ? manifest : Buffer.from(JSON.stringify(manifest));
    const res = await this.call('PUT', `/v2/${repo}/manifests/${ref}`, { 'content-type': mediaType }, bytes);
    if (res.status !== 201) throw new Error(`manifest PUT answered ${res.status}: ${res.body.toString().slice(0, 500)}`);
    return { digest: sha256(bytes), size: bytes.byteLength };
  }

  /** Digest the tag points at, or undefined when there is no such tag. */
  async resolve(repo: string, tag: string): Promise<string | undefined> {
    const res = await this.call('HEAD', `/v2/${repo}/manifests/${tag}`, { accept: `${OCI_MANIFEST}, ${OCI_INDEX}` });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`HEAD ${repo}:${tag} answered ${res.status}`);
    return String(res.headers['docker-content-digest']);
  }

  async tags(repo: string): Promise<string[]> {
    const res = await this.call('GET', `/v2/${repo}/tags/list`);
    if (res.status === 404) return [];
    return ((JSON.parse(res.body.toString()) as { tags?: string[] | null }).tags ?? []).sort();
  }

  async manifest(repo: string, ref: string): Promise<{ json: { layers?: RawDescriptor[]; manifests?: RawDescriptor[]; config?: RawDescriptor }; bytes: Buffer }> {
    const res = await this.call('GET', `/v2/${repo}/manifests/${ref}`, { accept: `${OCI_MANIFEST}, ${OCI_INDEX}` });
    if (res.status !== 200) throw new Error(`GET ${repo}@${ref} answered ${res.status}`);
    return { json: JSON.parse(res.body.toString()), bytes: res.body };
  }

  async blobExists(repo: string, digest: string): Promise<boolean> {
    return (await this.call('HEAD', `/v2/${repo}/blobs/${digest}`)).status === 200;
  }

  /** Every blob and child manifest `ref` refers to can be fetched: what a tag must never lack. */
  async complete(repo: string, ref: string): Promise<boolean> {
    const { json } = await this.manifest(repo, ref);
    if (Array.isArray(json.manifests)) {
      for (const child of json.manifests) if (!(await this.complete(repo, child.digest))) return false;
      return true;
    }
    for (const d of [json.config!, ...(json.layers ?? [])]) if (!(await this.blobExists(repo, d.digest))) return false;
    return true;
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}

/** A single-manifest artifact of raw layers with the Kyverno config type; returns its digest. */
export async function pushCrafted(raw: RawRegistry, repo: string, tag: string, layers: RawDescriptor[], extra: Record<string, unknown> = {}): Promise<string> {
  const config = await raw.pushBlob(repo, Buffer.from('{}'), KYVERNO_CONFIG);
  const manifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers, ...extra };
  return (await raw.putManifest(repo, tag, manifest)).digest;
}

// ---------------------------------------------------------------------------------------------
// A registry that can be stopped and started again (same port, same storage)

const REGISTRY_BIN = process.env.POLICYOCI_REGISTRY_BIN ?? 'docker-registry';

function registryEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('REGISTRY_') && !key.startsWith('OTEL_')) env[key] = value;
  return env;
}

export interface RestartableRegistry {
  reg: RunningRegistry;
  /** Kills the registry process (its storage stays). */
  stopServer(): Promise<void>;
  /** Starts it again on the same port and storage; resolves once /v2/ answers. */
  startServer(): Promise<void>;
  isUp(): boolean;
  close(): Promise<void>;
}

export async function startRestartableRegistry(): Promise<RestartableRegistry> {
  const reg = await startRegistry('open', { keepDir: true });
  let proc: ManagedProcess | undefined;
  let up = true;
  return {
    reg,
    isUp: () => up,
    async stopServer() {
      up = false;
      if (proc) await proc.stop(2000);
      else await reg.stop();
    },
    async startServer() {
      for (let attempt = 1; ; attempt++) {
        proc = await startManagedProcess(REGISTRY_BIN, ['serve', reg.configFile], { logFile: reg.logFile, env: registryEnv() });
        const deadline = Date.now() + 20_000;
        while (Date.now() < deadline && proc.isRunning()) {
          try {
            const res = await request(`${reg.url}/v2/`, { headersTimeout: 1000, bodyTimeout: 1000 });
            await res.body.dump();
            if (res.statusCode === 200) {
              up = true;
              return;
            }
          } catch {
            // not listening yet
          }
          await sleep(50);
        }
        await proc.stop();
        if (attempt >= 3) throw new Error(`docker-registry did not come back on ${reg.host}`);
        await sleep(300); // the port may still be held for a moment
      }
    },
    async close() {
      await proc?.stop();
      await reg.stop();
      removeNow(dirname(reg.dataDir));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Directory snapshots

/** Every entry under `dir` (recursive): relative path → sha256 of a file, "dir", or "link:<target>". */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(join(dir, rel));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && rel === '') {
        out['<missing>'] = 'missing';
        return;
      }
      throw err;
    }
    for (const name of names.sort()) {
      const path = join(rel, name);
      const st = await lstat(join(dir, path));
      if (st.isSymbolicLink()) out[path] = `link:${await readlink(join(dir, path))}`;
      else if (st.isDirectory()) {
        out[path] = 'dir';
        await walk(path);
      } else out[path] = sha256(await readFile(join(dir, path)));
    }
  };
  await walk('');
  return out;
}

// ---------------------------------------------------------------------------------------------
// Results

/** A failure as a user should see it: the exit code, one `Error:` line matching `pattern`, no stack. */
/** The error as its text line says it ("Error: …"), from text output or from --format json's JSON object. */
export function errorLine(r: CliResult): string {
  const first = r.stderr.trimEnd().split('\n').find((l) => !/^Warning: /.test(l)) ?? '';
  return first.startsWith('{') ? `Error: ${(JSON.parse(first) as { error: { message: string } }).error.message}` : first;
}

export function expectCleanFailure(r: CliResult, code: number, pattern: RegExp): void {
  const context = `exit ${r.code}\nstdout: ${r.stdout.slice(0, 2000)}\nstderr: ${r.stderr.slice(0, 2000)}`;
  expect(r.code, context).toBe(code);
  const lines = r.stderr.trimEnd().split('\n').filter((l) => !/^Warning: /.test(l));
  if (lines[0]?.startsWith('{')) {
    // With --format json the error is one JSON object on stderr.
    const { error } = JSON.parse(lines[0]) as { error: { message: string; exitCode: number } };
    expect(error.exitCode, context).toBe(code);
    expect(`Error: ${error.message}`, context).toMatch(pattern);
  } else {
    expect(lines[0], context).toMatch(/^Error: /);
    expect(lines[0], context).toMatch(pattern);
  }
  expect(r.stderr, context).not.toMatch(/^\s+at .*\(.*:\d+:\d+\)$/m);
  expect(r.stderr.length, context).toBeLessThan(4000);
}

// ---------------------------------------------------------------------------------------------
// A small cluster: etcd + kube-apiserver with only the KubeArmor CRDs (fast to install)

export interface SmallCluster {
  cluster: RunningCluster;
  /** A request as the admin (bearer token). */
  api(path: string, options?: { method?: 'GET' | 'POST' | 'PATCH' | 'DELETE'; body?: unknown; contentType?: string }): Promise<KubeResponse>;
  stop(): Promise<void>;
}

export const KSP_PATH = '/apis/security.kubearmor.com/v1/namespaces/default/kubearmorpolicies';

export async function startSmallCluster(name: string): Promise<SmallCluster> {
  const cluster = await startCluster(name, { installCrds: false });
  const agent = clusterAgent(cluster);
  const api: SmallCluster['api'] = (path, options = {}) => kubeRequest(cluster.server, path, { ...options, token: cluster.adminToken, dispatcher: agent });
  try {
    for (const crd of corpusCrds().filter((c) => c.group === 'security.kubearmor.com')) {
      const res = await api(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.name}?fieldManager=test-setup&force=true`, { method: 'PATCH', body: crd.object, contentType: 'application/apply-patch+yaml' });
      if (res.status !== 200 && res.status !== 201) throw new Error(`CRD ${crd.name}: ${res.status} ${res.text.slice(0, 300)}`);
    }
    const deadline = Date.now() + 60_000;
    while ((await api(`${KSP_PATH}?limit=1`)).status !== 200) {
      if (Date.now() > deadline) throw new Error('KubeArmorPolicy is not served');
      await sleep(100);
    }
  } catch (err) {
    await agent.close();
    await cluster.stop();
    throw err;
  }
  return {
    cluster,
    api,
    async stop() {
      await agent.close();
      await cluster.stop();
    },
  };
}
