// The release as krew sees it: dist/release/ from `npm run build -- --all-platforms` (built here
// when missing or of another version), checked with krew's own validator and installed by krew
// itself from the local archives for every platform.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync, inflateRawSync } from 'node:zlib';
import { Parser } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '../support/cli.ts';

const run = promisify(execFile);
const RELEASE = join(REPO_ROOT, 'dist', 'release');
const MANIFEST = join(RELEASE, 'policyoci.yaml');
const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
const URL_PREFIX = `https://github.com/kubectl-policyoci/kubectl-policyoci/releases/download/v${version}/`;

interface Platform {
  selector: { matchLabels: { os: string; arch: string } };
  uri: string;
  sha256: string;
  bin: string;
  files: { from: string; to: string }[];
}
interface Entry {
  name: string;
  mode: number;
  data: Buffer;
}

/** A Go-built peer tool from scripts/tools/build.sh (cached; the first build takes minutes). */
async function tool(name: string): Promise<string> {
  const { stdout } = await run('bash', [join(REPO_ROOT, 'scripts/tools/build.sh'), name], {
    cwd: REPO_ROOT,
    maxBuffer: 16 << 20,
  });
  const path = stdout.trim().split('\n').pop() ?? '';
  if (!existsSync(path)) throw new Error(`scripts/tools/build.sh ${name} printed no binary path`);
  return path;
}

async function readArchive(file: string): Promise<Entry[]> {
  const data = readFileSync(file);
  return file.endsWith('.zip') ? readZip(data) : readTarGz(data);
}

async function readTarGz(data: Buffer): Promise<Entry[]> {
  const entries: Entry[] = [];
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      onReadEntry: (entry) => {
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => entries.push({ name: entry.path, mode: entry.mode ?? 0, data: Buffer.concat(chunks) }));
      },
    });
    parser.on('end', () => resolve());
    parser.on('error', reject);
    parser.end(gunzipSync(data));
  });
  return entries;
}

/** Just enough ZIP to list and inflate what scripts/package.mjs writes (central directory). */
function readZip(buf: Buffer): Entry[] {
  const end = buf.length - 22;
  expect(buf.readUInt32LE(end)).toBe(0x06054b50);
  const entries: Entry[] = [];
  let at = buf.readUInt32LE(end + 16);
  for (let i = 0; i < buf.readUInt16LE(end + 10); i++) {
    expect(buf.readUInt32LE(at)).toBe(0x02014b50);
    const method = buf.readUInt16LE(at + 10);
    const size = buf.readUInt32LE(at + 20);
    const nameLen = buf.readUInt16LE(at + 28);
    const skip = nameLen + buf.readUInt16LE(at + 30) + buf.readUInt16LE(at + 32);
    const local = buf.readUInt32LE(at + 42);
    const body = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(body, body + size);
    entries.push({
      name: buf.toString('utf8', at + 46, at + 46 + nameLen),
      mode: buf.readUInt32LE(at + 38) >>> 16,
      data: method === 8 ? inflateRawSync(raw) : Buffer.from(raw),
    });
    at += 46 + skip;
  }
  return entries;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * Checks a Mach-O file's embedded signature the way the kernel does for an ad-hoc one: the
 * CodeDirectory's SHA-256 of every 4 KiB page up to the signature matches the file.
 */
function expectValidAdhocSignature(b: Buffer, label: string): void {
  let sig: { off: number; size: number } | undefined;
  for (let i = 0, at = 32; i < b.readUInt32LE(16); i++, at += b.readUInt32LE(at + 4)) {
    if (b.readUInt32LE(at) === 0x1d) sig = { off: b.readUInt32LE(at + 8), size: b.readUInt32LE(at + 12) };
  }
  if (!sig) throw new Error(`${label}: no LC_CODE_SIGNATURE`);
  expect(sig.off + sig.size, label).toBe(b.length);
  expect(b.readUInt32BE(sig.off), label).toBe(0xfade0cc0); // embedded signature SuperBlob
  expect(b.readUInt32BE(sig.off + 12), label).toBe(0); // first blob: the CodeDirectory
  const cd = sig.off + b.readUInt32BE(sig.off + 16);
  expect(b.readUInt32BE(cd), label).toBe(0xfade0c02);
  expect(b.readUInt32BE(cd + 12) & 0x2, `${label} is ad hoc`).toBe(0x2);
  const hashOffset = b.readUInt32BE(cd + 16);
  const slots = b.readUInt32BE(cd + 28);
  const codeLimit = b.readUInt32BE(cd + 32);
  const page = 1 << b.readUInt8(cd + 39);
  expect(b.readUInt8(cd + 37), `${label} hashes with SHA-256`).toBe(2);
  expect(codeLimit, label).toBe(sig.off);
  expect(slots, label).toBe(Math.ceil(codeLimit / page));
  for (let i = 0; i < slots; i++) {
    const digest = createHash('sha256').update(b.subarray(i * page, Math.min((i + 1) * page, codeLimit))).digest();
    const stored = b.subarray(cd + hashOffset + i * 32, cd + hashOffset + (i + 1) * 32);
    if (!digest.equals(stored)) throw new Error(`${label}: page ${i} does not match its hash`);
  }
}

function findGo(): string {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/local/go/bin']) {
    if (dir && existsSync(join(dir, 'go'))) return join(dir, 'go');
  }
  throw new Error('go is not installed: the test setup (.ci/run) must install it');
}
const MAGIC: Record<string, (b: Buffer) => boolean> = {
  linux: (b) => b.readUInt32BE(0) === 0x7f454c46,
  darwin: (b) => b.readUInt32LE(0) === 0xfeedfacf,
  windows: (b) => b.toString('latin1', 0, 2) === 'MZ',
};

