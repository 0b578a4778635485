// Build time only (scripts/build.mjs): every engine kind's schema validator compiled by ajv into
// JavaScript source ("standalone code"), so that the executable runs validators instead of
// compiling them on every run (compiling ClusterPolicy alone took ~90 ms of each push).
// The same conversion and the same ajv options as the run-time compile (crd-schema.ts), so the
// validators give the same verdicts and the same errors; test/unit/policy/validate-standalone.test.ts
// compares the two on the corpus.
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import standalone from 'ajv/dist/standalone/index.js';
import { dynamicKind, loadEngines, schemaKey } from '../engines/index.ts';
import { schemaLoaders } from '../engines/schemas.generated.ts';
import { AJV_OPTIONS, crdForMode, toAjvSchema } from './crd-schema.ts';

export interface StandaloneValidators {
  /** One CommonJS module source per distinct schema and mode (`module.exports` is the validator). */
  modules: { id: string; source: string }[];
  /** "group/version/kind" → the id of its module. */
  table: Record<string, string>;
}

/** Compiles every served kind's validator, once per distinct schema object and mode. */
export async function standaloneValidators(): Promise<StandaloneValidators> {
  const ajv = new Ajv({ ...AJV_OPTIONS, code: { ...AJV_OPTIONS.code, source: true } });
  // A CommonJS module: its function is `default` under ESM interop, the module itself in a bundle.
  type Generate = (ajv: Ajv, validate: ValidateFunction) => string;
  const mod = standalone as unknown as Generate & { default?: Generate };
  const generate = mod.default ?? mod;
  const modules: StandaloneValidators['modules'] = [];
  const table: Record<string, string> = {};
  const ids = new Map<object, Map<boolean, string>>();
  for (const engine of loadEngines()) {
    // Dynamic kinds (Gatekeeper constraints) share one schema per version: "group/version/*".
    const dynamic = (engine.dynamicKinds ?? []).map((d) => dynamicKind(engine, d, 'Any'));
    for (const kind of [...engine.kinds, ...dynamic]) {
      for (const version of kind.versions) {
        const key = schemaKey(kind, version);
        const load = schemaLoaders[key];
        if (!load) continue;
        const schema = await load();
        const withoutStatus = kind.statusSubresource === true;
        let byMode = ids.get(schema);
        if (!byMode) ids.set(schema, (byMode = new Map()));
        let id = byMode.get(withoutStatus);
        if (id === undefined) {
          id = `v${modules.length}`;
          const validate = ajv.compile(toAjvSchema(crdForMode(schema, withoutStatus)));
          modules.push({ id, source: generate(ajv, validate) });
          byMode.set(withoutStatus, id);
        }
        table[key] = id;
      }
    }
  }
  return { modules, table };
}
