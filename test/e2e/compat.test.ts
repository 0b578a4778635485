// Interop with the engines' and generic OCI tools, both directions, on a real registry:
// the Kyverno CLI (kyverno oci push/pull) and oras, built from Go modules.
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocuments, stringifyCanonical } from '../../src/policy/yaml.ts';
import { createTarGz } from '../../src/artifact/tarball.ts';
import { REPO_ROOT, runCli, runOk } from '../support/cli.ts';
import { enginePolicyFiles, isKnownInvalid } from '../support/corpus.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';
import { runTool } from '../support/tools.ts';

const KYVERNO_ENV = { KYVERNO_EXPERIMENTAL: 'true' };

/**
 * The Kyverno CLI re-serialises policies through its Go types, which adds defaults (e.g.
 * `skipBackgroundRequests: true`, `resources: {}`): every field we hold must be in its copy with the
 * same value; it may hold more. Go's `omitempty` drops zero values (`synchronize: false`), so a
 * zero value of ours may be missing from its copy.
 */
const isZero = (v: unknown) => v === false || v === 0 || v === '' || (Array.isArray(v) && v.length === 0) || (v !== null && typeof v === 'object' && Object.keys(v).length === 0);

function isSubset(ours: unknown, theirs: unknown): boolean {
  if (Array.isArray(ours)) return Array.isArray(theirs) && ours.length === theirs.length && ours.every((v, i) => isSubset(v, theirs[i]));
  if (ours && typeof ours === 'object') {
    if (!theirs || typeof theirs !== 'object' || Array.isArray(theirs)) return false;
    const t = theirs as Record<string, unknown>;
    return Object.entries(ours).every(([k, v]) => (t[k] === undefined && isZero(v)) || isSubset(v, t[k]));
  }
  return ours === theirs;
}

async function expectSameFilesWithin(oursDir: string, theirsDir: string): Promise<void> {
  const names = (await readdir(oursDir)).sort();
  expect((await readdir(theirsDir)).sort()).toEqual(names);
  for (const name of names) {
    const [ours] = parseDocuments(await readFile(join(oursDir, name), 'utf8'), name);
    const [theirs] = parseDocuments(await readFile(join(theirsDir, name), 'utf8'), name);
    expect(isSubset(ours?.value, theirs?.value), `${name}: every field we wrote is in the Kyverno CLI's copy`).toBe(true);
  }
}

async function objectsIn(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    if (!/\.ya?ml$/.test(name)) continue;
    for (const doc of parseDocuments(await readFile(join(dir, name), 'utf8'), name)) if (doc.value) out.push(stringifyCanonical(doc.value));
  }
  return out.sort();
}

