// Hostile input: the shared corpus of bad files (read back from a registry, the push side is
// test/e2e/registry-cli.test.ts), YAML alias bombs and very deep nesting, invalid references,
// unreadable files and a full disk while pulling.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { CORPUS, EXECUTABLE, runCli, runOk, type CliResult } from '../support/cli.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';
import { expectCleanFailure, KYVERNO_YAML, kspPolicy, pushCrafted, RawRegistry, snapshot, TITLE } from './helpers.ts';

let reg: RunningRegistry;
let raw: RawRegistry;
let work: string;

beforeAll(async () => {
  reg = await startRegistry('open');
  raw = new RawRegistry(reg.host);
  work = await mkdtemp(join(tmpdir(), 'reliability-input-'));
  await chmod(work, 0o755); // the unreadable-file scenarios run the executable as another user
});
afterAll(async () => {
  await raw?.close();
  await reg?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const isRoot = process.getuid?.() === 0;

let n = 0;
async function pullIntoSandbox(ref: string, extra: string[] = []): Promise<{ r: CliResult; files: Record<string, string> }> {
  const sandbox = await mkdtemp(join(work, `sandbox-${++n}-`));
  const r = await runCli(['pull', ref, '-o', join(sandbox, 'out'), ...extra]);
  return { r, files: await snapshot(sandbox) };
}

describe('every file of corpus/bad, as a layer pulled from a registry', () => {
  // What the reader does with each (push refuses all of them: test/e2e/registry-cli.test.ts). The
  // reader checks syntax, duplicate keys and that each document is a policy of a known engine; it
  // does not judge a policy against its CRD schema (push does, and so does the API server on apply).
  const PULLED = 'pulled as it is: the reader does not judge CRD schemas or sizes (push and the API server do)';
  const EXPECTED: Record<string, [RegExp | 'pulled', string]> = {
    'syntax-error.yaml': [/:15:7: Flow sequence/, 'refused with the syntax error, line and column'],
    'json-syntax-error.json': [/:9:\d+: invalid JSON/, 'refused with the JSON error, line and column'],
    'tabs-indentation.yaml': [/:5:1: Tabs are not allowed/, 'refused: tab indentation, with line and column'],
    'empty.yaml': [/holds no document/, 'refused: holds no document'],
    'comment-only.yaml': [/holds no document/, 'refused: holds no document'],
    'separators-only.yaml': [/holds no document/, 'refused: holds no document'],
    'non-policy-deployment.yaml': [/document 0 \(apps\/v1\/Deployment\) is not a policy/, 'refused: a Deployment is not a policy'],
    'multi-doc-policy-and-secret.yaml': [/document 1 \(v1\/Secret\) is not a policy/, 'refused as a whole: document 1 is a Secret'],
    'missing-metadata-name.yaml': [/document 0 \(kyverno\.io\/v1\/ClusterPolicy\) is not a policy/, 'refused: a policy without a name'],
    'missing-kind.yaml': [/document 0 \(kyverno\.io\/v1\/\?\) is not a policy/, 'refused: no kind'],
    'unknown-api-version.yaml': [/document 0 \(kyverno\.io\/v9\/ClusterPolicy\) is not a policy/, 'refused: kyverno.io/v9 is no known version'],
    'duplicate-keys.yaml': [/:6:3: duplicate key "name"/, 'refused: duplicate key, with line and column'],
    'kubearmor-policy-schema-violations.yaml': ['pulled', PULLED],
    'kubearmor-hostpolicy-missing-nodeselector.yaml': ['pulled', PULLED],
    'huge-value-5mb.yaml': ['pulled', PULLED],
  };

  it('I01 the files of corpus/bad: each has an expected outcome here', async () => {
    expect((await readdir(join(CORPUS, 'bad'))).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED).map(([name, [expected, text]]) => [name, text, expected] as const))('I01 corpus bad/%s as a layer: %s', async (name, _text, expected) => {
    const repo = `bad/${name.replace(/[^a-z0-9]+/g, '-')}`;
    const bytes = await readFile(join(CORPUS, 'bad', name));
    await pushCrafted(raw, repo, 'v1', [await raw.pushBlob(repo, bytes, KYVERNO_YAML, { [TITLE]: name })]);
    const { r, files } = await pullIntoSandbox(`${reg.host}/${repo}:v1`);
    if (expected === 'pulled') {
      expect(r.code, r.stderr).toBe(0);
      expect(Object.keys(files).length).toBeGreaterThan(1);
      return;
    }
    expectCleanFailure(r, 6, expected);
    expect(files).toEqual({});
  });
});

describe('YAML bombs and deep nesting', () => {
  const billionLaughs = [
    'apiVersion: kyverno.io/v1',
    'kind: ClusterPolicy',
    'metadata:',
    '  name: lol',
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`),
    'spec: *i',
    '',
  ].join('\n');

  it('I02 a billion-laughs alias bomb given to push: refused quickly with the file and line, no tag', async () => {
    const file = join(work, 'lol.yaml');
    await writeFile(file, billionLaughs);
    const t0 = Date.now();
    const r = await runCli(['push', `${reg.host}/bomb:v1`, file]);
    expectCleanFailure(r, 3, /lol\.yaml:\d+: .*alias.*\(at most 20 aliases\)/i);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await raw.tags('bomb')).toEqual([]);
  });

  it('I02 the same bomb as a layer: refused by pull, nothing written', async () => {
    const repo = 'bomb-layer';
    await pushCrafted(raw, repo, 'v1', [await raw.pushBlob(repo, Buffer.from(billionLaughs), KYVERNO_YAML)]);
    const { r, files } = await pullIntoSandbox(`${reg.host}/${repo}:v1`);
    expectCleanFailure(r, 6, /at most 20 aliases/);
    expect(files).toEqual({});
  });

  const header = 'apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: deep\nspec:\n';
  const deepFlow = `${header}  x: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`;
  const deepBlock = header + Array.from({ length: 3000 }, (_, i) => `${'  '.repeat(i + 1)}a:`).join('\n') + `\n${'  '.repeat(3001)}b: 1\n`;
  const deepJson = `{"apiVersion":"kyverno.io/v1","kind":"ClusterPolicy","metadata":{"name":"d"},"spec":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}}`;

  it.each([
    ['flow YAML, 50,000 levels', 'deep-flow.yaml', deepFlow],
    ['block YAML, 3,000 levels', 'deep-block.yaml', deepBlock],
  ])('I03 push of very deep nesting (%s): refused naming the file, no crash', async (_what, name, text) => {
    const file = join(work, name);
    await writeFile(file, text);
    const r = await runCli(['push', `${reg.host}/deep:v1`, file]);
    expectCleanFailure(r, 3, new RegExp(`${name.replace('.', '\\.')}:\\d+`));
  });

  it('I03 push of JSON nested 20,000 levels deep: refused cleanly, naming the file and the nesting limit', async () => {
    const file = join(work, 'deep.json');
    await writeFile(file, deepJson);
    const r = await runCli(['push', `${reg.host}/deep:v1`, file]);
    expectCleanFailure(r, 3, /deep\.json:\d+: document 1 is nested deeper than 256 levels/);
  });

  it.each([
    ['flow YAML', deepFlow],
    ['block YAML', deepBlock],
    ['JSON', deepJson],
  ])('I03 a layer nested very deep (%s): refused by pull, no crash, nothing written', async (what, text) => {
    const repo = `deep-layer-${what.replace(/\W+/g, '-').toLowerCase()}`;
    await pushCrafted(raw, repo, 'v1', [await raw.pushBlob(repo, Buffer.from(text), KYVERNO_YAML)]);
    const { r, files } = await pullIntoSandbox(`${reg.host}/${repo}:v1`);
    expectCleanFailure(r, 6, /nested deeper than 256 levels|Maximum call stack size exceeded/);
    expect(files).toEqual({});
  });
});

describe('invalid references', () => {
  const BAD_REFS: Array<[string, string, RegExp]> = [
    ['no text at all', '', /empty reference|needs a (destination )?reference/],
    ['"oci://"', 'oci://', /empty reference/],
    ['a registry without repository', 'localhost:5000', /missing repository/],
    ['upper case', 'Localhost:5000/UPPER:v1', /must be lowercase/],
    ['an empty path component', '127.0.0.1:5000/a//b:v1', /empty path component/],
    ['a ".." path component', '127.0.0.1:5000/../etc/passwd:v1', /not allowed/],
    ['a tag starting with "-"', '127.0.0.1:5000/repo:-bad', /bad tag/],
    ['a short digest', '127.0.0.1:5000/repo:v1@sha256:abc', /bad digest/],
    ['an upper-case digest', `127.0.0.1:5000/repo@sha256:${'A'.repeat(64)}`, /hex must be lowercase/],
    ['a 300-character repository', `127.0.0.1:5000/${'a'.repeat(300)}:v1`, /longer than 255/],
    ['an escape sequence', '127.0.0.1:5000/re\u001b[31mpo:v1', /not allowed/],
    ['a URL', 'http://127.0.0.1:5000/repo:v1', /invalid reference/],
    ['a 129-character tag', `127.0.0.1:5000/repo:${'t'.repeat(129)}`, /bad tag/],
  ];

  it.each(BAD_REFS)('I05 a reference with %s: refused by pull with exit 2 and its reason', async (_what, ref, reason) => {
    expectCleanFailure(await runCli(['pull', ref, '-o', join(work, 'never')]), 2, reason);
  });

  it('I05 the same references given to push: refused with exit 2 before anything is sent', async () => {
    const file = join(work, 'valid.yaml');
    await writeFile(file, stringify(kspPolicy('valid', 'm')));
    for (const [what, ref, reason] of BAD_REFS.filter((_, i) => i % 3 === 0)) {
      const push = await runCli(['push', ref, file]);
      expectCleanFailure(push, 2, reason);
      expect(push.stderr, what).not.toContain('HTTP');
    }
  });
});

describe('unreadable and odd input files', () => {
  async function policyFile(dir: string, name: string): Promise<string> {
    const file = join(dir, name);
    await writeFile(file, stringify(kspPolicy('readable', 'm')));
    return file;
  }

  /** Runs the executable as user nobody (root reads every file whatever its mode). */
  function runAsNobody(args: string[]): CliResult {
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', EXECUTABLE, ...args], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: work, NO_COLOR: '1', CI: '1' },
    });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  it.skipIf(!isRoot)('I06 a file without read permission: push names it, exit 3, no tag', async () => {
    const dir = await mkdtemp(join(work, 'unreadable-'));
    await chmod(dir, 0o755);
    const file = await policyFile(dir, 'secret.yaml');
    await chmod(file, 0o000);
    const r = runAsNobody(['push', `${reg.host}/unreadable:v1`, file]);
    expectCleanFailure(r, 3, /secret\.yaml: (EACCES|permission denied)/);
    expect(await raw.tags('unreadable')).toEqual([]);
  });

  it.skipIf(!isRoot)('I06 a directory without read permission inside the input: push names it, no tag', async () => {
    const dir = await mkdtemp(join(work, 'unreadable-dir-'));
    await chmod(dir, 0o755);
    await policyFile(dir, 'ok.yaml');
    const closed = join(dir, 'closed');
    await mkdir(closed);
    await policyFile(closed, 'hidden.yaml');
    await chmod(closed, 0o000);
    const r = runAsNobody(['push', `${reg.host}/unreadable-dir:v1`, dir]);
    expectCleanFailure(r, 3, /closed: (permission denied|EACCES)/);
    expect(await raw.tags('unreadable-dir')).toEqual([]);
  });

  it('I06 a dangling symbolic link, a FIFO and a missing path: each named, exit 3, no tag', async () => {
    const dir = await mkdtemp(join(work, 'odd-'));
    await symlink(join(dir, 'nowhere.yaml'), join(dir, 'dangling.yaml'));
    execFileSync('mkfifo', [join(dir, 'fifo.yaml')]);
    for (const [path, reason] of [
      [join(dir, 'dangling.yaml'), /dangling\.yaml: no such file or directory/],
      [join(dir, 'fifo.yaml'), /fifo\.yaml: not a regular file or directory/],
      [join(dir, 'missing.yaml'), /missing\.yaml: no such file or directory/],
    ] as const) {
      const r = await runCli(['push', `${reg.host}/odd:v1`, path]);
      expectCleanFailure(r, 3, reason);
    }
    expect(await raw.tags('odd')).toEqual([]);
  });

  it('I08 a binary file and invalid UTF-8, named .yaml, given to push: refused naming the file, no tag', async () => {
    const dir = await mkdtemp(join(work, 'binary-'));
    await writeFile(join(dir, 'bin.yaml'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0, 1, 2, 3]));
    await writeFile(join(dir, 'latin1.yaml'), Buffer.concat([Buffer.from('apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: caf'), Buffer.from([0xe9, 0x0a])]));
    for (const name of ['bin.yaml', 'latin1.yaml']) {
      const r = await runCli(['push', `${reg.host}/binary:v1`, join(dir, name)]);
      expectCleanFailure(r, 3, new RegExp(name.replace('.', '\\.')));
    }
    expect(await raw.tags('binary')).toEqual([]);
  });
});

describe('a full disk while pulling', () => {
  let mnt: string | undefined;
  let mounted = false;
  beforeAll(async () => {
    if (!isRoot) return;
    mnt = await mkdtemp(join(tmpdir(), 'reliability-tmpfs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
    mounted = true;
  });
  afterAll(async () => {
    if (mounted) execFileSync('umount', [mnt!]);
    if (mnt) await rm(mnt, { recursive: true, force: true });
  });

  it.skipIf(!isRoot)('I07 pulling 120 KB into a 64 KB tmpfs: one IO error naming ENOSPC; a new directory is not created, an existing one is as it was', async () => {
    const repo = 'big-pull';
    const dir = join(work, 'big');
    await mkdir(dir);
    for (let i = 0; i < 4; i++) await writeFile(join(dir, `p${i}.yaml`), stringify(kspPolicy(`p${i}`, `${i}`.padEnd(30_000, 'x'))));
    await runOk(['push', `${reg.host}/${repo}:v1`, dir]);

    const fresh = join(mnt!, 'fresh');
    const r1 = await runCli(['pull', `${reg.host}/${repo}:v1`, '-o', fresh]);
    expectCleanFailure(r1, 8, /cannot write into .*fresh: no space left on the device \(ENOSPC\); nothing was changed there/);
    expect(await readdir(mnt!)).toEqual([]); // no output, no staging directory

    const existing = join(mnt!, 'existing');
    await mkdir(existing);
    await writeFile(join(existing, 'p0.yaml'), 'old: content\n');
    await writeFile(join(existing, 'mine.txt'), 'keep me\n');
    const before = await snapshot(mnt!);
    const r2 = await runCli(['pull', `${reg.host}/${repo}:v1`, '-o', existing, '--force']);
    expectCleanFailure(r2, 8, /no space left on the device \(ENOSPC\); nothing was changed there/);
    expect(await snapshot(mnt!)).toEqual(before);
  });
});
