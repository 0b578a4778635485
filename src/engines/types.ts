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
  /**
   * Set on kinds that are not listed in `kinds` but made up from a `dynamicKinds` entry (the kind
   * name comes from the object): e.g. Gatekeeper constraints, one kind per ConstraintTemplate.
   */
  dynamic?: EngineDynamicKinds;
}

/**
 * Kinds not known in advance: every kind of `group` is a policy kind of the engine, each defined
 * at run time by an object of another kind of the engine (`definedBy`), which names the kind and
 * carries the schema of part of it. Gatekeeper: a ConstraintTemplate defines a constraint kind
 * (constraints.gatekeeper.sh) and the schema of its `spec.parameters`. Kinds made up from this
 * entry are cluster- or namespace-scoped as `namespaced` says, and their plural is the lowercase
 * kind (what the defining controller creates) until discovery says otherwise.
 */
export interface EngineDynamicKinds {
  group: string;
  /** Versions every such kind is served at, Kubernetes priority order. */
  versions: string[];
  storageVersion: string;
  deprecatedVersions?: string[];
  namespaced: boolean;
  statusSubresource?: boolean;
  /** After the defining kind's applyOrder: an object of such a kind cannot exist before its definition. */
  applyOrder: number;
  /**
   * The schema every such kind shares (the part the definition does not give), written by
   * scripts/import-crds.mjs to plugins/<engine>/schemas/<name>.<version>.json, loaded under the key
   * "<group>/<version>/*". `from`: "dotted.path" of this schema → a schema part taken from a kind's
   * CRD ("Kind.dotted.path", the storage version), so shared types stay pinned to the CRDs.
   */
  schema: { name: string; openAPIV3Schema: object; from?: Record<string, string> };
  definedBy: {
    group: string;
    kind: string;
    /** Dotted path, in the defining object, of the kind name it defines. */
    kindPath: string;
    /** Dotted path, in the defining object, of a JSON schema (OpenAPI v3, as in a CRD)… */
    schemaPath: string;
    /** …that validates this dotted path of the defined kind's objects (it replaces that property of `schema`). */
    validates: string;
    /**
     * Dotted path of a boolean in the defining object that, when true, keeps unknown fields under
     * `validates` (as `x-kubernetes-preserve-unknown-fields` on every object of the schema), and its
     * default per version of the defining kind when unset. Gatekeeper: `legacySchema`.
     */
    preserveUnknownFieldsPath?: string;
    preserveUnknownFieldsDefault?: Record<string, boolean>;
  };
  /**
   * How long apply waits, after applying a definition, for the kind it defines to be served (a
   * controller creates the kind's CRD): apply fails the kind's objects, naming it, after that.
   */
  servedTimeoutSeconds: number;
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
  name: string; // "kyverno" | "kubearmor" | "kubernetes" | "gatekeeper"
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
  /** Kinds not known in advance (see EngineDynamicKinds). */
  dynamicKinds?: EngineDynamicKinds[];
  /**
   * apply --wait: where the engine reports that a policy is in force, per kind. Keys: "Kind",
   * "Kind.group", or "*.group" (every kind of the group, e.g. dynamic kinds). A kind with no entry
   * is one the engine reports nothing for: --wait says so instead of waiting.
   */
  readiness?: Record<string, EngineReadiness>;
  /** Objects of other kinds a policy refers to, checked in the target cluster on apply (see EngineReference). */
  references?: EngineReference[];
}

/**
 * An object of `kind` refers, at `path` (an object with `name`, `namespace` or a label `selector`),
 * to objects of a kind not known in advance: the `apiVersion` and `kind` found at `kindFrom.path` of
 * the object of kind `kindFrom.kind` (same engine and group) that it names at `kindFrom.namePath`,
 * looked up in the applied set first, then in the cluster. apply and migrate warn when the target
 * cluster serves no such kind or holds none of the objects referred to. Kubernetes: a binding's
 * `spec.paramRef` names parameter objects of its policy's `spec.paramKind`.
 */
export interface EngineReference {
  kind: string;
  /** Dotted path of the reference. */
  path: string;
  /** What the objects referred to are, in messages ("parameters"). */
  what: string;
  kindFrom: { kind: string; namePath: string; path: string };
  /** Dotted path of a value shown with the warning: what happens while they are missing. */
  notePath?: string;
}

/**
 * Where a policy's engine (its controller, or the API server) reports on the live object whether it
 * is in force. Paths are dotted, `[]` standing for each item of a list ("status.byPod[].enforced").
 * In force: every declared generation, condition and `allTrue` is present and met, and no error.
 */
export interface EngineReadiness {
  /** Who writes the report, named in messages ("kube-controller-manager", "Kyverno's controller"). */
  reporter: string;
  /** The generation the report is about: every value must equal metadata.generation, else it is of an older version. */
  observedGeneration?: string;
  /** A list of conditions and the type that says "in force": "True" in force, "False" not yet (its message shown). */
  condition?: { path: string; type: string };
  /** Booleans that must all be true; an empty list is no report yet. */
  allTrue?: string[];
  /** Messages that mean the engine refused the policy: any one fails it at once. */
  errors?: string[];
  /** Messages shown as warnings: the policy is still in force. */
  warnings?: string[];
  /** The reporter's message about a policy not (yet) in force. */
  message?: string;
}
