// The shared corpus and its MANIFEST.tsv, which records each file's known quirks.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORPUS } from './cli.ts';

export interface CorpusFile {
  path: string;
  absolute: string;
  documents: string;
  kinds: string[];
  notes: string[];
}

export function corpusFiles(): CorpusFile[] {
  const lines = readFileSync(join(CORPUS, 'MANIFEST.tsv'), 'utf8').trim().split('\n').slice(1);
  return lines.map((line) => {
    const cols = line.split('\t');
    return {
      path: cols[0]!,
      absolute: join(CORPUS, cols[0]!),
      documents: cols[4] ?? '',
      kinds: (cols[5] ?? '').split(';').filter(Boolean),
      notes: (cols[9] ?? '').split(',').filter(Boolean),
    };
  });
}

/** Policy files of the two engines (library and samples); CRDs excluded. */
export function enginePolicyFiles(engine: 'kyverno' | 'kubearmor'): CorpusFile[] {
  return corpusFiles().filter((f) => f.path.startsWith(`${engine}/policies/`) || f.path.startsWith(`${engine}/samples/`));
}

/** Files the corpus itself records as invalid for Kubernetes: duplicate keys or a CRD schema violation. */
export function isKnownInvalid(f: CorpusFile): boolean {
  return f.notes.includes('goyaml-v3-rejects') || f.notes.includes('crd-schema-violation');
}
