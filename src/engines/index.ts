// The engine plugins: their kinds and media types (small, loaded with the module) and their CRD
// schemas (large, loaded only when a policy of that kind and version is validated).
import kyverno from '../../plugins/kyverno/engine.json' with { type: 'json' };
import kubearmor from '../../plugins/kubearmor/engine.json' with { type: 'json' };
import kubernetes from '../../plugins/kubernetes/engine.json' with { type: 'json' };
import gatekeeper from '../../plugins/gatekeeper/engine.json' with { type: 'json' };
import type { Engine, EngineDynamicKinds, EngineKind } from './types.ts';
import { schemaLoaders } from './schemas.generated.ts';

// The JSON's inferred types widen literal unions (layerAnnotations) to string: assert the contract.
const ENGINES: readonly Engine[] = [
  kyverno as unknown as Engine,
  kubearmor as unknown as Engine,
  kubernetes as unknown as Engine,
  gatekeeper as unknown as Engine,
];

export function loadEngines(): Engine[] {
  return [...ENGINES];
}

export function engineNames(): string[] {
  return ENGINES.map((e) => e.name);
}

export function findEngine(name: string): Engine | undefined {
  return ENGINES.find((e) => e.name === name);
}

/** "kyverno.io/v1" → { group: "kyverno.io", version: "v1" }; "v1" → core group "". */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.lastIndexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

export interface KindMatch {
  engine: Engine;
  kind: EngineKind;
  version: string;
}

/** The engine kind serving `apiVersion`/`kind`, or undefined (unknown group, kind or version). */
export function findKind(apiVersion: string, kind: string): KindMatch | undefined {
  const r = resolveKind(apiVersion, kind);
  return r.status === 'ok' ? r.match : undefined;
}

/** Why an apiVersion/kind is or is not one of ours, for precise error messages. */
export type KindResolution =
  | { status: 'ok'; match: KindMatch }
  | { status: 'unknown-group' }
  | { status: 'unknown-kind'; engine: Engine; group: string }
  | { status: 'unserved-version'; engine: Engine; kind: EngineKind; version: string };

export function resolveKind(apiVersion: string, kind: string): KindResolution {
  const { group, version } = splitApiVersion(apiVersion);
  let groupEngine: Engine | undefined;
  for (const engine of ENGINES) {
    for (const k of engine.kinds) {
      if (k.group !== group) continue;
      groupEngine ??= engine;
      if (k.kind !== kind) continue;
      if (!k.versions.includes(version)) return { status: 'unserved-version', engine, kind: k, version };
      return { status: 'ok', match: { engine, kind: k, version } };
    }
  }
  if (groupEngine) return { status: 'unknown-kind', engine: groupEngine, group };
  for (const engine of ENGINES) {
    for (const dyn of engine.dynamicKinds ?? []) {
      if (dyn.group !== group || !KIND_NAME.test(kind)) continue;
      const k = dynamicKind(engine, dyn, kind);
      if (!k.versions.includes(version)) return { status: 'unserved-version', engine, kind: k, version };
      return { status: 'ok', match: { engine, kind: k, version } };
    }
  }
  return { status: 'unknown-group' };
}

/** A kind name as a CRD takes it (Kubernetes' DNS-1035 label rules, in CamelCase). */
const KIND_NAME = /^[A-Za-z][A-Za-z0-9]{0,62}$/;

const dynamicKinds = new Map<string, EngineKind>();

/**
 * The kind `kind` of a `dynamicKinds` entry, made up once (the same object every time): its
 * versions, scope and order from the entry, its plural the lowercase kind (discovery may say
 * otherwise on a cluster), `dynamic` pointing back at the entry.
 */
export function dynamicKind(engine: Engine, dyn: EngineDynamicKinds, kind: string): EngineKind {
  const key = `${engine.name}/${dyn.group}/${kind}`;
  let k = dynamicKinds.get(key);
  if (!k) {
    k = {
      kind,
      group: dyn.group,
      versions: dyn.versions,
      storageVersion: dyn.storageVersion,
      ...(dyn.deprecatedVersions ? { deprecatedVersions: dyn.deprecatedVersions } : {}),
      namespaced: dyn.namespaced,
      plural: kind.toLowerCase(),
      ...(dyn.statusSubresource !== undefined ? { statusSubresource: dyn.statusSubresource } : {}),
      applyOrder: dyn.applyOrder,
      dynamic: dyn,
    };
    dynamicKinds.set(key, k);
  }
  return k;
}

/** The `dynamicKinds` entry whose objects an object of `definingKind` defines, if any. */
export function definedByKind(engine: Engine, definingKind: { group: string; kind: string }): EngineDynamicKinds | undefined {
  return engine.dynamicKinds?.find((d) => d.definedBy.group === definingKind.group && d.definedBy.kind === definingKind.kind);
}

/** Every group of an engine's policy kinds, dynamic ones included. */
export function engineGroups(engine: Engine): string[] {
  return [...new Set([...engine.kinds.map((k) => k.group), ...(engine.dynamicKinds ?? []).map((d) => d.group)])];
}

/** The key of a kind's schema and validator: "group/version/Kind", or "group/version/*" for dynamic kinds. */
export function schemaKey(kind: EngineKind, version: string): string {
  return `${kind.group}/${version}/${kind.dynamic ? '*' : kind.kind}`;
}

/** The engine whose config or layer media type this is (any accepted spelling). */
export function engineForMediaType(mediaType: string): Engine | undefined {
  const mt = mediaType.split(';')[0]!.trim().toLowerCase();
  return ENGINES.find((e) => {
    const m = e.mediaTypes;
    return [m.config, m.layerYaml, m.layerJson, m.layerTarGzip, ...m.acceptedLayers].some((t) => t.toLowerCase() === mt);
  });
}

const schemaCache = new Map<string, Promise<object>>();

/**
 * The CRD's openAPIV3Schema (without descriptions) for one served version, loaded on first use.
 * Async because the schemas sit behind dynamic imports, which esbuild bundles as lazy modules.
 */
export function loadSchema(engine: Engine | string, kind: EngineKind, version: string): Promise<object> {
  const name = typeof engine === 'string' ? engine : engine.name;
  const key = schemaKey(kind, version);
  const load = schemaLoaders[key];
  if (!load || !kind.versions.includes(version)) {
    return Promise.reject(new Error(`${name}: no schema for ${key}`));
  }
  let p = schemaCache.get(key);
  if (!p) {
    p = load();
    schemaCache.set(key, p);
  }
  return p;
}
