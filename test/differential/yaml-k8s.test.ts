// Our YAML reader and writer against the reader that matters: kubectl's own (its resource builder
// over sigs.k8s.io/yaml and go-yaml v2, through the k8s-yaml tool). For every corpus file and for
// generated streams full of YAML's corners, both must read the same objects, or both refuse; and
// whatever our writer writes, kubectl must read back to the value we meant.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDocuments, stringifyCanonical } from '../../src/policy/yaml.ts';
import { corpusFiles } from '../support/corpus.ts';
import { kubectlRead, sameData, type KubectlReading } from '../support/k8s-yaml.ts';

/** The seed of the generated cases (POLICYOCI_FC_SEED to replay a failure). */
const SEED = Number(process.env.POLICYOCI_FC_SEED ?? Date.now() % 2 ** 31);
const RUNS = 400;

type OurReading = { values: unknown[] } | { refused: string };

/**
 * Where we refuse on purpose what kubectl reads (docs/ARCHITECTURE.md, "Reading YAML"): kubectl
 * would silently store something else than the file says, or something JavaScript cannot hold.
 */
const DELIBERATE: [string, RegExp][] = [
  ['an integer beyond 2^53 (kubectl keeps it exactly; a JavaScript number cannot)', /is an integer beyond 2\^53/],
  ['content after "..." before the next "---" (kubectl drops it silently)', /content after "\.\.\." \(document end\)/],
  ['a float map key (kubectl rewrites it through 32-bit precision)', /the number key .*: kubectl rewrites it/],
  ['a raw U+0085, U+2028 or U+2029 (a line break to kubectl, which then reads another structure)', /a raw U\+(0085|2028|2029), which kubectl's YAML reader takes for a line break/],
  ['a YAML directive (kubectl refuses it at the start of a stream and ignores it after a ---)', /a YAML directive \(%YAML, %TAG\)|cannot start with directive indicator character %/],
];
const deliberateSeen = new Map<string, number>();

function ourRead(text: string, file: string): OurReading {
  try {
    return { values: parseDocuments(text, file).map((d) => d.value) };
  } catch (err) {
    return { refused: (err as Error).message };
  }
}

/** Why the two readings differ, or undefined when they agree (the same objects, or both refuse). */
function divergence(ours: OurReading, kube: KubectlReading): string | undefined {
  // kubectl reads an empty stream as no object and `kubectl apply` then refuses: "no objects passed".
  const kubeRefuses = kube.errors.length > 0 || kube.strict !== undefined || kube.objects.length === 0;
  // A document that is not an object with a kind is refused by both (kubectl when decoding it, we
  // when classifying it): the readings to compare are of objects.
  const oursRefuses = 'refused' in ours || ours.values.some((v) => v === null || typeof v !== 'object' || Array.isArray(v) || typeof (v as { kind?: unknown }).kind !== 'string' || (v as { kind: string }).kind === '');
  if (kubeRefuses || oursRefuses) {
    if (kubeRefuses && oursRefuses) return undefined;
    const why = 'refused' in ours ? DELIBERATE.find(([, re]) => re.test(ours.refused)) : undefined;
    if (why && !kubeRefuses) {
      deliberateSeen.set(why[0], (deliberateSeen.get(why[0]) ?? 0) + 1);
      return undefined;
    }
    return kubeRefuses
      ? `kubectl refuses (${kube.errors.join('; ') || kube.strict || 'no object'}), we read ${JSON.stringify((ours as { values: unknown[] }).values)}`
      : `we refuse (${'refused' in ours ? ours.refused : 'not an object with a kind'}), kubectl reads ${show(kube.objects)}`;
  }
  const values = (ours as { values: unknown[] }).values;
  if (values.length !== kube.objects.length) return `we read ${values.length} objects, kubectl ${kube.objects.length}: ${JSON.stringify(values)} vs ${show(kube.objects)}`;
  for (const [i, v] of values.entries()) {
    if (!sameData(v, kube.objects[i])) return `object ${i + 1}: we read ${JSON.stringify(v)}, kubectl ${show(kube.objects[i])}`;
  }
  return undefined;
}

function show(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));
}

