// The API server's own checks of metadata and size, which no CRD schema expresses
// (k8s.io/apimachinery validation: ValidateObjectMeta, NameIsDNSSubdomain, labels, annotations).
import type { Problem } from './problem.ts';

export const MAX_ANNOTATIONS_BYTES = 256 * 1024; // TotalAnnotationSizeLimitB
export const MAX_OBJECT_BYTES = 1.5 * 1024 * 1024; // etcd's default request limit

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export function checkMetadata(meta: Record<string, unknown>, namespaced: boolean): { problems: Problem[]; warnings: string[] } {
  const problems: Problem[] = [];
  const warnings: string[] = [];
  const at = (field: string, message: string, path: (string | number)[] = ['metadata', field]) =>
    problems.push({ path, message: `metadata.${field}: ${message}` });

  const name = meta.name;
  if (name === undefined || name === '') at('name', 'required field missing', ['metadata']);
  else if (typeof name !== 'string') at('name', 'must be a string');
  else {
    const why = dnsSubdomainProblem(name);
    if (why) at('name', `"${clip(name)}" ${why}`);
  }

  const ns = meta.namespace;
  if (ns !== undefined && ns !== '') {
    if (typeof ns !== 'string') at('namespace', 'must be a string');
    else if (!namespaced) {
      // The server ignores (clears) the namespace of a cluster-scoped object.
      warnings.push(`metadata.namespace "${ns}" ignored: the kind is cluster-scoped`);
      delete meta.namespace;
    } else if (ns.length > 63 || !DNS1123_LABEL.test(ns)) {
      at('namespace', `"${clip(ns)}" must be a DNS-1123 label (lowercase letters, digits and "-", at most 63 characters)`);
    }
  } else if (ns === '') delete meta.namespace;

  checkStringMap(meta.labels, 'labels', problems, (key, value) => {
    const k = qualifiedNameProblem(key);
    if (k) return `key "${clip(key)}" ${k}`;
    if (value.length > 63 || !LABEL_VALUE.test(value)) {
      return `value "${clip(value)}" of "${key}" must be at most 63 characters of letters, digits, "-", "_", "." starting and ending with a letter or digit`;
    }
    return undefined;
  });

  let annotationBytes = 0;
  checkStringMap(meta.annotations, 'annotations', problems, (key, value) => {
    annotationBytes += Buffer.byteLength(key) + Buffer.byteLength(value);
    const k = qualifiedNameProblem(key.toLowerCase());
    return k ? `key "${clip(key)}" ${k}` : undefined;
  });
  if (annotationBytes > MAX_ANNOTATIONS_BYTES) {
    at('annotations', `total size ${annotationBytes} bytes is above the API server's limit of ${MAX_ANNOTATIONS_BYTES} bytes (256 KiB)`);
  }
  return { problems, warnings };
}

export function checkObjectSize(obj: unknown): Problem | undefined {
  const bytes = Buffer.byteLength(JSON.stringify(obj));
  if (bytes <= MAX_OBJECT_BYTES) return undefined;
  return { message: `the object is ${bytes} bytes as JSON, above the ${MAX_OBJECT_BYTES}-byte (1.5 MiB) limit of etcd and the API server` };
}

function checkStringMap(
  map: unknown,
  field: string,
  problems: Problem[],
  check: (key: string, value: string) => string | undefined,
): void {
  if (map === undefined || map === null) return;
  if (typeof map !== 'object' || Array.isArray(map)) {
    problems.push({ path: ['metadata', field], message: `metadata.${field}: must be a map of strings` });
    return;
  }
  for (const [key, value] of Object.entries(map as Record<string, unknown>)) {
    if (typeof value !== 'string') {
      // e.g. `version: 1.0` unquoted: Kubernetes refuses a number where a string belongs.
      problems.push({ path: ['metadata', field, key], message: `metadata.${field}["${key}"]: must be a string (got ${value === null ? 'null' : typeof value}); quote the value` });
      continue;
    }
    const why = check(key, value);
    if (why) problems.push({ path: ['metadata', field, key], message: `metadata.${field}: ${why}` });
  }
}

function dnsSubdomainProblem(s: string): string | undefined {
  if (s.length > 253) return 'must be at most 253 characters';
  if (!DNS1123_SUBDOMAIN.test(s)) {
    return 'must be a DNS-1123 subdomain (lowercase letters, digits, "-" and ".", starting and ending with a letter or digit)';
  }
  return undefined;
}

/** `[prefix/]name` with a DNS-1123 subdomain prefix and a 63-character name. */
function qualifiedNameProblem(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return 'must be [prefix/]name';
  const name = parts[parts.length - 1]!;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (prefix === '' || dnsSubdomainProblem(prefix)) return 'has a prefix that is not a DNS-1123 subdomain';
  }
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    return 'must have a name part of 1-63 letters, digits, "-", "_", "." starting and ending with a letter or digit';
  }
  return undefined;
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
