// Reads policies from files, directories and stdin. All-or-nothing: every problem in every file is
// collected and reported in one error, so nothing is pushed when anything is wrong.
import { readFileSync } from 'node:fs';
import { MAX_NESTING, nestedDeeperThan } from '../util/nesting.ts';
import { PolicyOciError, isPolicyOciError } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';
import { expandPaths, STDIN } from './files.ts';
import type { Problem } from './problem.ts';
import type { KubeObject, PolicyDocument } from './types.ts';
import { checkPolicy, classify, describeObject } from './validate.ts';
import { checkDefinedPolicies } from './dynamic.ts';
import type { CheckOptions } from './validate.ts';
import { fastCanonical } from './canonical.ts';
import { parseDocuments } from './yaml.ts';
import { count } from '../util/plural.ts';
import { CheckedCache, cacheDir } from './checked-cache.ts';
import type { CachedDocument } from './checked-cache.ts';
import type { ParsedDoc } from './yaml.ts';

export interface LoadOptions {
  /** Reads standard input, for the path "-". */
  stdin?: () => Promise<string>;
  /**
   * Also validate each policy as the API server would (validate.ts), with problems reported at
   * their exact line; the returned objects are then as the server would store them.
   */
  validate?: boolean;
  /** Told about inputs skipped on purpose (e.g. a symbolic link leading out of a directory). */
  onWarning?: (message: string) => void;
  /** With `validate`: what an unknown field does (see CheckOptions). */
  unknownFields?: CheckOptions['unknownFields'];
  /** .gitignore patterns of files to leave out (files.ts). */
  exclude?: string[];
  /**
   * Told how far reading and checking has come (files done of all files), a few times a second
   * while it runs, and once at the end.
   */
  onProgress?: (done: number, total: number) => void;
}

/** How long the loop runs before it lets timers (a spinner) run and reports progress. */
const PROGRESS_EVERY_MS = 100;

/** Name shown for standard input in messages. */
export const STDIN_NAME = '<stdin>';

export async function loadPolicies(paths: string[], opts: LoadOptions = {}): Promise<PolicyDocument[]> {
  if (paths.length === 0) throw new PolicyOciError('USAGE', 'no policy file or directory given');
  const list = await expandPaths(paths, opts.exclude ? { exclude: opts.exclude } : {});
  for (const w of list.warnings) opts.onWarning?.(w);
  const problems: string[] = [...list.problems];
  let code: ErrorCode = 'INVALID_INPUT';
  let policyProblems = 0;
  const badFiles = new Set<string>();
  const docs: PolicyDocument[] = [];

  const root = cacheDir();
  const cache = root === undefined ? undefined : new CheckedCache(root, JSON.stringify({ validate: opts.validate === true, unknownFields: opts.unknownFields ?? 'error' }));

  const total = list.files.length;
  let lastReport = performance.now();
  opts.onProgress?.(0, total);
  for (const [done, file] of list.files.entries()) {
    // Reading and checking never waits for anything but the schema cache: without a pause now and
    // then no timer runs, and a spinner stands still for the seconds a large push takes.
    if (opts.onProgress && performance.now() - lastReport >= PROGRESS_EVERY_MS) {
      opts.onProgress(done, total);
      await new Promise<void>((resolve) => setImmediate(resolve));
      lastReport = performance.now();
    }
    const name = file === STDIN ? STDIN_NAME : file;
    let parsed: ParsedDoc[];
    let key: string | undefined;
    try {
      const bytes = await readBytes(file, opts);
      if (cache && file !== STDIN) {
        key = cache.key(bytes);
        const hit = cache.get(key, name);
        if (hit) {
          for (const d of hit) docs.push(fromCache(d, name));
          continue;
        }
      }
      parsed = parseDocuments(decodeUtf8(bytes, name), name);
    } catch (err) {
      if (!isPolicyOciError(err)) throw err;
      problems.push(...(err.details.length ? err.details : [err.message]));
      badFiles.add(name);
      continue;
    }
    const fileDocs: PolicyDocument[] = [];
    let fileOk = true;
    for (const d of parsed) {
      const found = await loadOne(d, opts);
      if ('problems' in found) {
        problems.push(...found.problems);
        if (found.code === 'INVALID_POLICY') policyProblems += found.problems.length;
        badFiles.add(name);
        fileOk = false;
      } else fileDocs.push(found.doc);
    }
    docs.push(...fileDocs);
    if (cache && key && fileOk && fileDocs.length > 0) {
      const entry = toCache(fileDocs);
      if (entry) cache.put(key, name, entry);
    }
  }
  opts.onProgress?.(total, total);
  if (opts.validate) {
    // Objects of kinds defined in the set (Gatekeeper constraints) against their definitions.
    const defined = await checkDefinedPolicies(docs, opts.unknownFields ? { unknownFields: opts.unknownFields } : {});
    problems.push(...defined.problems.map((p) => p.message));
    policyProblems += defined.problems.length;
    for (const p of defined.problems) badFiles.add(p.file);
  }
  // Refusing only for schema or metadata problems is INVALID_POLICY; anything unreadable wins.
  if (problems.length && policyProblems === problems.length) code = 'INVALID_POLICY';
  if (problems.length) {
    const inputs = list.files.length + list.problems.length;
    const bad = badFiles.size + list.problems.length;
    // One bad input: its first problem names it; several: a count, with every problem in details.
    const summary =
      bad === 1
        ? `${problems[0]!}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`
        : `${problems.length} problems in ${bad} of ${count(inputs, 'input')}`;
    throw new PolicyOciError(code, summary, { details: problems });
  }
  warnDuplicates(docs);
  return docs;
}

