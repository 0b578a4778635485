// Issue 13, item 7: `version` says which commit it was built from and when; `version --format json`
// is JSON. The stamp comes from scripts/build.mjs: the git commit (-dirty with changed tracked
// files) and a date that is the same for the same commit (SOURCE_DATE_EPOCH, else the commit's
// time), so builds stay reproducible; a source tree without git (a tarball) builds too.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, mkdir, symlink, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli, runOk } from '../support/cli.ts';
import type { VersionInfo } from '../../src/version.ts';

const exec = promisify(execFile);
const NODE = join(REPO_ROOT, 'node_modules', '.bin', 'node'); // the pinned Node the build demands
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

type Info = VersionInfo;

/** What a source tree holds for a build, copied into `dir` (node_modules linked). */
async function sourceTree(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const entry of ['src', 'plugins', 'scripts', 'package.json']) await cp(join(REPO_ROOT, entry), join(dir, entry), { recursive: true });
  await symlink(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** Bundles the tree (dist/cli.cjs, no executable) and asks it for its version. */
async function buildAndAsk(dir: string, env: NodeJS.ProcessEnv = {}): Promise<{ info: Info; line: string }> {
  const { SOURCE_DATE_EPOCH: _unset, ...inherited } = process.env;
  await exec(NODE, ['scripts/build.mjs', '--bundle-only'], { cwd: dir, env: { ...inherited, ...env } });
  const json = await exec(NODE, [join(dir, 'dist', 'cli.cjs'), 'version', '--format', 'json'], { cwd: dir });
  const text = await exec(NODE, [join(dir, 'dist', 'cli.cjs'), 'version'], { cwd: dir });
  return { info: JSON.parse(json.stdout) as Info, line: text.stdout };
}

const git = (dir: string, ...args: string[]) =>
  exec('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', '-c', 'commit.gpgsign=false', ...args], {
    cwd: dir,
    env: { ...process.env, GIT_COMMITTER_DATE: '2024-02-03T04:05:06Z', GIT_AUTHOR_DATE: '2024-02-03T04:05:06Z' },
  }).then((r) => r.stdout.trim());

describe('version', () => {
  it('--format json prints version, commit, buildDate, node, platform, arch; the text line adds commit and date', async () => {
    for (const args of [['version', '--format', 'json'], ['--format=json', 'version'], ['version', '--format=json', '--debug']]) {
      const r = await runOk(args);
      const info = JSON.parse(r.stdout) as Info;
      expect(Object.keys(info), args.join(' ')).toEqual(['version', 'commit', 'buildDate', 'node', 'platform', 'arch']);
      expect(info.node).toMatch(/^\d+\.\d+\.\d+$/);
      expect(info.buildDate).toMatch(RFC3339);
      expect(`${info.platform}/${info.arch}`).toBe(`${process.platform}/${process.arch}`);
    }
    const info = JSON.parse((await runOk(['version', '--format', 'json'])).stdout) as Info;
    const text = (await runOk(['version'])).stdout;
    expect(text).toBe(`kubectl-policyoci ${info.version} (node ${info.node}, ${info.platform}/${info.arch}${info.commit ? `, commit ${info.commit.slice(0, 12)}${info.commit.endsWith('-dirty') ? '-dirty' : ''}` : ''}, built ${info.buildDate})\n`);
    expect((await runOk(['--version'])).stdout).toBe(text);
    const bad = await runCli(['version', '--format', 'yaml']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^Error: --format takes text or json, got "yaml"/);
  });

  it('a git tree stamps its commit and the commit\'s time (SOURCE_DATE_EPOCH wins); changed files add -dirty', async () => {
    const dir = await sourceTree(join(await mkdtemp(join(tmpdir(), 'policyoci-version-')), 'clone'));
    await writeFile(join(dir, '.gitignore'), 'node_modules\ndist\n');
    await git(dir, 'init', '-q');
    await git(dir, 'add', '-A');
    await git(dir, 'commit', '-q', '-m', 'snapshot');
    const head = await git(dir, 'rev-parse', 'HEAD');

    const clean = await buildAndAsk(dir);
    expect(clean.info).toMatchObject({ commit: head, buildDate: '2024-02-03T04:05:06Z' });
    expect(clean.line).toContain(`commit ${head.slice(0, 12)}, built 2024-02-03T04:05:06Z)`);
    const again = await buildAndAsk(dir);
    expect(again.info, 'the same commit builds the same stamp').toEqual(clean.info);

    expect((await buildAndAsk(dir, { SOURCE_DATE_EPOCH: '86400' })).info.buildDate).toBe('1970-01-02T00:00:00Z');

    await appendFile(join(dir, 'src', 'version.ts'), '\n');
    expect((await buildAndAsk(dir)).info.commit).toBe(`${head}-dirty`);
  }, 120_000);

  it('a tree without git (a tarball), even unpacked inside another repository, builds with commit null', async () => {
    const outer = await mkdtemp(join(tmpdir(), 'policyoci-version-'));
    await git(outer, 'init', '-q'); // someone's home directory under git: not this tool's commit
    await writeFile(join(outer, 'README'), 'x\n');
    await git(outer, 'add', 'README');
    await git(outer, 'commit', '-q', '-m', 'outer');
    const dir = await sourceTree(join(outer, 'kubectl-policyoci-0.1.0'));
    const before = Date.now();
    const { info, line } = await buildAndAsk(dir);
    expect(info.commit).toBeNull();
    expect(info.buildDate).toMatch(RFC3339);
    expect(Date.parse(info.buildDate!)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 1000);
    expect(line).not.toContain('commit');
    expect((await buildAndAsk(dir, { SOURCE_DATE_EPOCH: '0' })).info.buildDate).toBe('1970-01-01T00:00:00Z');
  }, 120_000);
});
