// util/tree.ts: the paths an artifact may give its files, and the all-or-nothing write of a tree.
import { mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PolicyOciError } from '../../../src/errors.ts';
import { safeRelativePath, writeTreeAtomically } from '../../../src/util/tree.ts';

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyOciError);
    expect((err as PolicyOciError).code).toBe('UNSAFE_CONTENT');
    return (err as Error).message;
  }
  throw new Error('not refused');
}

describe('safeRelativePath', () => {
  it('normalises "." and empty parts', () => {
    expect(safeRelativePath('./a//b/./c.yaml', 'x')).toBe('a/b/c.yaml');
    expect(safeRelativePath('policies/kyverno/p.yaml', 'x')).toBe('policies/kyverno/p.yaml');
  });

  it.each([
    ['../x.yaml', 'climbs out'],
    ['a/../../x.yaml', 'climbs out'],
    ['a/..', 'climbs out'],
    ['/etc/passwd', 'absolute'],
    ['C:/x.yaml', 'absolute'],
    ['a\\..\\x.yaml', 'backslash'],
    ['a/\u0000.yaml', 'control character'],
    ['a/\nb.yaml', 'control character'],
    ['', 'empty'],
    ['.', 'names no file'],
    ['dir/', 'names a directory'],
    [`${'d/'.repeat(40)}x.yaml`, 'deeper than'],
    [`${'x'.repeat(300)}.yaml`, 'longer than 255 bytes'],
  ])('refuses %j (%s)', (path, why) => {
    expect(refusal(() => safeRelativePath(path, 'layer L'))).toContain(why);
  });
});

describe('writeTreeAtomically', () => {
  it('writes a tree into a missing directory, and into an existing one beside other files', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tree-'));
    const out = join(root, 'out');
    await writeTreeAtomically(out, [{ path: 'a/b.yaml', content: 'b' }, { path: 'c.yaml', content: 'c' }]);
    expect(await readFile(join(out, 'a', 'b.yaml'), 'utf8')).toBe('b');
    await writeFile(join(out, 'mine.txt'), 'mine');
    await writeTreeAtomically(out, [{ path: 'a/d/e.yaml', content: 'e' }]);
    expect((await readdir(out)).sort()).toEqual(['a', 'c.yaml', 'mine.txt']);
    expect(await readFile(join(out, 'a', 'd', 'e.yaml'), 'utf8')).toBe('e');
    // Nothing left beside it.
    expect(await readdir(root)).toEqual(['out']);
  });

  it('refuses existing files without force, writing none; replaces them with it', async () => {
    const out = await mkdtemp(join(tmpdir(), 'tree-'));
    await mkdir(join(out, 'a'));
    await writeFile(join(out, 'a', 'b.yaml'), 'old');
    await expect(writeTreeAtomically(out, [{ path: 'new.yaml', content: 'n' }, { path: 'a/b.yaml', content: 'b' }])).rejects.toMatchObject({ code: 'EXISTS' });
    expect((await readdir(out)).sort()).toEqual(['a']);
    await writeTreeAtomically(out, [{ path: 'new.yaml', content: 'n' }, { path: 'a/b.yaml', content: 'b' }], { force: true });
    expect(await readFile(join(out, 'a', 'b.yaml'), 'utf8')).toBe('b');
  });

  it('never writes through a symbolic link, nor replaces a directory or a link', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tree-'));
    const out = join(root, 'out');
    const elsewhere = join(root, 'elsewhere');
    await mkdir(out);
    await mkdir(elsewhere);
    await symlink(elsewhere, join(out, 'a'));
    await expect(writeTreeAtomically(out, [{ path: 'a/b.yaml', content: 'b' }], { force: true })).rejects.toThrow(/is a symbolic link/);
    expect(await readdir(elsewhere)).toEqual([]);
    await symlink(join(elsewhere, 'f.yaml'), join(out, 'link.yaml'));
    await expect(writeTreeAtomically(out, [{ path: 'link.yaml', content: 'x' }], { force: true })).rejects.toThrow(/not a regular file/);
    await mkdir(join(out, 'dir.yaml'));
    await expect(writeTreeAtomically(out, [{ path: 'dir.yaml', content: 'x' }], { force: true })).rejects.toThrow(/not a regular file/);
  });

  it('refuses a set that writes a path twice (even differing in case) or uses a file as a directory', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'tree-')), 'out');
    await expect(writeTreeAtomically(out, [{ path: 'A.yaml', content: '1' }, { path: 'a.yaml', content: '2' }])).rejects.toThrow(/case-insensitive/);
    await expect(writeTreeAtomically(out, [{ path: 'a', content: '1' }, { path: 'a/b.yaml', content: '2' }])).rejects.toThrow(/also a directory/);
    await expect(writeTreeAtomically(out, [{ path: '../x', content: '1' }])).rejects.toMatchObject({ code: 'UNSAFE_CONTENT' });
  });
});
