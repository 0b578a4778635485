// Judges a policy as the API server would on `kubectl apply` (default strict field validation):
// kind and served version, metadata rules, size limits, unknown fields, then the CRD's
// openAPIV3Schema. CEL rules (`x-kubernetes-validations`) are not evaluated, formats are not checked.
import { engineNames, loadSchema, resolveKind, schemaKey } from '../engines/index.ts';
import type { KindMatch } from '../engines/index.ts';
import { PolicyOciError } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';
import { precompiled } from './validate-precompiled.ts';
import type { ValidateFunction } from 'ajv';
import { checkMetadata, checkObjectSize } from './metadata.ts';
import type { Problem } from './problem.ts';
import { walkResource } from './structural.ts';
import { count } from '../util/plural.ts';
import type { UnknownFields } from './structural.ts';
import type { KubeObject, PolicyDocument } from './types.ts';

/** Schema problems reported per document, like the brief error list of kubectl. */
export const MAX_SCHEMA_PROBLEMS = 5;

export type Classification =
  | { ok: true; match: KindMatch }
  | { ok: false; code: ErrorCode; problem: Problem };

/** Is this document a policy of a known engine, in a served version? */
export function classify(value: unknown): Classification {
  const fail = (message: string, code: ErrorCode = 'INVALID_INPUT', path?: (string | number)[]): Classification => ({
    ok: false,
    code,
    problem: path ? { message, path } : { message },
  });
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return fail(`the document is ${valueKind(value)}, not a Kubernetes object`);
  }
  const { apiVersion, kind } = value as Record<string, unknown>;
  if (typeof apiVersion !== 'string' || apiVersion === '') return fail('apiVersion: required field missing (not a Kubernetes object)');
  if (typeof kind !== 'string' || kind === '') return fail(`kind: required field missing (apiVersion ${apiVersion})`);
  const r = resolveKind(apiVersion, kind);
  switch (r.status) {
    case 'ok':
      return { ok: true, match: r.match };
    case 'unknown-group':
      return fail(`${apiVersion}/${kind}${objectName(value)} is not a policy of a known engine (${engineNames().join(', ')})`);
    case 'unknown-kind': {
      const kinds = r.engine.kinds.filter((k) => k.group === r.group).map((k) => k.kind);
      return fail(`${apiVersion}/${kind}: ${kind} is not a ${r.engine.displayName} kind of ${r.group} (known: ${kinds.join(', ')})`, 'INVALID_POLICY', ['kind']);
    }
    case 'unserved-version':
      return fail(
        `${apiVersion} is not a served version of ${r.kind.kind} (served: ${r.kind.versions.join(', ')})`,
        'INVALID_POLICY',
        ['apiVersion'],
      );
  }
}