const COMPLETER = 'kubectl_complete-policyoci';

describe('the krew release', () => {
  let platforms: Platform[];
  const temps: string[] = [];

  beforeAll(async () => {
    const current = existsSync(MANIFEST) && readFileSync(MANIFEST, 'utf8').includes(`version: v${version}\n`);
    if (!current) {
      // About a minute with the Node binaries cached, plus ~45 s to fetch them the first time.
      await run(process.execPath, [join(REPO_ROOT, 'scripts/build.mjs'), '--all-platforms'], {
        cwd: REPO_ROOT,
        maxBuffer: 16 << 20,
      });
    }
    const doc = parse(readFileSync(MANIFEST, 'utf8')) as { spec: { version: string; platforms: Platform[] } };
    expect(doc.spec.version).toBe(`v${version}`);
    platforms = doc.spec.platforms;
  }, 900_000);
  afterAll(() => {
    for (const dir of temps) rmSync(dir, { recursive: true, force: true });
  });

  it("passes krew's validate-krew-manifest", async () => {
    const validator = await tool('validate-krew-manifest');
    // -skip-install: its install step downloads the release URLs; the test below installs from
    // the local archives with krew instead.
    const r = await run(validator, ['-manifest', MANIFEST, '-skip-install']);
    expect(r.stderr).toContain('structural validation OK');
  }, 900_000);

  it('names concrete URLs and the real sha256 of every archive', () => {
    const archives = readdirSync(RELEASE).filter((f) => /\.(tar\.gz|zip)$/.test(f));
    expect(platforms.map((p) => p.uri.slice(URL_PREFIX.length)).sort()).toEqual(archives.sort());
    const checksums = readFileSync(join(RELEASE, 'checksums.txt'), 'utf8');
    for (const p of platforms) {
      expect(p.uri.startsWith(URL_PREFIX)).toBe(true);
      const name = p.uri.slice(URL_PREFIX.length);
      const actual = sha256(readFileSync(join(RELEASE, name)));
      expect(p.sha256, name).toBe(actual);
      expect(checksums).toContain(`${actual}  ${name}\n`);
    }
  });

  /** What each archive holds: the executable, LICENSE, and (not on Windows) kubectl's completion script. */
  const expectedFiles = (os: string, bin: string) => ['LICENSE', bin, ...(os === 'windows' ? [] : [COMPLETER])].sort();

  it('packs LICENSE, the executable for its platform and the completion script in every archive', async () => {
    const license = readFileSync(join(REPO_ROOT, 'LICENSE'));
    const completer = readFileSync(join(REPO_ROOT, 'dist', COMPLETER));
    for (const p of platforms) {
      const { os } = p.selector.matchLabels;
      const entries = await readArchive(join(RELEASE, p.uri.slice(URL_PREFIX.length)));
      expect(entries.map((e) => e.name).sort()).toEqual(expectedFiles(os, p.bin));
      expect(p.files.map((f) => f.from).sort()).toEqual(expectedFiles(os, p.bin));
      const lic = entries.find((e) => e.name === 'LICENSE')!;
      const exe = entries.find((e) => e.name === p.bin)!;
      if (os !== 'windows') {
        const script = entries.find((e) => e.name === COMPLETER)!;
        expect(script.data.equals(completer)).toBe(true);
        expect(script.mode & 0o777).toBe(0o755);
      }
      expect(lic.data.equals(license)).toBe(true);
      expect(exe.mode & 0o777).toBe(0o755);
      expect(MAGIC[os]?.(exe.data), `${p.bin} for ${os}`).toBe(true);
      expect(exe.data.includes('NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1')).toBe(true);
      if (os === 'darwin') expectValidAdhocSignature(exe.data, `${os}/${p.selector.matchLabels.arch}`);
    }
  });

  it("signs Mach-O files byte for byte as Go's linker signs darwin/arm64 programs", async () => {
    // Go ad-hoc signs every darwin/arm64 binary it links, and those run on Apple Silicon; no Mac
    // here to try ours, so strip Go's signature and sign again with scripts/macho-codesign.mjs.
    const dir = mkdtempSync(join(tmpdir(), 'policyoci-macho-'));
    temps.push(dir);
    writeFileSync(join(dir, 'go.mod'), 'module hello\n\ngo 1.22\n');
    writeFileSync(join(dir, 'main.go'), 'package main\n\nfunc main() { println("hello") }\n');
    const env = { ...process.env, GOOS: 'darwin', GOARCH: 'arm64', CGO_ENABLED: '0', GOFLAGS: '', GOWORK: 'off' };
    await run(findGo(), ['build', '-o', 'a.out', '.'], { cwd: dir, env });
    const fromGo = readFileSync(join(dir, 'a.out'));
    expectValidAdhocSignature(fromGo, 'go build output');
    const signer = join(REPO_ROOT, 'scripts/macho-codesign.mjs');
    await run(process.execPath, [signer, '--remove', join(dir, 'a.out')]);
    expect(readFileSync(join(dir, 'a.out')).length).toBeLessThan(fromGo.length);
    await run(process.execPath, [signer, join(dir, 'a.out')]);
    expect(readFileSync(join(dir, 'a.out')).equals(fromGo)).toBe(true);
  }, 300_000);

  it('is installed by krew from each archive, and the linux/amd64 one runs', async () => {
    const krew = await tool('krew');
    for (const p of platforms) {
      const { os, arch } = p.selector.matchLabels;
      const root = mkdtempSync(join(tmpdir(), 'policyoci-krew-'));
      temps.push(root);
      const archive = join(RELEASE, p.uri.slice(URL_PREFIX.length));
      // krew checks the sha256, unpacks `files` and links `bin`, as `kubectl krew install` does.
      await run(krew, ['install', '--manifest', MANIFEST, '--archive', archive], {
        env: { PATH: process.env.PATH, HOME: root, KREW_ROOT: root, KREW_OS: os, KREW_ARCH: arch },
      });
      const store = join(root, 'store', 'policyoci', `v${version}`);
      expect(readdirSync(store).sort(), `${os}/${arch}`).toEqual(expectedFiles(os, p.bin));
      expect(statSync(join(root, 'bin', p.bin)).isFile()).toBe(true);
      if (os === 'linux' && arch === 'amd64' && process.platform === 'linux' && process.arch === 'x64') {
        const r = await run(join(root, 'bin', p.bin), ['version'], { env: { PATH: '/nonexistent' } });
        expect(r.stdout).toContain(`kubectl-policyoci ${version} `);
      }
    }
  }, 300_000);

  it("makes this machine's V8 code cache on a command's first run and uses it from then on", async () => {
    // Release executables carry no code cache (scripts/sea/loader.cjs): this machine's one.
    const here = { linux: 'linux', darwin: 'darwin', win32: 'windows' }[process.platform as string];
    const hereArch = { x64: 'amd64', arm64: 'arm64' }[process.arch as string];
    const p = platforms.find((x) => x.selector.matchLabels.os === here && x.selector.matchLabels.arch === hereArch);
    expect(p, `a release for ${process.platform}/${process.arch}`).toBeDefined();
    const exe = join(REPO_ROOT, 'dist', `${here}_${hereArch}`, p!.bin);
    const cacheRoot = mkdtempSync(join(tmpdir(), 'policyoci-v8-cache-'));
    temps.push(cacheRoot);
    const env = { PATH: '/nonexistent', POLICYOCI_CACHE_DIR: cacheRoot };
    const base = join(cacheRoot, 'v8-code-cache');
    const builds = () => (existsSync(base) ? readdirSync(base) : []);

    expect((await run(exe, ['version'], { env })).stdout).toContain(`kubectl-policyoci ${version} `);
    expect(builds()).toEqual([expect.stringMatching(new RegExp(`^[0-9a-f]{64}-v${process.versions.node.replaceAll('.', '\\.')}$`))]);
    const file = join(base, builds()[0]!, 'version.cache');
    const made = statSync(file);
    expect(made.size).toBeGreaterThan(10_000);

    // Accepted the second time: not made again.
    await run(exe, ['version'], { env });
    expect(statSync(file)).toMatchObject({ ino: made.ino, mtimeMs: made.mtimeMs });

    // A cache V8 rejects is made again, and the caches of other builds go.
    writeFileSync(file, 'not a code cache');
    mkdirSync(join(base, `${'0'.repeat(64)}-v0.0.0`));
    expect((await run(exe, ['version'], { env })).stdout).toContain(`kubectl-policyoci ${version} `);
    expect(statSync(file).size).toBeGreaterThan(10_000);
    expect(builds()).toHaveLength(1);

    // Each command has its own; POLICYOCI_CACHE_DIR=off keeps nothing anywhere.
    await run(exe, ['push', '--dry-run', 'localhost:5000/cache-test:v1', join(REPO_ROOT, 'examples', 'policies')], { env });
    expect(readdirSync(join(base, builds()[0]!)).sort()).toEqual(['push.cache', 'version.cache']);
    const home = mkdtempSync(join(tmpdir(), 'policyoci-v8-home-'));
    temps.push(home);
    await run(exe, ['version'], { env: { PATH: '/nonexistent', HOME: home, POLICYOCI_CACHE_DIR: 'off' } });
    expect(readdirSync(home)).toEqual([]);
  }, 120_000);
});
