#!/usr/bin/env node
// Fill the krew manifest template with the release's version and real archive checksums.
//
//   node scripts/krew-manifest.mjs [RELEASE_DIR]   (default dist/release; needs its checksums.txt)
//   writes RELEASE_DIR/policyoci.yaml (krew wants the file named after metadata.name) and prints
//   its path.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';

const ROOT = path.resolve(import.meta.dirname, '..');

export async function writeKrewManifest({ version, releaseDir = path.join(ROOT, 'dist/release') }) {
  const sums = parseChecksums(await readFile(path.join(releaseDir, 'checksums.txt'), 'utf8'));
  const template = await readFile(path.join(ROOT, 'krew-manifest.yaml'), 'utf8');
  const text = fill(template, version, sums);

  // Cross-check what we wrote, so a template edit cannot ship a wrong or missing checksum.
  const doc = parse(text);
  if (doc.spec.version !== `v${version}`) throw new Error(`manifest version is ${doc.spec.version}`);
  const named = new Set();
  for (const p of doc.spec.platforms) {
    const archive = path.posix.basename(new URL(p.uri).pathname);
    if (p.sha256 !== sums.get(archive)) throw new Error(`${archive}: sha256 does not match checksums.txt`);
    named.add(archive);
  }
  const unlisted = [...sums.keys()].filter((a) => !named.has(a));
  if (unlisted.length) throw new Error(`archives missing from the manifest: ${unlisted.join(', ')}`);

  const out = path.join(releaseDir, `${doc.metadata.name}.yaml`);
  await writeFile(out, text);
  return out;
}

/** Two passes: version placeholders first, so archive names inside sha256 "…" become concrete. */
export function fill(template, version, sums) {
  const body = template
    .replace(/^#.*\n/gm, '') // the template's own comments do not belong in the index
    .replaceAll('{{ .TagName }}', `v${version}`)
    .replaceAll('{{ .Version }}', version)
    .replace(/\{\{ sha256 "([^"]+)" \}\}/g, (_, name) => {
      const sum = sums.get(name);
      if (!sum) throw new Error(`no checksum for ${name}`);
      return sum;
    });
  const left = /\{\{.*?\}\}/.exec(body);
  if (left) throw new Error(`unfilled placeholder ${left[0]} in krew-manifest.yaml`);
  return body;
}

/** `sha256sum` format: "<hex>  <name>" per line. */
export function parseChecksums(text) {
  const sums = new Map();
  for (const line of text.split('\n').filter(Boolean)) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!m) throw new Error(`bad checksums.txt line: ${line}`);
    sums.set(m[2], m[1]);
  }
  return sums;
}

if (import.meta.main) {
  const { version } = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8'));
  const releaseDir = process.argv[2] ? path.resolve(process.argv[2]) : undefined;
  process.stdout.write(`${await writeKrewManifest({ version, releaseDir })}\n`);
}
