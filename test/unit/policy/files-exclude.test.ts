// Which files a directory stands for once --exclude, .policyociignore and the tool files are applied.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expandPaths } from '../../../src/policy/files.ts';

describe('expandPaths leaving files out', () => {
  let dir: string;
  const rel = (files: string[]) => files.map((f) => relative(dir, f));
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'files-exclude-'));
    for (const f of ['a.yaml', 'b.yaml', 'kustomization.yaml', 'x/artifacthub-pkg.yml', 'y/artifacthub-pkg.yml', 'x/c.yaml', 'tests/t.yaml', 'deep/tests/u.yaml']) {
      await mkdir(join(dir, f, '..'), { recursive: true });
      await writeFile(join(dir, f), 'x: 1\n');
    }
  });

  it('skips the files tools keep beside policies, one warning per name with a count', async () => {
    const list = await expandPaths([dir]);
    expect(rel(list.files)).toEqual(['a.yaml', 'b.yaml', 'deep/tests/u.yaml', 'tests/t.yaml', 'x/c.yaml']);
    expect(list.warnings).toEqual([
      expect.stringMatching(/^skipped .*kustomization\.yaml \(kustomize's configuration, not a policy;/),
      `skipped 2 files named artifacthub-pkg.yml in ${dir} (Artifact Hub's package metadata, not a policy)`,
    ]);
  });

  it('takes .gitignore patterns: a directory at any depth, an anchored one, a negation', async () => {
    expect(rel((await expandPaths([dir], { exclude: ['tests/'] })).files)).toEqual(['a.yaml', 'b.yaml', 'x/c.yaml']);
    expect(rel((await expandPaths([dir], { exclude: ['/tests/'] })).files)).toEqual(['a.yaml', 'b.yaml', 'deep/tests/u.yaml', 'x/c.yaml']);
    expect(rel((await expandPaths([dir], { exclude: ['*.yaml', '!b.yaml'] })).files)).toEqual(['b.yaml']);
  });

  it('reads .policyociignore at the top of the directory; --exclude has the last word', async () => {
    const own = await mkdtemp(join(tmpdir(), 'files-ignorefile-'));
    for (const f of ['a.yaml', 'b.yaml']) await writeFile(join(own, f), 'x: 1\n');
    await writeFile(join(own, '.policyociignore'), '# comment\na.yaml\n');
    expect((await expandPaths([own])).files.map((f) => relative(own, f))).toEqual(['b.yaml']);
    await writeFile(join(own, '.policyociignore'), '!a.yaml\n');
    expect((await expandPaths([own], { exclude: ['a.yaml'] })).files.map((f) => relative(own, f))).toEqual(['b.yaml']);
  });
});
