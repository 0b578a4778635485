// export --strip-defaults: drops the fields whose value is what the API server would have filled in
// had the field been left out, read from the `default`s of the kind's schema (the CRD's
// openAPIV3Schema, or for built-in kinds the API server's OpenAPI, as plugins/ ship them).
// Hand-written because no library walks a Kubernetes structural schema with its defaulting rules.
//
// The rule (plugins/README.md, "Schema defaults on export"): a property is removed when its value,
// itself stripped, deep-equals its schema default, stripped the same way, and the parent schema
// does not list it as required. So a removed field comes back, with the same value, when the file is
// applied again (the server sets the default, then the defaults inside it). An object the stripping
// would empty is removed when its own default recreates it, else kept whole, as its author wrote it
// (the server never invents an object without a default; and an empty `{}` would not survive a
// server-side apply: it arrives as null). Map entries (additionalProperties) and list items are
// never removed, only walked: a key or an item is content, not a default.
import { loadSchema } from '../engines/index.ts';
import type { Engine, EngineKind } from '../engines/types.ts';
import type { KubeObject } from '../policy/types.ts';
import { isDeepStrictEqual } from 'node:util';

interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema | Schema[];
  required?: string[];
  default?: unknown;
}

/** A copy of `obj` without the fields equal to their schema defaults (`obj` is a policy of `kind` at `version`). */
export async function stripSchemaDefaults(obj: KubeObject, engine: Engine, kind: EngineKind, version: string): Promise<KubeObject> {
  return stripDefaults(structuredClone(obj), await schemaWithDefaults(engine, kind, version)) as KubeObject;
}

/**
 * Defaults the API server sets in code for built-in kinds, which its OpenAPI does not publish
 * (k8s.io/kubernetes pkg/apis/admissionregistration/<version>/defaults.go, Kubernetes 1.35): dotted
 * paths, `[]` for a list's items. Data, added to the schema's own defaults.
 */
const MATCH_DEFAULTS = (at: string): Record<string, unknown> => ({
  [`${at}.matchPolicy`]: 'Equivalent',
  [`${at}.namespaceSelector`]: {},
  [`${at}.objectSelector`]: {},
  [`${at}.resourceRules[].scope`]: '*',
  [`${at}.excludeResourceRules[].scope`]: '*',
});
const CODE_DEFAULTS: Readonly<Record<string, Record<string, unknown>>> = {
  'admissionregistration.k8s.io/ValidatingAdmissionPolicy': { 'spec.failurePolicy': 'Fail', ...MATCH_DEFAULTS('spec.matchConstraints') },
  'admissionregistration.k8s.io/MutatingAdmissionPolicy': { 'spec.failurePolicy': 'Fail', ...MATCH_DEFAULTS('spec.matchConstraints') },
  'admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding': MATCH_DEFAULTS('spec.matchResources'),
  'admissionregistration.k8s.io/MutatingAdmissionPolicyBinding': MATCH_DEFAULTS('spec.matchResources'),
  'admissionregistration.k8s.io/v1alpha1/MutatingAdmissionPolicyBinding': { 'spec.paramRef.parameterNotFoundAction': 'Deny' },
};

const augmented = new Map<string, Promise<Schema>>();

/** The kind's schema with CODE_DEFAULTS added (a copy: the shared schema is what validation reads). */
function schemaWithDefaults(engine: Engine, kind: EngineKind, version: string): Promise<Schema> {
  const key = `${kind.group}/${version}/${kind.kind}`;
  let p = augmented.get(key);
  if (!p) {
    p = loadSchema(engine, kind, version).then((loaded) => {
      const extra = { ...CODE_DEFAULTS[`${kind.group}/${kind.kind}`], ...CODE_DEFAULTS[key] };
      if (Object.keys(extra).length === 0) return loaded as Schema;
      const schema = structuredClone(loaded) as Schema;
      for (const [path, value] of Object.entries(extra)) {
        const node = schemaAt(schema, path);
        if (node) node.default = value;
      }
      return schema;
    });
    augmented.set(key, p);
  }
  return p;
}

function schemaAt(schema: Schema, path: string): Schema | undefined {
  let node: Schema | undefined = schema;
  for (const segment of path.split('.')) {
    const list = segment.endsWith('[]');
    node = node?.properties?.[list ? segment.slice(0, -2) : segment];
    if (list) node = node && !Array.isArray(node.items) ? node.items : undefined;
  }
  return node;
}

/** Strips `value` in place following `schema`, and returns it. */
export function stripDefaults(value: unknown, schema: Schema | undefined): unknown {
  if (!schema || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const items = Array.isArray(schema.items) ? undefined : schema.items;
    for (const item of value) stripDefaults(item, items);
    return value;
  }
  const record = value as Record<string, unknown>;
  const required = new Set(schema.required ?? []);
  const extra = typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
  for (const key of Object.keys(record)) {
    const child = schema.properties?.[key];
    if (!child) {
      stripDefaults(record[key], extra);
      continue;
    }
    const original = isNonEmptyObject(record[key]) ? structuredClone(record[key]) : undefined;
    stripDefaults(record[key], child);
    if (child.default !== undefined && !required.has(key) && isDeepStrictEqual(record[key], strippedDefault(child))) delete record[key];
    // Never emptied: an object the author wrote (no default recreates it) keeps its fields, as written.
    else if (original !== undefined && !isNonEmptyObject(record[key]) && !Array.isArray(record[key])) record[key] = original;
  }
  return value;
}

function isNonEmptyObject(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0;
}

/** The default as the server would complete it (its own nested defaults), stripped: what a removed field compares with. */
function strippedDefault(schema: Schema): unknown {
  return stripDefaults(structuredClone(schema.default), schema);
}
