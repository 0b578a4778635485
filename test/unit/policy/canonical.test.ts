// canonical.ts must write exactly the bytes of the yaml library's stringify (artifact digests
// depend on them): every corpus document and random JSON data are written both ways and compared.
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CANONICAL_OPTIONS, blockWouldMisread, fastCanonical, hasYaml11Unsafe, libraryCanonical } from '../../../src/policy/canonical.ts';
import { parseDocuments, readCanonical, someString, stringifyCanonical } from '../../../src/policy/yaml.ts';
import { corpusFiles } from '../../support/corpus.ts';

// The library's writer with the strings it would lose forced double-quoted (see blockWouldMisread).
const library = libraryCanonical;

type CorpusObject = { path: string; value: Record<string, unknown> };
let corpusCache: CorpusObject[] | undefined;

/** Every object of the corpus, parsed once for all the tests here. */
function corpusObjects(): CorpusObject[] {
  corpusCache ??= parseCorpus();
  expect(corpusCache.length).toBeGreaterThan(1300);
  return corpusCache;
}

function parseCorpus(): CorpusObject[] {
  const out: CorpusObject[] = [];
  for (const f of corpusFiles()) {
    let docs;
    try {
      docs = parseAllDocuments(readFileSync(f.absolute, 'utf8'));
    } catch {
      continue;
    }
    for (const d of docs) {
      if (d.errors.length) continue;
      try {
        const value = d.toJS({ maxAliasCount: 100 }) as unknown;
        if (value !== null && typeof value === 'object' && !Array.isArray(value)) out.push({ path: f.path, value: value as Record<string, unknown> });
      } catch {
        // an alias bomb: not data
      }
    }
  }
  return out;
}

// Strings that exercise every way the library writes a scalar: plain, single or double quoted,
// block literal with each chomping, YAML 1.1 look-alikes, indicators, document markers.
const tricky = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', ' ', 'yes', 'on', 'Off', 'y', 'N', '~', 'null', 'true', '0755', '1e3', '1_000', '0b1', '.inf', '12:30', '2001-12-14', '- a', '? x', 'a: b', 'a #b', '#x', '--- x', '...', '%x', '@x', '`x', '"q"', "'s'", 'it\'s "x"', 'a\nb', 'a\n', 'a\n\n', '\na', ' a\nb', 'a \nb', 'a\n ', '\t', 'x\r\ny', '|', '>', '*a', '&a', '!t', '[x]', '{x}', 'a,b', 'é', '\u2028', '\u{1F600}'),
  fc.array(fc.constantFrom('a', ' ', '\n', ':', '#', '-', '"', "'", '\t', '0', 'y', '.', '%', '|'), { maxLength: 12 }).map((a) => a.join('')),
);
const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, tricky, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)), fc.boolean(), fc.constant(null), tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(tricky, tie('value'), { maxKeys: 5 }),
}));

