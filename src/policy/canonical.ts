// The canonical YAML of yaml.ts's stringifyCanonical, written without building a YAML Document.
// Building the Document (a node per value, then its stringifier) was a quarter of the CPU time of a
// push and a third of a pull. Here the block structure (sorted keys, indentation, `- ` items, `{}`
// and `[]`) is written directly, exactly as the library lays it out for these options, and every
// string still goes through the library's own string stringifier (plain, quoted or block, with the
// YAML 1.1 checks), so the bytes are libraryCanonical's: the library's, with the few strings it
// would write as a misread block forced double-quoted. Anything outside plain JSON data (undefined
// in an array, -0, NaN, class instances, keys over 1024 characters) returns undefined: the caller
// then uses libraryCanonical itself. test/unit/policy/canonical.test.ts compares the two.
import { Document, visit } from 'yaml';
import type { Scalar } from 'yaml';
import { stringTag } from 'yaml/util';
import type { StringifyContext } from 'yaml/util';
import { compareCodeUnits } from '../util/compare.ts';
import { goPlainScalar } from './goyaml-scalars.ts';

export const CANONICAL_OPTIONS = {
  compat: 'yaml-1.1',
  sortMapEntries: true,
  lineWidth: 0,
  minContentWidth: 0,
  aliasDuplicateObjects: false,
} as const;

// The library's toString defaults (stringify/stringify.js createStringifyContext) under our options.
const TO_STRING_DEFAULTS = {
  blockQuote: true,
  defaultKeyType: null,
  defaultStringType: 'PLAIN',
  directives: null,
  doubleQuotedAsJSON: false,
  doubleQuotedMinMultiLineLength: 40,
  falseStr: 'false',
  flowCollectionPadding: true,
  indentSeq: true,
  lineWidth: 80,
  minContentWidth: 20,
  nullStr: 'null',
  simpleKeys: false,
  singleQuote: null,
  trailingComma: false,
  trueStr: 'true',
  verifyAliasOrder: true,
};

class Unsupported extends Error {}

let doc: Document | undefined;
let options: Record<string, unknown> | undefined;
/** One context per (indent, key or value): the library copies it before changing anything. */
const contexts = new Map<string, StringifyContext>();
/** Single-line strings repeat (keys above all): their output depends only on indent and role. */
const cache = new Map<string, string>();
const CACHE_LIMIT = 50_000;

function context(indent: string, implicitKey: boolean): StringifyContext {
  const id = `${implicitKey ? 'k' : 'v'}${indent.length}`;
  let ctx = contexts.get(id);
  if (ctx === undefined) {
    doc ??= new Document(null, CANONICAL_OPTIONS);
    options ??= { ...TO_STRING_DEFAULTS, ...(doc.schema as unknown as { toStringOptions?: object }).toStringOptions, ...CANONICAL_OPTIONS };
    ctx = { anchors: new Set(), doc, flowCollectionPadding: ' ', indent, indentStep: '  ', inFlow: null, implicitKey, options } as unknown as StringifyContext;
    contexts.set(id, ctx);
  }
  return ctx;
}

/**
 * Characters a YAML 1.1 reader (kubectl's go-yaml) changes or refuses when written raw: U+0085,
 * U+2028 and U+2029 are line breaks to it, DEL, other C1 controls and U+FFFE/U+FFFF are not printable.
 * JSON.stringify leaves them raw, and so does the library's double-quoted style built on it.
 */
const YAML11_UNSAFE = /[\u007f-\u009f\u2028\u2029\ufffe\uffff]/;
const YAML11_UNSAFE_ALL = new RegExp(YAML11_UNSAFE.source, 'g');
const YAML11_ESCAPES: Record<string, string> = { '\u0085': '\\N', '\u2028': '\\L', '\u2029': '\\P', '\ufffe': '\\uFFFE', '\uffff': '\\uFFFF' };

