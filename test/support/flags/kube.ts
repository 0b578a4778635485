// Looks at (and prepares) the test cluster straight through its API, as the admin: what the flag
// cases check after a run of apply, diff, export or migrate.
import type { Agent } from 'undici';
import { clusterAgent, kubeRequest, type KubeResponse, type RunningCluster } from '../cluster.ts';
import { clusterUser, writeKubeconfig } from '../kubeconfig.ts';
import { policyObject, type PolicySpec } from './kit.ts';

/** Which object: enough of a PolicySpec to find it. */
export type ObjectRef = Pick<PolicySpec, 'kind' | 'name' | 'namespace'>;

export function objectPath(ref: ObjectRef): string {
  const ns = ref.namespace ? `namespaces/${ref.namespace}/` : '';
  switch (ref.kind) {
    case 'ClusterPolicy':
      return `/apis/kyverno.io/v1/clusterpolicies/${ref.name}`;
    case 'Policy':
      return `/apis/kyverno.io/v1/${ns}policies/${ref.name}`;
    case 'KubeArmorPolicy':
      return `/apis/security.kubearmor.com/v1/${ns}kubearmorpolicies/${ref.name}`;
  }
}

export class KubeView {
  readonly cluster: RunningCluster;
  private readonly dispatcher: Agent;

  constructor(cluster: RunningCluster) {
    this.cluster = cluster;
    this.dispatcher = clusterAgent(cluster);
  }

  call(path: string, options: { method?: 'GET' | 'POST' | 'PATCH' | 'DELETE'; body?: unknown; contentType?: string } = {}): Promise<KubeResponse> {
    return kubeRequest(this.cluster.server, path, { ...options, token: this.cluster.adminToken, dispatcher: this.dispatcher });
  }

  /** The live object, or undefined when it does not exist. */
  async get(ref: ObjectRef): Promise<Record<string, unknown> | undefined> {
    const res = await this.call(objectPath(ref));
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`GET ${objectPath(ref)} answered ${res.status}: ${res.text.slice(0, 500)}`);
    return res.json as Record<string, unknown>;
  }

  async exists(ref: ObjectRef): Promise<boolean> {
    return (await this.get(ref)) !== undefined;
  }

  async namespaceExists(name: string): Promise<boolean> {
    const res = await this.call(`/api/v1/namespaces/${name}`);
    return res.status === 200;
  }

  async createNamespace(name: string): Promise<void> {
    const res = await this.call('/api/v1/namespaces', { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } });
    if (res.status !== 201 && res.status !== 409) throw new Error(`creating namespace ${name} answered ${res.status}: ${res.text}`);
  }

  async delete(ref: ObjectRef): Promise<void> {
    const res = await this.call(objectPath(ref), { method: 'DELETE' });
    if (res.status !== 200 && res.status !== 202) throw new Error(`DELETE ${objectPath(ref)} answered ${res.status}: ${res.text.slice(0, 500)}`);
  }

  /** Server-side apply of a policy by another field manager (to make conflicts, or live objects). */
  async applyAs(manager: string, spec: PolicySpec): Promise<void> {
    const res = await this.call(`${objectPath(spec)}?fieldManager=${manager}&force=true`, {
      method: 'PATCH',
      body: policyObject(spec),
      contentType: 'application/apply-patch+yaml',
    });
    if (res.status !== 200 && res.status !== 201) throw new Error(`applying ${spec.kind} ${spec.name} as ${manager} answered ${res.status}: ${res.text.slice(0, 500)}`);
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

/** spec.background of a live Kyverno policy. */
export function background(object: Record<string, unknown> | undefined): unknown {
  return (object?.spec as Record<string, unknown> | undefined)?.background;
}

/** The kubeconfigs the cluster cases use (see ClusterContext). */
export function clusterKubeconfigs(cluster: RunningCluster, dir: string): { twoContexts: string; migrate: string } {
  const admin = clusterUser(cluster, 'admin', 'admin');
  const twoContexts = writeKubeconfig(`${dir}/two-contexts.yaml`, {
    clusters: [
      { name: 'dead', server: 'https://127.0.0.1:1', caFile: cluster.caFile },
      { name: 'live', server: cluster.server, caFile: cluster.caFile },
    ],
    users: [admin],
    contexts: [
      { name: 'dead', cluster: 'dead', user: 'admin' },
      { name: 'live', cluster: 'live', user: 'admin' },
    ],
    currentContext: 'dead',
  });
  const migrate = writeKubeconfig(`${dir}/migrate.yaml`, {
    clusters: [
      { name: 'c', server: cluster.server, caFile: cluster.caFile },
      { name: 'dead', server: 'https://127.0.0.1:1', caFile: cluster.caFile },
    ],
    users: [admin, clusterUser(cluster, 'token', 'token')],
    contexts: [
      { name: 'from', cluster: 'c', user: 'admin' },
      { name: 'to', cluster: 'c', user: 'token' },
      { name: 'dead', cluster: 'dead', user: 'admin' },
    ],
  });
  return { twoContexts, migrate };
}
