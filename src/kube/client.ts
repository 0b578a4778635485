// A thin client for the few API calls the cluster commands need. Objects stay raw JSON end to
// end (no typed models), every failure becomes a PolicyOciError naming the kind, namespace and
// server (errors.ts).
import { proxyForDisplay } from '../util/proxy.ts';
import { engineGroups, findKind, loadEngines } from '../engines/index.ts';
import type { Engine } from '../engines/types.ts';
import { PolicyOciError } from '../errors.ts';
import type { KubeObject } from '../policy/types.ts';
import { discoverKinds, kindLabel, servedResource } from './discovery.ts';
import type { DiscoveredKind, KindRef } from './discovery.ts';
import { toPolicyOciError } from './errors.ts';
import type { ErrorContext } from './errors.ts';
import { ApiError, Transport } from './http.ts';
import type { KubeRequest, TransportOptions } from './http.ts';
import { loadKubeconfig } from './kubeconfig.ts';
import type { LoadedKubeconfig, LoadKubeconfigOptions } from './kubeconfig.ts';

export type { DiscoveredKind, KindRef } from './discovery.ts';

export const FIELD_MANAGER = 'kubectl-policyoci';
const PAGE_SIZE = 500;
/** A `continue` token expires (410 Gone) when the list is slower than etcd compaction: start over. */
const MAX_LIST_RESTARTS = 3;

export type KubeClientOptions = TransportOptions;

export interface ListOptions {
  /** Undefined: every namespace (for namespaced kinds). */
  namespace?: string;
  labelSelector?: string;
  limit?: number;
}

export interface ApplyCallOptions {
  fieldManager?: string;
  force?: boolean;
  dryRun?: 'server';
}

export type NamespaceState = 'exists' | 'created' | 'missing' | 'unknown';

export class KubeClient {
  readonly server: string;
  /** -n, else the context's namespace, else "default": where namespace-less objects go. */
  readonly namespace: string;
  readonly contextName: string;
  private readonly transport: Transport;
  /** For messages: the server, and the proxy (credentials removed) when one is in the way. */
  private readonly endpoint: { server: string; proxy?: string };

  constructor(config: LoadedKubeconfig, opts: KubeClientOptions = {}) {
    this.server = config.server;
    const proxyUrl = config.options.clusters[0]?.proxyUrl;
    this.endpoint = { server: config.server, ...(proxyUrl ? { proxy: proxyForDisplay(proxyUrl) } : {}) };
    this.namespace = config.namespace;
    this.contextName = config.contextName;
    this.transport = new Transport(config.options, config.server, opts);
  }

  static fromKubeconfig(opts: LoadKubeconfigOptions & KubeClientOptions = {}): KubeClient {
    return new KubeClient(loadKubeconfig(opts), opts);
  }

  async serverVersion(): Promise<{ gitVersion: string; major: string; minor: string }> {
    const body = (await this.call({ method: 'GET', path: '/version' }, { action: 'read the server version' })) as Record<string, string>;
    return { gitVersion: body.gitVersion ?? '', major: body.major ?? '', minor: body.minor ?? '' };
  }

  async discoverPolicyKinds(engines: readonly Engine[] = loadEngines()): Promise<DiscoveredKind[]> {
    try {
      return await discoverKinds(this.transport, engines);
    } catch (err) {
      throw toPolicyOciError(err, { action: 'discover the API', ...this.endpoint });
    }
  }

  /** Where the cluster serves a kind of any group at `apiVersion` (e.g. a policy's parameter kind), or undefined. */
  async servedResource(apiVersion: string, kind: string): Promise<KindRef | undefined> {
    try {
      return await servedResource(this.transport, apiVersion, kind);
    } catch (err) {
      throw toPolicyOciError(err, { action: 'discover the API', ...this.endpoint });
    }
  }

  /** Every object of a kind, following `continue` pages; items get their apiVersion and kind back. */
  async list(ref: KindRef, opts: ListOptions = {}): Promise<KubeObject[]> {
    const path = resourcePath(ref, opts.namespace);
    const ctx = this.ctx('list', ref, opts.namespace);
    for (let attempt = 0; ; attempt++) {
      const items: KubeObject[] = [];
      let cont: string | undefined;
      try {
        do {
          const res = await this.transport.request({
            method: 'GET',
            path,
            query: { limit: opts.limit ?? PAGE_SIZE, continue: cont, labelSelector: opts.labelSelector },
          });
          const body = res.body as { items?: Record<string, unknown>[]; metadata?: { continue?: string } };
          for (const item of body.items ?? []) items.push({ ...item, apiVersion: apiVersionOf(ref), kind: ref.kind } as KubeObject);
          cont = body.metadata?.continue || undefined;
        } while (cont);
        return items;
      } catch (err) {
        if (err instanceof ApiError && err.status === 410 && cont && attempt < MAX_LIST_RESTARTS) continue;
        throw toPolicyOciError(err, ctx);
      }
    }
  }

