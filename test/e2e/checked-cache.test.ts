// The cache of checked files (src/policy/checked-cache.ts), through the executable: a file pushed
// before is not parsed or validated again, and nothing a user sees differs between a hit and a miss.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS, REPO_ROOT, runCli, runOk } from '../support/cli.ts';

const SHIPPED_EXAMPLES = join(REPO_ROOT, 'examples', 'policies');
// The examples plus one policy at a deprecated apiVersion, so that there is a warning to remember.
const DEPRECATED_VPOL = readFileSync(join(SHIPPED_EXAMPLES, 'kyverno', 'disallow-latest-tag-vpol.yaml'), 'utf8')
  .replace('apiVersion: policies.kyverno.io/v1\n', 'apiVersion: policies.kyverno.io/v1alpha1\n')
  .replace('name: disallow-latest-tag\n', 'name: disallow-latest-tag-old\n');
let EXAMPLES: string;

describe('cache of checked files', () => {
  let work: string;
  let cache: string;
  let n = 0;
  const layout = () => `${join(work, `layout-${++n}`)}:v1`;
  const entries = () => readdirSync(join(cache, 'checked-v1')).filter((f) => f.endsWith('.json')).sort();
  const push = (paths: string[], env: NodeJS.ProcessEnv = { POLICYOCI_CACHE_DIR: cache }, extra: string[] = []) =>
    runCli(['push', '--oci-layout', layout(), ...paths, '--format', 'json', ...extra], { env });
  const digestOf = (stdout: string) => (JSON.parse(stdout) as { digest: string }).digest;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'policyoci-cache-'));
    cache = join(work, 'cache');
    EXAMPLES = join(work, 'examples');
    cpSync(SHIPPED_EXAMPLES, EXAMPLES, { recursive: true });
    writeFileSync(join(EXAMPLES, 'kyverno', 'deprecated-vpol.yaml'), DEPRECATED_VPOL);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('remembers each valid file once; a second push reads the entries (unchanged on disk) and gives the same digest, output and warnings', async () => {
    const cold = await push([EXAMPLES]);
    expect(cold.code).toBe(0);
    const files = entries();
    expect(files).toHaveLength(7); // one per example file
    const mtimes = files.map((f) => statSync(join(cache, 'checked-v1', f)).mtimeMs);
    const warm = await push([EXAMPLES]);
    expect(warm.code).toBe(0);
    expect(entries()).toEqual(files);
    expect(files.map((f) => statSync(join(cache, 'checked-v1', f)).mtimeMs)).toEqual(mtimes);
    expect(digestOf(warm.stdout)).toBe(digestOf(cold.stdout));
    expect(warm.stderr).toBe(cold.stderr);
    expect(warm.stderr).toContain('deprecated'); // the v1alpha1 ValidatingPolicy's warning
    const off = await push([EXAMPLES], { POLICYOCI_CACHE_DIR: 'off' });
    expect(digestOf(off.stdout)).toBe(digestOf(cold.stdout));
    expect(off.stderr).toBe(cold.stderr);
  });

  it('a hit for the same bytes at another path names the new path in its warnings', async () => {
    const copy = join(work, 'elsewhere');
    cpSync(EXAMPLES, copy, { recursive: true });
    const before = entries();
    const r = await push([copy]);
    expect(r.code).toBe(0);
    expect(entries()).toEqual(before);
    expect(r.stderr).toContain(join(copy, 'kyverno', 'deprecated-vpol.yaml'));
    expect(r.stderr).not.toContain(EXAMPLES);
  });

  it('never remembers a bad file: it is refused every time, with the same message', async () => {
    const before = entries();
    const bad = join(CORPUS, 'bad', 'kubearmor-policy-schema-violations.yaml');
    const first = await push([bad]);
    const second = await push([bad]);
    expect(first.code).toBe(3);
    expect(second.code).toBe(3);
    expect(second.stderr).toBe(first.stderr);
    expect(entries()).toEqual(before);
  });

  it('keys by the options too: a file pushed with --skip-validation is still refused by a validating push', async () => {
    const dir = join(work, 'invalid');
    mkdirSync(dir);
    const file = join(dir, 'p.yaml');
    // a schema violation that --skip-validation lets through (validationFailureAction is an enum)
    writeFileSync(file, readFileSync(join(EXAMPLES, 'kyverno', 'require-labels.yaml'), 'utf8').replace(/validationFailureAction: \w+/, 'validationFailureAction: Sometimes'));
    expect(readFileSync(file, 'utf8')).toContain('Sometimes');
    expect((await push([file], undefined, ['--skip-validation'])).code).toBe(0);
    const validating = await push([file]);
    expect(validating.code).toBe(3);
    expect(validating.stderr).toContain('Sometimes');
  });

  it('a damaged entry is a miss: the file is read again, the entry rewritten, the result the same', async () => {
    const first = await push([join(EXAMPLES, 'kyverno', 'require-labels.yaml')]);
    // (the --skip-validation test above left another require-labels entry, under other options)
    const [entry] = entries().filter((f) => {
      const text = readFileSync(join(cache, 'checked-v1', f), 'utf8');
      return text.includes('"require-labels"') && !text.includes('Sometimes');
    });
    expect(entry).toBeDefined();
    writeFileSync(join(cache, 'checked-v1', entry!), '{"truncated');
    const again = await push([join(EXAMPLES, 'kyverno', 'require-labels.yaml')]);
    expect(again.code).toBe(0);
    expect(digestOf(again.stdout)).toBe(digestOf(first.stdout));
    expect(JSON.parse(readFileSync(join(cache, 'checked-v1', entry!), 'utf8'))).toHaveLength(1);
  });

  it('an unwritable cache only costs time: the push still succeeds', async () => {
    const file = join(work, 'not-a-dir');
    writeFileSync(file, 'x');
    const r = await push([EXAMPLES], { POLICYOCI_CACHE_DIR: file });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/error/i);
  });

  it('with no POLICYOCI_CACHE_DIR it lives under $XDG_CACHE_HOME/kubectl-policyoci', async () => {
    const xdg = join(work, 'xdg');
    await runOk(['push', '--oci-layout', layout(), EXAMPLES], { env: { POLICYOCI_CACHE_DIR: '', XDG_CACHE_HOME: xdg } });
    expect(readdirSync(join(xdg, 'kubectl-policyoci', 'checked-v1')).length).toBe(7);
  });
});
