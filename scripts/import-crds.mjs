#!/usr/bin/env node
// Imports the engines' CRDs from the shared corpus (and, for kinds built into Kubernetes, the API
// server's OpenAPI pinned in plugins/<engine>/openapi/) into the repository, so the product never
// reads the corpus at run time:
//   plugins/<engine>/schemas/<Kind>.<version>.json   openAPIV3Schema of each served version, minified,
//                                                     `description` keywords dropped (75% of the size,
//                                                     never used for validation)
//   plugins/<engine>/engine.json                      group, versions, storage, scope, plural, … of
//                                                     each kind listed there (kinds and applyOrder
//                                                     stay hand-written)
//   src/engines/schemas.generated.ts                  one lazy loader per schema (esbuild bundles it)
//
//   node scripts/import-crds.mjs [--corpus ../shared/corpus] [--check]
// --check writes nothing and exits 1 when any generated file differs from what it would write.
import { readFile, readdir, writeFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';

const ROOT = path.resolve(import.meta.dirname, '..');
const ENGINES = [
  { name: 'kyverno', crdDir: 'kyverno/crds' },
  { name: 'kubearmor', crdDir: 'kubearmor/crds' },
  { name: 'gatekeeper', crdDir: 'gatekeeper/crds' },
  // Built-in kinds: no CRD; plugins/kubernetes/openapi/ holds the API server's OpenAPI v3 components
  // (pinned by test/support/fetch-openapi-cli.ts), and versions, scope and plural stay hand-written.
  { name: 'kubernetes', openapiDir: 'plugins/kubernetes/openapi' },
];
const GENERATED_LOADERS = path.join(ROOT, 'src/engines/schemas.generated.ts');

async function main() {
  const { values } = parseArgs({
    options: {
      corpus: { type: 'string', default: path.join(ROOT, '../shared/corpus') },
      check: { type: 'boolean', default: false },
    },
  });
  const out = new Map(); // path → content
  const stale = [];
  const loaders = [];
  const firstFile = new Map(); // schema content → the first file holding it
  for (const { name, crdDir, openapiDir } of ENGINES) {
    const enginePath = path.join(ROOT, 'plugins', name, 'engine.json');
    const engine = JSON.parse(await readFile(enginePath, 'utf8'));
    const crds = crdDir ? await readCrds(path.join(path.resolve(values.corpus), crdDir)) : await readOpenApi(path.join(ROOT, openapiDir), engine.kinds);
    const schemaDir = path.join(ROOT, 'plugins', name, 'schemas');
    const wanted = new Set();
    engine.kinds = engine.kinds.map((k) => {
      const crd = crds.find((c) => c.spec.group === k.group && c.spec.names.kind === k.kind);
      if (!crd) throw new Error(`${name}: no CRD for ${k.group} ${k.kind}`);
      const served = crd.spec.versions.filter((v) => v.served);
      const storage = crd.spec.versions.find((v) => v.storage);
      for (const v of served) {
        const file = `${k.kind}.${v.name}.json`;
        if (wanted.has(file)) throw new Error(`${name}: two kinds write ${file}; name schema files by group`);
        wanted.add(file);
        const schema = v.schema?.openAPIV3Schema;
        if (!schema) throw new Error(`${name}: ${k.kind} ${v.name} has no openAPIV3Schema`);
        const content = JSON.stringify(addToSchema(dropDescriptions(schema), engine.schemaAdditions?.[k.kind], `${name} ${k.kind}`)) + '\n';
        out.set(path.join(schemaDir, file), content);
        // Versions and kinds often share one schema: load (and bundle) the first identical file.
        if (!firstFile.has(content)) firstFile.set(content, `../../plugins/${name}/schemas/${file}`);
        loaders.push({ key: `${k.group}/${v.name}/${k.kind}`, file: firstFile.get(content) });
      }
      const deprecated = served.filter((v) => v.deprecated).map((v) => v.name);
      return {
        kind: k.kind,
        group: k.group,
        versions: sortVersions(served.map((v) => v.name)),
        storageVersion: storage.name,
        ...(deprecated.length ? { deprecatedVersions: sortVersions(deprecated) } : {}),
        namespaced: crd.spec.scope === 'Namespaced',
        plural: crd.spec.names.plural,
        statusSubresource: Boolean(storage.subresources?.status),
        applyOrder: k.applyOrder,
      };
    });
    // Kinds not known in advance (Gatekeeper constraints): one shared schema per version, under
    // "<group>/<version>/*", assembled from engine.json and parts of the engine's CRDs.
    for (const dyn of engine.dynamicKinds ?? []) {
      const schema = structuredClone(dyn.schema.openAPIV3Schema);
      for (const [at, from] of Object.entries(dyn.schema.from ?? {})) {
        const [kind, ...rest] = from.split('.');
        const crd = crds.find((c) => c.spec.names.kind === kind);
        const storage = crd?.spec.versions.find((v) => v.storage);
        if (!storage) throw new Error(`${name}: schema.from ${from}: no CRD for ${kind}`);
        setSchemaAt(schema, at, schemaAt(storage.schema.openAPIV3Schema, rest.join('.'), `${name} ${from}`), `${name} ${dyn.schema.name}`);
      }
      const content = JSON.stringify(dropDescriptions(schema)) + '\n';
      for (const version of dyn.versions) {
        const file = `${dyn.schema.name}.${version}.json`;
        if (wanted.has(file)) throw new Error(`${name}: two kinds write ${file}`);
        wanted.add(file);
        out.set(path.join(schemaDir, file), content);
        if (!firstFile.has(content)) firstFile.set(content, `../../plugins/${name}/schemas/${file}`);
        loaders.push({ key: `${dyn.group}/${version}/*`, file: firstFile.get(content) });
      }
    }
    out.set(enginePath, formatJson(engine));
    for (const f of await readdir(schemaDir).catch(() => [])) {
      if (!wanted.has(f)) stale.push(path.join(schemaDir, f));
    }
  }
  out.set(GENERATED_LOADERS, loaderModule(loaders));

  let differ = 0;
  for (const [file, content] of out) {
    const old = await readFile(file, 'utf8').catch(() => undefined);
    if (old === content) continue;
    differ++;
    if (values.check) console.error(`out of date: ${path.relative(ROOT, file)}`);
    else {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, content);
      console.error(`wrote ${path.relative(ROOT, file)} (${content.length} bytes)`);
    }
  }
  for (const f of stale) {
    differ++;
    if (values.check) console.error(`stale: ${path.relative(ROOT, f)}`);
    else await rm(f);
  }
  if (values.check && differ) process.exit(1);
  console.error(`${out.size} files, ${differ} ${values.check ? 'out of date' : 'changed'}`);
}

