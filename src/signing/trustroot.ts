// Which Sigstore trusted root (dev.sigstore.trustroot.v1.TrustedRoot JSON) a verification uses:
//  - the file the user gave (`--trusted-root`): a private Sigstore deployment or an air-gapped copy;
//  - else Sigstore's public good, from its TUF repository through @sigstore/tuf (online, one short
//    attempt, metadata cached under the tool's cache directory), and when that repository cannot be
//    reached, the copy @sigstore/tuf ships (its seed, built into the executable).
// The root is loaded lazily, once: a check that needs none (a key-based signature without log
// entries) never touches the network.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyOciError } from '../errors.ts';
import { toolCacheRoot } from '../util/cache-root.ts';
import { publicGoodTrustedRoot } from './sigstore.ts';

export const PUBLIC_GOOD_TUF_MIRROR = 'https://tuf-repo-cdn.sigstore.dev';
/** One attempt, bounded: an unreachable repository must not hold a verification up. */
const TUF_TIMEOUT_MS = 5000;
const MAX_TRUSTED_ROOT_BYTES = 4 * 1024 * 1024;

export interface TrustedRootUsed {
  /** `file`: --trusted-root; `tuf`: fetched from the public-good TUF repository; `shipped`: the copy inside the executable. */
  source: 'file' | 'tuf' | 'shipped';
  /** The file, the repository, or why the shipped copy was used. */
  detail: string;
}

export interface LoadedTrustedRoot {
  json: object;
  used: TrustedRootUsed;
}

export interface TrustedRootOptions {
  /** --trusted-root FILE */
  path?: string;
  /** Where the TUF metadata is cached (default: the tool's cache directory). */
  cacheDir?: string;
  /** Override the TUF attempt's bound (ms). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Reads and parses a --trusted-root file (its contents are checked when it is used). */
export function readTrustedRootFile(path: string): object {
  let text: string;
  try {
    const bytes = readFileSync(path);
    if (bytes.length > MAX_TRUSTED_ROOT_BYTES) throw new PolicyOciError('LIMIT', `--trusted-root ${path} is ${bytes.length} bytes (at most ${MAX_TRUSTED_ROOT_BYTES})`);
    text = bytes.toString('utf8');
  } catch (err) {
    if (err instanceof PolicyOciError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    // As for --key (signing/keys.ts): a missing file is NOT_FOUND (exit 4), anything else IO.
    throw new PolicyOciError(code === 'ENOENT' ? 'NOT_FOUND' : 'IO', `--trusted-root ${path} cannot be read: ${code === 'ENOENT' ? 'no such file or directory' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as object;
  } catch (err) {
    throw new PolicyOciError('INVALID_INPUT', `--trusted-root ${path} is not a trusted root (JSON): ${(err as Error).message}`);
  }
}

/** A trusted root loaded on first use, then kept. */
export class TrustedRootLoader {
  private loading: Promise<LoadedTrustedRoot> | undefined;
  private loaded: LoadedTrustedRoot | undefined;

  constructor(private readonly options: TrustedRootOptions = {}) {}

  /** What was used, once something was loaded. */
  get used(): TrustedRootUsed | undefined {
    return this.loaded?.used;
  }

  load(): Promise<LoadedTrustedRoot> {
    this.loading ??= this.loadOnce().then((r) => (this.loaded = r));
    return this.loading;
  }

  private async loadOnce(): Promise<LoadedTrustedRoot> {
    if (this.options.path) return { json: readTrustedRootFile(this.options.path), used: { source: 'file', detail: this.options.path } };
    try {
      return { json: await fetchPublicGood(this.options), used: { source: 'tuf', detail: PUBLIC_GOOD_TUF_MIRROR } };
    } catch (err) {
      return { json: publicGoodTrustedRoot(), used: { source: 'shipped', detail: `${PUBLIC_GOOD_TUF_MIRROR} not reachable (${failureReason(err)})` } };
    }
  }
}

async function fetchPublicGood(options: TrustedRootOptions): Promise<object> {
  const { getTrustedRoot } = await import('@sigstore/tuf');
  const { TrustedRoot } = await import('@sigstore/protobuf-specs');
  const root = options.cacheDir ?? toolCacheRoot(options.env);
  // No cache wanted: a scratch directory for this run only.
  const scratch = root === undefined ? mkdtempSync(join(tmpdir(), 'policyoci-tuf-')) : undefined;
  const cachePath = scratch ?? join(root!, 'sigstore-tuf');
  const timeout = options.timeoutMs ?? TUF_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  try {
    const fetched = getTrustedRoot({ mirrorURL: PUBLIC_GOOD_TUF_MIRROR, cachePath, timeout, retry: false });
    fetched.catch(() => undefined);
    // tuf-js bounds each request; this bounds the whole refresh (DNS included).
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeout} ms`)), timeout);
      timer.unref();
    });
    return TrustedRoot.toJSON(await Promise.race([fetched, bound])) as object;
  } finally {
    if (timer) clearTimeout(timer);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Why the repository could not be reached, in one line: tuf-js says only "error refreshing TUF
 * metadata"; the cause chain holds the useful part (fetch failed: getaddrinfo ENOTFOUND …).
 */
export function failureReason(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const text = (e instanceof Error ? e.message : String(e)).split('\n')[0]!.trim();
    if (text && !parts.some((p) => p.includes(text))) parts.push(text);
    if (!(e instanceof Error)) break;
  }
  const line = parts.join(': ') || 'unknown error';
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}
