// Reads the policies live on a cluster as they were written: cluster bookkeeping stripped (status
// included, which is where Kyverno keeps its auto-generated pod-controller rules), our ownership
// marks removed, in a stable order so two exports of an unchanged cluster are identical. Kinds
// that cannot be read are reported in `skipped`, never silently left out.
import { findKind, loadEngines } from '../engines/index.ts';
import { PolicyOciError } from '../errors.ts';
import { stripClusterFields } from '../policy/strip.ts';
import type { KubeObject } from '../policy/types.ts';
import { mapLimit } from '../util/concurrency.ts';
import type { KubeClient } from './client.ts';
import { type DiscoveredKind, kindLabel, kindNamed, type KindRef } from './discovery.ts';
import { definitionsIn } from '../policy/dynamic.ts';
import type { Engine } from '../engines/types.ts';
import { stripOwnership } from './ownership.ts';
import { compareCodeUnits } from '../util/compare.ts';
import { stripSchemaDefaults } from './export-defaults.ts';

export interface ReadLiveOptions {
  /** Engine names; default every engine. */
  engines?: string[];
  /** Kind names ("ClusterPolicy"), plurals ("clusterpolicies"), or either with ".group"; default all. */
  kinds?: string[];
  /** Namespace for namespaced kinds when not allNamespaces (default: the context's). */
  namespace?: string;
  allNamespaces: boolean;
  labelSelector?: string;
  /**
   * group → version to read that group's kinds at (from parseApiVersions); the other kinds are
   * read at the version kubectl prefers: the first the cluster serves in its group's order of
   * preference that the engine declares.
   */
  apiVersions?: ReadonlyMap<string, string>;
  /** Drop the fields whose value equals their schema default (export-defaults.ts). */
  stripDefaults?: boolean;
}

export interface SkippedKind {
  /** "ClusterPolicy.kyverno.io" */
  kind: string;
  /** Why: the user may not list it; the cluster serves it only at versions we do not read; or not at all. */
  cause: 'forbidden' | 'unsupported-version' | 'not-served';
  reason: string;
}

export interface LiveExport {
  objects: KubeObject[];
  skipped: SkippedKind[];
  /**
   * Objects left out because a controller made them from another policy (see generatedBy): e.g. the
   * ValidatingAdmissionPolicy Gatekeeper generates from a ConstraintTemplate. The owner travels, and
   * the controller where it lands makes them again; a copy would be a second, unowned one.
   */
  generated: Array<{ object: string; owner: string }>;
  counts: { total: number; byKind: Record<string, number>; byEngine: Record<string, number> };
  /** "ClusterPolicy.kyverno.io" → the apiVersion its policies were read and written at. */
  apiVersions: Record<string, string>;
}

/**
 * `--api-version` values ("policies.kyverno.io/v1") as group → version, checked against the kinds
 * the engines declare (no cluster needed): an unknown group or version, or two versions for one
 * group, is a usage error.
 */
export function parseApiVersions(values: readonly string[]): Map<string, string> {
  const kinds: Array<{ group: string; versions: string[] }> = loadEngines().flatMap((e) => [...e.kinds, ...(e.dynamicKinds ?? [])]);
  const out = new Map<string, string>();
  for (const value of values) {
    const slash = value.lastIndexOf('/');
    const group = value.slice(0, slash);
    const version = value.slice(slash + 1);
    if (slash <= 0 || !version) throw new PolicyOciError('USAGE', `--api-version ${value}: expected GROUP/VERSION, e.g. policies.kyverno.io/v1`);
    const ofGroup = kinds.filter((k) => k.group === group);
    if (ofGroup.length === 0) {
      const groups = [...new Set(kinds.map((k) => k.group))].sort(compareCodeUnits);
      throw new PolicyOciError('USAGE', `--api-version ${value}: ${group} is not the group of a policy kind (known: ${groups.join(', ')})`);
    }
    if (!ofGroup.some((k) => k.versions.includes(version))) {
      const versions = [...new Set(ofGroup.flatMap((k) => k.versions))];
      throw new PolicyOciError('USAGE', `--api-version ${value}: no policy kind of ${group} has version ${version} (known: ${versions.join(', ')})`);
    }
    const earlier = out.get(group);
    if (earlier !== undefined && earlier !== version) throw new PolicyOciError('USAGE', `--api-version names two versions of ${group}: ${earlier} and ${version}`);
    out.set(group, version);
  }
  return out;
}

