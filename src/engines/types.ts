// What an engine plugin (plugins/<engine>/engine.json) declares. Data, not code.

export interface EngineKind {
  kind: string;
  group: string;
  /** Versions the engine's CRDs serve; the first storage version is marked in `storageVersion`. */
  versions: string[];
  storageVersion: string;
  /** Served versions the CRD marks deprecated (the API server answers them with a warning). */
  deprecatedVersions?: string[];
  namespaced: boolean;
  /** Plural resource name, as used in API paths. */
  plural: string;
  /** The CRD has the status subresource: `status` in a create request is ignored by the server. */
  statusSubresource?: boolean;
  /** Lower applies first (e.g. GlobalContextEntry before policies that read it). */
  applyOrder: number;
}

export interface EngineMediaTypes {
  config: string;
  layerYaml: string;
  layerJson: string;
  layerTarGzip: string;
  /** Other spellings we accept when reading (e.g. KubeArmor's ".yaml" vs "+yaml"). */
  acceptedLayers: string[];
}

export interface Engine {
  name: string; // "kyverno" | "kubearmor" | "kubernetes"
  displayName: string;
  /**
   * Where scripts/import-crds.mjs takes the schemas from: the engine's CRDs (default), or, for kinds
   * built into Kubernetes, the API server's OpenAPI v3 document pinned in plugins/<engine>/openapi/.
   */
  schemaSource?: 'crd' | 'openapi';
  /** Where to install the engine, shown when a cluster does not serve its kinds. */
  installHint: string;
  kinds: EngineKind[];
  mediaTypes: EngineMediaTypes;
  /** Per-layer annotations to write: key → "apiVersion" | "kind" | "name" | "namespace". */
  layerAnnotations: Record<string, 'apiVersion' | 'kind' | 'name' | 'namespace'>;
  /** JSON-pointer-ish dotted paths removed on export (in addition to the common list). */
  stripFields: string[];
  /** Annotations removed on export (in addition to the common list). */
  stripAnnotations: string[];
  /** Labels removed on export. */
  stripLabels: string[];
  /**
   * Per kind, "dotted.path" (`[]`: the list's items) → JSON Schema keywords that scripts/import-crds.mjs
   * adds to the generated schema: checks the API server makes in code rather than in its OpenAPI.
   */
  schemaAdditions?: Record<string, Record<string, object>>;
}
