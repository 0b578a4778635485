// Writes files at relative paths (a directory tree) under a directory, whole or not at all
// (files.ts is its flat case): everything is written into a fresh temp directory next to the
// target first, then moved in. Paths come from artifacts (untrusted): each is checked to stay
// inside the directory (no "..", nothing absolute, no backslash or control character), and nothing
// is written through a symbolic link or anything else that is not a directory on the way. A
// Ctrl-C (or SIGTERM) while the files are written removes the temp directory, and the moving in
// is never cut in half (util/interrupt.ts).
// Hand-written: the libraries that write atomically do it for one file, not a set of them.
import { rmdirSync, rmSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { PolicyOciError } from '../errors.ts';
import { holdingInterrupts, onInterrupt } from './interrupt.ts';
import { count } from './plural.ts';

export interface TreeFile {
  /** Relative, "/"-separated, as safeRelativePath returns it. */
  path: string;
  content: string | Buffer;
}

const MAX_DEPTH = 32;
const MAX_SEGMENT_BYTES = 255;
const MAX_PATH_CHARS = 1024;

/**
 * The path, normalised ("./a//b.yaml" → "a/b.yaml"), when it names a file inside a directory;
 * otherwise an UNSAFE_CONTENT error saying why. `what` names it in the message.
 */
export function safeRelativePath(raw: string, what: string): string {
  const refuse = (why: string): never => {
    throw new PolicyOciError('UNSAFE_CONTENT', `${what}: refused the path ${JSON.stringify(raw.slice(0, 200))}: ${why}`);
  };
  if (raw.length === 0) refuse('it is empty');
  if (raw.length > MAX_PATH_CHARS) refuse(`longer than ${MAX_PATH_CHARS} characters`);
  if (/[\x00-\x1f\x7f]/.test(raw)) refuse('it holds a control character');
  if (raw.includes('\\')) refuse('it holds a backslash');
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) refuse('it is absolute');
  if (raw.endsWith('/')) refuse('it names a directory');
  const segments = raw.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) refuse('it climbs out with ".."');
  if (segments.length === 0) refuse('it names no file');
  if (segments.length > MAX_DEPTH) refuse(`deeper than ${MAX_DEPTH} directories`);
  if (segments.some((s) => Buffer.byteLength(s) > MAX_SEGMENT_BYTES)) refuse(`a part is longer than ${MAX_SEGMENT_BYTES} bytes`);
  return segments.join('/');
}

/** Refuses a set where one path is written twice (case-insensitively) or is a directory of another. */
function checkSet(files: readonly TreeFile[]): void {
  const seen = new Map<string, string>();
  const directories = new Map<string, string>();
  for (const f of files) {
    const lower = f.path.toLowerCase();
    const before = seen.get(lower);
    if (before !== undefined) throw new PolicyOciError('UNSAFE_CONTENT', `refused to write ${JSON.stringify(f.path)} twice${before === f.path ? '' : ` (as ${JSON.stringify(before)} too, which a case-insensitive file system sees as the same file)`}`);
    seen.set(lower, f.path);
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) directories.set(parts.slice(0, i).join('/').toLowerCase(), f.path);
  }
  for (const [lower, path] of seen) {
    const inside = directories.get(lower);
    if (inside !== undefined) throw new PolicyOciError('UNSAFE_CONTENT', `refused to write ${JSON.stringify(path)}: it is also a directory of ${JSON.stringify(inside)}`);
  }
}

