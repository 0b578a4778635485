// Strict reading of YAML and JSON policy files, and the one canonical YAML we write.
// Reading gives what kubectl reads (go-yaml v2 under sigs.k8s.io/yaml: YAML 1.1 scalars, merge
// keys, quoted scalars at any indentation; goyaml-scalars.ts, goyaml-lexer.ts), refuses what the
// API server's strict decoding refuses (duplicate keys, also through merges), and refuses where
// kubectl would silently store something else than the file says (docs/ARCHITECTURE.md, "Reading
// YAML"). test/differential/yaml-k8s.test.ts holds it to kubectl's own reader.
import { LineCounter, isAlias, isMap, isNode, isScalar, isSeq, parseDocument, visit } from 'yaml';
import type { Document, Node, YAMLError, YAMLWarning } from 'yaml';
import { PolicyOciError } from '../errors.ts';
import { fastCanonical, hasYaml11Unsafe, libraryCanonical } from './canonical.ts';
import { parseCanonicalShape } from './canonical-parse.ts';
import { parseAllGoDocuments } from './goyaml-lexer.ts';
import { goScalarTag } from './goyaml-scalars.ts';

export interface ParsedDoc {
  /** The document's value (for a `List`, one item of it). */
  value: unknown;
  file: string;
  /** 0-based position among the file's documents, after `List`s are expanded. */
  index: number;
  /** 1-based line where the document (or list item) starts. */
  line: number;
  /** Things that parse but may not mean what the author thinks (e.g. `on` is a boolean to kubectl). */
  warnings: string[];
  /** The line of the value at `path` inside this document, when it can be found. */
  locate: (path: (string | number)[]) => number | undefined;
  /** The text itself when it is already stringifyCanonical(value) (our own layers). */
  canonical?: string;
}

/** Aliases are legal YAML but a policy rarely needs many: a small bound stops "billion laughs". */
const MAX_ALIAS_COUNT = 20;
/** Problems listed per file before the rest is summarised. */
const MAX_PROBLEMS = 20;

interface RawDoc {
  value: unknown;
  line: number;
  /** Start line of each element of a top-level `items` sequence (for `List` expansion). */
  itemLines: number[];
  warnings: string[];
  locate: (path: (string | number)[]) => number | undefined;
}

/** Parses every document of a file; throws one INVALID_INPUT error listing each problem. */
export function parseDocuments(text: string, file: string): ParsedDoc[] {
  const src = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const json = isJson(src, file);
  if (!json) {
    // Our own canonical YAML (every layer we write) is read without the general parser.
    const value = readCanonical(src);
    if (value !== undefined) return [{ value, file, index: 0, line: 1, warnings: [], locate: lazyLocator(src, file), canonical: src }];
  }
  const raw = json ? [parseJson(src, file)] : parseYaml(src, file);
  if (raw.length === 0) {
    throw new PolicyOciError('INVALID_INPUT', `${file}: holds no document (it is empty, or only comments and "---" separators)`);
  }
  return expandLists(raw, file);
}

/**
 * The value of a canonical YAML text (stringifyCanonical's output), or undefined for any other
 * text. Proven before it is returned: writing the value canonically must give back the text, and
 * the full parser reads canonical text back to the value it was written from (canonical-parse.ts).
 * A `List` is left to the full parser, which knows the line of each item.
 */
export function readCanonical(src: string): Record<string, unknown> | undefined {
  const value = parseCanonicalShape(src);
  if (value === undefined) return undefined;
  if (typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items)) return undefined;
  try {
    return stringifyCanonical(value) === src ? value : undefined;
  } catch (err) {
    if (err instanceof RangeError) return undefined; // nested deeper than the stack: the full parser's call
    throw err;
  }
}

/** Line numbers are only needed for a problem report: the full parse happens then, if ever. */
function lazyLocator(src: string, file: string): ParsedDoc['locate'] {
  let locate: ParsedDoc['locate'] | undefined;
  return (path) => (locate ??= parseYaml(src, file)[0]?.locate ?? (() => undefined))(path);
}

