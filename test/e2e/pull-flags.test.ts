// `pull` writes files; `pull --apply` is `apply`. Each refuses the other's flags by name (exit 2)
// before reading anything, rather than ignoring them.
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli, runOk } from '../support/cli.ts';

const KYVERNO = join(REPO_ROOT, 'examples', 'policies', 'kyverno');

describe('pull: files or --apply, not a mix', () => {
  it('without --apply refuses --prune and --context (exit 2, one line naming them), writing nothing', async () => {
    const work = await mkdtemp(join(tmpdir(), 'pull-flags-'));
    const layout = join(work, 'layout');
    await runOk(['push', '--oci-layout', `${layout}:v1`, KYVERNO]);
    const out = join(work, 'out');
    const r = await runCli(['pull', '--oci-layout', `${layout}:v1`, '-o', out, '--prune', '--context', 'kind-a']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('Error: --prune and --context only mean something with --apply: without it pull writes files and talks to no cluster\n');
    await expect(readdir(out)).rejects.toThrow();
    // The same pull without them writes the files.
    await runOk(['pull', '--oci-layout', `${layout}:v1`, '-o', out]);
    expect((await readdir(out)).length).toBeGreaterThan(0);
  });

  it('with --apply refuses -o (it writes no files), before any cluster is contacted', async () => {
    const r = await runCli(['pull', 'localhost:5000/policies:v1', '--apply', '-o', 'dir', '--kubeconfig', '/nonexistent/kubeconfig']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('Error: pull --apply writes no files: -o/--output has no meaning with it\n');
  });
});
