// Remembers input files that were already read and validated, by the SHA-256 of their bytes, so
// pushing the same files again (a pipeline re-run, `push` after `push --dry-run`, an unchanged
// re-push) skips the YAML parse and the schema checks, which are nearly all of a push's CPU time
// (bench/README.md). Like Go's build cache:
// - the key is the file's bytes plus everything else that decides the result: this build of the
//   tool (its code, engine schemas and libraries: BUILD_ID) and the load options; a hit is exactly
//   what reading and checking the file again would give, so there is nothing to invalidate;
// - only files without any problem are remembered: a bad file is read, and reported, every time;
// - a damaged, torn or unreadable entry is a miss (the file is read and the entry written again).
// Where: $POLICYOCI_CACHE_DIR, else $XDG_CACHE_HOME/kubectl-policyoci, else ~/.cache/kubectl-policyoci
// (like kubectl's ~/.kube/cache, and the same root as scripts/tools' Go tools); POLICYOCI_CACHE_DIR=off
// turns it off. Safe to delete at any time. Entries are never pruned: one small JSON per file.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toolCacheRoot } from '../util/cache-root.ts';
import { BUILD_ID } from '../version.ts';
import type { KubeObject } from './types.ts';

/** One document of a remembered file, as loadPolicies returns it (paths put back on read). */
export interface CachedDocument {
  object: KubeObject;
  /** stringifyCanonical(object), so a hit need not write it again. */
  canonical: string;
  engine: string;
  line?: number;
  index: number;
  warnings: string[];
}

/** In stored warnings the file's own name is replaced by this, so a copy elsewhere still hits. */
const FILE_MARK = '\u0000file\u0000';
/** Bumped when the entry layout changes. */
const FORMAT = 'checked-v1';

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  // Code run from source has no BUILD_ID to tell one state of the code from the next: only a
  // built bundle or executable remembers anything.
  if (BUILD_ID === undefined) return undefined;
  return toolCacheRoot(env);
}

export class CheckedCache {
  private readonly dir: string;
  private created = false;

  constructor(
    root: string,
    private readonly options: string,
  ) {
    this.dir = join(root, FORMAT);
  }

  /** The key of a file's bytes under these load options and this build. */
  key(bytes: Uint8Array): string {
    return createHash('sha256')
      .update(`${FORMAT}\n${BUILD_ID ?? ''}\n${this.options}\n`)
      .update(bytes)
      .digest('hex');
  }

  get(key: string, file: string): CachedDocument[] | undefined {
    let text: string;
    try {
      text = readFileSync(this.path(key), 'utf8'); // synchronously, as load.ts reads its inputs
    } catch {
      return undefined;
    }
    try {
      const docs = JSON.parse(text) as CachedDocument[];
      if (!Array.isArray(docs) || docs.length === 0) return undefined;
      return docs.map((d) => ({ ...d, warnings: d.warnings.map((w) => w.split(FILE_MARK).join(file)) }));
    } catch {
      return undefined; // damaged: read the file instead (and the entry is written again)
    }
  }

  /**
   * Best effort: a cache that cannot be written only costs time. Synchronous like the reads:
   * promise-based writes interleaved with the parsing made a cold push of 10,000 files slower
   * than writing each entry at once (three system calls, ~0.3 ms on the test VM).
   */
  put(key: string, file: string, docs: CachedDocument[]): void {
    const stored = docs.map((d) => ({ ...d, warnings: d.warnings.map((w) => w.split(file).join(FILE_MARK)) }));
    try {
      if (!this.created) {
        mkdirSync(this.dir, { recursive: true, mode: 0o700 });
        this.created = true;
      }
      // Written in place, without a temp file and rename: a reader that sees a torn entry finds
      // invalid JSON, which is a miss, and two writers of one key write the same bytes.
      writeFileSync(this.path(key), JSON.stringify(stored), { mode: 0o600 });
    } catch {
      // e.g. a read-only or full disk: the push goes on without remembering
    }
  }

  private path(key: string): string {
    return join(this.dir, `${key}.json`);
  }
}