/** "a list", "a string", "null"… for a document that is not an object. */
function valueKind(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`; // string, number, boolean, bigint: none starts with a vowel
}

function objectName(value: object): string {
  const meta = (value as { metadata?: { name?: unknown } }).metadata;
  return meta && typeof meta.name === 'string' ? ` ("${meta.name}")` : '';
}

export interface Checked {
  /** The object as the server would store it (nulls pruned, ignored fields dropped); a copy. */
  object: KubeObject;
  warnings: string[];
  /** Empty when the policy is valid. */
  problems: Problem[];
}

export interface CheckOptions {
  /**
   * "error" (default): an unknown field fails, as under kubectl's default strict field validation.
   * "prune": it is dropped with a warning, as the server does under --validate=warn.
   */
  unknownFields?: UnknownFields;
}

/** All checks after classification; never throws for a bad policy. */
export function checkPolicy(value: object, match: KindMatch, opts: CheckOptions = {}): Promise<Checked> {
  return checkAgainst(value, match, opts);
}

/**
 * checkPolicy with the schema given instead of the kind's own: for a kind defined by another object
 * (dynamic.ts: a Gatekeeper constraint under its ConstraintTemplate's parameter schema). The
 * validator is compiled on first use of that schema object.
 */
export function checkPolicyWithSchema(value: object, match: KindMatch, schema: object, opts: CheckOptions = {}): Promise<Checked> {
  return checkAgainst(value, match, opts, schema);
}

async function checkAgainst(value: object, match: KindMatch, opts: CheckOptions, given?: object): Promise<Checked> {
  const obj = structuredClone(value) as KubeObject;
  const warnings: string[] = [];
  const problems: Problem[] = [];
  const { kind, version } = match;

  if (kind.deprecatedVersions?.includes(version)) {
    warnings.push(`${kind.group}/${version} ${kind.kind} is deprecated; use ${kind.group}/${kind.versions[0]}`);
  }
  const size = checkObjectSize(value);
  if (size) problems.push(size);

  if (obj.metadata === undefined || obj.metadata === null) {
    obj.metadata = {} as KubeObject['metadata']; // checkMetadata reports the missing name
  } else if (typeof obj.metadata !== 'object' || Array.isArray(obj.metadata)) {
    problems.push({ path: ['metadata'], message: 'metadata: must be an object' });
    return { object: obj, warnings, problems };
  }
  if (kind.statusSubresource && 'status' in obj) {
    // With the status subresource the server ignores status in a create or update.
    delete obj.status;
    warnings.push('status ignored: the cluster sets it');
  }

  const schema = given ?? (await loadSchema(match.engine, kind, version));
  const structural = walkResource(obj, schema as Record<string, unknown>, opts.unknownFields ?? 'error');
  const meta = checkMetadata(obj.metadata, kind.namespaced);
  problems.push(...meta.problems, ...structural.problems);
  warnings.push(...meta.warnings, ...structural.pruned.map((f) => `unknown field "${f}" dropped`));

  const validate = given
    ? await import('./crd-schema.ts').then((m) => m.compileCrdSchema(given, { withoutStatus: kind.statusSubresource === true }))
    : await validatorFor(match, schema);
  if (!validate(obj)) {
    const { describeAjvErrors } = await import('./crd-schema.ts');
    problems.push(...describeAjvErrors(validate.errors ?? [], obj, schema));
  }
  return { object: obj, warnings, problems: limit(problems) };
}

const validators = new Map<string, Promise<ValidateFunction>>();

/**
 * The kind's validator: compiled at build time in the executable (validate-precompiled.ts), else
 * compiled now by ajv (crd-schema.ts, which the executable then never loads).
 */
function validatorFor({ kind, version }: KindMatch, schema: object): Promise<ValidateFunction> {
  const key = schemaKey(kind, version);
  let v = validators.get(key);
  if (!v) {
    const load = precompiled[key];
    v = load ? load() : import('./crd-schema.ts').then((m) => m.compileCrdSchema(schema, { withoutStatus: kind.statusSubresource === true }));
    validators.set(key, v);
  }
  return v;
}

function limit(problems: Problem[]): Problem[] {
  if (problems.length <= MAX_SCHEMA_PROBLEMS) return problems;
  const shown = problems.slice(0, MAX_SCHEMA_PROBLEMS);
  shown.push({ message: `… and ${count(problems.length - MAX_SCHEMA_PROBLEMS, 'more problem')}` });
  return shown;
}

/**
 * Validates one policy; returns it as the API server would store it, or throws INVALID_INPUT (not
 * a policy of a known engine) / INVALID_POLICY (fails the server's checks) naming the source.
 */
export async function validatePolicy(doc: PolicyDocument, opts: CheckOptions = {}): Promise<{ object: KubeObject; warnings: string[] }> {
  const where = `${doc.source.file}${doc.source.line ? `:${doc.source.line}` : ''}`;
  const c = classify(doc.object);
  if (!c.ok) throw new PolicyOciError(c.code, `${where}: ${c.problem.message}`);
  const r = await checkPolicy(doc.object, c.match, opts);
  if (r.problems.length) {
    const details = r.problems.map((p) => `${where}: ${p.message}`);
    throw new PolicyOciError('INVALID_POLICY', `${where}: ${describeObject(doc.object)}: ${r.problems[0]!.message}`, { details });
  }
  return { object: r.object, warnings: r.warnings };
}

/** "ClusterPolicy require-labels" or "KubeArmorPolicy default/block-x", for messages. */
export function describeObject(o: { kind?: unknown; metadata?: unknown }): string {
  const meta = (o.metadata ?? {}) as { name?: unknown; namespace?: unknown };
  const name = typeof meta.name === 'string' && meta.name ? meta.name : '(no name)';
  const ns = typeof meta.namespace === 'string' && meta.namespace ? `${meta.namespace}/` : '';
  return `${typeof o.kind === 'string' ? o.kind : '(no kind)'} ${ns}${name}`;
}
