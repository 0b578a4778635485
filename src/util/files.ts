// Writes a set of plain files into a directory, whole or not at all: the flat case of
// writeTreeAtomically (util/tree.ts), whose staging, moving in and Ctrl-C handling it uses. Names
// are checked to be plain file names (no separators, no "..") so nothing can land outside it.
import { basename } from 'node:path';
import { PolicyOciError } from '../errors.ts';
import { writeTreeAtomically } from './tree.ts';

export interface OutputFile {
  name: string;
  content: string | Buffer;
}

function assertPlainName(name: string): void {
  if (name === '' || name === '.' || name === '..' || name !== basename(name) || /[\\/\0]/.test(name)) {
    throw new PolicyOciError('UNSAFE_CONTENT', `refused to write a file named ${JSON.stringify(name)}`);
  }
}

export async function writeFilesAtomically(dir: string, files: OutputFile[], options: { force?: boolean } = {}): Promise<string[]> {
  for (const f of files) assertPlainName(f.name);
  return writeTreeAtomically(dir, files.map((f) => ({ path: f.name, content: f.content })), options);
}