/** A double-quoted scalar on one line with every YAML 1.1-unsafe character escaped. */
function yaml11Quoted(value: string): string {
  return JSON.stringify(value).replace(YAML11_UNSAFE_ALL, (ch) => YAML11_ESCAPES[ch] ?? `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** True when the library would write a string raw that a YAML 1.1 reader reads differently. */
export function hasYaml11Unsafe(value: string): boolean {
  return YAML11_UNSAFE.test(value);
}

/**
 * Multi-line strings the library writes as a literal block without the indentation indicator a
 * reader needs: only whitespace ending in a line break with a space first (' \n', '\n  \t\n'),
 * which a YAML 1.2 reader reads back as something else because it takes those spaces for
 * indentation; and a tab first ('\tx\ny'), which Go's YAML reader (kubectl) refuses ("found a tab
 * character where an indentation space is expected"). They are written double-quoted instead. An
 * exhaustive check of every string of up to seven spaces, tabs, line breaks, letters, `#` and `-`
 * (335,922, as values at three depths and as keys), through the library's reader and through
 * sigs.k8s.io/yaml (kubectl's), found no other string either reader loses.
 */
const BLANK_SPACE_FIRST = /^\n* [ \t\n]*\n$/;
const TAB_FIRST = /^\n*\t/;

export function blockWouldMisread(value: string): boolean {
  return BLANK_SPACE_FIRST.test(value) || (TAB_FIRST.test(value) && value.includes('\n'));
}

/**
 * The canonical YAML of any value through the library itself (the fast writer's reference, and the
 * writer for what is not plain JSON data), with the strings it would lose forced double-quoted.
 */
export function libraryCanonical(value: unknown): string {
  const document = new Document(value, CANONICAL_OPTIONS);
  visit(document, {
    Scalar(_, node) {
      if (typeof node.value === 'string' && (blockWouldMisread(node.value) || goRetypes(node.value))) node.type = 'QUOTE_DOUBLE';
    },
  });
  return document.toString(CANONICAL_OPTIONS);
}

/**
 * Strings Kubernetes' reader (go-yaml v2) would read as something else when written plain: `yes`,
 * `0X1f`, `0o17`, `1_000`, `~`… The library's YAML 1.1 checks miss some of them (`0X1f`), so
 * they are always written double-quoted. A multi-line string is never plain: no check needed.
 */
function goRetypes(value: string): boolean {
  return !value.includes('\n') && typeof goPlainScalar(value) !== 'string';
}

function string(value: string, indent: string, implicitKey: boolean): string {
  if (hasYaml11Unsafe(value)) return yaml11Quoted(value);
  const cacheable = value.length < 256 && !value.includes('\n');
  const id = cacheable ? `${implicitKey ? 'k' : 'v'}${indent.length}:${value}` : '';
  if (cacheable) {
    const hit = cache.get(id);
    if (hit !== undefined) return hit;
  }
  // Only multi-line strings can be misread blocks, so single-line ones (the cached) skip the test.
  const quote = cacheable ? goRetypes(value) : blockWouldMisread(value);
  const scalar = quote ? { value, type: 'QUOTE_DOUBLE' } : { value };
  const out = stringTag.stringify!(scalar as Scalar, context(indent, implicitKey), undefined, undefined);
  if (cacheable) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(id, out);
  }
  return out;
}

function definedKeys(obj: Record<string, unknown>): string[] {
  return Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort(compareCodeUnits);
}

function isNonEmptyCollection(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.length > 0;
  for (const k in v as Record<string, unknown>) if ((v as Record<string, unknown>)[k] !== undefined) return true;
  return false;
}

function write(v: unknown, indent: string): string {
  switch (typeof v) {
    case 'string':
      return string(v, indent, false);
    case 'number':
      if (!Number.isFinite(v) || Object.is(v, -0)) throw new Unsupported();
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) {
        if (v.length === 0) return '[]';
        const itemIndent = `${indent}  `;
        let out = '';
        for (let i = 0; i < v.length; i++) {
          if (!(i in v) || v[i] === undefined) throw new Unsupported();
          out += `${i === 0 ? '' : `\n${indent}`}- ${write(v[i], itemIndent)}`;
        }
        return out;
      }
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) throw new Unsupported();
      const obj = v as Record<string, unknown>;
      const keys = definedKeys(obj);
      if (keys.length === 0) return '{}';
      const pairIndent = `${indent}  `;
      let out = '';
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const value = obj[key];
        const k = string(key, pairIndent, true);
        if (k.length > 1024) throw new Unsupported(); // the library writes an explicit `? key`
        let line: string;
        if (isNonEmptyCollection(value)) line = `${k}:\n${pairIndent}${write(value, pairIndent)}`;
        else {
          const s = write(value, pairIndent);
          line = s === '' || s[0] === '\n' ? `${k}:${s}` : `${k}: ${s}`;
        }
        out += i === 0 ? line : `\n${indent}${line}`;
      }
      return out;
    }
    default:
      throw new Unsupported();
  }
}

/** The canonical YAML of a JSON-like object, or undefined when only the library can write it. */
export function fastCanonical(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  try {
    return `${write(value, '')}\n`;
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
}