/**
 * The version to read a served kind at: the one --api-version names for its group when the engine
 * declares it for this kind (the cluster must serve it: else a CLUSTER error, nothing is exported),
 * else the first version in the group's order of preference that the engine declares, which is what
 * `kubectl get` shows.
 */
export function exportVersion(d: DiscoveredKind & { ref: KindRef }, requested: ReadonlyMap<string, string> | undefined, context: string): string {
  const wanted = requested?.get(d.kind.group);
  if (wanted !== undefined && d.kind.versions.includes(wanted)) {
    if (d.servedVersions.includes(wanted)) return wanted;
    throw new PolicyOciError(
      'CLUSTER',
      `--api-version ${d.kind.group}/${wanted}: context ${context} does not serve ${d.label} at ${wanted} (it serves ${d.servedVersions.join(', ')}); nothing was exported`,
    );
  }
  return d.servedVersions.find((v) => d.kind.versions.includes(v)) ?? d.ref.version;
}

export async function readLivePolicies(client: KubeClient, opts: ReadLiveOptions): Promise<LiveExport> {
  const engines = selectEngines(opts.engines);
  const discovered = selectKinds(await client.discoverPolicyKinds(engines), opts.kinds);
  const skipped: SkippedKind[] = [];
  const generated: LiveExport['generated'] = [];
  // Versions first: a version the cluster does not serve fails the export before anything is read.
  const versions = new Map<DiscoveredKind, string>();
  for (const d of discovered) if (d.ref) versions.set(d, exportVersion(d as DiscoveredKind & { ref: KindRef }, opts.apiVersions, client.contextName));
  const lists = await mapLimit(discovered, 4, async (d): Promise<Array<{ d: DiscoveredKind; obj: KubeObject }>> => {
    if (!d.ref) {
      const reason = d.servedVersions.length
        ? `served only at ${d.servedVersions.join(', ')}, which ${d.engine.displayName} support here does not include`
        : `not served by the cluster: ${d.engine.installHint}`;
      skipped.push({ kind: d.label, cause: d.servedVersions.length ? 'unsupported-version' : 'not-served', reason });
      return [];
    }
    const namespace = d.ref.namespaced && !opts.allNamespaces ? opts.namespace || client.namespace : undefined;
    const version = versions.get(d) ?? d.ref.version;
    try {
      const listed = await client.list({ ...d.ref, version }, { namespace, labelSelector: opts.labelSelector });
      const items = listed.filter((o) => {
        const owner = generatedBy(o);
        if (owner) generated.push({ object: `${d.label} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`, owner });
        return !owner;
      });
      const stripped = items.map((o) => stripOwnership(stripClusterFields(o, d.engine)));
      const objects = opts.stripDefaults ? await Promise.all(stripped.map((o) => stripSchemaDefaults(o, d.engine, d.kind, version))) : stripped;
      return objects.map((obj) => ({ d, obj }));
    } catch (err) {
      if (err instanceof PolicyOciError && err.code === 'DENIED') {
        const where = d.ref.namespaced ? (namespace ? ` in namespace ${namespace}` : ' in all namespaces (try -n)') : '';
        skipped.push({ kind: d.label, cause: 'forbidden', reason: `forbidden: the user may not list ${d.ref.plural}.${d.ref.group}${where}` });
        return [];
      }
      throw err;
    }
  });
  if (!opts.kinds?.length) skipped.push(...definedButNotServed(lists.flat().map((r) => r.obj), discovered, engines));
  const rows = lists.flat().sort((a, b) => a.d.kind.applyOrder - b.d.kind.applyOrder || compareCodeUnits(sortKey(a), sortKey(b)));
  const counts: LiveExport['counts'] = { total: rows.length, byKind: {}, byEngine: {} };
  for (const { d } of rows) {
    counts.byKind[d.label] = (counts.byKind[d.label] ?? 0) + 1;
    counts.byEngine[d.engine.name] = (counts.byEngine[d.engine.name] ?? 0) + 1;
  }
  skipped.sort((a, b) => compareCodeUnits(a.kind, b.kind));
  const apiVersions: Record<string, string> = {};
  for (const [d, version] of [...versions].sort(([a], [b]) => compareCodeUnits(a.label, b.label))) {
    if (!skipped.some((s) => s.kind === d.label)) apiVersions[d.label] = `${d.kind.group}/${version}`;
  }
  generated.sort((x, y) => compareCodeUnits(x.object, y.object));
  return { objects: rows.map((r) => r.obj), skipped, generated, counts, apiVersions };
}