describe('fastCanonical', () => {
  it('writes every corpus document byte for byte as the library does', () => {
    for (const { path, value } of corpusObjects()) {
      const fast = fastCanonical(value);
      expect(fast, path).toBeDefined();
      expect(fast, path).toBe(library(value));
    }
  });

  it('writes random JSON data byte for byte as the library does', () => {
    fc.assert(
      fc.property(fc.dictionary(tricky, json.value, { maxKeys: 6 }), (obj) => {
        const fast = fastCanonical(obj);
        if (fast === undefined) return;
        // Whatever the bytes, a reader must get the very value back.
        expect(parse(fast)).toEqual(obj);
        // Where the library writes U+2028 and the like raw, ours escapes them (YAML 1.1 readers).
        if (someString(obj, hasYaml11Unsafe)) expect(hasYaml11Unsafe(fast)).toBe(false);
        else expect(fast).toBe(library(obj));
      }),
      { numRuns: 3000 },
    );
  });

  it('escapes the characters a YAML 1.1 reader changes or refuses, in keys and values', () => {
    const obj = { 'k\u2028': ['a\u2028b', '\u2029', 'x\u0085', '\u0080\u009f', 'z\ufffe\uffff', 'yes \u2028"q"\\'] };
    const text = stringifyCanonical(obj);
    expect(text).toBe('"k\\L":\n  - "a\\Lb"\n  - "\\P"\n  - "x\\N"\n  - "\\x80\\x9f"\n  - "z\\uFFFE\\uFFFF"\n  - "yes \\L\\"q\\"\\\\"\n');
    expect(parse(text)).toEqual(obj);
    expect(parseDocuments(text, 'x.yaml')[0]!.value).toEqual(obj);
    expect(() => stringifyCanonical({ a: Number.NaN, b: '\u2028' })).toThrow(/YAML 1.1/);
  });

  it('double-quotes the multi-line strings the library would write as a block without the indentation indicator readers need', () => {
    // Only whitespace, a space first: the library's own reader loses them.
    const lost = [' \n', '   \n', '\n \n', ' \t\n\n', '  \n\t\n', '\n\n  \n'];
    // A tab first: Go's YAML reader (kubectl) refuses them; test/reliability/cluster.test.ts I04 runs kubectl.
    const tabFirst = ['\ta\nb', '\n\tx', '\t \n', '\t\n'];
    for (const s of lost) {
      let read: unknown;
      try {
        read = parse(stringify({ k: { j: [s] } }, CANONICAL_OPTIONS));
      } catch (err) {
        read = err;
      }
      expect(read, JSON.stringify(s)).not.toEqual({ k: { j: [s] } });
    }
    for (const s of [...lost, ...tabFirst]) {
      expect(blockWouldMisread(s), JSON.stringify(s)).toBe(true);
      expect(stringify({ k: s }, CANONICAL_OPTIONS), JSON.stringify(s)).toContain('|'); // the library's choice
      for (const obj of [{ k: s }, { k: { j: [s] } }, { [s]: [[s]] }]) {
        const text = stringifyCanonical(obj);
        expect(text).not.toContain('|');
        expect(parse(text)).toEqual(obj);
        expect(parseDocuments(text, 'x.yaml')[0]!.value).toEqual(obj);
        expect(text).toBe(library(obj));
        // The library path (a value fastCanonical leaves to it) quotes them too.
        expect(parse(stringifyCanonical({ ...obj, nan: Number.NaN }))).toEqual({ ...obj, nan: Number.NaN });
      }
    }
    expect(stringifyCanonical({ k: ' \n', t: '\ta\nb' })).toBe('k: "\\ \\n"\nt: "\\ta\\nb"\n');
    // Neighbours the library writes correctly keep their block (and so their digests).
    for (const s of ['\n', '\n\n', 'a\n', ' a\n', '\n a\n', ' \n a', 'a\n\tb', ' \ta\n']) {
      expect(blockWouldMisread(s), JSON.stringify(s)).toBe(false);
      expect(stringifyCanonical({ k: s })).toBe(stringify({ k: s }, CANONICAL_OPTIONS));
      expect(stringifyCanonical({ k: s })).toContain('|');
      expect(parse(stringifyCanonical({ k: s }))).toEqual({ k: s });
    }
  });

  it('leaves what is not plain JSON data to the library', () => {
    expect(fastCanonical({ a: Number.NaN })).toBeUndefined();
    expect(fastCanonical({ a: -0 })).toBeUndefined();
    expect(fastCanonical({ a: [1, undefined] })).toBeUndefined();
    expect(fastCanonical({ a: new Date(0) })).toBeUndefined();
    expect(fastCanonical({ ['k'.repeat(1100)]: 1 })).toBeUndefined();
    for (const v of [{ a: Number.NaN }, { a: -0 }, { a: new Date(0) }, { ['k'.repeat(1100)]: 1 }]) expect(stringifyCanonical(v)).toBe(library(v));
    expect(fastCanonical({ a: undefined, b: 1 })).toBe(library({ a: undefined, b: 1 }));
  });
});

// The library's own reading of a canonical text (what parseDocuments returned before the fast path).
const libraryRead = (text: string) => parse(text, { uniqueKeys: true, strict: true, merge: true, compat: 'yaml-1.1' }) as unknown;

describe('readCanonical', () => {
  it('reads every corpus document written canonically, to what the library reads', () => {
    for (const { path, value } of corpusObjects()) {
      const text = stringifyCanonical(value);
      const read = readCanonical(text);
      // Every engine policy takes the fast path; elsewhere (Rego with blank lines of spaces) the
      // reader may leave a text to the library.
      if (/^(kyverno|kubearmor)\//.test(path)) expect(read, path).toBeDefined();
      if (read === undefined) continue;
      expect(isDeepStrictEqual(read, libraryRead(text)), path).toBe(true);
      const [doc] = parseDocuments(text, 'x.yaml');
      expect(doc!.warnings, path).toEqual([]);
      expect(isDeepStrictEqual(doc!.value, read), path).toBe(true);
    }
  });

  it('reads random canonical texts to what the library reads, or leaves them to it', () => {
    fc.assert(
      fc.property(fc.dictionary(tricky, json.value, { maxKeys: 6 }), (obj) => {
        const text = stringifyCanonical(obj);
        const read = readCanonical(text);
        if (read !== undefined) expect(isDeepStrictEqual(read, libraryRead(text))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('gives up on what is not canonical, and never reads __proto__ or merge keys itself', () => {
    for (const text of ['b: 1\na: 2\n', 'a: 1\na: 2\n', 'a: [1, 2]\n', 'a: &x 1\nb: *x\n', '# c\na: 1\n', 'a: 1', '__proto__:\n  x: 1\n', '<<:\n  x: 1\n', 'a: >-\n  x\n', 'a: 0755\n', 'a: on\n', 'a: 1e3\n', 'a: .inf\n']) {
      expect(readCanonical(text), text).toBeUndefined();
    }
    const proto = readCanonical(stringifyCanonical(JSON.parse('{"a":{"__proto__":{"polluted":1}}}')));
    expect(proto).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // and parseDocuments still reads them all as before, through the library
    expect(parseDocuments('b: 1\na: 2\n', 'x.yaml')[0]!.value).toEqual({ b: 1, a: 2 });
  });

  it('reports problems at their line, as the full parser does', () => {
    const text = stringifyCanonical({ apiVersion: 'v1', kind: 'X', metadata: { name: 'n' }, spec: { a: { b: 1 } } });
    const [doc] = parseDocuments(text, 'x.yaml');
    expect(doc!.locate(['spec', 'a', 'b'])).toBe(text.split('\n').findIndex((l) => l.includes('b: 1')) + 1);
  });
});
