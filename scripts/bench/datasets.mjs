// The benchmark's inputs, all from ../shared/corpus, written flat into the work directory:
//   library    the Kyverno library policies push accepts (kyverno/policies, one file per policy)
//   classic    the part of `library` the Kyverno CLI pushes (ClusterPolicy and Policy only)
//   cluster    both engines (library and samples), one file per cluster identity, for the API server
//   scale-N    N copies of library policies under new names (N = 100, 1,000, 10,000)
import { readFileSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { CORPUS } from '../../test/support/cli.ts';
import { corpusFiles, isKnownInvalid } from '../../test/support/corpus.ts';

const pad = (i) => String(i).padStart(5, '0');
const base = (path) => path.split('/').pop();

function engineKinds() {
  // plural, group and scope of every kind the engines declare (for identities and kubectl get)
  return Promise.all(['kyverno', 'kubearmor'].map(async (e) => JSON.parse(await readFile(new URL(`../../plugins/${e}/engine.json`, import.meta.url), 'utf8')))).then((engines) =>
    engines.flatMap((e) => e.kinds.map((k) => ({ engine: e.name, kind: k.kind, group: k.group, plural: k.plural, namespaced: k.namespaced }))),
  );
}

async function writeSet(dir, files) {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await Promise.all(files.map(async (f, i) => writeFile(join(dir, `${pad(i)}-${base(f.path)}`), await readFile(f.absolute))));
  return dir;
}

/** Identity (group/kind/namespace/name) of a corpus file's only document, from MANIFEST.tsv. */
function identityOf(file, kinds) {
  const apiKind = file.kinds[0] ?? '';
  const kind = apiKind.split('/').pop();
  const group = apiKind.split('/').slice(0, -2).join('/');
  const def = kinds.find((k) => k.group === group && k.kind === kind);
  const nsName = file.nsNames[0] ?? '';
  const [ns, name] = nsName.includes('/') ? nsName.split('/') : ['', nsName];
  return { key: `${group}/${kind}/${def?.namespaced ? ns || 'default' : ''}/${name}`, namespace: def?.namespaced ? ns || 'default' : undefined };
}

export async function prepareDatasets(work, { scaleSizes, dryRunPush, kyvernoPush }) {
  const kinds = await engineKinds();
  const all = corpusFiles().map((f, i) => ({ ...f, nsNames: corpusRow(i) }));
  const single = all.filter((f) => f.documents === '1' && !isKnownInvalid(f));

  const library = single.filter((f) => f.path.startsWith('kyverno/policies/'));
  const classic = library.filter((f) => f.kinds.every((k) => /^kyverno\.io\/v[^/]+\/(ClusterPolicy|Policy)$/.test(k)));
  const seen = new Set();
  const cluster = [];
  const namespaces = new Set();
  for (const f of single.filter((f) => /^(kyverno|kubearmor)\/(policies|samples)\//.test(f.path))) {
    const id = identityOf(f, kinds);
    if (seen.has(id.key)) continue; // a policy and its -cel twin share a name: one object each
    seen.add(id.key);
    cluster.push(f);
    if (id.namespace) namespaces.add(id.namespace);
  }

  const sets = {
    library: await writeSet(join(work, 'library'), library),
    classic: await writeSet(join(work, 'classic'), classic),
    cluster: await writeSet(join(work, 'cluster'), cluster),
  };
  // Whatever push still refuses (the corpus notes are not exhaustive) leaves every set.
  for (const name of Object.keys(sets)) await dropRefused(sets[name], dryRunPush);
  // The Kyverno CLI checks more than the schema (e.g. a namespaced generate target without a
  // namespace): what it refuses leaves the set the two of us push.
  if (kyvernoPush) await dropKyvernoRefused(sets.classic, kyvernoPush);

  const texts = await Promise.all(library.map((f) => readFile(f.absolute, 'utf8')));
  for (const n of scaleSizes) sets[`scale-${n}`] = await writeScaleSet(join(work, `scale-${n}`), n, texts);
  return { sets, kinds, namespaces: [...namespaces].sort() };
}

/** `n` policies: library policies in turn, each renamed `<name>-<i>` (so every layer is new). */
async function writeScaleSet(dir, n, texts) {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const batch = [];
  for (let i = 0; i < n; i++) {
    const doc = parseDocument(texts[i % texts.length]);
    const name = String(doc.getIn(['metadata', 'name'])).slice(0, 50);
    doc.setIn(['metadata', 'name'], `${name}-${i}`);
    batch.push(writeFile(join(dir, `${pad(i)}.yaml`), doc.toString()));
    if (batch.length >= 256) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
  return dir;
}

/** Runs `push --dry-run` on the set and removes the files named in its refusal, until it passes. */
async function dropRefused(dir, dryRunPush) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const r = await dryRunPush(dir);
    if (r.code === 0) return;
    const bad = new Set([...r.stderr.matchAll(/^\s*(\/\S+?\.ya?ml):\d+/gm)].map((m) => m[1]));
    if (bad.size === 0) throw new Error(`push --dry-run of ${dir} failed:\n${r.stderr.slice(0, 2000)}`);
    await Promise.all([...bad].map((f) => rm(f, { force: true })));
  }
  throw new Error(`push --dry-run of ${dir} still fails after removing refused files`);
}

/** `kyverno oci push` stops at the first policy it refuses ("validating policy NAME: …"). */
async function dropKyvernoRefused(dir, kyvernoPush) {
  for (let attempt = 0; attempt < 60; attempt++) {
    const r = await kyvernoPush(dir);
    if (r.code === 0) return;
    const name = /validating policy ([^:\s]+):/.exec(r.stderr)?.[1];
    if (!name) throw new Error(`kyverno oci push of ${dir} failed:\n${r.stderr.slice(0, 2000)}`);
    let removed = false;
    for (const f of readdirSync(dir)) {
      const doc = parseDocument(readFileSync(join(dir, f), 'utf8'));
      if (doc.getIn(['metadata', 'name']) === name) {
        await rm(join(dir, f));
        removed = true;
      }
    }
    if (!removed) throw new Error(`kyverno refused ${name}, which no file in ${dir} holds`);
  }
  throw new Error(`kyverno oci push of ${dir} still fails`);
}

// MANIFEST.tsv column 7 (namespace/name of each document), which corpus.ts does not keep.
let rows;
function corpusRow(i) {
  rows ??= readManifestColumn(6);
  return rows[i] ?? [];
}

function readManifestColumn(col) {
  return readFileSync(join(CORPUS, 'MANIFEST.tsv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => (line.split('\t')[col] ?? '').split(';').filter(Boolean));
}
