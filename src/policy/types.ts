// A policy document as read from a file, a registry layer or a cluster.

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** Where a document came from, for error messages: "policies/a.yaml:12" or "layer sha256:ab…". */
export interface Source {
  file: string;
  /** 1-based line of the document start, when known. */
  line?: number;
  /** 0-based index of the document within its file. */
  index: number;
}

export interface PolicyDocument {
  object: KubeObject;
  source: Source;
  /** Engine name owning the kind ("kyverno", "kubearmor", "kubernetes"). */
  engine: string;
  /** Things worth telling the user that do not stop the policy (printed on stderr). */
  warnings?: string[];
  /** stringifyCanonical(object), when already known (checked-cache.ts): packing reuses it. */
  canonical?: string;
}