  /** The object, or undefined when it does not exist. */
  async get(ref: KindRef, name: string, namespace?: string): Promise<KubeObject | undefined> {
    const ns = this.nsFor(ref, namespace);
    try {
      const res = await this.transport.request({ method: 'GET', path: resourcePath(ref, ns, name) });
      return res.body as KubeObject;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404 && err.apiStatus.details?.name) return undefined;
      throw toPolicyOciError(err, this.ctx('get', ref, ns, name));
    }
  }

  /**
   * Server-side apply. Only policy kinds of a known engine are ever sent: anything else is refused
   * here too, whatever the caller checked.
   */
  async apply(obj: KubeObject, opts: ApplyCallOptions = {}): Promise<KubeObject> {
    const ref = policyRef(obj);
    const name = obj.metadata?.name;
    if (!name) throw new PolicyOciError('INVALID_POLICY', `${ref.kind}: metadata.name is required`);
    const ns = this.nsFor(ref, obj.metadata.namespace);
    const body = structuredClone(obj);
    if (ref.namespaced) body.metadata.namespace = ns;
    else delete body.metadata.namespace;
    return (await this.call(
      {
        method: 'PATCH',
        path: resourcePath(ref, ns, name),
        query: {
          fieldManager: opts.fieldManager ?? FIELD_MANAGER,
          force: opts.force ? true : undefined,
          dryRun: opts.dryRun === 'server' ? 'All' : undefined,
          fieldValidation: 'Strict',
        },
        // JSON is YAML: the apply patch type accepts it.
        contentType: 'application/apply-patch+yaml',
        body,
      },
      this.ctx('apply', ref, ns, name),
    )) as KubeObject;
  }

  /** Deletes an object; false when it was already gone. */
  async delete(ref: KindRef, name: string, namespace?: string, opts: { dryRun?: 'server' } = {}): Promise<boolean> {
    const ns = this.nsFor(ref, namespace);
    try {
      await this.transport.request({
        method: 'DELETE',
        path: resourcePath(ref, ns, name),
        query: { dryRun: opts.dryRun === 'server' ? 'All' : undefined },
      });
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404 && err.apiStatus.details?.name) return false;
      throw toPolicyOciError(err, this.ctx('delete', ref, ns, name));
    }
  }

  /** 'unknown' when the user may not read namespaces: the apply itself will tell. */
  async ensureNamespace(name: string, create: boolean, opts: { dryRun?: 'server' } = {}): Promise<NamespaceState> {
    const ctx: ErrorContext = { action: 'create namespace', name, ...this.endpoint };
    try {
      await this.transport.request({ method: 'GET', path: `/api/v1/namespaces/${encodeURIComponent(name)}` });
      return 'exists';
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) return 'unknown';
      if (!(err instanceof ApiError && err.status === 404)) throw toPolicyOciError(err, { ...ctx, action: 'get namespace' });
    }
    if (!create) return 'missing';
    try {
      await this.transport.request({
        method: 'POST',
        path: '/api/v1/namespaces',
        query: { fieldManager: FIELD_MANAGER, dryRun: opts.dryRun === 'server' ? 'All' : undefined },
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
      });
      return 'created';
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) return 'exists'; // created meanwhile
      throw toPolicyOciError(err, ctx);
    }
  }

  /** SelfSubjectAccessReview: may the current user `verb` `resource` in `group` (and namespace)? */
  async canI(verb: string, group: string, resource: string, namespace?: string): Promise<boolean> {
    const body = (await this.call(
      {
        method: 'POST',
        path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
        // A review is computed, never stored: asking twice is safe.
        idempotent: true,
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: { verb, group, resource, ...(namespace ? { namespace } : {}) } },
        },
      },
      { action: 'check access to', kind: group ? `${resource}.${group}` : resource, namespace, ...this.endpoint },
    )) as { status?: { allowed?: boolean } };
    return body.status?.allowed === true;
  }

  /** Closes the kept connection so the process can exit at once. */
  close(): Promise<void> {
    return this.transport.close();
  }

  private async call(req: KubeRequest, ctx: Omit<ErrorContext, 'server'> & { server?: string }): Promise<unknown> {
    try {
      return (await this.transport.request(req)).body;
    } catch (err) {
      throw toPolicyOciError(err, { ...this.endpoint, ...ctx });
    }
  }

  private nsFor(ref: KindRef, namespace: string | undefined): string | undefined {
    return ref.namespaced ? namespace || this.namespace : undefined;
  }

  private ctx(action: string, ref: KindRef, namespace?: string, name?: string): ErrorContext {
    const engine = loadEngines().find((e) => engineGroups(e).includes(ref.group));
    return { action, kind: kindLabel(ref), namespace, name, ...this.endpoint, installHint: engine?.installHint };
  }
}

/** The API path of a collection (no name) or an object; no namespace lists every namespace. */
export function resourcePath(ref: KindRef, namespace?: string, name?: string): string {
  const base = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
  const ns = ref.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${ref.plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

export function apiVersionOf(ref: { group: string; version: string }): string {
  return ref.group ? `${ref.group}/${ref.version}` : ref.version;
}

/** The KindRef of a policy object; refuses anything that is not a policy kind of a known engine. */
export function policyRef(obj: KubeObject): KindRef {
  const match = typeof obj?.apiVersion === 'string' && typeof obj.kind === 'string' ? findKind(obj.apiVersion, obj.kind) : undefined;
  if (!match) {
    throw new PolicyOciError('INVALID_INPUT', `refused: ${String(obj?.kind)} (${String(obj?.apiVersion)}) is not a policy kind of a known engine`);
  }
  const { kind, version } = match;
  return { group: kind.group, version, kind: kind.kind, plural: kind.plural, namespaced: kind.namespaced };
}
