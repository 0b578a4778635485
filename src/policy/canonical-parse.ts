// Reading back the canonical YAML we write (every layer we push, pull and apply) without the
// general YAML parser, which was two thirds of the CPU time of a pull. The reader knows only the
// shapes canonical.ts writes (block maps with sorted keys, `- ` items, `{}`, `[]`, plain, quoted
// and literal block scalars) and gives up (undefined) on anything else. Its result is then proven:
// it is accepted only if writing it canonically gives back the very same text, and since the full
// parser reads canonical text back to the value it was written from, the full parser would have
// returned the same value. So a wrong guess here costs time, never a different result.
import { compareCodeUnits } from '../util/compare.ts';

class Unsupported extends Error {}

const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?$/;
const BLOCK_HEADER = /^\|[1-9]?[-+]?$/;

function fail(): never {
  throw new Unsupported();
}

/** A plain scalar as the core schema reads the values canonical YAML leaves plain. */
function plain(s: string): unknown {
  if (s === 'null') return null;
  if (s === 'true') return true;
  if (s === 'false') return false;
  if (JSON_NUMBER.test(s)) return Number(s);
  return s; // anything the full parser would read otherwise was quoted by the writer: the proof fails
}

const ESCAPES: Record<string, string> = {
  '0': '\0', a: '\x07', b: '\b', t: '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b', ' ': ' ', '"': '"', '/': '/', '\\': '\\',
  N: '\u0085', _: '\u00a0', L: '\u2028', P: '\u2029',
};

/** A double-quoted scalar starting at `s[0]`; returns the value and the index after the closing quote. */
function doubleQuoted(s: string): [string, number] {
  let out = '';
  for (let i = 1; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '"') return [out, i + 1];
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const e = s[++i];
    if (e === undefined) fail();
    const simple = ESCAPES[e];
    if (simple !== undefined) {
      out += simple;
      continue;
    }
    const width = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : fail();
    const hex = s.slice(i + 1, i + 1 + width);
    if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== width) fail();
    out += String.fromCodePoint(Number.parseInt(hex, 16));
    i += width;
  }
  return fail(); // continued on the next line: not a shape we read
}

/** A single-quoted scalar starting at `s[0]` (on one line). */
function singleQuoted(s: string): [string, number] {
  let out = '';
  for (let i = 1; i < s.length; i++) {
    if (s[i] === "'") {
      if (s[i + 1] === "'") {
        out += "'";
        i++;
        continue;
      }
      return [out, i + 1];
    }
    out += s[i];
  }
  return fail();
}

class Reader {
  private readonly lines: string[];
  private i = 0;

  constructor(text: string) {
    this.lines = text.split('\n');
    this.lines.pop(); // the text ends with a newline
  }

  done(): boolean {
    return this.i === this.lines.length;
  }

  /** The rest of the current line after `indent` spaces, or undefined if it is indented otherwise. */
  private at(indent: number): string | undefined {
    const line = this.lines[this.i];
    if (line === undefined || line.length <= indent) return undefined;
    for (let k = 0; k < indent; k++) if (line.charCodeAt(k) !== 32) return undefined;
    return line.charCodeAt(indent) === 32 ? undefined : line.slice(indent);
  }

  /** `key` and what follows its colon, or undefined when the text is not a `key:` line. */
  private static pair(rest: string): [string, string] | undefined {
    let key: string;
    let end: number;
    if (rest[0] === '"') [key, end] = doubleQuoted(rest);
    else if (rest[0] === "'") [key, end] = singleQuoted(rest);
    else {
      const sep = rest.indexOf(': ');
      end = sep >= 0 ? sep : rest.endsWith(':') ? rest.length - 1 : -1;
      if (end <= 0) return undefined;
      key = rest.slice(0, end);
    }
    if (rest[end] !== ':' || (end + 1 < rest.length && rest[end + 1] !== ' ')) return undefined;
    return [key, rest.slice(end + 1)];
  }

  map(indent: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    let last: string | undefined;
    for (let rest = this.at(indent); rest !== undefined && !rest.startsWith('- ') && rest !== '-'; rest = this.at(indent)) {
      const pair = Reader.pair(rest);
      if (!pair) fail();
      const [key, after] = pair;
      // Sorted keys only (so no duplicates), and none the full parser treats specially.
      if ((last !== undefined && compareCodeUnits(last, key) >= 0) || key === '__proto__' || key === '<<') fail();
      last = key;
      this.i++;
      out[key] = after === '' ? this.nested(indent + 2) : this.inline(after.slice(1), indent + 2);
    }
    return out;
  }

  private nested(indent: number): unknown {
    const rest = this.at(indent);
    if (rest === undefined) fail();
    return rest.startsWith('- ') ? this.seq(indent) : this.map(indent);
  }

  seq(indent: number): unknown[] {
    const out: unknown[] = [];
    for (let rest = this.at(indent); rest !== undefined && rest.startsWith('- '); rest = this.at(indent)) {
      const item = rest.slice(2);
      if (item.startsWith('- ') || (item[0] !== '|' && Reader.pair(item))) {
        // A collection starting on the item's line: read it as if that line were indented.
        this.lines[this.i] = `${' '.repeat(indent + 2)}${item}`;
        out.push(item.startsWith('- ') ? this.seq(indent + 2) : this.map(indent + 2));
      } else {
        this.i++;
        out.push(this.inline(item, indent + 2));
      }
    }
    return out;
  }

  /** A value written on its key's or item's line (the current line is already consumed). */
  private inline(v: string, contentIndent: number): unknown {
    if (v === '{}') return {};
    if (v === '[]') return [];
    if (v[0] === '|') return this.block(v, contentIndent);
    if (v[0] === '"' || v[0] === "'") {
      const [s, end] = v[0] === '"' ? doubleQuoted(v) : singleQuoted(v);
      if (end !== v.length) fail();
      return s;
    }
    if (v === '' || v[0] === '>' || v[0] === '&' || v[0] === '*' || v[0] === '!' || v[0] === '{' || v[0] === '[') fail();
    return plain(v);
  }

  private block(header: string, contentIndent: number): string {
    if (!BLOCK_HEADER.test(header)) fail();
    const chomp = header.endsWith('-') ? 'strip' : header.endsWith('+') ? 'keep' : 'clip';
    const content: string[] = [];
    const pad = ' '.repeat(contentIndent);
    for (; this.i < this.lines.length; this.i++) {
      const line = this.lines[this.i]!;
      const blank = /^[ \t]*$/.test(line);
      // A line of spaces longer than the indentation is read differently by the full parser
      // (as indentation when it leads): not a shape to guess about.
      if (blank && line.length > contentIndent) fail();
      if (blank) content.push('');
      else if (line.startsWith(pad)) content.push(line.slice(contentIndent));
      else break;
    }
    if (content.length === 0) fail();
    const text = content.join('\n');
    return chomp === 'strip' ? text : chomp === 'clip' ? `${text}\n` : `${text}\n`;
  }
}

/**
 * The object a canonical YAML text stands for, if the reader can tell; undefined otherwise. The
 * caller must check that stringifyCanonical(result) === text before trusting it (readCanonical).
 */
export function parseCanonicalShape(text: string): Record<string, unknown> | undefined {
  if (!text.endsWith('\n') || text.includes('\r')) return undefined;
  try {
    const reader = new Reader(text);
    const value = reader.map(0);
    return reader.done() ? value : undefined;
  } catch (err) {
    // Nesting deeper than the stack: the full parser decides what that input is, as before.
    if (err instanceof Unsupported || err instanceof RangeError) return undefined;
    throw err;
  }
}
