// Kinds defined by other objects (engine.json `dynamicKinds`): a Gatekeeper ConstraintTemplate
// defines a constraint kind and the schema of its `spec.parameters`. Each object of such a kind was
// already checked against the schema all such kinds share (validate.ts); here, when its definition
// is in the same set, it is checked again as the API server will once the definition's controller
// has made the kind's CRD: with the definition's schema in place. Without its definition in the
// set the object gets a warning: the cluster's own CRD judges it on apply and diff.
import { definedByKind, loadSchema, resolveKind, splitApiVersion } from '../engines/index.ts';
import type { KindMatch } from '../engines/index.ts';
import type { Engine, EngineDynamicKinds } from '../engines/types.ts';
import type { Problem } from './problem.ts';
import type { KubeObject, PolicyDocument } from './types.ts';
import { checkPolicyWithSchema, describeObject } from './validate.ts';
import type { CheckOptions } from './validate.ts';

/** A defining object of the set: what it defines, and how. */
export interface Definition {
  engine: Engine;
  dyn: EngineDynamicKinds;
  /** The kind it defines (the value at definedBy.kindPath). */
  kind: string;
  object: KubeObject;
  /** The schema of `dyn.definedBy.validates`; undefined when the definition gives none. */
  schema: object | undefined;
  /** Unknown fields under `validates` are kept (Gatekeeper's legacySchema). */
  preserveUnknownFields: boolean;
}

/** "group/Kind" → its definition, for every defining object among `objects` (the first one wins). */
export function definitionsIn(objects: Iterable<KubeObject>): Map<string, Definition> {
  const out = new Map<string, Definition>();
  for (const object of objects) {
    const def = definitionOf(object);
    if (def && !out.has(definitionKey(def.dyn.group, def.kind))) out.set(definitionKey(def.dyn.group, def.kind), def);
  }
  return out;
}

export function definitionKey(group: string, kind: string): string {
  return `${group}/${kind}`;
}

/** What `object` defines, when it is a defining kind of an engine and names a kind. */
export function definitionOf(object: KubeObject): Definition | undefined {
  if (typeof object?.apiVersion !== 'string' || typeof object.kind !== 'string') return undefined;
  const r = resolveKind(object.apiVersion, object.kind);
  if (r.status !== 'ok') return undefined;
  const dyn = definedByKind(r.match.engine, r.match.kind);
  if (!dyn) return undefined;
  const kind = valueAt(object, dyn.definedBy.kindPath);
  if (typeof kind !== 'string' || kind === '') return undefined;
  const schema = valueAt(object, dyn.definedBy.schemaPath);
  const flag = dyn.definedBy.preserveUnknownFieldsPath ? valueAt(object, dyn.definedBy.preserveUnknownFieldsPath) : undefined;
  const preserve = typeof flag === 'boolean' ? flag : (dyn.definedBy.preserveUnknownFieldsDefault?.[splitApiVersion(object.apiVersion).version] ?? false);
  return { engine: r.match.engine, dyn, kind, object, schema: isObj(schema) ? schema : undefined, preserveUnknownFields: preserve };
}

/**
 * The schema of the defined kind's objects: the shared schema with the definition's schema at
 * `validates` — left out when the definition has none (then any value there is an unknown field),
 * `{}` keeping everything when it has none but keeps unknown fields — as Gatekeeper's
 * `CreateSchema` and `legacySchema` conversion build the constraint CRD.
 */
export function composeSchema(shared: object, def: Definition): object {
  const out = structuredClone(shared) as Schema;
  const segs = def.dyn.definedBy.validates.split('.');
  let parent: Schema | undefined = out;
  for (const seg of segs.slice(0, -1)) parent = (parent?.properties as Record<string, Schema> | undefined)?.[seg];
  const props = parent?.properties as Record<string, Schema> | undefined;
  if (!props) throw new Error(`${def.engine.name}: definedBy.validates ${def.dyn.definedBy.validates} is not in the shared schema`);
  const last = segs[segs.length - 1]!;
  let own: Schema | undefined = def.schema ? (structuredClone(def.schema) as Schema) : undefined;
  if (def.preserveUnknownFields) own = preserveUnknown(own ?? {});
  if (own) props[last] = own;
  else delete props[last];
  return out;
}

