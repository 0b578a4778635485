// A CRD's structural openAPIV3Schema turned into a JSON Schema that ajv compiles, plus the compile
// cache. Only value validation happens here (types, enums, required, bounds, patterns, one/any/not);
// pruning, unknown fields and list-type uniqueness are done by structural.ts, as the API server
// does them outside OpenAPI validation. CEL rules (`x-kubernetes-validations`) are NOT evaluated,
// and formats are ignored: the server's CEL and format checks still apply at apply time.
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { formatPath, pointerToPath } from './problem.ts';
import type { Path, Problem } from './problem.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Schema = { [k: string]: Json };

/** Keywords carried over to ajv unchanged (draft-07 meaning equals the OpenAPI v3.0 one). */
const KEEP = new Set([
  'type', 'required', 'enum', 'minimum', 'maximum', 'multipleOf', 'minLength', 'maxLength',
  'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties',
]);
/** Keywords whose value is a schema or a list of schemas. */
const SUB = new Set(['items', 'additionalProperties', 'not', 'anyOf', 'allOf', 'oneOf']);

/** Subtrees at least this long (as JSON) that occur twice or more are compiled once. */
const DEDUPE_MIN = 200;

/**
 * Kubernetes schema → ajv schema:
 * - `x-kubernetes-int-or-string` → type integer|string (same as anyOf integer/string, clearer error);
 * - `nullable` → "null" added to type (and enum);
 * - OpenAPI 3.0 boolean `exclusiveMinimum`/`exclusiveMaximum` → draft-07 numbers;
 * - patterns JavaScript cannot compile (Go RE2 syntax such as `(?i)`) are dropped;
 * - every other `x-kubernetes-*`, `format`, `default`, `description` dropped;
 * - identical subtrees hoisted into `definitions`: controller-gen inlines every shared Go type, so
 *   ClusterPolicy repeats its match/exclude blocks dozens of times; compiling each once is ~5× faster.
 */
export function toAjvSchema(k8s: object): Schema {
  return dedupe(convert(k8s as Schema));
}

function convert(s: Schema): Schema {
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) {
    if (KEEP.has(k)) out[k] = v;
    else if (k === 'properties' && isObj(v)) {
      out.properties = Object.fromEntries(Object.entries(v).map(([p, ps]) => [p, convert(ps as Schema)]));
    } else if (SUB.has(k)) {
      if (Array.isArray(v)) out[k] = v.map((x) => convert(x as Schema));
      else if (isObj(v)) out[k] = convert(v);
      else out[k] = v; // additionalProperties: true|false
    } else if (k === 'pattern' && typeof v === 'string' && compiles(v)) out.pattern = v;
  }
  if (s['x-kubernetes-int-or-string'] === true) out.type = ['integer', 'string'];
  if (s.exclusiveMinimum === true && typeof s.minimum === 'number') {
    out.exclusiveMinimum = s.minimum;
    delete out.minimum;
  }
  if (s.exclusiveMaximum === true && typeof s.maximum === 'number') {
    out.exclusiveMaximum = s.maximum;
    delete out.maximum;
  }
  if (s.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (Array.isArray(out.type)) out.type = [...out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  }
  return out;
}

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}

