// The validators scripts/build.mjs compiles into the executable (ajv standalone code, from
// src/policy/validate-standalone.ts) against the ones ajv compiles at run time (crd-schema.ts, what
// the source tree runs): every served kind has one, and on every policy of the corpus, and on
// broken copies of them, both give the same verdict and the same errors (so the same messages).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { dynamicKind, findKind, loadEngines, loadSchema, schemaKey } from '../../../src/engines/index.ts';
import { compileCrdSchema } from '../../../src/policy/crd-schema.ts';
import { standaloneValidators, type StandaloneValidators } from '../../../src/policy/validate-standalone.ts';
import { parseDocuments } from '../../../src/policy/yaml.ts';
import { corpusFiles } from '../../support/corpus.ts';

const requireFromHere = createRequire(import.meta.url);

/** Evaluates one module's standalone code as CommonJS, as the bundle does. */
function evaluate(source: string): ValidateFunction {
  const module = { exports: {} as unknown };
  new Function('module', 'exports', 'require', source)(module, module.exports, requireFromHere);
  return module.exports as ValidateFunction;
}

/**
 * Broken copies that reach the type, enum, required and combinator checks of most schemas (and a
 * status of the wrong type: only kinds without the status subresource validate it).
 */
function broken(o: Record<string, unknown>): Record<string, unknown>[] {
  const spec = o.spec as Record<string, unknown> | undefined;
  const out: Record<string, unknown>[] = [{ ...o, spec: 'not an object' }, { ...o, metadata: { ...(o.metadata as object), name: 7 } }, { ...o, status: 42 }];
  if (spec && typeof spec === 'object') {
    for (const key of Object.keys(spec)) {
      out.push({ ...o, spec: { ...spec, [key]: 42 } });
      out.push({ ...o, spec: { ...spec, [key]: [{ unexpected: true }] } });
      const { [key]: _dropped, ...rest } = spec;
      out.push({ ...o, spec: rest });
    }
  }
  return out;
}

describe('validators compiled at build time', () => {
  let generated: StandaloneValidators;
  const byId = new Map<string, ValidateFunction>();
  beforeAll(async () => {
    generated = await standaloneValidators();
    for (const m of generated.modules) byId.set(m.id, evaluate(m.source));
  }, 120_000);

  it('exist for every served version of every kind', () => {
    // Kinds made up at run time (Gatekeeper constraints) share one validator per version: "group/version/*".
    const kinds = loadEngines().flatMap((e) => [...e.kinds, ...(e.dynamicKinds ?? []).map((d) => dynamicKind(e, d, 'Any'))]);
    const expected = kinds.flatMap((k) => k.versions.map((v) => schemaKey(k, v)));
    expect(Object.keys(generated.table).sort()).toEqual(expected.sort());
    for (const id of Object.values(generated.table)) expect(byId.has(id)).toBe(true);
  });

  it('give the verdicts and errors of the run-time compile on the corpus and broken copies of it', async () => {
    let compared = 0;
    let failing = 0;
    const kinds = new Set<string>();
    for (const f of corpusFiles()) {
      if (!f.kinds.length || !/\.ya?ml$/.test(f.path)) continue;
      let docs;
      try {
        docs = parseDocuments(readFileSync(f.absolute, 'utf8'), f.path);
      } catch {
        continue; // files the reader refuses are corpus.test.ts's business
      }
      for (const d of docs) {
        const o = d.value as Record<string, unknown> | null;
        if (!o || typeof o !== 'object' || typeof o.apiVersion !== 'string' || typeof o.kind !== 'string') continue;
        const m = findKind(o.apiVersion, o.kind);
        if (!m) continue;
        const key = schemaKey(m.kind, m.version);
        kinds.add(key);
        const precompiled = byId.get(generated.table[key]!)!;
        const runtime = compileCrdSchema(await loadSchema(m.engine, m.kind, m.version), { withoutStatus: m.kind.statusSubresource === true });
        for (const value of [o, ...broken(o)]) {
          const verdict = runtime(value);
          expect(precompiled(value), `${f.path} ${key}`).toBe(verdict);
          expect(precompiled.errors ?? null, `${f.path} ${key}`).toEqual(runtime.errors ?? null);
          compared++;
          if (!verdict) failing++;
        }
      }
    }
    // The corpus reaches most kinds, and the broken copies most errors.
    expect(kinds.size).toBeGreaterThan(20);
    expect(compared).toBeGreaterThan(5_000);
    expect(failing).toBeGreaterThan(compared / 2);
  }, 300_000);
});