/** `.json` files, and JSON piped on stdin (starts with `{` or `[`), are read as JSON. */
function isJson(src: string, file: string): boolean {
  if (/\.json$/i.test(file)) return true;
  return !/\.ya?ml$/i.test(file) && /^\s*[{[]/.test(src);
}

function parseJson(src: string, file: string): RawDoc {
  let value: unknown;
  try {
    value = JSON.parse(src);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const pos = /at position (\d+)/.exec(msg);
    const { line, col } = pos ? lineCol(src, Number(pos[1])) : lineCol(src, src.length);
    const problem = msg.replace(/\s*(in JSON )?at position \d+.*$/, '').replace(/^./, (c) => c.toLowerCase());
    throw new PolicyOciError('INVALID_INPUT', `${file}:${line}:${col}: invalid JSON: ${problem}`);
  }
  // JSON.parse keeps the last of duplicate keys silently; the API server's strict decoding refuses
  // them, so look for them (and for line numbers) with the YAML parser, JSON being YAML 1.2.
  const lineCounter = new LineCounter();
  const doc = parseDocument(src, { lineCounter, uniqueKeys: true, prettyErrors: true });
  const problems = doc.errors.filter((e) => e.code === 'DUPLICATE_KEY').map((e) => describeError(e, doc, file, lineCounter));
  if (problems.length) throw fileError(problems);
  return {
    value,
    line: doc.contents ? lineCounter.linePos(doc.contents.range[0]).line : 1,
    itemLines: itemLines(doc, lineCounter),
    warnings: [],
    locate: locator(doc, lineCounter),
  };
}

function parseYaml(src: string, file: string): RawDoc[] {
  const lineCounter = new LineCounter();
  const docs = parseAllGoDocuments(src, {
    lineCounter,
    uniqueKeys: true,
    strict: true,
    merge: true, // `<<` merge keys: Kubernetes' Go reader applies them
    // Plain scalars as Kubernetes (go-yaml v2) resolves them; explicit tags keep the core schema's.
    customTags: (tags) => [goScalarTag, ...tags],
  });
  const problems: string[] = [...separatorProblems(src, file), ...unreadableCharacters(src, file)];
  const out: RawDoc[] = [];
  let afterDocEnd = false;
  for (const doc of docs) {
    if (doc.errors.length) {
      // yaml 2.9 with `compat` may add a spurious internal error next to a real syntax error.
      const real = doc.errors.filter((e) => e.code !== 'RESOURCE_EXHAUSTION' || !/^Cannot read properties/.test(e.message));
      problems.push(...(real.length ? real : doc.errors).map((e) => describeError(e, doc, file, lineCounter)));
      continue;
    }
    const startLine = lineCounter.linePos(doc.range[0]).line;
    if (doc.directives.yaml.explicit || Object.keys(doc.directives.tags).length > 2) {
      problems.push(`${file}:${startLine}: a YAML directive (%YAML, %TAG): kubectl cannot read it; remove it`);
      continue;
    }
    // kubectl splits streams at `---` lines only, and go-yaml reads the first document of each
    // piece: what follows a `...` before the next `---` is silently dropped. Refused instead.
    const dropped = afterDocEnd && !doc.directives.docStart && !isEmpty(doc.contents);
    afterDocEnd = doc.directives.docEnd === true;
    if (dropped) {
      problems.push(`${file}:${startLine}: content after "..." (document end) without a "---" first: kubectl ignores it; start a new document with "---"`);
      continue;
    }
    if (isEmpty(doc.contents)) continue; // Kubernetes skips empty documents
    const line = lineCounter.linePos(doc.contents!.range[0]).line;
    const warnings = doc.warnings.map((w) => describeWarning(w, file));
    const scalarProblems: string[] = [];
    const where = (node: Node) => {
      const p = lineCounter.linePos(node.range?.[0] ?? 0);
      return `${file}:${p.line}:${p.col}`;
    };
    visit(doc, {
      Pair(_, pair) {
        const k = pair.key;
        if (!isScalar(k)) return;
        if (k.value === null) scalarProblems.push(`${where(k)}: a null key: Kubernetes cannot read it`);
        else if (typeof k.value === 'number' && k.type === 'PLAIN' && !/^[-+]?[0-9_]+$|^[-+]?0[xXoObB][0-9a-fA-F_]+$/.test(String(k.source))) {
          // go-yaml turns a float key into text through 32-bit precision ("3.1415927"): refused.
          scalarProblems.push(`${where(k)}: the number key ${String(k.source)}: kubectl rewrites it; quote it`);
        }
      },
      Scalar(_, node) {
        if (typeof node.value === 'number' && !Number.isFinite(node.value)) {
          scalarProblems.push(`${where(node)}: ${String(node.source ?? node.value)} is not a number JSON (and so Kubernetes) can hold`);
        } else if (node.type === 'QUOTE_DOUBLE' && node.range && /(?:^|[^\\])(?:\\\\)*\\\//.test(src.slice(node.range[0], node.range[1]))) {
          scalarProblems.push(`${where(node)}: the escape \\/ is YAML 1.2 only: kubectl's YAML 1.1 reader refuses it; write / alone`);
        } else if (typeof node.value === 'bigint') {
          scalarProblems.push(`${where(node)}: ${String(node.source)} is an integer beyond 2^53 that kubectl keeps exactly but JavaScript cannot hold; quote it`);
        } else if (node.type === 'PLAIN' && typeof node.source === 'string' && node.value !== null && typeof node.value !== 'string' && YAML11_ONLY.test(node.source)) {
          warnings.push(`${where(node)}: ${node.source} is ${typeof node.value === 'boolean' ? `the boolean ${String(node.value)}` : `the number ${String(node.value)}`} to Kubernetes (YAML 1.1), as read here; quote it to keep the text`);
        }
      },
    });
    const mergeProblems = mergeDuplicates(doc, file, lineCounter);
    if (scalarProblems.length || mergeProblems.length) {
      problems.push(...scalarProblems, ...mergeProblems);
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      problems.push(`${file}:${line}: ${msg}${/alias/i.test(msg) ? ` (at most ${MAX_ALIAS_COUNT} aliases)` : ''}`);
      continue;
    }
    out.push({ value, line, itemLines: itemLines(doc, lineCounter), warnings, locate: locator(doc, lineCounter) });
  }
  if (problems.length) throw fileError(problems);
  return out;
}

/** Plain scalars that are booleans or numbers only to YAML 1.1 readers (Kubernetes'), not to 1.2 ones. */
const YAML11_ONLY = /^(?:[yYnN]|[Yy]es|YES|[Nn]o|NO|[Oo]n|ON|[Oo]ff|OFF|[-+]?0[0-7_]+|[-+]?0[bB][01_]+|[-+]?[0-9][0-9_]*_[0-9_]*(?:\.[0-9_]*)?)$/;

/**
 * Characters go-yaml (YAML 1.1) refuses or takes for line breaks when they appear raw: DEL, C1
 * controls, U+FFFE/U+FFFF; U+0085, U+2028, U+2029. Written escaped in double quotes they are fine.
 */
function unreadableCharacters(src: string, file: string): string[] {
  const m = /[\u007f-\u009f\u2028\u2029\ufffe\uffff]/.exec(src);
  if (!m) return [];
  const before = src.slice(0, m.index);
  const line = before.split('\n').length;
  const col = m.index - before.lastIndexOf('\n');
  const code = `U+${m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  const breaks = /[\u0085\u2028\u2029]/.test(m[0]);
  return [`${file}:${line}:${col}: a raw ${code}, which kubectl's YAML reader ${breaks ? 'takes for a line break' : 'refuses'}; write it escaped in a double-quoted string`];
}

/**
 * kubectl cuts a stream at every line starting with `---` (whatever YAML would make of it) and
 * refuses the stream when anything but a comment follows the marker on that line.
 */
function separatorProblems(src: string, file: string): string[] {
  const out: string[] = [];
  src.split('\n').forEach((l, i) => {
    if (!l.startsWith('---')) return;
    const rest = l.slice(3).trim();
    if (rest !== '' && !rest.startsWith('#')) out.push(`${file}:${i + 1}: "${l.trim().slice(0, 40)}": kubectl takes a line starting with --- for a document separator and allows only a comment after it`);
  });
  return out;
}

/**
 * Keys set twice through merge keys (`<<`), which go-yaml's strict decoding (the API server's under
 * fieldValidation=Strict) refuses like any duplicate key, and which its lenient decoding (kubectl's)
 * resolves differently from YAML's merge rules.
 */
function mergeDuplicates(doc: Document, file: string, lc: LineCounter): string[] {
  const out: string[] = [];
  const keyText = (k: unknown) => (isScalar(k) ? String(k.value) : JSON.stringify(k));
  const isMerge = (k: unknown) => isScalar(k) && (k.type === 'PLAIN' || !k.type) && (k.value === '<<' || (typeof k.value === 'symbol' && k.value.description === '<<'));
  const keysOf = (node: unknown, depth: number): string[] => {
    const n = isAlias(node) ? node.resolve(doc) : node;
    if (depth > 20) return [];
    if (isSeq(n)) return n.items.flatMap((it) => keysOf(it, depth + 1));
    if (!isMap(n)) return [];
    return n.items.flatMap((p) => (isMerge(p.key) ? keysOf(p.value, depth + 1) : [keyText(p.key)]));
  };
  visit(doc, {
    Map(_, map) {
      if (!map.items.some((p) => isMerge(p.key))) return;
      const seen = new Set<string>();
      for (const k of keysOf(map, 0)) {
        if (seen.has(k)) {
          const p = lc.linePos(map.range?.[0] ?? 0);
          out.push(`${file}:${p.line}:${p.col}: duplicate key "${k}" through a merge key (<<)`);
          return;
        }
        seen.add(k);
      }
    },
  });
  return out;
}

function isEmpty(contents: Node | null): boolean {
  return contents === null || (isScalar(contents) && contents.value === null);
}

/** `file:line:col: problem` — the library's message without its own " at line …" suffix. */
function describeError(err: YAMLError, doc: Document, file: string, lc: LineCounter): string {
  const pos = err.linePos?.[0];
  const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
  if (err.code === 'DUPLICATE_KEY') {
    const dup = duplicateKey(doc, err.pos[0], lc);
    if (dup) {
      const p = lc.linePos(dup.at);
      return `${file}:${p.line}:${p.col}: duplicate key "${dup.key}"${dup.firstLine ? ` (first at line ${dup.firstLine})` : ''}`;
    }
  }
  const first = err.message.split('\n')[0] ?? err.message;
  return `${where}: ${first.replace(/ at line \d+, column \d+:?$/, '')}`;
}

/**
 * The duplicate key reported at `offset` (the first key starting there or after it: the library
 * reports some at the whitespace before the key) and the line of its first occurrence.
 */
function duplicateKey(doc: Document, offset: number, lc: LineCounter): { key: string; at: number; firstLine?: number } | undefined {
  let best: { key: string; at: number; firstLine?: number } | undefined;
  const keyOf = (k: unknown) => (isScalar(k) ? String(k.value) : String(k));
  visit(doc, {
    Map(_, map) {
      for (const pair of map.items) {
        const at = isNode(pair.key) ? pair.key.range?.[0] : undefined;
        if (at === undefined || at < offset || (best && best.at <= at)) continue;
        const key = keyOf(pair.key);
        const first = map.items.find((p) => keyOf(p.key) === key);
        const start = first && isNode(first.key) ? first.key.range?.[0] : undefined;
        best = { key, at, ...(start !== undefined && start !== at ? { firstLine: lc.linePos(start).line } : {}) };
      }
    },
  });
  return best;
}

/** The library's own warnings (e.g. an unknown tag), as `file:line:col: message`. */
function describeWarning(w: YAMLWarning, file: string): string {
  const pos = w.linePos?.[0];
  const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
  return `${where}: ${(w.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`;
}

function locator(doc: Document, lc: LineCounter): (path: (string | number)[]) => number | undefined {
  return (path) => {
    for (let n = path.length; n >= 0; n--) {
      // The deepest node that exists: a missing field is reported at its parent.
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) return lc.linePos(node.range[0]).line;
    }
    return undefined;
  };
}

/** Start lines of the elements of a top-level `items:` sequence. */
function itemLines(doc: Document, lc: LineCounter): number[] {
  const items = isMap(doc.contents) ? doc.contents.get('items', true) : undefined;
  if (!isSeq(items)) return [];
  return items.items.map((n) => (isNode(n) && n.range ? lc.linePos(n.range[0]).line : 0));
}

/** `kind: List` (and typed lists such as `ClusterPolicyList`) stand for their items. */
function expandLists(raw: RawDoc[], file: string): ParsedDoc[] {
  const out: ParsedDoc[] = [];
  for (const d of raw) {
    const v = d.value;
    const isList =
      v !== null &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      typeof (v as Record<string, unknown>).kind === 'string' &&
      ((v as Record<string, unknown>).kind as string).endsWith('List') &&
      Array.isArray((v as Record<string, unknown>).items);
    if (!isList) {
      out.push({ value: v, file, index: out.length, line: d.line, warnings: d.warnings, locate: d.locate });
      continue;
    }
    const items = (v as { items: unknown[] }).items;
    items.forEach((item, i) => {
      out.push({
        value: item,
        file,
        index: out.length,
        line: d.itemLines[i] || d.line,
        warnings: i === 0 ? d.warnings : [],
        locate: (path) => d.locate(['items', i, ...path]),
      });
    });
  }
  return out;
}

function fileError(problems: string[]): PolicyOciError {
  const shown = problems.slice(0, MAX_PROBLEMS);
  if (problems.length > MAX_PROBLEMS) shown.push(`… and ${problems.length - MAX_PROBLEMS} more`);
  return new PolicyOciError('INVALID_INPUT', problems[0]!, { details: shown });
}

function lineCol(src: string, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < src.length; i++) {
    if (src.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, col: offset - start + 1 };
}

/**
 * Deterministic YAML: keys sorted at every level, no aliases, no folding, final newline. Strings
 * that YAML 1.1 would read as something else (`yes`, `on`, `y`, `0755`, `1e3`, `~`, `null`) are
 * quoted, so kubectl's YAML 1.1-ish reader and any YAML 1.2 reader agree on every value.
 */
export function stringifyCanonical(obj: unknown): string {
  // The same bytes as libraryCanonical (the library's writer), several times faster (canonical.ts);
  // the library itself for anything that is not plain JSON data.
  const fast = fastCanonical(obj);
  if (fast !== undefined) return fast;
  // The library writes U+2028 and the like raw; only the fast writer escapes them for YAML 1.1.
  if (someString(obj, hasYaml11Unsafe)) {
    throw new PolicyOciError('INVALID_INPUT', 'a value holds both data YAML cannot write canonically (NaN, a key over 1024 characters…) and characters a YAML 1.1 reader changes (U+2028, U+0085…)');
  }
  return libraryCanonical(obj);
}

/** True when some string in the value, key or value at any depth, passes the test. */
export function someString(v: unknown, test: (s: string) => boolean): boolean {
  if (typeof v === 'string') return test(v);
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.some((x) => someString(x, test));
  return Object.entries(v).some(([k, x]) => test(k) || someString(x, test));
}