async function readCrds(dir) {
  const files = (await readdir(dir, { recursive: true })).filter((f) => /\.ya?ml$/.test(f)).sort();
  const crds = [];
  for (const f of files) {
    for (const doc of parseAllDocuments(await readFile(path.join(dir, f), 'utf8'), { uniqueKeys: true })) {
      if (doc.errors.length) throw new Error(`${f}: ${doc.errors[0].message}`);
      const o = doc.toJS();
      if (o?.kind === 'CustomResourceDefinition') crds.push(o);
    }
  }
  return crds;
}

/**
 * Built-in kinds as if they were CRDs: a version is served when the pinned OpenAPI document of that
 * group version has a component for the kind; its schema is that component with every `$ref`
 * inlined (ObjectMeta becomes `type: object`, as in a CRD: the API server checks metadata itself).
 * Scope, plural, storage version and status subresource come from engine.json (hand-written).
 */
async function readOpenApi(dir, kinds) {
  const docs = [];
  for (const f of (await readdir(dir)).filter((f) => f.endsWith('.json')).sort()) {
    docs.push(JSON.parse(await readFile(path.join(dir, f), 'utf8')).components.schemas);
  }
  return kinds.map((k) => {
    const versions = [];
    for (const comps of docs) {
      for (const [name, s] of Object.entries(comps)) {
        const gvk = (s['x-kubernetes-group-version-kind'] ?? []).find((g) => g.group === k.group && g.kind === k.kind);
        if (!gvk) continue;
        versions.push({
          name: gvk.version,
          served: true,
          storage: gvk.version === k.storageVersion,
          deprecated: (k.deprecatedVersions ?? []).includes(gvk.version), // the OpenAPI does not say: hand-written
          schema: { openAPIV3Schema: inlineRefs(comps, { $ref: `#/components/schemas/${name}` }, []) },
          ...(k.statusSubresource ? { subresources: { status: {} } } : {}),
        });
      }
    }
    if (!versions.some((v) => v.storage)) throw new Error(`${k.kind}: storageVersion ${k.storageVersion} is not in ${dir}`);
    return {
      spec: { group: k.group, names: { kind: k.kind, plural: k.plural }, scope: k.namespaced ? 'Namespaced' : 'Cluster', versions },
    };
  });
}

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/** `$ref` and single-`$ref` `allOf` (OpenAPI v3's way to put a default beside a ref) inlined. */
function inlineRefs(comps, s, stack) {
  if (Array.isArray(s)) return s.map((x) => inlineRefs(comps, x, stack));
  if (s === null || typeof s !== 'object') return s;
  const ref = s.$ref ?? (Array.isArray(s.allOf) && s.allOf.length === 1 ? s.allOf[0].$ref : undefined);
  if (typeof ref === 'string') {
    const name = ref.replace('#/components/schemas/', '');
    const rest = Object.fromEntries(Object.entries(s).filter(([k]) => k !== '$ref' && k !== 'allOf'));
    if (name === OBJECT_META) return { type: 'object', ...rest };
    if (stack.includes(name)) throw new Error(`recursive schema ${[...stack, name].join(' → ')}: cannot be inlined`);
    if (!comps[name]) throw new Error(`no component ${name}`);
    return { ...inlineRefs(comps, comps[name], [...stack, name]), ...rest };
  }
  const out = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'x-kubernetes-group-version-kind') continue; // identifies the component, not a constraint
    if (k === 'enum' || k === 'default' || k === 'required') out[k] = v;
    else if (k === 'properties') out[k] = Object.fromEntries(Object.entries(v).map(([p, ps]) => [p, inlineRefs(comps, ps, stack)]));
    else out[k] = inlineRefs(comps, v, stack);
  }
  return out;
}