function expectNoDivergence(texts: string[], label: (i: number) => string): void {
  const kube = kubectlRead(texts);
  const problems: string[] = [];
  for (const [i, text] of texts.entries()) {
    const d = divergence(ourRead(text, 'gen.yaml'), kube[i]!);
    if (d) problems.push(`${label(i)}\n  ${JSON.stringify(text).slice(0, 600)}\n  ${d.slice(0, 600)}`);
  }
  expect(problems.slice(0, 10).join('\n'), `${problems.length} of ${texts.length} differ (seed ${SEED})`).toBe('');
}

// ---------------------------------------------------------------------------------------------
// Generated streams

/** Plain scalars whose type YAML 1.1 (go-yaml v2) and 1.2 resolve differently, or not at all. */
const PLAIN = [
  'yes', 'no', 'on', 'off', 'y', 'n', 'Y', 'N', 'Yes', 'NO', 'On', 'OFF', 'true', 'True', 'FALSE', 'null', 'Null', 'NULL', '~',
  '0755', '0o17', '0x1F', '0X1f', '0b101', '-0b11', '08', '09.5', '0', '-0', '+1', '+0x10', '1_000', '1__0', '0_7', '_1', '1e3', '1E-2', '1.', '.5', '-.5', '+.5e2',
  '.inf', '-.Inf', '+.INF', '.nan', '.NaN', '1.0', '3.14159', '1e400', '-1e400', '1.7976931348623157e308', '5e-324',
  '9007199254740991', '9007199254740993', '-9007199254740993', '9223372036854775807', '9223372036854775808', '18446744073709551615',
  '18446744073709551616', '-9223372036854775809', '0x7FFFFFFFFFFFFFFF', '0xFFFFFFFFFFFFFFFF',
  '12:30:00', '1:20', '190:20:30', '2024-01-01', '2001-12-14t21:59:43.10-05:00', '2001-12-14 21:59:43.10', '2024-1-1',
  'a b', 'é', '日本語', '😀', 'x=y', '=', '<<', '-x', 'a#b', 'a\u2028b', 'a\u0085b', 'a\u00a0b', 'x\u200by',
];

const QUOTED = [
  "'it''s'", "'yes'", '"on"', '"\\x41\\u00e9\\U0001F600"', '"\\N\\L\\P\\_"', '"\\e\\/\\t\\0"', '"tab\there"', "''", '""',
  '"line\\nbreak"', '"a\\\n  b"', "'multi\n  line'", '"multi\n\n  para"', "'\u2028'",
];

const BLOCK_HEADERS = ['|', '|-', '|+', '>', '>-', '>+', '|2', '|2-', '>1+', '|+2'];

const key = fc.constantFrom('a', 'b', 'name', 'yes', 'on', 'no', '1', '0x1F', '1.5', 'true', '~', 'null', 'k é', '"q"', "'q'", 'x y', '<<', '?x', '日本');

const lineBreak = fc.constantFrom('\n', '\r\n');

/** A value after `key:` at indentation `ind` (the value's own lines are indented deeper). */
function value(ind: string): fc.Arbitrary<string> {
  const deeper = `${ind}  `;
  const lines = fc.array(fc.constantFrom('text', '  more', '', 'tail  ', 'é ü', '# not a comment', 'a: b', '- c', '\ttab', 'x'.repeat(3000)), { minLength: 0, maxLength: 4 });
  return fc.oneof(
    fc.constantFrom(...PLAIN).map((s) => ` ${s}`),
    fc.constantFrom(...QUOTED).map((s) => ` ${s.replaceAll('\n  ', `\n${deeper}`)}`),
    fc.tuple(fc.constantFrom(...BLOCK_HEADERS), lines, fc.constantFrom('', '\n', '\n\n')).map(([h, ls, trail]) => ` ${h}\n${ls.map((l) => (l === '' ? '' : `${deeper}${l}`)).join('\n')}${trail}`),
    fc.constantFrom('[a, b, {c: d}]', '{x: 1, y: [2, 3]}', '[]', '{}', '[yes, 0755, "on"]', '{a: 1, a: 2}', '[a, [b, [c]]]').map((s) => ` ${s}`),
    fc.constantFrom(...PLAIN).map((s) => ` &anc ${s}`),
    fc.constant(` *anc`),
    fc.constantFrom(...PLAIN).map((s) => `\n${deeper}- ${s}\n${deeper}- x`),
    fc.tuple(key, fc.constantFrom(...PLAIN)).map(([k, v]) => `\n${deeper}${k}: ${v}\n${deeper}zz: 1`),
    fc.constantFrom(...PLAIN).map((s) => ` ${s} # comment`),
    fc.constantFrom('folded', 'x y').map((s) => ` ${s}\n${deeper}continued\n\n${deeper}para`),
    fc.constantFrom('\t1', '\tvalue', ' value\t', ' 1\t# c').map((s) => s),
    fc.constant(` ${'long '.repeat(2000)}end`),
  );
}