async function readBytes(file: string, opts: LoadOptions): Promise<Uint8Array> {
  if (file === STDIN) {
    if (!opts.stdin) throw new PolicyOciError('USAGE', '"-" (standard input) is not available here');
    return Buffer.from(await opts.stdin(), 'utf8');
  }
  try {
    // Synchronously: nothing else runs while inputs load, and a thread-pool round trip per file
    // was most of the time of a push whose files are all in the cache (hundreds of small files).
    return readFileSync(file);
  } catch (err) {
    throw new PolicyOciError('INVALID_INPUT', `${file}: ${(err as Error).message}`, { cause: err });
  }
}

function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    // Kubernetes objects are UTF-8 JSON: refuse other encodings instead of mangling them.
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new PolicyOciError('INVALID_INPUT', `${file}: not UTF-8 text`);
  }
}

function fromCache(d: CachedDocument, file: string): PolicyDocument {
  const doc: PolicyDocument = { object: d.object, source: { file, index: d.index, ...(d.line !== undefined ? { line: d.line } : {}) }, engine: d.engine, canonical: d.canonical };
  if (d.warnings.length) doc.warnings = d.warnings;
  return doc;
}

/**
 * A file's documents as the cache stores them, or undefined when an object is not plain JSON data
 * (e.g. a -0 from YAML), which would not come back identical from the entry: the fast canonical
 * writer refuses exactly those (canonical.ts), and such a file is simply read every time.
 */
function toCache(docs: PolicyDocument[]): CachedDocument[] | undefined {
  const out: CachedDocument[] = [];
  for (const doc of docs) {
    const canonical = fastCanonical(doc.object); // = stringifyCanonical(object) when defined
    if (canonical === undefined) return undefined;
    doc.canonical = canonical; // packing needs it now anyway
    out.push({ object: doc.object, canonical, engine: doc.engine, index: doc.source.index, warnings: [...(doc.warnings ?? [])], ...(doc.source.line !== undefined ? { line: doc.source.line } : {}) });
  }
  return out;
}

type Loaded = { doc: PolicyDocument } | { problems: string[]; code: ErrorCode };

async function loadOne(d: ParsedDoc, opts: LoadOptions): Promise<Loaded> {
  const at = (p?: Problem) => `${d.file}:${(p?.path && d.locate(p.path)) || d.line}`;
  // Checked first: validation clones the value, which a pathological depth would overflow.
  if (nestedDeeperThan(d.value)) return { problems: [`${at()}: document ${d.index + 1} is nested deeper than ${MAX_NESTING} levels`], code: 'INVALID_INPUT' };
  const c = classify(d.value);
  if (!c.ok) {
    const where = d.index > 0 || c.code === 'INVALID_INPUT' ? `${at(c.problem)}: document ${d.index + 1}` : at(c.problem);
    return { problems: [`${where}: ${c.problem.message}`], code: c.code };
  }
  const source = { file: d.file, line: d.line, index: d.index };
  const engine = c.match.engine.name;
  if (!opts.validate) {
    // Even unvalidated, a policy needs a name: files, layers and apply are keyed by it.
    const name = (d.value as { metadata?: { name?: unknown } }).metadata?.name;
    if (typeof name !== 'string' || name === '') {
      return { problems: [`${at()}: ${describeObject(d.value as object)}: metadata.name: required field missing`], code: 'INVALID_POLICY' };
    }
    const doc: PolicyDocument = { object: d.value as KubeObject, source, engine };
    if (d.warnings.length) doc.warnings = d.warnings;
    return { doc };
  }
  const r = await checkPolicy(d.value as object, c.match, opts.unknownFields ? { unknownFields: opts.unknownFields } : {});
  if (r.problems.length) {
    const what = describeObject(d.value as object);
    return { problems: r.problems.map((p) => `${at(p)}: ${what}: ${p.message}`), code: 'INVALID_POLICY' };
  }
  const warnings = [...d.warnings, ...r.warnings.map((w) => `${d.file}:${d.line}: ${w}`)];
  const doc: PolicyDocument = { object: r.object, source, engine };
  if (warnings.length) doc.warnings = warnings;
  return { doc };
}

/** The same object twice would overwrite itself on apply: say so, but it is not an error. */
function warnDuplicates(docs: PolicyDocument[]): void {
  const first = new Map<string, PolicyDocument>();
  for (const d of docs) {
    const o = d.object;
    const group = String(o.apiVersion).split('/').slice(0, -1).join('/');
    const key = `${group}|${o.kind}|${o.metadata?.namespace ?? ''}|${o.metadata?.name}`;
    const prev = first.get(key);
    if (!prev) {
      first.set(key, d);
      continue;
    }
    (d.warnings ??= []).push(
      `${d.source.file}:${d.source.line ?? 1}: ${describeObject(o)} is also in ${prev.source.file}:${prev.source.line ?? 1}; applying both keeps only one`,
    );
  }
}
