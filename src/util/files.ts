// Writes a set of files into a directory so that the result appears whole or not at all: files are
// written into a fresh temp directory next to the target, then moved in. Names are checked to be
// plain file names (no separators, no "..") so nothing can land outside the directory. A Ctrl-C
// (or SIGTERM) while the files are written removes the temp directory; once they are moved in,
// the signal waits for the last one (a few renames), so the target is never left half-replaced.
import { rmdirSync, rmSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { PolicyOciError } from '../errors.ts';
import { holdingInterrupts, onInterrupt } from './interrupt.ts';
import { count } from './plural.ts';

export interface OutputFile {
  name: string;
  content: string | Buffer;
}

function assertPlainName(name: string): void {
  if (name === '' || name === '.' || name === '..' || name !== basename(name) || /[\\/\0]/.test(name)) {
    throw new PolicyOciError('UNSAFE_CONTENT', `refused to write a file named ${JSON.stringify(name)}`);
  }
}

async function existing(dir: string): Promise<Set<string> | undefined> {
  try {
    const st = await lstat(dir);
    if (!st.isDirectory()) throw new PolicyOciError('IO', `${dir} exists and is not a directory`);
    return new Set(await readdir(dir));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** A file-system failure as one IO error naming the directory and the reason (ENOSPC, EACCES…). */
function ioError(err: unknown, dir: string, moved: number): unknown {
  if (err instanceof PolicyOciError) return err;
  const e = err as NodeJS.ErrnoException;
  const reasons: Record<string, string> = {
    ENOSPC: 'no space left on the device',
    EDQUOT: 'disk quota exceeded',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOTDIR: 'a part of the path is not a directory',
  };
  const reason = (e.code && reasons[e.code]) ?? e.message ?? String(err);
  const state = moved === 0 ? 'nothing was changed there' : `${count(moved, 'file')} ${moved === 1 ? 'was' : 'were'} already replaced`;
  return new PolicyOciError('IO', `cannot write into ${dir}: ${reason}${e.code ? ` (${e.code})` : ''}; ${state}`, { cause: err });
}

export async function writeFilesAtomically(dir: string, files: OutputFile[], options: { force?: boolean } = {}): Promise<string[]> {
  const progress = { moved: 0 };
  try {
    return await writeAll(dir, files, options, progress);
  } catch (err) {
    throw ioError(err, dir, progress.moved);
  }
}

async function writeAll(dir: string, files: OutputFile[], options: { force?: boolean }, progress: { moved: number }): Promise<string[]> {
  const target = resolve(dir);
  for (const f of files) assertPlainName(f.name);
  const present = await existing(target);
  if (present && !options.force) {
    const clashes = files.filter((f) => present.has(f.name)).map((f) => f.name);
    if (clashes.length > 0) {
      throw new PolicyOciError('EXISTS', `${count(clashes.length, 'file')} already ${clashes.length === 1 ? 'exists' : 'exist'} in ${dir} (use --force to overwrite): ${clashes.slice(0, 5).join(', ')}`);
    }
  }
  // Parents this call creates go too on an interrupt, if nothing else was put there meanwhile.
  const firstCreated = await mkdir(dirname(target), { recursive: true });
  const forgetParents = firstCreated ? onInterrupt(() => removeEmptyDirs(dirname(target), firstCreated)) : () => undefined;
  const staging = await mkdtemp(join(dirname(target), `.${basename(target)}.policyoci-`));
  // Retried: a write still in flight may add a file while the directory is being removed.
  const forget = onInterrupt(() => rmSync(staging, { recursive: true, force: true, maxRetries: 3, retryDelay: 20 }));
  try {
    for (const f of files) await writeFile(join(staging, f.name), f.content, { mode: 0o644, flag: 'wx' });
    // A non-empty directory: everything is written and checked first, then moved in one by one.
    for (const f of files.filter((f) => present?.has(f.name))) {
      const st = await lstat(join(target, f.name));
      if (!st.isFile()) throw new PolicyOciError('UNSAFE_CONTENT', `refused to replace ${join(target, f.name)}: it is not a regular file`);
    }
    return await holdingInterrupts(() => moveIn(staging, target, files, present, progress));
  } finally {
    forget();
    forgetParents();
    await rm(staging, { recursive: true, force: true });
  }
}

/** `dir` and its parents up to `last`, while they are empty. */
export function removeEmptyDirs(dir: string, last: string): void {
  for (let d = dir; ; d = dirname(d)) {
    try {
      rmdirSync(d);
    } catch {
      return;
    }
    if (d === last || dirname(d) === d) return;
  }
}

/** The written files into `target`: the temp directory renamed (replacing an empty one), or file by file into a non-empty one. */
async function moveIn(staging: string, target: string, files: OutputFile[], present: Set<string> | undefined, progress: { moved: number }): Promise<string[]> {
  if (!present) {
    await rename(staging, target);
    return files.map((f) => join(target, f.name));
  }
  if (present.size === 0) {
    await rmdir(target);
    try {
      await rename(staging, target);
    } catch (err) {
      await mkdir(target).catch(() => undefined); // put the empty directory back
      throw err;
    }
    return files.map((f) => join(target, f.name));
  }
  for (const f of files) {
    await rename(join(staging, f.name), join(target, f.name));
    progress.moved++;
  }
  return files.map((f) => join(target, f.name));
}