/** One document: a Kubernetes-looking object with some generated entries, merges and comments. */
const documentText = fc
  .tuple(
    fc.array(fc.tuple(key, value('  ')), { minLength: 1, maxLength: 6 }),
    fc.constantFrom('', '# top comment\n', '%YAML 1.1\n---\n'),
    fc.constantFrom('none', 'before', 'after', 'list'),
    fc.boolean(),
  )
  .map(([entries, head, merge, dup]) => {
    const body = entries.map(([k, v]) => `  ${k}:${v}`).join('\n');
    const mergeText = {
      none: '',
      before: '  <<: *base\n  m: explicit\n',
      after: '  m: explicit\n  <<: *base\n',
      list: '  <<: [*base, *other]\n',
    }[merge];
    return (
      `${head}apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gen\nbase: &base {m: merged, n: 1}\nother: &other {n: 2, o: 3}\n` +
      `data:\n${mergeText}${body}\n${dup ? 'kind: Secret\n' : ''}`
    );
  });

const separator = fc.constantFrom('---\n', '--- # next\n', '---\n---\n', '...\n---\n', '---\n# only a comment\n---\n', '---\nnull\n---\n', '--- x\n', '---  \n');

/** A whole stream: BOM, a leading `---`, several documents, CRLF or LF, a final newline or not. */
const streamText = fc
  .tuple(fc.array(documentText, { minLength: 1, maxLength: 3 }), fc.array(separator, { minLength: 3, maxLength: 3 }), fc.boolean(), fc.boolean(), lineBreak, fc.constantFrom('', '\n', '\n\n', '\n# end\n'))
  .map(([docs, seps, bom, lead, nl, end]) => {
    let text = docs.map((d, i) => (i === 0 ? d : `${seps[i - 1]}${d}`)).join('');
    text = text.replace(/\n+$/, '') + end;
    if (lead) text = `---\n${text}`;
    if (nl === '\r\n') text = text.replaceAll('\n', '\r\n');
    return bom ? `\uFEFF${text}` : text;
  });

// ---------------------------------------------------------------------------------------------

describe('our YAML reader reads what kubectl reads', () => {
  it(`every corpus file: the same objects, or both refuse`, () => {
    const files = corpusFiles();
    const kube = kubectlRead(files.map((f) => readFileSync(f.absolute)));
    const problems: string[] = [];
    for (const [i, f] of files.entries()) {
      const d = divergence(ourRead(readFileSync(f.absolute, 'utf8'), f.path), kube[i]!);
      if (d) problems.push(`${f.path}: ${d.slice(0, 600)}`);
    }
    expect(problems.join('\n'), `${problems.length} of ${files.length} corpus files read differently`).toBe('');
    expect(files.length).toBeGreaterThan(1400);
  });

  it(`generated streams (${RUNS}): block scalars, chomping, CRLF, BOM, tabs, anchors, merges, flow styles, separators, comments, YAML 1.1 scalars, duplicate keys, long lines`, () => {
    const texts = fc.sample(streamText, { numRuns: RUNS, seed: SEED });
    expectNoDivergence(texts, (i) => `stream ${i} (seed ${SEED})`);
  });

  it('single values at the end of a file, with and without a final newline', () => {
    const texts: string[] = [];
    const head = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: end\ndata:\n  k:';
    for (const h of BLOCK_HEADERS) {
      for (const body of ['', '\n    x', '\n    x\n', '\n    x\n\n', '\n    x\n    \n', '\n    x\n\n\n# c\n', '\n\n    x']) {
        for (const nl of ['\n', '\r\n']) texts.push(`${head} ${h}${body}`.replaceAll('\n', nl));
      }
    }
    for (const v of [...PLAIN, ...QUOTED]) {
      texts.push(`${head} ${v}`, `${head} ${v}\n`, `${head}\n    ${v}`, `${head} ${v}\r\n`);
    }
    expectNoDivergence(texts, (i) => `value ${i}`);
  });
});

