// The single executable as users get it: it runs on its own (no Node installed) and kubectl finds
// it as the plugin `kubectl policyoci`. `npm test` builds dist/kubectl-policyoci first.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXECUTABLE, REPO_ROOT, runOk } from '../support/cli.ts';

const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  version: string;
  devDependencies: Record<string, string>;
};
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// "kubectl-policyoci 0.1.0 (node 26.10.0" and whatever the CLI adds after it (platform, …)
const VERSION_LINE = new RegExp(
  `^kubectl-policyoci ${escape(pkg.version)} \\(node ${escape(pkg.devDependencies.node ?? '?')}\\b`,
);

/**
 * kubectl from PATH, Debian's, or the one scripts/tools/build.sh built; a missing kubectl is a
 * setup error, not a reason to skip.
 */
function findKubectl(): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/bin', '/usr/bin'];
  for (const dir of dirs.filter(Boolean)) {
    const candidate = join(dir, 'kubectl');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  try {
    return execFileSync('bash', [join(REPO_ROOT, 'scripts/tools/path.sh'), 'kubectl'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    throw new Error('kubectl is not installed: the test setup (.ci/run) must install or build it');
  }
}

describe('the single executable', () => {
  let work: string;

  beforeAll(() => {
    if (!existsSync(EXECUTABLE)) {
      throw new Error(`${EXECUTABLE} is missing: run \`npm run build\` first (npm test does)`);
    }
    work = mkdtempSync(join(tmpdir(), 'policyoci-exe-'));
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('prints its version and the Node it embeds, and exits 0', async () => {
    const r = await runOk(['version']);
    expect(r.stdout).toMatch(VERSION_LINE);
    expect(r.stderr).toBe('');
  });

  it('loads its lazily imported modules from the bundle (--help)', async () => {
    const r = await runOk(['--help']);
    expect(r.stdout).toContain('kubectl policyoci');
    expect(r.stdout).toContain('version');
  });

  it('runs with no node anywhere on PATH, away from node_modules', async () => {
    const alone = join(work, 'alone');
    copyFileSync(EXECUTABLE, alone);
    const env = { PATH: '/nonexistent', HOME: work };
    const version = await run(alone, ['version'], { cwd: work, env });
    expect(version.stdout).toMatch(VERSION_LINE);
    const help = await run(alone, ['--help'], { cwd: work, env });
    expect(help.stdout).toContain('kubectl policyoci');
  });

  it('is found by kubectl as `kubectl policyoci`', async () => {
    const kubectl = findKubectl();
    const bin = join(work, 'bin');
    mkdirSync(bin);
    copyFileSync(EXECUTABLE, join(bin, 'kubectl-policyoci'));
    // kubectl looks plugins up on PATH; the system dirs stay for kubectl's own needs.
    const env = { PATH: [bin, '/usr/local/bin', '/usr/bin', '/bin'].join(delimiter), HOME: work };
    const r = await run(kubectl, ['policyoci', 'version'], { cwd: work, env });
    expect(r.stdout).toMatch(VERSION_LINE);
  });

  it('finishes a pull quietly when its stdout is closed early (`… | head -1`): exit 0, files all written, no EPIPE trace', async () => {
    const layout = join(work, 'layout');
    await runOk(['push', '--oci-layout', `${layout}:v1`, join(REPO_ROOT, 'examples', 'policies')]);
    const out = join(work, 'closed-stdout');
    const expected = (await runOk(['pull', '--oci-layout', `${layout}:v1`, '-o', join(work, 'open-stdout'), '--format', 'json'])).stdout;
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(EXECUTABLE, ['pull', '--oci-layout', `${layout}:v1`, '-o', out], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy(); // the reader is gone before the first line is written
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('close', (c) => resolve({ code: c, stderr: err }));
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const files = (JSON.parse(expected) as { files: Array<{ file: string }> }).files.map((f) => join(out, f.file));
    expect(files.length).toBeGreaterThan(1);
    for (const f of files) expect(existsSync(f), f).toBe(true);
  });
});
