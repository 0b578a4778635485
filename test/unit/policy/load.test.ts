import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PolicyOciError } from '../../../src/errors.ts';
import { loadPolicies } from '../../../src/policy/load.ts';

const CP = (name: string, extra = '') =>
  `apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: ${name}\nspec:\n  rules:\n  - name: r\n    match:\n      any:\n      - resources:\n          kinds: [Pod]\n${extra}`;
const KSP = (name: string) =>
  `apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: ${name}\n  namespace: default\nspec:\n  selector:\n    matchLabels: {app: x}\n  process:\n    matchPaths:\n    - path: /bin/sh\n  action: Block\n`;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'policyoci-load-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(rel: string, text: string): Promise<string> {
  const p = join(dir, rel);
  await mkdir(join(p, '..'), { recursive: true });
  await writeFile(p, text);
  return p;
}

async function refusal(paths: string[], opts = {}): Promise<PolicyOciError> {
  const err = await loadPolicies(paths, opts).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(PolicyOciError);
  return err as PolicyOciError;
}

describe('loadPolicies', () => {
  it('walks directories recursively in sorted order, only .yaml/.yml/.json, skipping hidden entries', async () => {
    await write('b/z.yaml', CP('z'));
    await write('b/a.yml', KSP('a'));
    await write('a.json', JSON.stringify({ apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', metadata: { name: 'j' }, spec: {} }));
    await write('README.md', '# not a policy');
    await write('.hidden/x.yaml', 'not: [valid');
    await write('.x.yaml', 'not: [valid');
    const docs = await loadPolicies([dir]);
    expect(docs.map((d) => [d.source.file.slice(dir.length + 1), d.engine, d.object.metadata.name])).toEqual([
      ['a.json', 'kyverno', 'j'],
      ['b/a.yml', 'kubearmor', 'a'],
      ['b/z.yaml', 'kyverno', 'z'],
    ]);
  });

  it('reads multi-document files and stdin ("-")', async () => {
    const f = await write('multi.yaml', `${CP('one')}---\n${KSP('two')}`);
    const docs = await loadPolicies([f, '-'], { stdin: async () => CP('three') });
    expect(docs.map((d) => [d.source.file.replace(dir, ''), d.source.index, d.source.line, d.object.metadata.name])).toEqual([
      ['/multi.yaml', 0, 1, 'one'],
      ['/multi.yaml', 1, 13, 'two'],
      ['<stdin>', 0, 1, 'three'],
    ]);
  });

  it('names the file, document and kind of a document that is not a policy', async () => {
    const f = await write('mixed.yaml', `${CP('ok')}---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n`);
    const err = await refusal([f]);
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toBe(`${f}:13: document 2: v1/Secret ("creds") is not a policy of a known engine (kyverno, kubearmor, kubernetes, gatekeeper)`);
  });

  it('collects every problem of every file into one error', async () => {
    await write('1-dup.yaml', 'a: 1\na: 2\n');
    await write('2-deploy.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n');
    await write('3-ok.yaml', CP('fine'));
    await write('4-bad.yaml', CP('bad', '    validate:\n      foo: 1\n'));
    const err = await refusal([dir, join(dir, 'missing.yaml')], { validate: true });
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toBe('4 problems in 4 of 5 inputs');
    expect(err.details).toEqual([
      `${join(dir, 'missing.yaml')}: no such file or directory`,
      `${dir}/1-dup.yaml:2:1: duplicate key "a" (first at line 1)`,
      `${dir}/2-deploy.yaml:1: document 1: apps/v1/Deployment ("d") is not a policy of a known engine (kyverno, kubearmor, kubernetes, gatekeeper)`,
      `${dir}/4-bad.yaml:13: ClusterPolicy bad: unknown field "spec.rules[0].validate.foo"`,
    ]);
  });

  it('is INVALID_POLICY when only schema or metadata rules fail, with exact lines', async () => {
    const f = await write('p.yaml', CP('p', '    validate:\n      failureAction: Sometimes\n'));
    const err = await refusal([f], { validate: true });
    expect(err.code).toBe('INVALID_POLICY');
    expect(err.message).toBe(`${f}:13: ClusterPolicy p: spec.rules[0].validate.failureAction: must be one of "Audit", "Enforce" (got "Sometimes")`);
  });

  it('requires a name even without validation', async () => {
    const f = await write('p.yaml', 'apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {}\n');
    expect((await refusal([f])).message).toBe(`${f}:1: ClusterPolicy (no name): metadata.name: required field missing`);
  });

  it('returns validated objects (nulls pruned) and warnings', async () => {
    const f = await write('p.yaml', CP('p', '    validate:\n      message: null\n      pattern: {x: "on"}\n'));
    const [doc] = await loadPolicies([f], { validate: true });
    expect((doc!.object.spec as { rules: { validate: unknown }[] }).rules[0]!.validate).toEqual({ pattern: { x: 'on' } });
    const g = await write('q.yaml', 'apiVersion: policies.kyverno.io/v1alpha1\nkind: ValidatingPolicy\nmetadata:\n  name: v\nspec:\n  validations:\n  - expression: "true"\n');
    const [v] = await loadPolicies([g], { validate: true });
    expect(v!.warnings).toEqual([`${g}:1: policies.kyverno.io/v1alpha1 ValidatingPolicy is deprecated; use policies.kyverno.io/v1`]);
  });

  it('warns when the same object appears twice', async () => {
    await write('a.yaml', CP('same'));
    await write('b.yaml', CP('same'));
    const docs = await loadPolicies([dir]);
    expect(docs[1]!.warnings).toEqual([`${dir}/b.yaml:1: ClusterPolicy same is also in ${dir}/a.yaml:1; applying both keeps only one`]);
  });

  it('follows symbolic links inside the tree only, and never loops', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'policyoci-outside-'));
    try {
      await writeFile(join(outside, 'x.yaml'), CP('outside'));
      await write('in/p.yaml', CP('inside'));
      await symlink(outside, join(dir, 'out-link'));
      await symlink(join(dir, 'in'), join(dir, 'in-link'));
      await symlink(dir, join(dir, 'in', 'loop'));
      const warnings: string[] = [];
      const docs = await loadPolicies([dir], { onWarning: (w) => warnings.push(w) });
      expect(docs.map((d) => d.object.metadata.name)).toEqual(['inside']);
      expect(warnings).toEqual([`${join(dir, 'out-link')}: skipped, a symbolic link that leads outside ${dir.split('/').pop()}`]);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('refuses empty inputs, directories without policy files and non-UTF-8 files', async () => {
    const e = await write('e.yaml', '');
    expect((await refusal([e])).message).toBe(`${e}: holds no document (it is empty, or only comments and "---" separators)`);
    await mkdir(join(dir, 'none'));
    expect((await refusal([join(dir, 'none')])).message).toBe(`${join(dir, 'none')}: no .yaml, .yml or .json files in this directory`);
    const latin1 = join(dir, 'l.yaml');
    await writeFile(latin1, Buffer.from([0x61, 0x3a, 0x20, 0xe9, 0x0a]));
    expect((await refusal([latin1])).message).toBe(`${latin1}: not UTF-8 text`);
    expect((await refusal([])).code).toBe('USAGE');
  });
});
