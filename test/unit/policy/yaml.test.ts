import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PolicyOciError } from '../../../src/errors.ts';
import { parseDocuments, stringifyCanonical } from '../../../src/policy/yaml.ts';

function refusal(text: string, file = 'p.yaml'): PolicyOciError {
  try {
    parseDocuments(text, file);
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyOciError);
    expect((err as PolicyOciError).code).toBe('INVALID_INPUT');
    return err as PolicyOciError;
  }
  throw new Error('expected a refusal');
}

describe('parseDocuments', () => {
  it('reads multi-document YAML with lines and indexes, skipping empty documents', () => {
    const docs = parseDocuments('---\na: 1\n---\n# only a comment\n---\nb: 2\n', 'f.yaml');
    expect(docs.map((d) => [d.value, d.index, d.line])).toEqual([
      [{ a: 1 }, 0, 2],
      [{ b: 2 }, 1, 6],
    ]);
  });

  it('accepts CRLF, a BOM, no final newline, non-ASCII and tabs after values', () => {
    const docs = parseDocuments('\uFEFFa: Block\t# why\r\nb: "é"\t\r\nc: x', 'f.yaml');
    expect(docs[0]!.value).toEqual({ a: 'Block', b: 'é', c: 'x' });
  });

  it('refuses duplicate keys with file, line, column and the first occurrence', () => {
    const err = refusal('spec:\n  action: Audit\n  file: {}\n  action: Block\n');
    expect(err.message).toBe('p.yaml:4:3: duplicate key "action" (first at line 2)');
  });

  it('finds a duplicate key the parser reports at the whitespace before it', () => {
    const err = refusal('process:\n  severity: 7\n  action: Audit\n  file:\n  severity: 7\n');
    expect(err.message).toBe('p.yaml:5:3: duplicate key "severity" (first at line 2)');
  });

  it('refuses tab indentation and syntax errors with positions', () => {
    expect(refusal('a:\n\tb: 1\n').message).toBe('p.yaml:2:1: Tabs are not allowed as indentation');
    expect(refusal('a: [1, 2\nb: 3\n').message).toMatch(/^p\.yaml:\d+:\d+: /);
  });

  it('says a file holds no document', () => {
    for (const text of ['', '# nothing\n', '---\n---\n---\n', '---\n~\n']) {
      expect(refusal(text).message).toBe('p.yaml: holds no document (it is empty, or only comments and "---" separators)');
    }
  });

  it('bounds aliases', () => {
    const text = `a: &a [1]\nb: [${Array.from({ length: 30 }, () => '*a').join(', ')}]\n`;
    expect(refusal(text).message).toMatch(/^p\.yaml:1: .*at most 20 aliases/);
  });

  it('refuses numbers JSON cannot hold', () => {
    expect(refusal('a: .inf\n').message).toBe('p.yaml:1:4: .inf is not a number JSON (and so Kubernetes) can hold');
  });

  it('applies merge keys like Go YAML', () => {
    expect(parseDocuments('base: &b {x: 1}\nc:\n  <<: *b\n  z: 2\n', 'f.yaml')[0]!.value).toEqual({ base: { x: 1 }, c: { x: 1, z: 2 } });
    // A key set twice through a merge: the strict API server refuses it, and so do we.
    expect(refusal('base: &b {x: 1}\nc:\n  x: 0\n  <<: *b\n').message).toBe('p.yaml:3:3: duplicate key "x" through a merge key (<<)');
  });

  it('reads scalars as Kubernetes does (go-yaml v2, YAML 1.1), warning where YAML 1.2 would differ', () => {
    const [doc] = parseDocuments('a: yes\nb: 0755\nc: "on"\nd: 2024-01-01\ne: 0o17\nf: 1_000\ng: 1:20\nh: 0X1f\n', 'f.yaml');
    expect(doc!.value).toEqual({ a: true, b: 493, c: 'on', d: '2024-01-01', e: 15, f: 1000, g: '1:20', h: 31 });
    expect(doc!.warnings).toEqual([
      'f.yaml:1:4: yes is the boolean true to Kubernetes (YAML 1.1), as read here; quote it to keep the text',
      'f.yaml:2:4: 0755 is the number 493 to Kubernetes (YAML 1.1), as read here; quote it to keep the text',
      'f.yaml:6:4: 1_000 is the number 1000 to Kubernetes (YAML 1.1), as read here; quote it to keep the text',
    ]);
  });

  it('refuses what kubectl would read as something other than the file says', () => {
    expect(refusal('a: 9007199254740993\n').message).toMatch(/^p\.yaml:1:4: 9007199254740993 is an integer beyond 2\^53/);
    expect(refusal('a: 1\n...\nb: 2\n').message).toMatch(/^p\.yaml:3: content after "\.\.\." \(document end\)/);
    expect(refusal('a: x\u2028y\n').message).toMatch(/^p\.yaml:1:5: a raw U\+2028, which kubectl's YAML reader takes for a line break/);
    expect(refusal('a: 1\n--- {b: 2}\n').message).toMatch(/^p\.yaml:2: "--- \{b: 2\}": kubectl takes a line starting with ---/);
    expect(refusal('a: "x\\/y"\n').message).toMatch(/the escape \\\/ is YAML 1\.2 only/);
    expect(refusal('~: 1\n').message).toBe('p.yaml:1:1: a null key: Kubernetes cannot read it');
  });

  it('reads quoted scalars continued at any indentation, as go-yaml does', () => {
    expect(parseDocuments('a:\n  b: "one\n  two"\n', 'f.yaml')[0]!.value).toEqual({ a: { b: 'one two' } });
  });

  it('reads JSON, with positions for syntax errors and duplicate keys', () => {
    expect(parseDocuments('{"a": [1, {"b": null}]}', 'x.json')[0]!.value).toEqual({ a: [1, { b: null }] });
    expect(refusal('{\n  "a": 1,\n}', 'x.json').message).toBe('x.json:3:1: invalid JSON: expected double-quoted property name');
    expect(refusal('{"a": 1', 'x.json').message).toMatch(/^x\.json:1:8: invalid JSON: /);
    expect(refusal('{"a": 1,\n "a": 2}', 'x.json').message).toBe('x.json:2:2: duplicate key "a" (first at line 1)');
  });

  it('treats stdin starting with { as JSON and a .yaml file in flow style as YAML', () => {
    expect(parseDocuments(' {"a": 1}', '<stdin>')[0]!.value).toEqual({ a: 1 });
    expect(parseDocuments('{a: 1, b: [x,],}', 'f.yaml')[0]!.value).toEqual({ a: 1, b: ['x'] });
  });

  it('expands Lists (YAML and JSON) into their items, with the items’ lines', () => {
    const yaml = 'apiVersion: v1\nkind: List\nitems:\n- kind: A\n- kind: B\n';
    expect(parseDocuments(yaml, 'l.yaml').map((d) => [d.value, d.index, d.line])).toEqual([
      [{ kind: 'A' }, 0, 4],
      [{ kind: 'B' }, 1, 5],
    ]);
    const json = '{"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicyList", "items": [\n{"kind": "ClusterPolicy"}]}';
    expect(parseDocuments(json, 'l.json').map((d) => [d.value, d.line])).toEqual([[{ kind: 'ClusterPolicy' }, 2]]);
  });

  it('locates a path inside a document (the parent when the field is missing)', () => {
    const [doc] = parseDocuments('a: 1\nspec:\n  rules:\n  - name: x\n    match: 3\n', 'f.yaml');
    expect(doc!.locate(['spec', 'rules', 0, 'match'])).toBe(5);
    expect(doc!.locate(['spec', 'rules', 0, 'nope'])).toBe(4);
    expect(doc!.locate([])).toBe(1);
  });
});

/** Strings that YAML 1.1 (kubectl) or YAML 1.2 would read as something else when unquoted. */
const TRICKY = [
  'yes', 'no', 'on', 'off', 'y', 'n', 'Y', 'N', 'Yes', 'NO', 'On', 'OFF', 'true', 'False', 'null', 'Null', '~', '',
  '0755', '0o17', '0x1F', '0b101', '1e3', '1_000', '1.', '.5', '+1', '-0', '.inf', '-.Inf', '.nan', '12:30:00', '1:20',
  '2024-01-01', '2001-12-14t21:59:43.10-05:00', '<<', '=', '-', '?', ':', '- a', 'a: b', '#x', 'a #b', '[x]', '{x}',
  '*a', '&a', '!tag', '%x', '@x', '`x', '"q"', "'q'", ' lead', 'trail ', 'multi\nline', 'multi\nline\n', 'tab\there',
  '\t', 'é', '---', '...', '--- x', 'x\r\ny', '\u0085', '\u2028', '\uFEFFbom',
];

const jsonLike = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...TRICKY),
    fc.string(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string(), fc.constantFrom(...TRICKY)), tie('value'), { maxKeys: 4 }),
  ),
})).value;

