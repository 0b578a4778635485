// The executable against a real registry (distribution 2.8), as a user runs it.
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS, REPO_ROOT, runCli, runOk } from '../support/cli.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';

const EXAMPLES = join(REPO_ROOT, 'examples', 'policies');

async function requestLines(reg: RunningRegistry): Promise<number> {
  return (await readFile(reg.logFile, 'utf8')).split('\n').filter((l) => l.includes('response completed')).length;
}

describe('push, pull, inspect and tags against an open registry', () => {
  let reg: RunningRegistry;
  let work: string;
  beforeAll(async () => {
    reg = await startRegistry('open');
    work = await mkdtemp(join(tmpdir(), 'cli-'));
  });
  afterAll(async () => reg?.stop());

  it('pushes the examples, then reports an unchanged re-push with a single request', async () => {
    const start = await requestLines(reg);
    const first = JSON.parse((await runOk(['push', `${reg.host}/examples:v1`, EXAMPLES, '--format', 'json'])).stdout);
    expect(first.unchanged).toBe(false);
    await new Promise((r) => setTimeout(r, 300));
    // A fresh push: the tag's HEAD, a mount-POST and a PUT per blob, the manifests, nothing else.
    const manifests = first.engines.length + (first.engines.length > 1 ? 1 : 0);
    expect((await requestLines(reg)) - start).toBe(1 + 2 * first.blobsUploaded + manifests);
    expect(first.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(first.engines.map((e: { engine: string }) => e.engine)).toEqual(['kubearmor', 'kyverno']);
    const before = await requestLines(reg);
    const again = await runOk(['push', `${reg.host}/examples:v1`, EXAMPLES]);
    expect(again.stdout).toMatch(/^unchanged: /);
    expect(again.stdout).toContain(first.digest);
    await new Promise((r) => setTimeout(r, 300)); // the registry writes its log line after the response
    expect((await requestLines(reg)) - before).toBe(1);
  });

  it('pushes several tags, the oci:// prefix, the -i/-p form and stdin', async () => {
    const kyverno = join(EXAMPLES, 'kyverno');
    await runOk(['push', `oci://${reg.host}/multi:v1,latest,stable`, kyverno]);
    expect((await runOk(['tags', `${reg.host}/multi`])).stdout.trim().split('\n').sort()).toEqual(['latest', 'stable', 'v1']);
    await runOk(['push', '-i', `${reg.host}/proposal:v1`, '-p', join(kyverno, 'require-labels.yaml'), '-p', join(kyverno, 'disallow-latest-tag.yaml')]);
    const inspected = JSON.parse((await runOk(['inspect', `${reg.host}/proposal:v1`, '--format', 'json'])).stdout);
    expect(inspected.policies.map((p: { name: string }) => p.name)).toEqual(['disallow-latest-tag', 'require-labels']);
    const stdin = await readFile(join(kyverno, 'require-ro-rootfs.yaml'), 'utf8');
    await runOk(['push', `${reg.host}/stdin:v1`, '-'], { input: stdin });
    const pulled = JSON.parse((await runOk(['pull', `${reg.host}/stdin:v1`, '-o', join(work, 'stdin'), '--format', 'json'])).stdout);
    expect(pulled.files.map((f: { name: string }) => f.name)).toEqual(['require-ro-rootfs']);
  });

  it('pulls one file per policy, refuses to overwrite without --force, and reads by digest', async () => {
    const out = join(work, 'pulled');
    const first = JSON.parse((await runOk(['pull', `${reg.host}/examples:v1`, '-o', out, '--format', 'json'])).stdout);
    const files = (await readdir(out)).sort();
    expect(files).toEqual(first.files.map((f: { file: string }) => f.file).sort());
    // Two kinds share the name disallow-latest-tag: both survive, under kind-qualified names.
    expect(files).toEqual(
      expect.arrayContaining(['clusterpolicy-disallow-latest-tag.yaml', 'validatingpolicy-disallow-latest-tag.yaml', 'require-labels.yaml', 'ksp-nginx-hardening-rule-monitor-cache-access.yaml']),
    );
    const again = await runCli(['pull', `${reg.host}/examples:v1`, '-o', out]);
    expect(again.code).toBe(7);
    expect(again.stderr).toMatch(/already exist.*--force/);
    await runOk(['pull', '-i', `${reg.host}/examples@${first.digest}`, '-d', out, '--force']);
  });

  it('--dry-run prints the manifest and sends nothing', async () => {
    const r = await runOk(['push', '--dry-run', `${reg.host}/dry:v1`, join(EXAMPLES, 'kubearmor')]);
    expect(r.stdout).toContain('application/vnd.cncf.kubearmor.policy.layer.v1.yaml');
    const tags = await runCli(['tags', `${reg.host}/dry`]);
    expect(tags.stdout.trim()).toBe('');
  });

  it('a missing tag is exit code 4 with one clear line', async () => {
    const r = await runCli(['pull', `${reg.host}/examples:nope`, '-o', join(work, 'none')]);
    expect(r.code).toBe(4);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^Error: .*not found/i);
  });

  const BAD: Record<string, RegExp> = {
    'syntax-error.yaml': /syntax-error\.yaml:15:7: Flow sequence/,
    'json-syntax-error.json': /json-syntax-error\.json:9:\d+: invalid JSON/,
    'tabs-indentation.yaml': /tabs-indentation\.yaml:5:1: Tabs are not allowed/,
    'empty.yaml': /empty\.yaml: holds no document/,
    'comment-only.yaml': /comment-only\.yaml: holds no document/,
    'separators-only.yaml': /separators-only\.yaml: holds no document/,
    'non-policy-deployment.yaml': /non-policy-deployment\.yaml:2: .*apps\/v1\/Deployment.*not a policy/,
    'multi-doc-policy-and-secret.yaml': /multi-doc-policy-and-secret\.yaml:25: .*v1\/Secret.*not a policy/,
    'missing-metadata-name.yaml': /missing-metadata-name\.yaml:5: .*metadata\.name: required/,
    'missing-kind.yaml': /missing-kind\.yaml:2: .*kind: required/,
    'unknown-api-version.yaml': /unknown-api-version\.yaml:2: kyverno\.io\/v9 is not a served version/,
    'duplicate-keys.yaml': /duplicate-keys\.yaml:6:3: duplicate key "name"/,
    'kubearmor-policy-schema-violations.yaml': /kubearmor-policy-schema-violations\.yaml:14: .*spec\.action: must be one of/,
    'kubearmor-hostpolicy-missing-nodeselector.yaml': /kubearmor-hostpolicy-missing-nodeselector\.yaml:7: .*spec\.nodeSelector: required/,
    'huge-value-5mb.yaml': /huge-value-5mb\.yaml:2: .*above the 1572864-byte/,
  };

  it('covers every file of corpus/bad', async () => {
    expect((await readdir(join(CORPUS, 'bad'))).sort()).toEqual(Object.keys(BAD).sort());
  });

  it.each(Object.entries(BAD))('refuses bad/%s with the file and the problem, and creates no tag', async (name, expected) => {
    const repo = `${reg.host}/bad-${basename(name).replace(/[^a-z0-9]+/g, '-')}`;
    const r = await runCli(['push', `${repo}:v1`, join(CORPUS, 'bad', name)]);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(expected);
    const tags = await runCli(['tags', repo]);
    expect(tags.stdout.trim()).toBe('');
  });

  it('a bad file among good ones stops the whole push', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mixed-'));
    await writeFile(join(dir, 'good.yaml'), await readFile(join(EXAMPLES, 'kyverno', 'require-labels.yaml')));
    await writeFile(join(dir, 'secret.yaml'), 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  password: hunter2\n');
    const r = await runCli(['push', `${reg.host}/mixed:v1`, dir]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/secret\.yaml:1: .*v1\/Secret/);
    expect((await runCli(['tags', `${reg.host}/mixed`])).stdout.trim()).toBe('');
  });
});
