#!/usr/bin/env node
// Bundle src/ into dist/cli.cjs and wrap it into Node single executable applications (SEA).
//
//   npm run build                      dist/cli.cjs + dist/kubectl-policyoci (this machine)
//   npm run build -- --all-platforms   also dist/<os>_<arch>/ for every release target, the
//                                      archives, checksums.txt and the krew manifest in dist/release/
//   options: --no-code-cache (native executable without V8 code cache), --bundle-only,
//            --no-minify (a readable bundle, for `node --cpu-prof dist/cli.cjs …`)
//
// Run it with the pinned Node (npm run puts node_modules/.bin first on PATH): a SEA blob only
// works in a Node binary of exactly the version that made it. Other platforms' Node binaries come
// from npm (fetch-node.mjs). Release executables carry no code cache (V8 can only make one for its
// own platform, and it is not reproducible), so every archive is byte-for-byte reproducible.
// Signatures: macOS executables get an ad-hoc signature (macho-codesign.mjs); the Windows one is
// unsigned (node.exe's Authenticode signature is removed, as it cannot survive the injection).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import * as esbuild from 'esbuild';
import { fetchNode } from './fetch-node.mjs';
import { TARGETS, nativeTarget, packageRelease } from './package.mjs';
import { writeKrewManifest } from './krew-manifest.mjs';
import { adhocSign } from './macho-codesign.mjs';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const DIST = path.join(ROOT, 'dist');
const BUNDLE = path.join(DIST, 'cli.cjs');
const RESOURCE = 'NODE_SEA_BLOB';
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const SEA_MAGIC = 0x143da20;

async function main() {
  const { values } = parseArgs({
    options: {
      'all-platforms': { type: 'boolean', default: false },
      'code-cache': { type: 'boolean', default: true },
      'bundle-only': { type: 'boolean', default: false },
      minify: { type: 'boolean', default: true },
    },
    allowNegative: true,
  });
  const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8'));
  const pinned = pkg.devDependencies?.node;
  if (process.versions.node !== pinned) {
    throw new Error(
      `this is Node ${process.versions.node}, the project pins ${pinned}: run \`npm run build\``,
    );
  }

  const t0 = performance.now();
  const stamp = await buildStamp();
  await bundle(pkg.version, stamp, { minify: values.minify });
  log(`bundle   dist/cli.cjs ${kib((await readFile(BUNDLE)).length)}, commit ${stamp.commit || 'unknown'}, ${stamp.buildDate} (${ms(t0)})`);
  if (values['bundle-only']) return;

  const t1 = performance.now();
  const native = path.join(DIST, process.platform === 'win32' ? 'kubectl-policyoci.exe' : 'kubectl-policyoci');
  await buildExecutable({
    base: process.execPath,
    out: native,
    target: nativeTarget(),
    useCodeCache: values['code-cache'],
  });
  const { stdout } = await run(native, ['version']);
  if (!stdout.includes(pkg.version) || !stdout.includes(`node ${pinned}`)) {
    throw new Error(`${native} version printed ${JSON.stringify(stdout)}`);
  }
  log(`sea      ${path.relative(ROOT, native)} (${ms(t1)})`);
  // kubectl (>= 1.26) runs kubectl_complete-policyoci for `kubectl policyoci <TAB>`: the script
  // the executable prints, beside it (scripts/package.mjs puts it in the release archives).
  const completer = path.join(DIST, 'kubectl_complete-policyoci');
  await writeFile(completer, (await run(native, ['completion', 'kubectl'])).stdout, { mode: 0o755 });
  await chmod(completer, 0o755);

  if (!values['all-platforms']) return;
  const t2 = performance.now();
  for (const target of TARGETS) {
    const t = performance.now();
    const base = target === nativeTarget() ? process.execPath : await fetchNode(target.nodePackage);
    const out = path.join(DIST, `${target.os}_${target.arch}`, target.bin);
    // No code cache and no snapshot: both are specific to the building platform.
    await buildExecutable({ base, out, target, useCodeCache: false });
    log(`sea      ${path.relative(ROOT, out)} (${ms(t)})`);
  }
  const archives = await packageRelease({ version: pkg.version, distDir: DIST });
  const manifest = await writeKrewManifest({ version: pkg.version, releaseDir: path.dirname(archives[0].path) });
  log(`release  ${archives.length} archives, ${path.relative(ROOT, manifest)} (${ms(t2)})`);
}