/**
 * "ConstraintTemplate k8sfoo" when a controller made `obj` from a policy of a known engine (an
 * ownerReference with `controller: true` naming a policy kind), else undefined. Such objects are
 * the controller's output, not policies someone wrote: Gatekeeper makes ValidatingAdmissionPolicies
 * and bindings from templates and constraints (generateVAP).
 */
export function generatedBy(obj: KubeObject): string | undefined {
  const refs = obj.metadata?.ownerReferences;
  if (!Array.isArray(refs)) return undefined;
  for (const r of refs as Array<Record<string, unknown>>) {
    if (r?.controller !== true || typeof r.apiVersion !== 'string' || typeof r.kind !== 'string') continue;
    if (findKind(r.apiVersion, r.kind)) return `${r.kind} ${String(r.name)}`;
  }
  return undefined;
}

/**
 * Kinds that definitions on the cluster define (a ConstraintTemplate's constraint kind) but the
 * cluster does not serve — the defining controller is not running, or has not made them yet: their
 * objects cannot exist, but the export says so instead of saying nothing.
 */
function definedButNotServed(objects: KubeObject[], discovered: DiscoveredKind[], engines: Engine[]): SkippedKind[] {
  const out = new Map<string, SkippedKind>();
  for (const def of definitionsIn(objects).values()) {
    if (!engines.includes(def.engine)) continue;
    const label = kindLabel({ kind: def.kind, group: def.dyn.group });
    if (discovered.some((d) => d.kind.group === def.dyn.group && d.kind.kind === def.kind && d.servedVersions.length)) continue;
    const name = def.object.metadata.name;
    out.set(label, { kind: label, cause: 'not-served', reason: `defined by ${def.object.kind} ${name} but not served by the cluster: is ${def.engine.displayName}'s controller running? (${def.engine.installHint})` });
  }
  return [...out.values()];
}

function selectEngines(names: string[] | undefined) {
  const all = loadEngines();
  if (!names?.length) return all;
  const unknown = names.filter((n) => !all.some((e) => e.name === n));
  if (unknown.length) throw new PolicyOciError('USAGE', `unknown engine ${unknown.join(', ')} (known: ${all.map((e) => e.name).join(', ')})`);
  return all.filter((e) => names.includes(e.name));
}

/** Keeps the kinds the user named; a name that matches nothing is an error, not an empty export. */
export function selectKinds(discovered: DiscoveredKind[], names: string[] | undefined): DiscoveredKind[] {
  if (!names?.length) return discovered;
  const unknown = names.filter((n) => !discovered.some((d) => kindNamed(d, n)));
  if (unknown.length) {
    const known = [...new Set(discovered.map((d) => d.kind.kind))].join(', ');
    throw new PolicyOciError('USAGE', `unknown policy kind ${unknown.join(', ')} (known: ${known})`);
  }
  return discovered.filter((d) => names.some((n) => kindNamed(d, n)));
}

function sortKey(r: { d: DiscoveredKind; obj: KubeObject }): string {
  return [r.d.kind.kind, r.d.kind.group, r.obj.metadata.namespace ?? '', r.obj.metadata.name].join('\u0000');
}
