// Which files a list of command-line paths stands for: files as given, directories walked
// recursively in sorted order for .yaml/.yml/.json files, hidden entries skipped, and symbolic
// links followed only while they stay inside the directory being walked.
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { compareCodeUnits } from '../util/compare.ts';

export const POLICY_FILE = /\.(ya?ml|json)$/i;
export const STDIN = '-';

export interface FileList {
  /** Paths to read, in order; "-" is standard input. */
  files: string[];
  /** Paths that could not be used, as "path: reason". */
  problems: string[];
  /** Things skipped on purpose that a user may want to know about. */
  warnings: string[];
}

export async function expandPaths(paths: string[]): Promise<FileList> {
  const out: FileList = { files: [], problems: [], warnings: [] };
  const seen = new Set<string>();
  const add = (f: string) => {
    if (seen.has(f)) return;
    seen.add(f);
    out.files.push(f);
  };
  for (const p of paths) {
    if (p === STDIN) {
      add(STDIN);
      continue;
    }
    let st;
    try {
      st = await stat(p);
    } catch (err) {
      out.problems.push(`${p}: ${errnoText(err)}`);
      continue;
    }
    if (st.isFile()) add(p);
    else if (st.isDirectory()) {
      const before = out.files.length;
      const root = await realpath(p);
      await walk(p, root, new Set(), out, add);
      if (out.files.length === before) out.problems.push(`${p}: no .yaml, .yml or .json files in this directory`);
    } else out.problems.push(`${p}: not a regular file or directory`);
  }
  return out;
}

/** `visited` holds real paths of directories and files already taken: no loops, no duplicates. */
async function walk(dir: string, root: string, visited: Set<string>, out: FileList, add: (f: string) => void): Promise<void> {
  const real = await realpath(dir).catch(() => dir);
  if (visited.has(real)) return;
  visited.add(real);
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    out.problems.push(`${dir}: ${errnoText(err)}`);
    return;
  }
  // Sorted by code unit, so every platform and locale reads the same order.
  entries.sort((a, b) => compareCodeUnits(a.name, b.name));
  for (const entry of entries) {
    const name = entry.name;
    if (name.startsWith('.')) continue; // .git, .chainsaw-test, editor files
    const full = path.join(dir, name);
    if (entry.isFile()) {
      // The common case, without a system call: a plain file's real path is its directory's + name.
      if (!POLICY_FILE.test(name)) continue;
      const realFile = path.join(real, name);
      if (visited.has(realFile)) continue;
      visited.add(realFile);
      add(full);
      continue;
    }
    let st = await lstat(full).catch(() => undefined);
    if (!st) continue;
    if (st.isSymbolicLink()) {
      const target = await realpath(full).catch(() => undefined);
      if (!target || !isInside(target, root)) {
        out.warnings.push(`${full}: skipped, a symbolic link that leads outside ${path.basename(root)}`);
        continue;
      }
      st = await stat(full);
    }
    if (st.isDirectory()) await walk(full, root, visited, out, add);
    else if (st.isFile() && POLICY_FILE.test(name)) {
      const realFile = await realpath(full).catch(() => full);
      if (visited.has(realFile)) continue;
      visited.add(realFile);
      add(full);
    }
  }
}

function isInside(target: string, root: string): boolean {
  const rel = path.relative(root, target);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

function errnoText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return err instanceof Error ? err.message : String(err);
}
