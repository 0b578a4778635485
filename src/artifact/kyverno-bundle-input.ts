// The bundle root of a Kyverno bundle 1.0 push (spec §5): every .yaml/.yml file under it at its
// relative path, byte for byte; hidden paths and other files skipped; the descriptor
// kyverno-bundle.yaml taken at the root and refused below it; symbolic links and special files refused.
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { PolicyOciError } from '../errors.ts';
import { compareCodeUnits } from '../util/compare.ts';
import { DESCRIPTOR_FILE, type BundleFile } from './kyverno-bundle.ts';

export interface BundleRoot {
  files: BundleFile[];
  /** Absolute paths of `files`, same order (for the schema check). */
  absolute: string[];
  descriptor?: { path: string; content: Buffer };
}

const YAML = /\.ya?ml$/;

export async function readBundleRoot(root: string): Promise<BundleRoot> {
  let info;
  try {
    info = await stat(root);
  } catch (err) {
    throw new PolicyOciError('IO', `cannot read ${root}: ${(err as Error).message}`);
  }
  if (info.isFile()) {
    const name = basename(root);
    if (!YAML.test(name)) throw new PolicyOciError('INVALID_INPUT', `${root}: a bundle holds .yaml/.yml files only`);
    if (name === DESCRIPTOR_FILE) throw new PolicyOciError('INVALID_INPUT', `${root}: the descriptor alone makes no bundle (give its directory)`);
    return { files: [{ path: name, content: await readFile(root) }], absolute: [root] };
  }
  if (!info.isDirectory()) throw new PolicyOciError('INVALID_INPUT', `${root}: not a file or directory`);
  const out: BundleRoot = { files: [], absolute: [] };
  const problems: string[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => compareCodeUnits(a.name, b.name));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const abs = join(dir, e.name);
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isSymbolicLink()) {
        problems.push(`${abs}: a symbolic link (a bundle archives regular files only)`);
        continue;
      }
      if (e.isDirectory()) {
        await walk(abs, path);
        continue;
      }
      if (!YAML.test(e.name)) continue;
      if (!e.isFile()) {
        problems.push(`${abs}: not a regular file`);
        continue;
      }
      if (e.name === DESCRIPTOR_FILE) {
        if (rel === '') out.descriptor = { path: abs, content: await readFile(abs) };
        else problems.push(`${abs}: ${DESCRIPTOR_FILE} is reserved for the descriptor at the bundle root`);
        continue;
      }
      // A hard link is an ordinary file on disk; the archive never holds one (createTarGz writes files).
      if ((await lstat(abs)).isFile()) {
        out.files.push({ path, content: await readFile(abs) });
        out.absolute.push(abs);
      }
    }
  };
  await walk(root, '');
  if (problems.length) throw new PolicyOciError('INVALID_INPUT', `refused the bundle root ${root}: ${problems[0]}`, { details: problems });
  return out;
}