/**
 * engine.json `schemaAdditions`: per kind, "dotted.path" (`[]` = the list's items) → keywords added
 * to the schema there (`required` is merged). For checks the API server makes in code, not in its
 * published schema (built-in kinds' Go validation: required fields, non-empty lists).
 */
function addToSchema(schema, additions, where) {
  for (const [at, add] of Object.entries(additions ?? {})) {
    let s = schema;
    for (const seg of at.split('.')) {
      const [prop, items] = seg.endsWith('[]') ? [seg.slice(0, -2), true] : [seg, false];
      s = s?.properties?.[prop];
      if (s && items) s = s.items;
      if (!s) throw new Error(`${where}: schemaAdditions path ${at} is not in the schema`);
    }
    for (const [k, v] of Object.entries(add)) {
      if (k === 'required') s.required = [...new Set([...(s.required ?? []), ...v])];
      else if (k === 'properties') {
        for (const [p, ps] of Object.entries(v)) {
          if (!s.properties?.[p]) throw new Error(`${where}: schemaAdditions ${at}.${p} is not in the schema`);
          Object.assign(s.properties[p], ps);
        }
      } else s[k] = v;
    }
  }
  return schema;
}

/** The schema of the property at a dotted path ("spec.match") of an object schema. */
function schemaAt(schema, at, where) {
  let s = schema;
  for (const seg of at.split('.')) {
    s = s?.properties?.[seg];
    if (!s) throw new Error(`${where}: ${at} is not in the schema`);
  }
  return s;
}

function setSchemaAt(schema, at, value, where) {
  const segs = at.split('.');
  const parent = segs.length > 1 ? schemaAt(schema, segs.slice(0, -1).join('.'), where) : schema;
  if (!parent.properties || !(segs.at(-1) in parent.properties)) throw new Error(`${where}: ${at} is not in the schema`);
  parent.properties[segs.at(-1)] = structuredClone(value);
}

/** Drops `description` keywords, never a property that happens to be called "description". */
function dropDescriptions(schema) {
  if (Array.isArray(schema)) return schema.map(dropDescriptions);
  if (schema === null || typeof schema !== 'object') return schema;
  const out = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'description') continue;
    if (k === 'properties' || k === 'definitions' || k === 'patternProperties') {
      out[k] = Object.fromEntries(Object.entries(v).map(([p, s]) => [p, dropDescriptions(s)]));
    } else if (k === 'enum' || k === 'default' || k === 'example' || k === 'required') {
      out[k] = v; // data, not schemas
    } else out[k] = dropDescriptions(v);
  }
  return out;
}

/** Kubernetes' version priority: GA before beta before alpha, higher numbers first, others last. */
function sortVersions(names) {
  const rank = (n) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(n);
    if (!m) return [3, 0, 0, n];
    const stage = m[2] === undefined ? 0 : m[2] === 'beta' ? 1 : 2;
    return [stage, -Number(m[1]), -Number(m[3] ?? 0), n];
  };
  return [...names].sort((a, b) => {
    const ra = rank(a);
    const rb = rank(b);
    for (let i = 0; i < 3; i++) if (ra[i] !== rb[i]) return ra[i] - rb[i];
    return ra[3] < rb[3] ? -1 : ra[3] > rb[3] ? 1 : 0;
  });
}

/** Two-space JSON with short string arrays kept on one line. */
function formatJson(value) {
  return (
    JSON.stringify(value, null, 2).replace(/\[\s+("[^"\n]*"(?:,\s+"[^"\n]*")*)\s+\]/g, (_, items) =>
      `[${items.split(/,\s+/).join(', ')}]`,
    ) + '\n'
  );
}

function loaderModule(loaders) {
  const lines = loaders
    .sort((a, b) => (a.key < b.key ? -1 : 1))
    .map(
      (l) =>
        `  '${l.key}': () => import('${l.file}', { with: { type: 'json' } }).then((m) => m.default as object),`,
    );
  return [
    '// Generated by scripts/import-crds.mjs from the engines\' CRDs: do not edit.',
    '// One loader per "group/version/kind". Each is a literal import() so that esbuild bundles the JSON',
    '// behind a lazily evaluated wrapper: a schema costs nothing until a policy of its kind is validated.',
    'export const schemaLoaders: Readonly<Record<string, () => Promise<object>>> = {',
    ...lines,
    '};',
    '',
  ].join('\n');
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
