import { mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFilesAtomically } from '../../../src/util/files.ts';

describe('writeFilesAtomically', () => {
  it('creates a new directory whole', async () => {
    const base = await mkdtemp(join(tmpdir(), 'out-'));
    const dir = join(base, 'new');
    await writeFilesAtomically(dir, [{ name: 'a.yaml', content: 'a' }, { name: 'b.yaml', content: 'b' }]);
    expect((await readdir(dir)).sort()).toEqual(['a.yaml', 'b.yaml']);
    expect(await readdir(base)).toEqual(['new']); // no staging directory left behind
  });

  it('refuses to overwrite without force and leaves the directory as it was', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'out-'));
    await writeFile(join(dir, 'a.yaml'), 'old');
    await expect(writeFilesAtomically(dir, [{ name: 'b.yaml', content: 'b' }, { name: 'a.yaml', content: 'new' }])).rejects.toThrow(/already exist/);
    expect(await readdir(dir)).toEqual(['a.yaml']);
    expect(await readFile(join(dir, 'a.yaml'), 'utf8')).toBe('old');
    await writeFilesAtomically(dir, [{ name: 'a.yaml', content: 'new' }], { force: true });
    expect(await readFile(join(dir, 'a.yaml'), 'utf8')).toBe('new');
  });

  it.each(['../escape.yaml', 'a/b.yaml', '..', '.', '', 'x\u0000y'])('refuses the name %j', async (name) => {
    const dir = await mkdtemp(join(tmpdir(), 'out-'));
    await expect(writeFilesAtomically(join(dir, 'o'), [{ name, content: 'x' }])).rejects.toThrow(/refused/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('never replaces a symlink, even with force, and writes nothing then', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'out-'));
    const outside = await mkdtemp(join(tmpdir(), 'outside-'));
    await writeFile(join(outside, 'target'), 'secret');
    await symlink(join(outside, 'target'), join(dir, 'b.yaml'));
    await mkdir(join(dir, 'keep'));
    await expect(writeFilesAtomically(dir, [{ name: 'a.yaml', content: 'a' }, { name: 'b.yaml', content: 'b' }], { force: true })).rejects.toThrow(/not a regular file/);
    expect(await readFile(join(outside, 'target'), 'utf8')).toBe('secret');
    expect((await readdir(dir)).sort()).toEqual(['b.yaml', 'keep']);
  });
});