describe('compatibility with the Kyverno CLI and oras', () => {
  let reg: RunningRegistry;
  let work: string;
  // ClusterPolicy/Policy only: the Kyverno CLI pushes and pulls no other kind.
  let kyvernoFiles: string[];
  beforeAll(async () => {
    reg = await startRegistry('open');
    work = await mkdtemp(join(tmpdir(), 'compat-'));
    kyvernoFiles = enginePolicyFiles('kyverno')
      .filter((f) => !isKnownInvalid(f) && f.path.startsWith('kyverno/policies/best-practices/') && /kyverno\.io\/v1\/ClusterPolicy/.test(f.kinds.join()))
      .map((f) => f.absolute);
  });
  afterAll(async () => reg?.stop());

  it('kyverno oci pull reads what we push', async () => {
    expect(kyvernoFiles.length).toBeGreaterThan(10);
    const src = join(work, 'ours-src');
    await mkdir(src);
    for (const f of kyvernoFiles) await writeFile(join(src, f.split('/').pop()!), await readFile(f));
    await runOk(['push', `${reg.host}/ours:v1`, src]);
    const ours = join(work, 'ours-pulled');
    await runOk(['pull', `${reg.host}/ours:v1`, '-o', ours]);
    const byKyverno = join(work, 'kyverno-pulled');
    runTool('kyverno', ['oci', 'pull', byKyverno, '-i', `${reg.host}/ours:v1`], { env: KYVERNO_ENV });
    await expectSameFilesWithin(ours, byKyverno);
  });

  it('we read what kyverno oci push writes', async () => {
    const src = join(work, 'theirs-src');
    await mkdir(src);
    for (const f of kyvernoFiles) await writeFile(join(src, f.split('/').pop()!), await readFile(f));
    runTool('kyverno', ['oci', 'push', src, '-i', `${reg.host}/theirs:v1`], { env: KYVERNO_ENV });
    const out = join(work, 'theirs-pulled');
    const pulled = JSON.parse((await runOk(['pull', `${reg.host}/theirs:v1`, '-o', out, '--format', 'json'])).stdout);
    expect(pulled.files).toHaveLength(kyvernoFiles.length);
    // Same objects as pushing the files ourselves gives.
    const ours = join(work, 'ours-pulled-2');
    await runOk(['push', `${reg.host}/ours2:v1`, src]);
    await runOk(['pull', `${reg.host}/ours2:v1`, '-o', ours]);
    await expectSameFilesWithin(ours, out);
  });

  it('oras pull reads what we push, and we read what oras push writes (files and directories)', async () => {
    const examples = join(REPO_ROOT, 'examples', 'policies');
    await runOk(['push', `${reg.host}/for-oras:v1`, join(examples, 'kyverno')]);
    const orasOut = join(work, 'oras-pulled');
    runTool('oras', ['pull', '--plain-http', `${reg.host}/for-oras:v1`, '-o', orasOut]);
    const ours = join(work, 'for-oras-ours');
    await runOk(['pull', `${reg.host}/for-oras:v1`, '-o', ours]);
    expect((await readdir(orasOut)).sort()).toEqual((await readdir(ours)).sort());
    expect(await objectsIn(orasOut)).toEqual(await objectsIn(ours));

    runTool('oras', ['push', '--plain-http', `${reg.host}/oras-files:v1`, 'require-labels.yaml', 'disallow-latest-tag.yaml'], { cwd: join(examples, 'kyverno') });
    const files = JSON.parse((await runOk(['pull', `${reg.host}/oras-files:v1`, '-o', join(work, 'of'), '--format', 'json'])).stdout);
    expect(files.files.map((f: { name: string }) => f.name).sort()).toEqual(['disallow-latest-tag', 'require-labels']);

    runTool('oras', ['push', '--plain-http', `${reg.host}/oras-dir:v1`, 'kubearmor'], { cwd: examples });
    const dir = JSON.parse((await runOk(['pull', `${reg.host}/oras-dir:v1`, '-o', join(work, 'od'), '--format', 'json'])).stdout);
    expect(dir.files.map((f: { kind: string }) => f.kind).sort()).toEqual(['KubeArmorHostPolicy', 'KubeArmorPolicy']);
  });

  it('reads a karmor-style artifact and a Flux artifact, refuses a non-conformant Kyverno bundle (made with oras)', async () => {
    const examples = join(REPO_ROOT, 'examples', 'policies');
    const stage = join(work, 'stage');
    await mkdir(stage);
    await writeFile(join(stage, 'config.json'), '{}');
    // karmor: config {} of the KubeArmor config type, one ".yaml" layer per file with a title.
    for (const f of await readdir(join(examples, 'kubearmor'))) await writeFile(join(stage, f), await readFile(join(examples, 'kubearmor', f)));
    const ka = (await readdir(join(examples, 'kubearmor'))).map((f) => `${f}:application/vnd.cncf.kubearmor.policy.layer.v1.yaml`);
    runTool('oras', ['push', '--plain-http', `${reg.host}/karmor:v1`, '--config', 'config.json:application/vnd.cncf.kubearmor.config.v1+json', ...ka], { cwd: stage });
    const karmor = JSON.parse((await runOk(['pull', `${reg.host}/karmor:v1`, '-o', join(work, 'karmor'), '--format', 'json'])).stdout);
    expect(karmor.files.every((f: { engine: string }) => f.engine === 'kubearmor')).toBe(true);
    expect(karmor.files).toHaveLength(2);

    // The proposed Kyverno bundle: one deterministic tar+gzip of the original files.
    const kyvernoDir = join(examples, 'kyverno');
    const tar = createTarGz(await Promise.all((await readdir(kyvernoDir)).map(async (f) => ({ path: `policies/${f}`, content: await readFile(join(kyvernoDir, f)) }))));
    await writeFile(join(stage, 'bundle.tar.gz'), tar);
    runTool('oras', ['push', '--plain-http', `${reg.host}/kbundle:v1`, '--config', 'config.json:application/vnd.cncf.kyverno.bundle.config.v1+json', 'bundle.tar.gz:application/vnd.cncf.kyverno.bundle.content.v1.tar+gzip'], { cwd: stage });
    // Its media types claim Kyverno bundle format 1.0, which a conformant reader holds to the spec:
    // an empty config (no formatVersion) and ClusterPolicies refuse it (test/e2e/kyverno-bundle.test.ts
    // reads conformant ones).
    const bundle = await runCli(['pull', `${reg.host}/kbundle:v1`, '-o', join(work, 'kbundle')]);
    expect(bundle.code, bundle.stderr).toBe(6);
    expect(bundle.stderr).toMatch(/malformed Kyverno bundle 1\.0 config/);

    runTool('oras', ['push', '--plain-http', `${reg.host}/flux:v1`, '--config', 'config.json:application/vnd.cncf.flux.config.v1+json', 'bundle.tar.gz:application/vnd.cncf.flux.content.v1.tar+gzip'], { cwd: stage });
    const flux = JSON.parse((await runOk(['pull', `${reg.host}/flux:v1`, '-o', join(work, 'flux'), '--format', 'json'])).stdout);
    expect(flux.files).toHaveLength(4);
  });
});
