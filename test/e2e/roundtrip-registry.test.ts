// The whole corpus (both engines, every policy the API server would accept) through a real
// registry with the executable: push, pull, and the same objects come back.
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicies } from '../../src/policy/load.ts';
import { parseDocuments, stringifyCanonical } from '../../src/policy/yaml.ts';
import { runCli, runOk } from '../support/cli.ts';
import { enginePolicyFiles } from '../support/corpus.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';

describe('whole-corpus round trip through a registry', () => {
  let reg: RunningRegistry;
  beforeAll(async () => {
    reg = await startRegistry('open');
  });
  afterAll(async () => reg?.stop());

  it.each(['kyverno', 'kubearmor'] as const)('%s: every accepted policy comes back equal', async (engine) => {
    const work = await mkdtemp(join(tmpdir(), `rtr-${engine}-`));
    const src = join(work, 'src');
    await mkdir(src);
    // Keep only the files push accepts alone (the refusals are covered by the layout round trip).
    const accepted: string[] = [];
    for (const f of enginePolicyFiles(engine)) {
      const ok = await loadPolicies([f.absolute], { validate: true }).then(
        () => true,
        () => false,
      );
      if (ok) accepted.push(f.absolute);
    }
    expect(accepted.length).toBeGreaterThan(engine === 'kyverno' ? 700 : 460);
    // Flatten into one directory; names are made unique by their index.
    await Promise.all(accepted.map(async (f, i) => writeFile(join(src, `${String(i).padStart(4, '0')}-${f.split('/').pop()}`), await readFile(f))));
    const expected = [...new Set((await loadPolicies([src], { validate: true })).map((d) => stringifyCanonical(d.object)))].sort();

    const pushed = JSON.parse((await runOk(['push', `${reg.host}/corpus-${engine}:v1`, src, '--format', 'json'])).stdout);
    expect(pushed.policies).toBe(accepted.length);
    const out = join(work, 'out');
    const pulled = JSON.parse((await runOk(['pull', `${reg.host}/corpus-${engine}:v1`, '-o', out, '--format', 'json'])).stdout);
    expect(pulled.files).toHaveLength(expected.length);
    const back: string[] = [];
    for (const name of await readdir(out)) for (const d of parseDocuments(await readFile(join(out, name), 'utf8'), name)) back.push(stringifyCanonical(d.value));
    expect(back.sort()).toEqual(expected);

    const again = await runCli(['push', `${reg.host}/corpus-${engine}:v1`, src]);
    expect(again.stdout).toMatch(/^unchanged/);
  });
});