/** x-kubernetes-preserve-unknown-fields on every object (or untyped) schema, as Gatekeeper adds it. */
function preserveUnknown(s: Schema): Schema {
  if (s.type === undefined || s.type === 'object') s['x-kubernetes-preserve-unknown-fields'] = true;
  if (s.type === 'array' && !isObj(s.items)) s.items = { 'x-kubernetes-preserve-unknown-fields': true };
  if (isObj(s.properties)) for (const p of Object.values(s.properties)) if (isObj(p)) preserveUnknown(p);
  if (isObj(s.items)) preserveUnknown(s.items);
  if (isObj(s.additionalProperties)) preserveUnknown(s.additionalProperties);
  return s;
}

export interface DefinedCheck {
  /** `message`: "file:line: Kind name: problem", as loadPolicies reports; `file`: the document's file. */
  problems: { file: string; message: string }[];
}

/**
 * Checks every document of a dynamic kind against its definition in `docs`; documents without one
 * get a warning. Replaces a checked document's object by what the server would store.
 */
export async function checkDefinedPolicies(docs: PolicyDocument[], opts: CheckOptions = {}): Promise<DefinedCheck> {
  const problems: DefinedCheck['problems'] = [];
  const dynamicDocs = docs.map((d) => ({ d, match: dynamicMatch(d.object) })).filter((x): x is { d: PolicyDocument; match: KindMatch } => x.match !== undefined);
  if (dynamicDocs.length === 0) return { problems };
  const defs = definitionsIn(docs.map((d) => d.object));
  const schemas = new Map<Definition, object | Error>();
  for (const { d, match } of dynamicDocs) {
    const where = `${d.source.file}${d.source.line ? `:${d.source.line}` : ''}`;
    const dyn = match.kind.dynamic!;
    const def = defs.get(definitionKey(dyn.group, match.kind.kind));
    if (!def) {
      (d.warnings ??= []).push(
        `${where}: ${describeObject(d.object)}: no ${dyn.definedBy.kind} in this set defines ${match.kind.kind}: ${dyn.definedBy.validates} was not checked (the cluster checks it on apply)`,
      );
      continue;
    }
    let schema = schemas.get(def);
    if (!schema) {
      schema = await loadSchema(match.engine, match.kind, match.version).then(
        (shared) => composeSchema(shared, def),
        (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
      );
      schemas.set(def, schema);
    }
    if (schema instanceof Error) {
      problems.push({ file: d.source.file, message: `${where}: ${describeObject(d.object)}: ${schema.message}` });
      continue;
    }
    let found: Problem[];
    try {
      const r = await checkPolicyWithSchema(d.object, match, schema, opts);
      found = r.problems;
      if (!found.length) {
        d.object = r.object;
        delete d.canonical; // the object may have lost nulls
        // Only what the first check could not see: unknown fields dropped under `validates`.
        for (const w of r.warnings) if (w.startsWith('unknown field')) (d.warnings ??= []).push(`${where}: ${w}`);
      }
    } catch (err) {
      // ajv refuses a schema it cannot compile: the definition's schema is broken.
      found = [{ message: `the ${dyn.definedBy.schemaPath} of ${describeObject(def.object)} cannot be used: ${(err as Error).message}` }];
    }
    for (const p of found) problems.push({ file: d.source.file, message: `${where}: ${describeObject(d.object)}: ${p.message} (schema from ${describeObject(def.object)})` });
  }
  return { problems };
}

function dynamicMatch(object: KubeObject): KindMatch | undefined {
  if (typeof object?.apiVersion !== 'string' || typeof object.kind !== 'string') return undefined;
  const r = resolveKind(object.apiVersion, object.kind);
  return r.status === 'ok' && r.match.kind.dynamic ? r.match : undefined;
}

type Schema = Record<string, unknown>;

function isObj(v: unknown): v is Schema {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The value at a dotted path of an object, or undefined. */
export function valueAt(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const seg of path.split('.')) {
    if (!isObj(cur)) return undefined;
    cur = cur[seg];
  }
  return cur;
}
