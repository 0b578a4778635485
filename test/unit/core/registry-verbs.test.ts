// push, pull, inspect and tags as core functions, through a real OCI image layout on disk: typed
// options in, a plain result out, warnings and progress through the reporter.
import { cp, mkdtemp, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspect } from '../../../src/core/inspect.ts';
import { pull } from '../../../src/core/pull.ts';
import { push } from '../../../src/core/push.ts';
import type { Reporter } from '../../../src/core/reporter.ts';
import { listTags } from '../../../src/core/tags.ts';
import { PolicyOciError } from '../../../src/errors.ts';
import { inspectText } from '../../../src/output/inspect.ts';
import { pullText } from '../../../src/output/pull.ts';
import { pushText } from '../../../src/output/push.ts';

const EXAMPLES = join(import.meta.dirname, '..', '..', '..', 'examples', 'policies');
const LAYOUT = { ociLayout: true };

/** A reporter that keeps what it is told. */
function recorder(): Reporter & { warnings: string[]; steps: string[] } {
  const warnings: string[] = [];
  const steps: string[] = [];
  return { warnings, steps, warn: (m) => void warnings.push(m), progress: (t) => void steps.push(t) };
}

describe('push, pull, inspect, tags on an OCI layout', () => {
  let work: string;
  let policies: string;
  const cacheSetting = process.env.POLICYOCI_CACHE_DIR;
  beforeAll(async () => {
    process.env.POLICYOCI_CACHE_DIR = 'off'; // no checked-files cache written by a unit test
    work = await mkdtemp(join(tmpdir(), 'core-verbs-'));
    // The examples plus a symbolic link leading out of the directory: skipped, with a warning.
    policies = join(work, 'policies');
    await cp(EXAMPLES, policies, { recursive: true });
    await writeFile(join(work, 'outside.yaml'), 'not read\n');
    await symlink(join(work, 'outside.yaml'), join(policies, 'link.yaml'));
  });

  afterAll(() => {
    if (cacheSetting === undefined) delete process.env.POLICYOCI_CACHE_DIR;
    else process.env.POLICYOCI_CACHE_DIR = cacheSetting;
  });

  it('a client dry run packs and describes, and writes nothing', async () => {
    const reporter = recorder();
    const result = await push({ reference: `${join(work, 'dry')}:v1`, store: LAYOUT, paths: [policies], dryRun: 'client' }, reporter);
    expect(result.dryRun).toBe('client');
    if (result.dryRun !== 'client') return;
    expect(result.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result.engines.map((e) => e.engine)).toEqual(['kubearmor', 'kyverno']);
    expect(result.manifests).toHaveLength(2);
    // A mixed push makes an index: the warning says the Kyverno CLI cannot read it (--split-engines).
    expect(result.warnings).toEqual([expect.stringMatching(/link\.yaml: skipped, a symbolic link/), expect.stringMatching(/^policies of 2 engines \(kubearmor, kyverno\) make an image index: .*--split-engines/)]);
    expect(reporter.warnings).toEqual(result.warnings);
    await expect(stat(join(work, 'dry'))).rejects.toThrow();
    expect(pushText(result)).toMatch(new RegExp(`^Would push ${result.policies} policies to .*dry:v1 as ${result.digest}\\n\\{`));
  });

  it('pushes (progress per blob), then an unchanged set reports unchanged; the dry run named the same digest', async () => {
    const reference = `${join(work, 'layout')}:v1,latest`;
    const dry = await push({ reference, store: LAYOUT, paths: [policies], dryRun: 'client' });
    const reporter = recorder();
    const first = await push({ reference, store: LAYOUT, paths: [policies], concurrency: 2 }, reporter);
    if (first.dryRun !== 'none') throw new Error('sent nothing');
    expect(first.digest).toBe(dry.digest);
    expect(first.unchanged).toBe(false);
    expect(first.tags).toEqual(['v1', 'latest']);
    expect(reporter.steps.at(-1)).toMatch(/^Pushing blobs to .*layout:v1,latest: (\d+)\/\1$/);
    expect(pushText(first)).toMatch(/^Pushed \d+ policies \(kubearmor: 2, kyverno: \d+\) to .*\nUploaded \d+ of \d+ blobs/);
    const again = await push({ reference, store: LAYOUT, paths: [policies] });
    expect(again.dryRun === 'none' && again.unchanged).toBe(true);
    expect(pushText(again)).toMatch(/^unchanged: /);
    expect((await listTags({ reference: join(work, 'layout'), store: LAYOUT })).tags.sort()).toEqual(['latest', 'v1']);
  });

  it('pulls every policy into files (the plain form of the text), and refuses to overwrite without force', async () => {
    const reference = `${join(work, 'layout')}:v1`;
    const directory = join(work, 'out');
    const result = await pull({ reference, store: LAYOUT, directory });
    expect(result.artifacts).toEqual([result.digest]);
    expect(result.verified).toBe(false);
    expect((await readdir(directory)).sort()).toEqual(result.files.map((f) => f.file).sort());
    expect(pullText(result).split('\n')[0]).toBe(`Pulled ${result.files.length} policies from ${result.reference} (${result.digest}) into ${directory}`);
    const again = await pull({ reference, store: LAYOUT, directory }).catch((e: unknown) => e);
    expect((again as PolicyOciError).code).toBe('EXISTS');
    expect((await pull({ reference, store: LAYOUT, directory, force: true, engines: ['kubearmor'] })).files).toHaveLength(2);
  });

  it('inspect describes the index and its manifests without writing', async () => {
    const result = await inspect({ reference: `${join(work, 'layout')}:v1`, store: LAYOUT });
    expect(result.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(result.manifests.map((m) => m.engine)).toEqual(['kubearmor', 'kyverno']);
    expect(result.warnings).toEqual([]);
    expect(inspectText(result)).toMatch(/^Reference: .*\nDigest: {4}sha256:/);
  });

  it('the text of a pull from attached artifacts says how many and whether signatures were verified', () => {
    const text = pullText({ reference: 'r/p:v1', digest: 'sha256:a', artifacts: ['sha256:b', 'sha256:c'], verified: true, directory: 'out', files: [], warnings: [] });
    expect(text).toBe('Pulled 0 policies from r/p:v1 (2 artifacts attached to sha256:a), signature verified, into out');
  });
});
