// The root --help lists every environment variable the code reads, apart from the few every program
// reads the same way: a variable added to src/ without a line in the help fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runOk } from '../support/cli.ts';

/** Read, but not ours to explain (with why). */
const COMMON: Record<string, string> = {
  HOME: 'the home directory, as for every program',
  USERPROFILE: "Windows' home directory",
  SHELL: 'completion guesses the shell',
  TERM: 'TERM=dumb means no colours, as for every program',
  CI: 'progress is plain lines in CI, as --help says of --progress',
  FORCE_COLOR: 'set by the tool itself from NO_COLOR for its colour library',
  KUBERNETES_SERVICE_HOST: "kubectl's in-cluster configuration, inside a pod",
  KUBERNETES_SERVICE_PORT: "kubectl's in-cluster configuration, inside a pod",
  XDG_CACHE_HOME: 'named in the POLICYOCI_CACHE_DIR line',
  POLICYOCI_CODE_CACHE_KEY: 'build time only (scripts/build.mjs trains the code cache)',
  POLICYOCI_CODE_CACHE_TRAIN: 'build time only (scripts/build.mjs trains the code cache)',
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : /\.(ts|cjs)$/.test(e.name) ? [join(dir, e.name)] : []));
}

function variablesRead(): Set<string> {
  const names = new Set<string>();
  for (const file of [...sources(join(REPO_ROOT, 'src')), join(REPO_ROOT, 'scripts', 'sea', 'loader.cjs')]) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:process\.env|\benv)\.([A-Za-z_][A-Za-z0-9_]*)|\benv\[['"]([A-Za-z_][A-Za-z0-9_]*)['"]\]/g)) names.add((m[1] ?? m[2])!.toUpperCase());
  }
  return names;
}

describe('kubectl policyoci --help: Environment', () => {
  it('names every variable the code reads', async () => {
    const help = (await runOk(['--help'])).stdout;
    const section = help.slice(help.indexOf('Environment:'));
    expect(help).toContain('Environment:');
    const read = variablesRead();
    expect(read.size).toBeGreaterThan(10); // the scan found the reads at all
    const missing = [...read].filter((name) => !(name in COMMON) && !new RegExp(`\\b${name}\\b`).test(section));
    expect(missing, 'read by the code but not in the Environment section of --help').toEqual([]);
    for (const name of Object.keys(COMMON)) expect(read, `${name} is no longer read: drop it from COMMON`).toContain(name);
  });
});