/**
 * What `version` reports besides the version: the commit (with -dirty when tracked files have
 * changes) and a build date that is the same for the same commit, so that builds stay
 * reproducible: SOURCE_DATE_EPOCH, else the commit's time, else (a tree without git, e.g. a source
 * tarball) the time of the build.
 */
export async function buildStamp() {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  const fromEpoch = epoch && /^\d+$/.test(epoch) ? new Date(Number(epoch) * 1000) : undefined;
  const git = async (...args) => (await run('git', ['-C', ROOT, ...args], { encoding: 'utf8' })).stdout.trim();
  try {
    // Only this repository: a tarball unpacked inside another work tree must not take its commit.
    if (path.resolve(await git('rev-parse', '--show-toplevel')) !== ROOT) throw new Error('not the top of a git work tree');
    const commit = await git('rev-parse', 'HEAD');
    const dirty = (await git('status', '--porcelain', '--untracked-files=no')) !== '';
    const committed = new Date(Number(await git('log', '-1', '--format=%ct')) * 1000);
    return { commit: dirty ? `${commit}-dirty` : commit, buildDate: rfc3339(fromEpoch ?? committed) };
  } catch {
    return { commit: '', buildDate: rfc3339(fromEpoch ?? new Date()) };
  }
}

const rfc3339 = (date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * esbuild: one minified CommonJS file, because a SEA's main script must be CommonJS.
 * `outfile`/`minify`: for profiles (`node --cpu-prof` on an unminified bundle, bench/README.md).
 */
export async function bundle(version, stamp = { commit: '', buildDate: '' }, { outfile = BUNDLE, minify = true } = {}) {
  await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: ['src/main.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node26',
    format: 'cjs',
    minify,
    legalComments: 'eof', // keep the notices that dependencies mark as legal (/*! */, @license)
    loader: { '.json': 'json' },
    // Optional native add-ons of ws/node-fetch: their users fall back when require() fails.
    external: ['bufferutil', 'utf-8-validate', 'encoding'],
    define: {
      __POLICYOCI_VERSION__: JSON.stringify(version),
      __POLICYOCI_BUILD_ID__: JSON.stringify(BUILD_ID_PLACEHOLDER),
      __POLICYOCI_COMMIT__: JSON.stringify(stamp.commit),
      __POLICYOCI_BUILD_DATE__: JSON.stringify(stamp.buildDate),
      // ESM-only dependencies read import.meta.url, which CommonJS has not; inside the executable
      // __filename is the executable itself.
      'import.meta.url': 'importMetaUrl',
    },
    banner: { js: "const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
    logLevel: 'warning',
    plugins: [lazyStringWidth, lazyHttp2, lazyTar, precompiledValidators],
  });
  // The build id is the SHA-256 of the bundle itself (every line of code, schema and library it
  // runs), written over a placeholder of the same length: the cache of checked files is keyed by it.
  const code = await readFile(outfile, 'utf8');
  if (code.split(BUILD_ID_PLACEHOLDER).length !== 2) throw new Error('build id placeholder not found exactly once in the bundle');
  const id = createHash('sha256').update(code).digest('hex');
  await writeFile(outfile, code.replace(BUILD_ID_PLACEHOLDER, id));
}

/** yargs', cliui's and wrap-ansi's `string-width` → scripts/shims/lazy-string-width.cjs (why: in that file). */
const lazyStringWidth = {
  name: 'lazy-string-width',
  setup(build) {
    build.onResolve({ filter: /^string-width$/ }, (args) => {
      if (!/[\\/]node_modules[\\/](yargs|cliui|wrap-ansi)[\\/]/.test(args.importer)) return undefined;
      return { path: path.join(ROOT, 'scripts', 'shims', 'lazy-string-width.cjs') };
    });
  },
};

/** src/artifact/tarball.ts's `tar` → scripts/shims/lazy-tar.cjs (why: in that file). */
const lazyTar = {
  name: 'lazy-tar',
  setup(build) {
    build.onResolve({ filter: /^tar$/ }, (args) => {
      if (!/[\\/]src[\\/]artifact[\\/]tarball\.ts$/.test(args.importer)) return undefined;
      return { path: path.join(ROOT, 'scripts', 'shims', 'lazy-tar.cjs') };
    });
  },
};

/**
 * undici's HTTP/2 client reads `node:http2`'s constants when it loads, and node:http2 (with the
 * node:tls it needs) is ~15 ms of every start-up, though a registry on plain HTTP/1.1 never uses
 * it. Its `require('node:http2')` gets the constants of this Node (the version every executable
 * is built from; the build checks it) and loads the real module only when a connection is made.
 */
const lazyHttp2 = {
  name: 'lazy-http2',
  setup(build) {
    build.onResolve({ filter: /^node:http2$/ }, (args) => {
      if (!/[\\/]node_modules[\\/]undici[\\/]lib[\\/]dispatcher[\\/]client-h2\.js$/.test(args.importer)) return undefined;
      return { path: 'node:http2', namespace: 'lazy-http2' };
    });
    build.onLoad({ filter: /.*/, namespace: 'lazy-http2' }, async () => {
      const { constants } = await import('node:http2');
      return {
        loader: 'js',
        contents: `'use strict';\nmodule.exports = {\n  constants: ${JSON.stringify(constants)},\n  connect: (...args) => process.getBuiltinModule('node:http2').connect(...args),\n};\n`,
      };
    });
  },
};

/**
 * src/policy/validate-precompiled.ts → a table of every kind's schema validator, compiled now by ajv
 * into standalone code (src/policy/validate-standalone.ts), each module evaluated only when a
 * policy of its kind is validated: no run compiles a schema (that was ~100 ms of a push of 10).
 */
const precompiledValidators = {
  name: 'precompiled-validators',
  setup(build) {
    let generated;
    const validators = () => (generated ??= import('../src/policy/validate-standalone.ts').then((m) => m.standaloneValidators()));
    build.onLoad({ filter: /[\\/]src[\\/]policy[\\/]validate-precompiled\.ts$/ }, async () => {
      const { table } = await validators();
      const entries = Object.entries(table).map(([key, id]) => `  ${JSON.stringify(key)}: () => import('policyoci-validator:${id}').then((m) => m.default),`);
      return { loader: 'js', contents: `export const precompiled = {\n${entries.join('\n')}\n};\n` };
    });
    build.onResolve({ filter: /^policyoci-validator:/ }, (args) => ({ path: args.path, namespace: 'policyoci-validator' }));
    build.onLoad({ filter: /.*/, namespace: 'policyoci-validator' }, async (args) => {
      const { modules } = await validators();
      const m = modules.find((x) => `policyoci-validator:${x.id}` === args.path);
      if (!m) throw new Error(`no validator ${args.path}`);
      // The standalone code requires ajv's small run-time helpers (ajv/dist/runtime/*).
      return { loader: 'js', contents: m.source, resolveDir: ROOT };
    });
  },
};

const BUILD_ID_PLACEHOLDER = 'policyoci-build-id-placeholder'.padEnd(64, '-');

/**
 * Makes `out` from the Node binary `base` with `node --build-sea` (Node >= 25.5: writes the blob
 * and injects it in one step, for ELF, Mach-O and PE alike, several times faster than postject's
 * wasm build), then checks the result's header and that the blob sits where Node looks for it.
 * The blob's main script is scripts/sea/loader.cjs; the bundle is its asset "cli.cjs". With
 * `useCodeCache` (this platform only) the executable is built twice: the first one runs a push
 * and a pull of examples/policies into an OCI layout and `version`, writing V8 code caches of what
 * they compiled (loader.cjs says why), and the second carries those caches as assets.
 */
export async function buildExecutable({ base, out, target, useCodeCache, main = BUNDLE }) {
  const baseVersion = await nodeVersionOf(base);
  if (baseVersion !== process.versions.node) {
    // The blob format and the code cache belong to the Node that writes them.
    throw new Error(`${base} is Node ${baseVersion}; the blob is made by Node ${process.versions.node}`);
  }
  const tmp = await mkdtemp(path.join(tmpdir(), 'policyoci-sea-'));
  // Build beside `out` and rename at the end: a reader (a test, a running copy) never sees a
  // half-written file, and a failed build leaves the previous executable in place.
  const partial = `${out}.partial`;
  try {
    let executable = base;
    if (target.format === 'pe') {
      // node.exe's Authenticode signature cannot survive the injection: remove it first (what
      // Node's SEA guide does with `signtool remove /s`) rather than ship a broken one.
      executable = path.join(tmp, 'node.exe');
      await writeFile(executable, stripAuthenticode(await readFile(base)));
    }
    // The bundle as the loader compiles it: wrapped in the CommonJS function, so that the loader
    // does not build (and copy) a 4 MB string of its own on every run.
    const wrapped = path.join(tmp, 'cli.cjs');
    // ASCII only, so the loader can read it as Latin-1, a plain copy (UTF-8 decoding 4 MB cost
    // ~10 ms per run): esbuild escapes every string and regular expression, which leaves the
    // dependencies' legal comments at the end of the file.
    const ascii = (await readFile(main, 'utf8')).replace(/[^\x00-\x7f]/g, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);
    const source = `${CJS_WRAPPER[0]}${ascii}${CJS_WRAPPER[1]}`;
    await writeFile(wrapped, source);
    // The key of the code caches an executable without one makes at run time (loader.cjs).
    const sourceHash = path.join(tmp, 'cli.cjs.sha256');
    await writeFile(sourceHash, createHash('sha256').update(source).digest('hex'));
    const assets = { 'cli.cjs': wrapped, 'cli.cjs.sha256': sourceHash };
    await mkdir(path.dirname(out), { recursive: true });
    await injectBlob({ tmp, executable, partial, target, assets });
    if (useCodeCache) {
      await trainCodeCache(partial, path.join(tmp, 'train'));
      const caches = Object.fromEntries(CODE_CACHES.map((name) => [name, path.join(tmp, 'train', name)]));
      await injectBlob({ tmp, executable, partial, target, assets: { ...assets, ...caches } });
    }

    const info = inspectExecutable(await readFile(partial));
    if (info.format !== target.format || info.machine !== target.machine) {
      throw new Error(`${out}: expected ${target.format}/${target.machine}, got ${info.format}/${info.machine}`);
    }
    if (!info.fuseSet) throw new Error(`${out}: the SEA fuse is not set`);
    if (info.signed !== (target.format === 'macho')) throw new Error(`${out}: unexpected signature state`);
    const blob = info.seaBlob;
    if (!blob || blob.readUInt32LE(0) !== SEA_MAGIC || !blob.includes(await readFile(LOADER)) || !blob.includes(await readFile(wrapped))) {
      throw new Error(`${out}: ${RESOURCE} is missing or does not hold scripts/sea/loader.cjs and dist/cli.cjs`);
    }
    // Blob flags: bit 0 no warning, bit 1 snapshot, bit 2 Node's code cache (of the loader: none,
    // ours is an asset), bit 3 assets.
    if ((blob.readUInt32LE(4) & 0b1111) !== 0b1001) {
      throw new Error(`${out}: unexpected SEA flags ${blob.readUInt32LE(4)}`);
    }
    await rename(partial, out);
    return info;
  } finally {
    await rm(tmp, { recursive: true, force: true });
    await rm(partial, { force: true });
  }
}

const LOADER = path.join(ROOT, 'scripts', 'sea', 'loader.cjs');
/** What loader.cjs expects around the bundle (Node's own CommonJS wrapper). */
const CJS_WRAPPER = ['(function (exports, require, module, __filename, __dirname) {', '\n})'];

/** One `node --build-sea`: the loader as main script, `assets` (name → file) beside it. */
async function injectBlob({ tmp, executable, partial, target, assets }) {
  const config = path.join(tmp, 'sea-config.json');
  await writeFile(
    config,
    JSON.stringify({
      // Relative to cwd (ROOT): the path is stored in the blob, so keep the build dir out.
      main: path.relative(ROOT, LOADER),
      output: partial,
      executable,
      disableExperimentalSEAWarning: true,
      useSnapshot: false,
      useCodeCache: false,
      assets,
      // A young generation of 4 MiB semi-spaces instead of V8's default (up to 16 MiB, sized for
      // servers): a push or pull of thousands of policies makes mostly short-lived garbage, and
      // this keeps the peak RSS near what is live (10,000 policies: ~80 MB less, same CPU time;
      // bench/README.md). NODE_OPTIONS can still override it.
      execArgv: ['--max-semi-space-size=4'],
    }),
  );
  await run(process.execPath, ['--build-sea', config], { cwd: ROOT, maxBuffer: 16 << 20 });
  if (target.format === 'pe') await writeFile(partial, fixPeChecksum(await readFile(partial)));
  // Apple Silicon runs no unsigned code, and the injection dropped node's signature: sign ad hoc
  // (what `codesign --sign -` would do on a Mac, see macho-codesign.mjs).
  if (target.format === 'macho') await writeFile(partial, adhocSign(await readFile(partial), 'kubectl-policyoci'));
  await chmod(partial, 0o755);
}

/** The code caches loader.cjs picks from, by command. */
const CODE_CACHES = ['version.cache', 'push.cache', 'pull.cache', 'cli.cache'];

/**
 * Runs `executable` as a user would, with POLICYOCI_CODE_CACHE_TRAIN: `version`; a push of
 * examples/policies into an OCI layout; a pull from it; and the same push and pull again for
 * cli.cache, the pull starting from the cache the push wrote (so it holds what both compiled). The
 * executable itself runs them, so the caches match its V8 and its flags exactly.
 */
async function trainCodeCache(executable, dir) {
  await mkdir(dir, { recursive: true });
  const layout = path.join(dir, 'layout');
  const push = ['push', `${layout}:v1`, path.join(ROOT, 'examples', 'policies'), '--oci-layout'];
  const pull = (n) => ['pull', `${layout}:v1`, '--oci-layout', '-o', path.join(dir, `pulled-${n}`)];
  const runs = [
    ['version.cache', ['version']],
    ['push.cache', push],
    ['pull.cache', pull(1)],
    ['cli.cache', push],
    ['cli.cache', pull(2)],
  ];
  for (const [key, args] of runs) {
    const env = { ...process.env, POLICYOCI_CODE_CACHE_TRAIN: dir, POLICYOCI_CODE_CACHE_KEY: key, POLICYOCI_CACHE_DIR: path.join(dir, 'checked', key), NO_COLOR: '1', HOME: dir };
    await run(executable, args, { cwd: dir, env, maxBuffer: 16 << 20 });
  }
}

/** The version a Node binary was built as, read from it (it need not run on this machine). */
async function nodeVersionOf(binary) {
  const data = await readFile(binary);
  // process.release.headersUrl is compiled in: .../release/vX.Y.Z/node-vX.Y.Z-headers.tar.gz
  const m = /node-v(\d+\.\d+\.\d+)-headers\.tar\.gz/.exec(data.toString('latin1'));
  if (!m) throw new Error(`${binary}: cannot find its Node version`);
  return m[1];
}

// ---------------------------------------------------------------------------------------------
// Executable formats: just enough of ELF, Mach-O and PE to name the format and the machine, and
// to find the NODE_SEA_BLOB note / section / resource the way Node's postject-api.h does.

const ELF_MACHINES = { 0x3e: 'x86-64', 0xb7: 'arm64' };
const MACHO_CPUS = { 0x01000007: 'x86-64', 0x0100000c: 'arm64' };
const PE_MACHINES = { 0x8664: 'x86-64', 0xaa64: 'arm64' };

/**
 * @returns {{format: 'elf'|'macho'|'pe'|'unknown', machine: string, seaBlob: Buffer|null,
 *            fuseSet: boolean, signed: boolean}}
 */
export function inspectExecutable(buf) {
  const fuseSet = buf.includes(`${FUSE}:1`);
  if (buf.readUInt32BE(0) === 0x7f454c46) return { ...inspectElf(buf), fuseSet, signed: false };
  if (buf.readUInt32LE(0) === 0xfeedfacf) return { ...inspectMachO(buf), fuseSet };
  if (buf.toString('latin1', 0, 2) === 'MZ') return { ...inspectPe(buf), fuseSet };
  return { format: 'unknown', machine: 'unknown', seaBlob: null, fuseSet, signed: false };
}

function inspectElf(buf) {
  if (buf[4] !== 2 || buf[5] !== 1) throw new Error('only 64-bit little-endian ELF is expected');
  const machine = ELF_MACHINES[buf.readUInt16LE(18)] ?? `elf-machine-${buf.readUInt16LE(18)}`;
  const phoff = Number(buf.readBigUInt64LE(0x20));
  const phentsize = buf.readUInt16LE(0x36);
  let seaBlob = null;
  for (let i = 0; i < buf.readUInt16LE(0x38); i++) {
    const ph = phoff + i * phentsize;
    if (buf.readUInt32LE(ph) !== 4 /* PT_NOTE */) continue;
    const start = Number(buf.readBigUInt64LE(ph + 8));
    const end = start + Number(buf.readBigUInt64LE(ph + 32));
    for (let n = start; n + 12 <= end; ) {
      const namesz = buf.readUInt32LE(n);
      const descsz = buf.readUInt32LE(n + 4);
      const name = buf.toString('latin1', n + 12, n + 12 + namesz).replace(/\0+$/, '');
      const desc = n + 12 + align(namesz, 4);
      if (name === RESOURCE) seaBlob = buf.subarray(desc, desc + descsz);
      n = desc + align(descsz, 4);
    }
  }
  return { format: 'elf', machine, seaBlob };
}

function inspectMachO(buf) {
  const cpu = buf.readUInt32LE(4);
  const machine = MACHO_CPUS[cpu] ?? `macho-cpu-${cpu.toString(16)}`;
  let seaBlob = null;
  let signed = false;
  let lc = 32;
  for (let i = 0; i < buf.readUInt32LE(16); i++) {
    const cmd = buf.readUInt32LE(lc);
    if (cmd === 0x1d /* LC_CODE_SIGNATURE */) signed = true;
    if (cmd === 0x19 /* LC_SEGMENT_64 */ && cstr(buf, lc + 8, 16) === 'NODE_SEA') {
      for (let s = 0; s < buf.readUInt32LE(lc + 64); s++) {
        const sect = lc + 72 + s * 80;
        if (cstr(buf, sect, 16) !== `__${RESOURCE}`) continue;
        const size = Number(buf.readBigUInt64LE(sect + 40));
        const offset = buf.readUInt32LE(sect + 48);
        seaBlob = buf.subarray(offset, offset + size);
      }
    }
    lc += buf.readUInt32LE(lc + 4);
  }
  return { format: 'macho', machine, seaBlob, signed };
}

function inspectPe(buf) {
  const pe = buf.readUInt32LE(0x3c);
  if (buf.readUInt32BE(pe) !== 0x50450000) throw new Error('MZ without a PE header');
  const coff = pe + 4;
  const machineId = buf.readUInt16LE(coff);
  const machine = PE_MACHINES[machineId] ?? `pe-machine-${machineId.toString(16)}`;
  const opt = coff + 20;
  if (buf.readUInt16LE(opt) !== 0x20b) throw new Error('only PE32+ is expected');
  const dataDir = (i) => ({ va: buf.readUInt32LE(opt + 112 + i * 8), size: buf.readUInt32LE(opt + 116 + i * 8) });
  const sections = [];
  const first = opt + buf.readUInt16LE(coff + 16);
  for (let i = 0; i < buf.readUInt16LE(coff + 2); i++) {
    const s = first + i * 40;
    sections.push({ va: buf.readUInt32LE(s + 12), size: buf.readUInt32LE(s + 16), raw: buf.readUInt32LE(s + 20) });
  }
  const fileOffset = (rva) => {
    const s = sections.find((x) => rva >= x.va && rva < x.va + x.size);
    if (!s) throw new Error(`PE: RVA ${rva.toString(16)} is in no section`);
    return rva - s.va + s.raw;
  };
  const signed = dataDir(4).size > 0; // IMAGE_DIRECTORY_ENTRY_SECURITY (Authenticode)
  const rsrc = dataDir(2);
  if (rsrc.size === 0) return { format: 'pe', machine, seaBlob: null, signed };
  const root = fileOffset(rsrc.va);
  // Resource tree: type → name → language → data entry. Node looks up RT_RCDATA / NODE_SEA_BLOB.
  const entries = (dir) => {
    const count = buf.readUInt16LE(dir + 12) + buf.readUInt16LE(dir + 14);
    return Array.from({ length: count }, (_, i) => {
      const name = buf.readUInt32LE(dir + 16 + i * 8);
      const target = buf.readUInt32LE(dir + 20 + i * 8);
      let label = name;
      if (name & 0x80000000) {
        const at = root + (name & 0x7fffffff);
        label = buf.toString('utf16le', at + 2, at + 2 + buf.readUInt16LE(at) * 2);
      }
      return { label, isDir: (target & 0x80000000) !== 0, at: root + (target & 0x7fffffff) };
    });
  };
  const rcdata = entries(root).find((e) => e.label === 10 && e.isDir);
  const named = rcdata && entries(rcdata.at).find((e) => e.label === RESOURCE && e.isDir);
  const lang = named && entries(named.at)[0];
  let seaBlob = null;
  if (lang && !lang.isDir) {
    const at = fileOffset(buf.readUInt32LE(lang.at));
    seaBlob = buf.subarray(at, at + buf.readUInt32LE(lang.at + 4));
  }
  return { format: 'pe', machine, seaBlob, signed };
}

/**
 * Removes the Authenticode signature of a PE file (what `signtool remove /s` does, as Node's SEA
 * guide asks before injection): the certificate table is the file's tail and is not mapped, so
 * cut it off and clear its data directory entry.
 */
export function stripAuthenticode(buf) {
  const opt = buf.readUInt32LE(0x3c) + 24;
  const entry = opt + 112 + 4 * 8;
  const offset = buf.readUInt32LE(entry);
  const size = buf.readUInt32LE(entry + 4);
  if (size === 0) return buf;
  if (offset + size !== buf.length) throw new Error('PE certificate table is not at the end of the file');
  const out = Buffer.from(buf.subarray(0, offset));
  out.writeUInt32LE(0, entry);
  out.writeUInt32LE(0, entry + 4);
  return out;
}

/**
 * Recomputes the PE optional header's CheckSum (the imagehlp algorithm: 16-bit one's-complement
 * sum of the file with the field itself taken as zero, plus the file length). Windows does not
 * check it for programs, but signing tools and scanners flag a wrong one.
 */
export function fixPeChecksum(buf) {
  const at = buf.readUInt32LE(0x3c) + 24 + 64;
  buf.writeUInt32LE(0, at);
  let sum = 0;
  const even = buf.length & ~1;
  for (let i = 0; i < even; i += 2) {
    sum += buf.readUInt16LE(i);
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (buf.length & 1) {
    sum += buf[buf.length - 1];
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  buf.writeUInt32LE((sum + buf.length) >>> 0, at);
  return buf;
}

const align = (n, a) => Math.ceil(n / a) * a;
const cstr = (buf, at, len) => buf.toString('latin1', at, at + len).replace(/\0.*$/s, '');
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const ms = (t) => `${((performance.now() - t) / 1000).toFixed(1)} s`;
const log = (s) => process.stderr.write(`[build] ${s}\n`);

if (import.meta.main) {
  main().catch((err) => {
    process.stderr.write(`[build] error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
