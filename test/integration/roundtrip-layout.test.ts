// Every valid Kyverno and KubeArmor policy of the corpus goes through push and pull (in process,
// through an OCI image layout) and comes back as the same object.
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { preparePush, push, type PublishedPush, type PushOptions } from '../../src/core/push.ts';
import { pull } from '../../src/core/pull.ts';
import { parseDocuments, stringifyCanonical } from '../../src/policy/yaml.ts';
import { PolicyOciError } from '../../src/errors.ts';
import { enginePolicyFiles, isKnownInvalid, type CorpusFile } from '../support/corpus.ts';

/**
 * Pushing the whole engine corpus must refuse exactly the files the corpus records as invalid,
 * plus those with fields their CRD does not define (kubectl's default strict field validation
 * rejects them too). Returns the files that are accepted.
 */
async function acceptedFiles(engine: 'kyverno' | 'kubearmor'): Promise<CorpusFile[]> {
  const all = enginePolicyFiles(engine);
  const refused = new Map<string, string>();
  // Parse errors are reported before schema errors, so refusals come in (at most) two rounds.
  for (let round = 0; round < 3; round++) {
    const candidates = all.filter((f) => !refused.has(f.path));
    const err = await preparePush({ paths: candidates.map((f) => f.absolute) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (err === undefined) break;
    expect(err).toBeInstanceOf(PolicyOciError);
    for (const line of (err as PolicyOciError).details) {
      const file = candidates.find((f) => line.startsWith(`${f.absolute}:`));
      expect(file, `a refusal that names no corpus file: ${line}`).toBeDefined();
      refused.set(file!.path, `${refused.get(file!.path) ?? ''}${line}\n`);
    }
  }
  for (const f of all.filter(isKnownInvalid)) expect(refused.has(f.path), `${f.path} (${f.notes.join(',')}) must be refused`).toBe(true);
  for (const [path, message] of refused) {
    const f = all.find((x) => x.path === path)!;
    if (!isKnownInvalid(f)) expect(message, path).toMatch(/unknown field/);
  }
  return all.filter((f) => !refused.has(f.path));
}

const LAYOUT = { ociLayout: true };

async function published(options: PushOptions): Promise<PublishedPush> {
  const result = await push(options);
  if (result.dryRun !== 'none') throw new Error('a push without dryRun sent nothing');
  return result;
}

async function readPulled(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    for (const doc of parseDocuments(await readFile(join(dir, name), 'utf8'), name)) out.push(stringifyCanonical(doc.value));
  }
  return out.sort();
}

describe.each([
  ['kyverno', false],
  ['kubearmor', false],
  ['kyverno', true],
] as const)('corpus round trip through an OCI layout: %s (bundle: %s)', (engine, bundle) => {
  it('pulls back exactly the objects it pushed, and the same set gives the same digest', async () => {
    const files = await acceptedFiles(engine);
    expect(files.length).toBeGreaterThan(engine === 'kyverno' ? 700 : 460);
    const prepared = await preparePush({ paths: files.map((f) => f.absolute), bundle });
    expect(prepared.documents).toHaveLength(files.length);
    const work = await mkdtemp(join(tmpdir(), `rt-${engine}-`));
    const reference = `${join(work, 'layout')}:v1`;
    const pushed = await published({ reference, store: LAYOUT, paths: files.map((f) => f.absolute), bundle, concurrency: 8 });
    expect(pushed.unchanged).toBe(false);
    expect(pushed.digest).toBe(prepared.packed.root.descriptor.digest);

    const pulled = await pull({ reference, store: LAYOUT, directory: join(work, 'out') });
    const expected = [...new Set(prepared.documents.map((d) => stringifyCanonical(d.object)))].sort();
    expect(pulled.files).toHaveLength(expected.length);
    expect(await readPulled(join(work, 'out'))).toEqual(expected);

    // Reversed input order: identical manifest, so the second push is "unchanged".
    const again = await published({ reference, store: LAYOUT, paths: files.map((f) => f.absolute).reverse(), bundle, concurrency: 8 });
    expect(again.digest).toBe(prepared.packed.root.descriptor.digest);
    expect(again.unchanged).toBe(true);
  });
});

describe('both engines in one push', () => {
  it('writes an index with one manifest per engine and pulls both back', async () => {
    const files = [...enginePolicyFiles('kyverno').slice(0, 20), ...enginePolicyFiles('kubearmor').slice(0, 20)].filter((f) => !isKnownInvalid(f));
    const prepared = await preparePush({ paths: files.map((f) => f.absolute) });
    expect(prepared.packed.index?.manifests.map((m) => m.annotations?.['io.policyoci.engine'])).toEqual(['kubearmor', 'kyverno']);
    const work = await mkdtemp(join(tmpdir(), 'rt-both-'));
    const reference = `${join(work, 'layout')}:v1`;
    await published({ reference, store: LAYOUT, paths: files.map((f) => f.absolute), concurrency: 4 });
    const kyvernoOnly = await pull({ reference, store: LAYOUT, directory: join(work, 'k'), engines: ['kyverno'] });
    expect(new Set(kyvernoOnly.files.map((f) => f.engine))).toEqual(new Set(['kyverno']));
    const all = await pull({ reference, store: LAYOUT, directory: join(work, 'all') });
    expect(all.files.length).toBe(new Set(prepared.documents.map((d) => stringifyCanonical(d.object))).size);
  });
});
