// What a new user meets first when pushing (issue 13): a mixed push the Kyverno CLI cannot read
// (and --split-engines, checked with the real Kyverno CLI), a warnings summary and progress while
// files are checked (on a terminal), JSON that is only JSON, counted nouns and articles, and
// leaving files out (--exclude, .policyociignore, kustomize/Helm files beside the policies).
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXECUTABLE, REPO_ROOT, runCli, runOk } from '../support/cli.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';
import { runTool } from '../support/tools.ts';

const EXAMPLES = join(REPO_ROOT, 'examples', 'policies');
const KYVERNO_ENV = { KYVERNO_EXPERIMENTAL: 'true' };
// The Kyverno CLI reads ClusterPolicy and Policy only: the mixed set holds those and KubeArmor's.
const CLUSTER_POLICIES = ['disallow-latest-tag.yaml', 'require-labels.yaml', 'require-ro-rootfs.yaml'];

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [{ name: web, image: nginx }] }
`;

/** Runs the executable on a pseudo-terminal (script(1)), as a user in a terminal does. */
function onTerminal(args: string[], cwd: string): Promise<string> {
  const quoted = [EXECUTABLE, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', POLICYOCI_CACHE_DIR: 'off' };
  delete env.CI;
  delete env.NO_COLOR;
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-q', '-e', '-c', `stty cols 200 rows 50; ${quoted}`, '/dev/null'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => out.push(c));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out).toString('utf8')) : reject(new Error(`exit ${code}: ${Buffer.concat(out).toString('utf8').slice(-2000)}`))));
  });
}

describe('push: what a new user meets first', () => {
  let reg: RunningRegistry;
  let work: string;
  let mixed: string;
  beforeAll(async () => {
    reg = await startRegistry('open');
    work = await mkdtemp(join(tmpdir(), 'push-first-'));
    mixed = join(work, 'mixed');
    await mkdir(mixed);
    for (const f of CLUSTER_POLICIES) await copyFile(join(EXAMPLES, 'kyverno', f), join(mixed, f));
    for (const f of await readdir(join(EXAMPLES, 'kubearmor'))) await copyFile(join(EXAMPLES, 'kubearmor', f), join(mixed, f));
  });
  afterAll(async () => reg?.stop());

  it('a mixed push warns that the Kyverno CLI cannot read the index it makes; --split-engines pushes what kyverno oci pull reads', async () => {
    const indexed = await runOk(['push', `${reg.host}/mixed:v1`, mixed, '--format', 'json']);
    const index = JSON.parse(indexed.stdout);
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(indexed.stderr).toMatch(/Warning: policies of 2 engines \(kubearmor, kyverno\) make an image index: .*Kyverno CLI reads only single-engine artifacts.*--split-engines/);
    expect(index.warnings).toEqual([expect.stringContaining('--split-engines pushes one artifact per engine instead')]);
    // The limit the warning names, as it is: the Kyverno CLI reads the index and writes nothing.
    const fromIndex = join(work, 'kyverno-from-index');
    runTool('kyverno', ['oci', 'pull', fromIndex, '-i', `${reg.host}/mixed:v1`], { env: KYVERNO_ENV });
    expect(await readdir(fromIndex).catch(() => [])).toEqual([]);

    const split = JSON.parse((await runOk(['push', `${reg.host}/mixed:v1`, mixed, '--split-engines', '--format', 'json'])).stdout);
    expect(split.split).toBe(true);
    expect(split.warnings).toEqual([]);
    expect(split.artifacts.map((a: { reference: string; mediaType: string }) => [a.reference, a.mediaType])).toEqual([
      [`${reg.host}/mixed:v1-kubearmor`, 'application/vnd.oci.image.manifest.v1+json'],
      [`${reg.host}/mixed:v1-kyverno`, 'application/vnd.oci.image.manifest.v1+json'],
    ]);
    const byKyverno = join(work, 'kyverno-split');
    runTool('kyverno', ['oci', 'pull', byKyverno, '-i', `${reg.host}/mixed:v1-kyverno`], { env: KYVERNO_ENV });
    expect((await readdir(byKyverno)).sort()).toEqual(CLUSTER_POLICIES);
    const kubearmor = JSON.parse((await runOk(['pull', `${reg.host}/mixed:v1-kubearmor`, '-o', join(work, 'ka'), '--format', 'json'])).stdout);
    expect(kubearmor.files.map((f: { kind: string }) => f.kind).sort()).toEqual(['KubeArmorHostPolicy', 'KubeArmorPolicy']);
    expect((await runOk(['tags', `${reg.host}/mixed`])).stdout.trim().split('\n').sort()).toEqual(['v1', 'v1-kubearmor', 'v1-kyverno']);

    const text = await runOk(['push', `${reg.host}/mixed:v1`, mixed, '--split-engines']);
    expect(text.stdout).toMatch(/^Pushed 5 policies as 2 artifacts, one per engine:\n {2}kubearmor: 2 policies to \S+:v1-kubearmor \(sha256:[0-9a-f]{64}, unchanged\)\n {2}kyverno: 3 policies to \S+:v1-kyverno/);
    expect(text.stderr).toBe('');
  });

  it('{engine} in the reference pushes one repository per engine; a digest cannot be split', async () => {
    const r = await runOk(['push', `${reg.host}/{engine}-policies:v2,stable`, mixed, '--format', 'json']);
    expect(JSON.parse(r.stdout).artifacts.map((a: { reference: string }) => a.reference)).toEqual([`${reg.host}/kubearmor-policies:v2,stable`, `${reg.host}/kyverno-policies:v2,stable`]);
    const out = join(work, 'kyverno-repo');
    runTool('kyverno', ['oci', 'pull', out, '-i', `${reg.host}/kyverno-policies:stable`], { env: KYVERNO_ENV });
    expect((await readdir(out)).sort()).toEqual(CLUSTER_POLICIES);

    const digest = await runCli(['push', `${reg.host}/mixed@sha256:${'a'.repeat(64)}`, mixed, '--split-engines']);
    expect(digest.code).toBe(2);
    expect(digest.stderr).toMatch(/--split-engines pushes a new artifact per engine: give tags, not a digest/);
  });

  it('push --dry-run --format json writes only the JSON on stdout (warnings on stderr), split or not', async () => {
    for (const extra of [[], ['--split-engines']]) {
      const r = await runOk(['push', '--dry-run', '--format', 'json', `${reg.host}/dry:v1`, EXAMPLES, ...extra]);
      expect(r.stdout.trimStart().startsWith('{'), r.stdout.slice(0, 200)).toBe(true);
      const result = JSON.parse(r.stdout);
      expect(result.dryRun).toBe('client');
      expect(result.policies).toBe(6);
    }
    expect((await runCli(['tags', `${reg.host}/dry`])).stdout.trim()).toBe('');
  });

  it('counts its warnings at the end, and shows how far it has come while checking files on a terminal', async () => {
    // 500 copies of one policy: each copy after the first is a warning (applying both keeps one).
    const many = join(work, 'many');
    await mkdir(many);
    const text = await readFile(join(EXAMPLES, 'kyverno', 'require-labels.yaml'), 'utf8');
    for (let i = 0; i < 500; i++) await writeFile(join(many, `p${String(i).padStart(3, '0')}.yaml`), text);
    const shown = await onTerminal(['push', '--oci-layout', join(work, 'many-layout:v1'), many], work);
    expect(shown).toContain('Pushed 500 policies (kyverno: 500)');
    expect(shown).toMatch(/\n499 warnings \(printed above, on stderr; --format json lists them\)\r?\n/);
    // Progress while the files are read and checked, not only once they are.
    const counts = [...shown.matchAll(/Checking files: (\d+)\/500/g)].map((m) => Number(m[1]));
    expect(counts.some((n) => n > 0 && n < 500), `progress seen: ${counts.join(', ')}`).toBe(true);

    // --quiet: not one warning on stderr, and the count says they were left out.
    const quiet = await runOk(['push', '--quiet', '--oci-layout', join(work, 'many-layout:v2'), many]);
    expect(quiet.stderr).toBe('');
    expect(quiet.stdout.trimEnd().split('\n').at(-1)).toBe('499 warnings (not printed under --quiet; --format json lists them)');
  });

  it('says "1 policy", "1 warning" and "apps/v1/Deployment is not a policy", not "1 policies" or "a apps/v1/Deployment"', async () => {
    const one = join(EXAMPLES, 'kyverno', 'require-labels.yaml');
    const pushed = await runOk(['push', `${reg.host}/one:v1`, one]);
    expect(pushed.stdout).toMatch(/^Pushed 1 policy \(kyverno: 1\) to \S+\nUploaded 2 of 2 blobs \(\d+ bytes\)\n/);
    expect((await runOk(['push', '--dry-run', `${reg.host}/one:v2`, one])).stdout).toMatch(/^Would push 1 policy to /);
    const pulled = await runOk(['pull', `${reg.host}/one:v1`, '-o', join(work, 'one')]);
    expect(pulled.stdout).toMatch(/^Pulled 1 policy from /);

    const dir = join(work, 'with-deployment');
    await mkdir(dir);
    await copyFile(one, join(dir, 'policy.yaml'));
    await writeFile(join(dir, 'web.yaml'), DEPLOYMENT);
    const refused = await runCli(['push', `${reg.host}/refused:v1`, dir]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('web.yaml:1: document 1: apps/v1/Deployment ("web") is not a policy of a known engine (kyverno, kubearmor, kubernetes, gatekeeper)');
    expect(refused.stderr).not.toMatch(/\ba [aeiou]/i);

    const mixedOne = join(work, 'mixed-one');
    await mkdir(mixedOne);
    await copyFile(one, join(mixedOne, 'k.yaml'));
    await copyFile(join(EXAMPLES, 'kubearmor', (await readdir(join(EXAMPLES, 'kubearmor')))[0]!), join(mixedOne, 'a.yaml'));
    expect((await runOk(['push', `${reg.host}/mixed-one:v1`, mixedOne])).stdout).toMatch(/\n1 warning \(printed above/);
  });

  it('leaves files out: kustomization.yaml with a warning, --exclude and .policyociignore in .gitignore syntax', async () => {
    const dir = join(work, 'kustomized');
    await mkdir(join(dir, 'tests'), { recursive: true });
    for (const f of CLUSTER_POLICIES) await copyFile(join(EXAMPLES, 'kyverno', f), join(dir, f));
    await writeFile(join(dir, 'kustomization.yaml'), 'resources:\n- require-labels.yaml\n');
    await writeFile(join(dir, 'web.yaml'), DEPLOYMENT);
    await writeFile(join(dir, 'tests', 'resource.yaml'), DEPLOYMENT);

    // kustomize's file is skipped by itself (with a warning); the Deployments still block the push.
    const blocked = await runCli(['push', `${reg.host}/kz:v1`, dir]);
    expect(blocked.code).toBe(3);
    expect(blocked.stderr).toContain(`Warning: skipped ${join(dir, 'kustomization.yaml')} (kustomize's configuration, not a policy;`);
    expect(blocked.stderr).toMatch(/2 problems in 2 of 5 inputs/);

    const excluded = JSON.parse((await runOk(['push', `${reg.host}/kz:v1`, dir, '--exclude', 'tests/', '--exclude', 'web.yaml', '--format', 'json'])).stdout);
    expect(excluded.policies).toBe(3);

    // The same rules from the directory's own file; a negation takes a file back.
    await writeFile(join(dir, '.policyociignore'), '# not policies\ntests/\n*.yaml\n!require-*.yaml\n!disallow-latest-tag.yaml\n');
    const ignored = JSON.parse((await runOk(['push', `${reg.host}/kz:v2`, dir, '--format', 'json'])).stdout);
    expect(ignored.policies).toBe(3);
    expect(ignored.warnings).toEqual([]); // kustomization.yaml was ignored by the file, before the default skip

    // --exclude also applies to files named on the command line (by their path from here).
    const named = await runOk(['push', `${reg.host}/kz:v3`, 'require-labels.yaml', 'web.yaml', '--exclude', 'web.yaml'], { cwd: dir });
    expect(named.stdout).toMatch(/^Pushed 1 policy /);

    // Everything left out: say why, not "no .yaml files".
    const none = await runCli(['push', `${reg.host}/kz:v4`, dir, '--exclude', '*']);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain('no policy file left in this directory (the rest was excluded by --exclude or .policyociignore)');
  });
});
