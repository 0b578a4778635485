// Which files a list of command-line paths stands for: files as given, directories walked
// recursively in sorted order for .yaml/.yml/.json files, hidden entries skipped, and symbolic
// links followed only while they stay inside the directory being walked.
//
// Leaving files out: `exclude` patterns (push --exclude) and a `.policyociignore` at the top of a
// directory given, both in .gitignore syntax (the `ignore` package, which eslint and others use,
// so the rules are git's, negation and directory patterns included), matched against paths
// relative to that directory. `exclude` comes last, so the command line has the last word (a
// `!pattern` in the file does not take back what --exclude left out), and it also applies to files
// named on the command line, by their path relative to the working directory (or their name,
// outside it). Files that other tools keep beside manifests under a fixed name and that never hold
// a policy (kustomize's kustomization.yaml, Helm's Chart.yaml, Artifact Hub's artifacthub-pkg.yml)
// are skipped when a directory is walked, with one warning per name.
import { readFile, lstat, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { compareCodeUnits } from '../util/compare.ts';

export const POLICY_FILE = /\.(ya?ml|json)$/i;
export const STDIN = '-';
/** A directory's own ignore file, in .gitignore syntax. */
export const IGNORE_FILE = '.policyociignore';

/** File names tools give their own configuration, never a Kubernetes policy: skipped in directories. */
const KUSTOMIZE = "kustomize's configuration, not a policy; push reads files, not what kustomize renders: to push that, push the output of `kustomize build`";
const TOOL_FILES: Record<string, string> = {
  'kustomization.yaml': KUSTOMIZE,
  'kustomization.yml': KUSTOMIZE,
  'Chart.yaml': "Helm's chart metadata, not a policy",
  'artifacthub-pkg.yml': "Artifact Hub's package metadata, not a policy",
  'artifacthub-pkg.yaml': "Artifact Hub's package metadata, not a policy",
  'artifacthub-repo.yml': "Artifact Hub's repository metadata, not a policy",
  'artifacthub-repo.yaml': "Artifact Hub's repository metadata, not a policy",
};

export interface ExpandOptions {
  /** .gitignore patterns of files to leave out (push --exclude). */
  exclude?: string[];
}

export interface FileList {
  /** Paths to read, in order; "-" is standard input. */
  files: string[];
  /** Paths that could not be used, as "path: reason". */
  problems: string[];
  /** Things skipped on purpose that a user may want to know about. */
  warnings: string[];
  /** How many files the exclude patterns and ignore files left out. */
  excluded: number;
}

/** What a walk of one directory given on the command line shares. */
interface Walk {
  root: string;
  /** The directory as given, to make paths relative for the ignore rules. */
  base: string;
  rules: Ignore;
  visited: Set<string>;
  out: FileList;
  add: (f: string) => void;
  /** Tool files skipped, by name: the first one's path and how many. */
  toolFiles: Map<string, { first: string; n: number }>;
}

export async function expandPaths(paths: string[], options: ExpandOptions = {}): Promise<FileList> {
  const out: FileList = { files: [], problems: [], warnings: [], excluded: 0 };
  const exclude = options.exclude ?? [];
  const commandLine = ignore().add(exclude);
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
    if (st.isFile()) {
      if (exclude.length && commandLine.ignores(commandLinePath(p))) out.excluded++;
      else add(p);
    } else if (st.isDirectory()) {
      const before = out.files.length;
      const excludedBefore = out.excluded;
      const own = await readIgnoreFile(p, out);
      const walk: Walk = { root: await realpath(p), base: p, rules: ignore().add(own).add(exclude), visited: new Set(), out, add, toolFiles: new Map() };
      await walkDir(p, walk);
      for (const [name, { first, n }] of walk.toolFiles) out.warnings.push(`skipped ${n === 1 ? first : `${n} files named ${name} in ${p}`} (${TOOL_FILES[name]})`);
      if (out.files.length === before) {
        const why = [out.excluded > excludedBefore ? `excluded by --exclude or ${IGNORE_FILE}` : '', walk.toolFiles.size > 0 ? 'skipped as tool configuration' : ''].filter(Boolean);
        out.problems.push(why.length ? `${p}: no policy file left in this directory (the rest was ${why.join(' or ')})` : `${p}: no .yaml, .yml or .json files in this directory`);
      }
    } else out.problems.push(`${p}: not a regular file or directory`);
  }
  return out;
}

/** A file named on the command line, as the exclude patterns see it: relative to the working directory, or its name. */
function commandLinePath(p: string): string {
  const rel = path.relative(process.cwd(), path.resolve(p));
  const usable = rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
  return (usable ? rel : path.basename(p)).split(path.sep).join('/');
}

async function readIgnoreFile(dir: string, out: FileList): Promise<string> {
  try {
    return await readFile(path.join(dir, IGNORE_FILE), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') out.problems.push(`${path.join(dir, IGNORE_FILE)}: ${errnoText(err)}`);
    return '';
  }
}

/** True when the rules leave `full` out (a directory's rule path ends with "/", as git matches them). */
function excluded(full: string, isDir: boolean, w: Walk): boolean {
  const rel = path.relative(w.base, full).split(path.sep).join('/');
  return w.rules.ignores(isDir ? `${rel}/` : rel);
}

/** `w.visited` holds real paths of directories and files already taken: no loops, no duplicates. */
async function walkDir(dir: string, w: Walk): Promise<void> {
  const real = await realpath(dir).catch(() => dir);
  if (w.visited.has(real)) return;
  w.visited.add(real);
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    w.out.problems.push(`${dir}: ${errnoText(err)}`);
    return;
  }
  // Sorted by code unit, so every platform and locale reads the same order.
  entries.sort((a, b) => compareCodeUnits(a.name, b.name));
  for (const entry of entries) {
    const name = entry.name;
    if (name.startsWith('.')) continue; // .git, .chainsaw-test, editor files, .policyociignore
    const full = path.join(dir, name);
    if (entry.isFile()) {
      // The common case, without a system call: a plain file's real path is its directory's + name.
      if (!POLICY_FILE.test(name)) continue;
      const realFile = path.join(real, name);
      if (w.visited.has(realFile)) continue;
      w.visited.add(realFile);
      takeFile(full, name, w);
      continue;
    }
    let st = await lstat(full).catch(() => undefined);
    if (!st) continue;
    if (st.isSymbolicLink()) {
      const target = await realpath(full).catch(() => undefined);
      if (!target || !isInside(target, w.root)) {
        w.out.warnings.push(`${full}: skipped, a symbolic link that leads outside ${path.basename(w.root)}`);
        continue;
      }
      st = await stat(full);
    }
    if (st.isDirectory()) {
      if (excluded(full, true, w)) {
        w.out.excluded++;
        continue;
      }
      await walkDir(full, w);
    } else if (st.isFile() && POLICY_FILE.test(name)) {
      const realFile = await realpath(full).catch(() => full);
      if (w.visited.has(realFile)) continue;
      w.visited.add(realFile);
      takeFile(full, name, w);
    }
  }
}

function takeFile(full: string, name: string, w: Walk): void {
  if (excluded(full, false, w)) {
    w.out.excluded++;
    return;
  }
  if (TOOL_FILES[name] !== undefined) {
    const seen = w.toolFiles.get(name);
    if (seen) seen.n++;
    else w.toolFiles.set(name, { first: full, n: 1 });
    return;
  }
  w.add(full);
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