describe('stringifyCanonical', () => {
  it('sorts keys at every level, quotes YAML 1.1 lookalikes, ends with a newline', () => {
    const text = stringifyCanonical({ b: { z: 1, a: ['on', 'x'] }, a: 'yes', c: '0755', d: '1e3', e: '~', f: 'null' });
    expect(text).toBe('a: "yes"\nb:\n  a:\n    - "on"\n    - x\n  z: 1\nc: "0755"\nd: "1e3"\ne: "~"\nf: "null"\n');
  });

  it('writes no aliases for shared objects and never folds long lines', () => {
    const shared = { k: 'v' };
    const long = 'x '.repeat(200).trim();
    const text = stringifyCanonical({ a: shared, b: shared, long });
    expect(text).not.toMatch(/[&*]/);
    expect(text).toContain(`long: ${long}\n`);
  });

  it('is independent of key order', () => {
    expect(stringifyCanonical({ a: 1, b: { c: 2, d: 3 } })).toBe(stringifyCanonical({ b: { d: 3, c: 2 }, a: 1 }));
  });

  it('round-trips JSON-like values, tricky strings included (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), jsonLike, { minKeys: 1, maxKeys: 5 }), (obj) => {
        const text = stringifyCanonical(obj);
        const [doc] = parseDocuments(text, 'p.yaml');
        expect(doc!.value).toEqual(obj);
        // Quoted lookalikes leave nothing for kubectl's YAML 1.1 reader to reinterpret.
        expect(doc!.warnings).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });
});