function isObj(v: unknown): v is Schema {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Hoists repeated subschemas into `definitions` and replaces them by `$ref`s. */
function dedupe(root: Schema): Schema {
  const keyOf = new Map<object, string>();
  const count = new Map<string, number>();
  const key = (s: Json): string => {
    if (!s || typeof s !== 'object') return JSON.stringify(s);
    const cached = keyOf.get(s);
    if (cached !== undefined) return cached;
    const k = Array.isArray(s)
      ? `[${s.map(key).join(',')}]`
      : `{${Object.entries(s).map(([n, v]) => `${JSON.stringify(n)}:${key(v)}`).join(',')}}`;
    keyOf.set(s, k);
    if (!Array.isArray(s) && k.length >= DEDUPE_MIN) count.set(k, (count.get(k) ?? 0) + 1);
    return k;
  };
  key(root);
  const definitions: Schema = {};
  const ids = new Map<string, string>();
  const rewrite = (s: Json, top: boolean): Json => {
    if (!s || typeof s !== 'object') return s;
    if (Array.isArray(s)) return s.map((x) => rewrite(x, false));
    const k = keyOf.get(s)!;
    if (!top && (count.get(k) ?? 0) > 1) {
      let id = ids.get(k);
      if (id === undefined) {
        id = `s${ids.size}`;
        ids.set(k, id);
        definitions[id] = rewrite(s, true);
      }
      return { $ref: `#/definitions/${id}` };
    }
    const out: Schema = {};
    for (const [n, v] of Object.entries(s)) {
      if (n === 'properties' && isObj(v)) {
        out.properties = Object.fromEntries(Object.entries(v).map(([p, ps]) => [p, rewrite(ps, false)]));
      } else if (SUB.has(n)) out[n] = rewrite(v, false);
      else out[n] = v;
    }
    return out;
  };
  const out = rewrite(root, true) as Schema;
  if (ids.size) out.definitions = definitions;
  return out;
}

// Options chosen for compile speed (a CLI compiles per run): no verbose data, no message strings
// (we word errors ourselves), no inlined refs and no code optimisation pass. With the dedupe
// above, ClusterPolicy v1 compiles in ~80 ms instead of ~1 s. The executable does not compile at
// all: scripts/build.mjs compiles every validator with these options (validate-standalone.ts).
export const AJV_OPTIONS = {
  strict: false,
  allErrors: true,
  validateFormats: false,
  verbose: false,
  messages: false,
  inlineRefs: false,
  code: { optimize: false },
} as const;

let ajv: Ajv | undefined;

const compiled = new WeakMap<object, Map<boolean, ValidateFunction>>();

/**
 * Compiles once per schema object (identical versions share one object, so one compile).
 * `withoutStatus`: for kinds with the status subresource, whose status the server ignores on
 * create and update; skipping it halves ClusterPolicy's schema (status.autogen repeats the rules).
 */
export function compileCrdSchema(k8s: object, opts: { withoutStatus?: boolean } = {}): ValidateFunction {
  const withoutStatus = opts.withoutStatus === true;
  let byMode = compiled.get(k8s);
  if (!byMode) compiled.set(k8s, (byMode = new Map()));
  let v = byMode.get(withoutStatus);
  if (!v) {
    ajv ??= new Ajv(AJV_OPTIONS);
    v = ajv.compile(toAjvSchema(crdForMode(k8s, withoutStatus)));
    byMode.set(withoutStatus, v);
  }
  return v;
}

/** The schema validated for a create: without `status` for kinds with the status subresource. */
export function crdForMode(k8s: object, withoutStatus: boolean): object {
  const schema = k8s as Schema;
  if (withoutStatus && isObj(schema.properties) && 'status' in schema.properties) {
    const { status: _status, ...rest } = schema.properties;
    return { ...schema, properties: rest };
  }
  return schema;
}

/**
 * One problem per ajv error, worded from its keyword and params; `data` and `k8s` (the original
 * schema) supply the offending value and the fields named by oneOf/not. Errors inside the branches
 * of a oneOf/anyOf are folded into the combinator's own error.
 */
export function describeAjvErrors(errors: ErrorObject[], data: unknown, k8s: object): Problem[] {
  const seen = new Set<string>();
  const out: Problem[] = [];
  // A value of the wrong type also "fails" the combinators around it (`required` holds vacuously
  // for a non-object, so `not: {required: …}` fails): say only that the type is wrong.
  const wrongType = new Set(errors.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  for (const e of errors) {
    if (/\/(oneOf|anyOf)\/\d+\//.test(e.schemaPath)) continue;
    if (COMBINATORS.has(e.keyword) && wrongType.has(e.instancePath)) continue;
    const path = pointerToPath(e.instancePath);
    const p = describe(e, path, valueAt(data, path), schemaAt(k8s as Schema, path));
    if (seen.has(p.message)) continue;
    seen.add(p.message);
    out.push(p);
  }
  return out;
}

const COMBINATORS = new Set(['not', 'oneOf', 'anyOf']);

function describe(e: ErrorObject, path: Path, value: unknown, schema: Schema | undefined): Problem {
  const p = e.params as Record<string, unknown>;
  const fieldsOf = (schemas: unknown): string[] | undefined => {
    if (!Array.isArray(schemas)) return undefined;
    const names = schemas.map((s) =>
      isObj(s) && Array.isArray(s.required) && s.required.length === 1 && Object.keys(s).length === 1 ? s.required[0] : undefined,
    );
    return names.every((n) => typeof n === 'string') ? (names as string[]) : undefined;
  };
  let msg: string;
  switch (e.keyword) {
    case 'required':
      return { path, message: `${formatPath([...path, String(p.missingProperty)])}: required field missing` };
    case 'type':
      msg = `must be ${String(p.type).replace(/,/g, ' or ')} (got ${typeName(value)})`;
      break;
    case 'enum':
      msg = `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')} (got ${JSON.stringify(value)})`;
      break;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      msg = `must be ${String(p.comparison)} ${String(p.limit)} (got ${JSON.stringify(value)})`;
      break;
    case 'minLength':
      msg = `must be at least ${String(p.limit)} characters long`;
      break;
    case 'maxLength':
      msg = `must be at most ${String(p.limit)} characters long`;
      break;
    case 'minItems':
      msg = `must have at least ${String(p.limit)} items`;
      break;
    case 'maxItems':
      msg = `must have at most ${String(p.limit)} items`;
      break;
    case 'minProperties':
      msg = `must have at least ${String(p.limit)} fields`;
      break;
    case 'maxProperties':
      msg = `must have at most ${String(p.limit)} fields`;
      break;
    case 'pattern':
      msg = `must match ${String(p.pattern)} (got ${JSON.stringify(value)})`;
      break;
    case 'multipleOf':
      msg = `must be a multiple of ${String(p.multipleOf)}`;
      break;
    case 'uniqueItems':
      msg = `must not repeat items ([${String(p.j)}] and [${String(p.i)}] are equal)`;
      break;
    case 'oneOf': {
      const names = fieldsOf(schema?.oneOf);
      if (!names) msg = 'must match exactly one of its alternatives';
      else if (p.passingSchemas === null) msg = `exactly one of ${names.join(', ')} must be set (none is)`;
      else msg = `only one of ${names.join(', ')} may be set`;
      break;
    }
    case 'anyOf': {
      const names = fieldsOf(schema?.anyOf);
      msg = names ? `one of ${names.join(', ')} must be set` : 'must match one of its alternatives';
      break;
    }
    case 'not': {
      const n = schema?.not;
      msg =
        isObj(n) && Array.isArray(n.required) && Object.keys(n).length === 1
          ? `${n.required.join(' and ')} must not be set together`
          : 'must not match its "not" schema';
      break;
    }
    default:
      msg = `fails "${e.keyword}"`;
  }
  return { path, message: `${formatPath(path)}: ${msg}` };
}

function valueAt(data: unknown, path: Path): unknown {
  let v = data;
  for (const seg of path) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[seg] : undefined;
  return v;
}

/** The k8s subschema governing `path` (through properties, items, additionalProperties). */
function schemaAt(root: Schema, path: Path): Schema | undefined {
  let s: Schema | undefined = root;
  for (const seg of path) {
    if (!s) return undefined;
    if (typeof seg === 'number') s = isObj(s.items) ? s.items : undefined;
    else {
      const props = isObj(s.properties) ? (s.properties as Record<string, Schema>) : {};
      s = props[seg] ?? (isObj(s.additionalProperties) ? s.additionalProperties : undefined);
    }
  }
  return s;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}