async function lstatOrUndefined(path: string) {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** In an existing directory: the files that exist already; refuses a path that leads through a non-directory. */
async function existingFiles(target: string, files: readonly TreeFile[]): Promise<string[]> {
  const clashes: string[] = [];
  const checkedDirectories = new Set<string>();
  for (const f of files) {
    const parts = f.path.split('/');
    let missing = false;
    for (let i = 1; i < parts.length && !missing; i++) {
      const rel = parts.slice(0, i).join('/');
      if (checkedDirectories.has(rel)) continue;
      const st = await lstatOrUndefined(join(target, rel));
      if (!st) missing = true;
      else if (!st.isDirectory()) {
        throw new PolicyOciError('UNSAFE_CONTENT', `refused to write ${join(target, f.path)}: ${join(target, rel)} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}`);
      } else checkedDirectories.add(rel);
    }
    if (missing) continue;
    const st = await lstatOrUndefined(join(target, f.path));
    if (!st) continue;
    if (!st.isFile()) throw new PolicyOciError('UNSAFE_CONTENT', `refused to replace ${join(target, f.path)}: it is not a regular file`);
    clashes.push(f.path);
  }
  return clashes;
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

/** `dir` and its parents up to `last`, while they are empty. */
function removeEmptyDirs(dir: string, last: string): void {
  for (let d = dir; ; d = dirname(d)) {
    try {
      rmdirSync(d);
    } catch {
      return;
    }
    if (d === last || dirname(d) === d) return;
  }
}

/**
 * Writes the files under `dir` (created when missing). Without `force`, any of them that exists
 * already stops everything before a byte is written. A missing or empty `dir` appears whole in
 * one rename; into a non-empty one every file is written and checked first, then moved in.
 */
export async function writeTreeAtomically(dir: string, files: readonly TreeFile[], options: { force?: boolean } = {}): Promise<string[]> {
  const progress = { moved: 0 };
  try {
    return await writeAll(dir, files, options, progress);
  } catch (err) {
    throw ioError(err, dir, progress.moved);
  }
}

async function writeAll(dir: string, files: readonly TreeFile[], options: { force?: boolean }, progress: { moved: number }): Promise<string[]> {
  const target = resolve(dir);
  for (const f of files) {
    if (safeRelativePath(f.path, 'output') !== f.path) throw new PolicyOciError('UNSAFE_CONTENT', `refused to write ${JSON.stringify(f.path)}: not a normalised relative path`);
  }
  checkSet(files);
  const st = await lstatOrUndefined(target);
  if (st && !st.isDirectory()) throw new PolicyOciError('IO', `${dir} exists and is not a directory`);
  const present = st ? await readdir(target) : undefined;
  if (present && present.length > 0) {
    const clashes = await existingFiles(target, files);
    if (clashes.length > 0 && !options.force) {
      throw new PolicyOciError('EXISTS', `${count(clashes.length, 'file')} already ${clashes.length === 1 ? 'exists' : 'exist'} in ${dir} (use --force to overwrite): ${clashes.slice(0, 5).join(', ')}`);
    }
  }
  // Parents this call creates go too on an interrupt, if nothing else was put there meanwhile.
  const firstCreated = await mkdir(dirname(target), { recursive: true });
  const forgetParents = firstCreated ? onInterrupt(() => removeEmptyDirs(dirname(target), firstCreated)) : () => undefined;
  const staging = await mkdtemp(join(dirname(target), `.${basename(target)}.policyoci-`));
  const forget = onInterrupt(() => rmSync(staging, { recursive: true, force: true, maxRetries: 3, retryDelay: 20 }));
  try {
    // One directory at a time, never recursive: a mkdir still in flight when an interrupt removes
    // the temp directory must fail, not create it again.
    const made = new Set<string>();
    for (const f of files) {
      const parts = f.path.split('/');
      for (let i = 1; i < parts.length; i++) {
        const rel = parts.slice(0, i).join('/');
        if (made.has(rel)) continue;
        await mkdir(join(staging, rel));
        made.add(rel);
      }
      await writeFile(join(staging, f.path), f.content, { mode: 0o644, flag: 'wx' });
    }
    await holdingInterrupts(() => moveIn(staging, target, files, present, progress));
    return files.map((f) => join(target, f.path));
  } finally {
    forget();
    forgetParents();
    await rm(staging, { recursive: true, force: true });
  }
}

/** The written tree into `target`: the temp directory renamed (replacing an empty one), or file by file into a non-empty one. */
async function moveIn(staging: string, target: string, files: readonly TreeFile[], present: string[] | undefined, progress: { moved: number }): Promise<void> {
  if (!present) {
    await rename(staging, target);
    return;
  }
  if (present.length === 0) {
    await rmdir(target);
    try {
      await rename(staging, target);
    } catch (err) {
      await mkdir(target).catch(() => undefined); // put the empty directory back
      throw err;
    }
    return;
  }
  for (const f of files) {
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      await mkdir(join(target, ...parts.slice(0, i))).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
    }
    await rename(join(staging, f.path), join(target, f.path));
    progress.moved++;
  }
}
