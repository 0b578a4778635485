// Which engine kinds the cluster serves, at which version, with which plural and scope. One
// request with aggregated discovery (GET /apis as APIGroupDiscoveryList, Kubernetes ≥ 1.26);
// older servers get the classic walk: /apis, then /apis/<group>/<version> for our groups only.
import { dynamicKind, engineGroups } from '../engines/index.ts';
import type { Engine, EngineKind } from '../engines/types.ts';
import { ApiError, type Transport } from './http.ts';

/** Where a kind lives in the API, at one version. */
export interface KindRef {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

export interface DiscoveredKind {
  engine: Engine;
  kind: EngineKind;
  /** "ClusterPolicy.kyverno.io", for messages. */
  label: string;
  /**
   * The versions the cluster serves this kind at (any, including ones the engine does not declare),
   * in the group's order of preference (its preferred version first), as kubectl picks them.
   */
  servedVersions: string[];
  /** Set when served at a version the engine declares: its storage version if served, else the first declared. */
  ref?: KindRef;
}

interface Served {
  kind: string;
  plural: string;
  namespaced: boolean;
}

/** group → version → resources (subresources left out). */
export type ServedMap = Map<string, Map<string, Served[]>>;

const AGGREGATED_ACCEPT = [
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
  'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList',
  'application/json',
].join(',');

export async function discoverKinds(transport: Transport, engines: readonly Engine[]): Promise<DiscoveredKind[]> {
  const groups = new Set(engines.flatMap(engineGroups));
  return kindsServed(engines, await servedResources(transport, groups));
}

/** The engines' kinds as `served` (fromAggregated's map) has them, dynamic kinds included. */
export function kindsServed(engines: readonly Engine[], served: ServedMap): DiscoveredKind[] {
  return engines.flatMap((engine) => [
    ...engine.kinds.map((kind) => resolveServed(engine, kind, served)),
    // Kinds not known in advance (engine.json dynamicKinds): every kind the cluster serves in the group.
    ...(engine.dynamicKinds ?? []).flatMap((dyn) => servedKinds(served, dyn.group).map((name) => resolveServed(engine, dynamicKind(engine, dyn, name), served))),
  ]);
}

/** Every kind served in a group, at any version, sorted. */
function servedKinds(served: ServedMap, group: string): string[] {
  const kinds = new Set<string>();
  for (const resources of (served.get(group) ?? new Map<string, Served[]>()).values()) for (const r of resources) kinds.add(r.kind);
  return [...kinds].sort();
}

export function kindLabel(kind: { kind: string; group: string }): string {
  return kind.group ? `${kind.kind}.${kind.group}` : kind.kind;
}

export function resolveServed(engine: Engine, kind: EngineKind, served: ServedMap): DiscoveredKind {
  const byVersion = served.get(kind.group) ?? new Map<string, Served[]>();
  const at = new Map<string, Served>();
  for (const [version, resources] of byVersion) {
    const r = resources.find((x) => x.kind === kind.kind);
    if (r) at.set(version, r);
  }
  const out: DiscoveredKind = { engine, kind, label: kindLabel(kind), servedVersions: [...at.keys()] };
  const version = at.has(kind.storageVersion) ? kind.storageVersion : kind.versions.find((v) => at.has(v));
  if (version) {
    const r = at.get(version)!;
    out.ref = { group: kind.group, version, kind: kind.kind, plural: r.plural, namespaced: r.namespaced };
  }
  return out;
}

async function servedResources(transport: Transport, groups: Set<string>): Promise<ServedMap> {
  const res = await transport.request({ method: 'GET', path: '/apis', accept: AGGREGATED_ACCEPT });
  const body = res.body as { kind?: string; items?: unknown[]; groups?: unknown[] };
  if (body?.kind === 'APIGroupDiscoveryList') return fromAggregated(body.items ?? [], groups);
  return fromLegacy(transport, (body?.groups ?? []) as LegacyGroup[], groups);
}

interface AggregatedGroup {
  metadata?: { name?: string };
  versions?: Array<{ version?: string; freshness?: string; resources?: Array<{ resource?: string; scope?: string; responseKind?: { kind?: string } }> }>;
}

export function fromAggregated(items: unknown[], groups: Set<string>): ServedMap {
  const out: ServedMap = new Map();
  for (const g of items as AggregatedGroup[]) {
    const name = g.metadata?.name ?? '';
    if (!groups.has(name)) continue;
    const versions = new Map<string, Served[]>();
    for (const v of g.versions ?? []) {
      // A stale version belongs to an unavailable aggregated API server: not usable.
      if (!v.version || v.freshness === 'Stale') continue;
      const resources = (v.resources ?? [])
        .filter((r) => r.resource && r.responseKind?.kind)
        .map((r) => ({ kind: r.responseKind!.kind!, plural: r.resource!, namespaced: r.scope === 'Namespaced' }));
      versions.set(v.version, resources);
    }
    out.set(name, versions);
  }
  return out;
}

interface LegacyGroup {
  name?: string;
  versions?: Array<{ version?: string }>;
  preferredVersion?: { version?: string };
}

async function fromLegacy(transport: Transport, list: LegacyGroup[], groups: Set<string>): Promise<ServedMap> {
  const out: ServedMap = new Map();
  const jobs: Promise<void>[] = [];
  for (const g of list) {
    if (!g.name || !groups.has(g.name)) continue;
    const versions = new Map<string, Served[]>();
    out.set(g.name, versions);
    // Preference order (the preferred version first), whatever order the answers arrive in.
    const preferred = g.preferredVersion?.version;
    const ordered = [...(g.versions ?? [])].sort((a, b) => Number(b.version === preferred) - Number(a.version === preferred));
    for (const { version } of ordered) if (version) versions.set(version, []);
    for (const { version } of ordered) {
      if (!version) continue;
      const path = `/apis/${g.name}/${version}`;
      jobs.push(
        transport.request({ method: 'GET', path }).then((res) => {
          const resources = ((res.body as { resources?: Array<{ name?: string; kind?: string; namespaced?: boolean }> }).resources ?? [])
            .filter((r) => r.name && r.kind && !r.name.includes('/'))
            .map((r) => ({ kind: r.kind!, plural: r.name!, namespaced: r.namespaced === true }));
          versions.set(version, resources);
        }),
      );
    }
  }
  await Promise.all(jobs);
  return out;
}

/**
 * Where a cluster serves `kind` at `apiVersion`, of any group (the core group too): one request for
 * that group version's discovery document. Undefined when it is not served there.
 */
export async function servedResource(transport: Transport, apiVersion: string, kind: string): Promise<KindRef | undefined> {
  const i = apiVersion.lastIndexOf('/');
  const [group, version] = i < 0 ? ['', apiVersion] : [apiVersion.slice(0, i), apiVersion.slice(i + 1)];
  let body: { resources?: Array<{ name?: string; kind?: string; namespaced?: boolean }> };
  try {
    body = (await transport.request({ method: 'GET', path: group ? `/apis/${group}/${version}` : `/api/${version}` })).body as typeof body;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return undefined;
    throw err;
  }
  const r = (body.resources ?? []).find((x) => x.kind === kind && x.name && !x.name.includes('/'));
  return r ? { group, version, kind, plural: r.name!, namespaced: r.namespaced === true } : undefined;
}

/** Whether `name` names the kind as --kind takes it: Kind, plural, Kind.group or plural.group (any case). */
export function kindNamed(d: DiscoveredKind, name: string): boolean {
  const n = name.toLowerCase();
  const kind = d.kind.kind.toLowerCase();
  const plural = d.kind.plural.toLowerCase();
  const group = d.kind.group.toLowerCase();
  return [kind, plural, `${kind}.${group}`, `${plural}.${group}`].includes(n);
}