describe('kubectl reads what our writer wrote', () => {
  const TRICKY = [...PLAIN, '', ' lead', 'trail ', 'multi\nline', 'multi\nline\n', '\n', ' \n', '\ta\n', 'x\r\ny', '\uFEFFbom', '---', '...', '- a', 'a: b', '#x', '"q"', "'q'", '\u2029', '\u0085x', '\x7f', '\u00a0', 'x'.repeat(5000)];
  const jsonValue = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constantFrom(...TRICKY),
      fc.string({ unit: 'grapheme' }),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(fc.oneof(fc.string(), fc.constantFrom(...TRICKY)), tie('value'), { maxKeys: 4 }),
    ),
  })).value;
  const object = fc.record({ apiVersion: fc.constant('v1'), kind: fc.constant('ConfigMap'), metadata: fc.record({ name: fc.constant('w') }), data: fc.dictionary(fc.oneof(fc.string(), fc.constantFrom(...TRICKY)), jsonValue, { maxKeys: 6 }) });

  it(`generated objects (${RUNS}): stringifyCanonical → kubectl gives the object back`, () => {
    const objects = fc.sample(object, { numRuns: RUNS, seed: SEED });
    // Our writer refuses a few values (e.g. U+2028 with a key over 1024 characters): nothing to read.
    const written = objects.flatMap((o) => {
      try {
        return [{ o, text: stringifyCanonical(o) }];
      } catch {
        return [];
      }
    });
    expect(written.length).toBeGreaterThan(RUNS * 0.9);
    const texts = written.map((w) => w.text);
    const kube = kubectlRead(texts);
    const problems = written.flatMap(({ o }, i) => {
      const k = kube[i]!;
      if (k.errors.length || k.strict || k.objects.length !== 1 || !sameData(o, k.objects[0])) return [`${JSON.stringify(texts[i])}\n  kubectl: ${show(k)}`];
      return [];
    });
    expect(problems.slice(0, 5).join('\n'), `${problems.length} of ${written.length} written objects come back different (seed ${SEED})`).toBe('');
  });

  it('every corpus policy we read, written canonically, reads back the same in kubectl', () => {
    const values = corpusFiles().flatMap((f) => {
      const r = ourRead(readFileSync(f.absolute, 'utf8'), f.path);
      return 'values' in r ? r.values.filter((v) => v !== null && typeof v === 'object' && !Array.isArray(v) && typeof (v as { kind?: unknown }).kind === 'string') : [];
    });
    const texts = values.map((v) => stringifyCanonical(v));
    const kube = kubectlRead(texts);
    const problems = values.flatMap((v, i) => (kube[i]!.objects.length === 1 && sameData(v, kube[i]!.objects[0]) && !kube[i]!.errors.length ? [] : [`${texts[i]!.slice(0, 300)}\n  kubectl: ${show(kube[i]).slice(0, 300)}`]));
    expect(problems.slice(0, 5).join('\n'), `${problems.length} of ${values.length} corpus objects`).toBe('');
    expect(values.length).toBeGreaterThan(1300);
  });
});

afterAll(() => {
  // The counts for the note: where we refuse on purpose what kubectl reads.
  if (deliberateSeen.size) console.log(`deliberate refusals: ${[...deliberateSeen].map(([why, n]) => `${n} × ${why}`).join('; ')}`);
});
