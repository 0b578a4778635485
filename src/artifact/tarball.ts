// Deterministic tar+gzip of in-memory files, and a bounded, link-refusing reader.
// node-tar's Pack/Unpack work on the file system; we only ever hold policy files in memory, so we
// use its Header/Pax encoders and its Parser directly rather than hand-writing the tar format.
import { Header, Parser, Pax } from 'tar';
import { PolicyOciError } from '../errors.ts';
import { compareCodeUnits } from '../util/compare.ts';

// node:zlib is loaded on first use: most artifacts hold no archive (see scripts/shims/lazy-tar.cjs).
const zlib = () => process.getBuiltinModule('node:zlib');

export interface TarFile {
  path: string;
  content: Buffer;
}

const BLOCK = 512;
const EPOCH = new Date(0);

function headerBlock(file: TarFile): Buffer[] {
  const data = { path: file.path, mode: 0o644, uid: 0, gid: 0, size: file.content.length, mtime: EPOCH, uname: '', gname: '' };
  const header = new Header({ ...data, type: 'File' });
  const block = Buffer.alloc(BLOCK);
  const needPax = header.encode(block, 0);
  if (!needPax) return [block];
  // Long path: a PAX extended header first, then the ustar header (node-tar truncates its path).
  return [new Pax({ path: file.path, mtime: EPOCH }).encode(), block];
}

/** Files sorted by path, fixed mtime/owner/mode, gzip without a timestamp: same input, same bytes. */
export function createTarGz(files: TarFile[]): Buffer {
  const parts: Buffer[] = [];
  for (const file of [...files].sort((a, b) => compareCodeUnits(a.path, b.path))) {
    parts.push(...headerBlock(file), file.content);
    const pad = (BLOCK - (file.content.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return zlib().gzipSync(Buffer.concat(parts), { level: 9 });
}

export interface TarLimits {
  maxUncompressedBytes: number;
  maxEntries: number;
}

export const DEFAULT_TAR_LIMITS: TarLimits = { maxUncompressedBytes: 64 * 1024 * 1024, maxEntries: 20_000 };

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

function startsWith(bytes: Buffer, magic: number[]): boolean {
  return magic.every((b, i) => bytes[i] === b);
}

/** An entry path that would leave the directory it is unpacked in: absolute, a drive, or a ".." part. */
function unsafePath(path: string): boolean {
  return path.startsWith('/') || path.startsWith('\\') || /^[A-Za-z]:/.test(path) || path.includes('\0') || path.split(/[\\/]/).includes('..');
}

/**
 * Reads regular files out of a tar (gzip optional). Links, devices and FIFOs are refused: a policy
 * bundle never needs them and they are the classic way to escape an output directory. So are paths
 * that climb out (`..`, absolute), and a second compression inside the first: node-tar would
 * decompress it on its own, past --max-uncompressed-size.
 */
export function readTar(archive: Buffer, name: string, limits: TarLimits = DEFAULT_TAR_LIMITS): TarFile[] {
  let tar = archive;
  if (startsWith(archive, GZIP_MAGIC)) {
    try {
      tar = zlib().gunzipSync(archive, { maxOutputLength: limits.maxUncompressedBytes });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ERR_BUFFER_TOO_LARGE' || (err instanceof RangeError)) {
        throw new PolicyOciError('LIMIT', `${name}: decompresses to more than ${limits.maxUncompressedBytes} bytes (limit --max-uncompressed-size)`);
      }
      throw new PolicyOciError('UNSAFE_CONTENT', `${name}: not valid gzip data (${(err as Error).message})`);
    }
  }
  if (startsWith(tar, GZIP_MAGIC) || startsWith(tar, ZSTD_MAGIC)) {
    throw new PolicyOciError('UNSAFE_CONTENT', `${name}: refused: a compressed archive inside ${tar === archive ? 'a layer' : 'the gzip layer'} (only one gzip level is read)`);
  }
  // Only end-of-archive blocks: an empty archive (node-tar would call it unrecognised).
  if (tar.length >= BLOCK && tar.length % BLOCK === 0 && tar.every((b) => b === 0)) return [];
  const files: TarFile[] = [];
  const problems: string[] = [];
  let limit: PolicyOciError | undefined;
  let entries = 0;
  let bytes = 0;
  const parser = new Parser({
    strict: true,
    onReadEntry: (entry) => {
      if (limit) {
        entry.resume();
        return;
      }
      entries++;
      bytes += entry.size ?? 0;
      if (entries > limits.maxEntries) {
        limit = new PolicyOciError('LIMIT', `${name}: holds more than ${limits.maxEntries} entries (limit --max-archive-entries)`);
      } else if (bytes > limits.maxUncompressedBytes) {
        limit = new PolicyOciError('LIMIT', `${name}: its files add up to more than ${limits.maxUncompressedBytes} bytes (limit --max-uncompressed-size)`);
      }
      if (limit) {
        entry.resume();
        parser.abort(new Error(limit.message));
        return;
      }
      const type = entry.type;
      if (unsafePath(entry.path)) {
        problems.push(`entry "${printable(entry.path)}" has a path that leaves the archive (absolute or with "..")`);
        entry.resume();
        return;
      }
      if (type === 'Directory') {
        entry.resume();
        return;
      }
      if (type !== 'File' && type !== 'OldFile' && type !== 'ContiguousFile') {
        problems.push(`entry "${printable(entry.path)}" is a ${type}; only regular files are accepted`);
        entry.resume();
        return;
      }
      const chunks: Buffer[] = [];
      entry.on('data', (c: Buffer) => chunks.push(c));
      entry.on('end', () => files.push({ path: entry.path, content: Buffer.concat(chunks) }));
    },
  });
  let parseError: Error | undefined;
  parser.on('error', (err: Error) => (parseError ??= err));
  parser.on('warn', (_code: string, message: string | Error) => {
    if (!limit) problems.push(String(message instanceof Error ? message.message : message));
  });
  parser.end(tar);
  if (limit) throw limit;
  if (parseError) throw new PolicyOciError('UNSAFE_CONTENT', `${name}: not a valid tar archive (${parseError.message})`);
  if (problems.length > 0) {
    throw new PolicyOciError('UNSAFE_CONTENT', `${name}: refused: ${problems[0]}`, { details: problems.slice(0, 20) });
  }
  return files;
}

export function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`).slice(0, 200);
}
