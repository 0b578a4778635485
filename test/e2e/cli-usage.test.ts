// Issue 13, item 10 (the parts in the CLI root): what a new user is told when the words are wrong.
// Every case runs the executable; messages are one line, in the tool's words (never yargs'), with
// the usage of the command and where to read more; with --format json the error is one JSON
// object on stderr and the exit code is the same.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '../support/cli.ts';

const EXAMPLES = join(REPO_ROOT, 'examples', 'policies');

/** stderr as lines, without the trailing empty one. */
const lines = (stderr: string) => stderr.replace(/\n$/, '').split('\n');

describe('the CLI root explains usage errors', () => {
  it('an unknown command names itself, suggests a close one only when there is one, and lists the commands', async () => {
    const typo = await runCli(['psuh', 'x']);
    expect(typo.code).toBe(2);
    expect(lines(typo.stderr)).toEqual([
      'Error: unknown command "psuh" for "kubectl policyoci"',
      '  Did you mean push?',
      expect.stringMatching(/^ {2}Commands: push, pull, inspect, tags, .*completion, version$/),
      "  Run 'kubectl policyoci --help' for what each does.",
    ]);
    const far = await runCli(['bogus']);
    expect(far.code).toBe(2);
    expect(far.stderr).not.toMatch(/Did you mean/); // "bogus" is close to nothing (yargs said "login")
    expect(far.stderr).toMatch(/^Error: unknown command "bogus" for "kubectl policyoci"\n {2}Commands: push, /);
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^Error: name a command\n {2}Commands: push, /);
  });

  it('an unknown flag is named once, as typed (not also in camelCase), with a suggestion and the usage', async () => {
    const r = await runCli(['pull', 'localhost:5000/p:v1', '--no-such-flag', '--forse']);
    expect(r.code).toBe(2);
    expect(r.stderr.match(/such/gi), 'named once, never as suchFlag').toHaveLength(1);
    expect(lines(r.stderr)).toEqual([
      'Error: unknown flags --no-such-flag, --forse for pull',
      '  Usage: kubectl policyoci pull [ref] [options]',
      "  Run 'kubectl policyoci pull --help' for its flags and examples.",
    ]);
    const one = await runCli(['pull', 'localhost:5000/p:v1', '--forse']);
    expect(lines(one.stderr).slice(0, 2)).toEqual(['Error: unknown flag --forse for pull', '  Did you mean --force?']);
    const short = await runCli(['tags', 'localhost:5000/p', '-Z']);
    expect(lines(short.stderr)[0]).toBe('Error: unknown flag -Z for tags');
  });

  it('a missing REF (or flag) names what is missing, with the usage line', async () => {
    const inspect = await runCli(['inspect']);
    expect(inspect.code).toBe(2);
    expect(lines(inspect.stderr)).toEqual([
      'Error: inspect needs <ref>',
      '  Usage: kubectl policyoci inspect <ref> [options]',
      "  Run 'kubectl policyoci inspect --help' for its flags and examples.",
    ]);
    expect(lines((await runCli(['copy', 'a'])).stderr)[0]).toBe('Error: copy needs <dst>');
    expect(lines((await runCli(['copy'])).stderr)[0]).toBe('Error: copy needs <src> and <dst>');
    expect(lines((await runCli(['sign', 'localhost:5000/p:v1'])).stderr)[0]).toBe('Error: sign needs --key');
    expect(lines((await runCli(['migrate'])).stderr)[0]).toBe('Error: migrate needs --from-context and --to-context');
  });

  it('a bad --format (or any choice) is one line', async () => {
    const r = await runCli(['tags', 'localhost:5000/p', '--format', 'yaml']);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)[0]).toBe('Error: --format takes text or json, got "yaml"');
    expect(r.stderr).not.toMatch(/Invalid values|Argument:|Choices:/);
    const shell = await runCli(['completion', 'tcsh']);
    expect(lines(shell.stderr)[0]).toBe('Error: <shell> takes bash, zsh, fish or kubectl, got "tcsh"');
  });

  it('swapped arguments (a path where the reference goes) get a hint and the usage', async () => {
    const push = await runCli(['push', EXAMPLES, 'localhost:5000/policies:v1']);
    expect(push.code).toBe(2);
    expect(lines(push.stderr)).toEqual([
      expect.stringMatching(/^Error: invalid reference /),
      `  "${EXAMPLES}" is a path and "localhost:5000/policies:v1" a reference: did you swap them? The reference comes first.`,
      '  Usage: kubectl policyoci push [ref] [paths..] [options]',
      "  Run 'kubectl policyoci push --help' for its flags and examples.",
    ]);
    // A relative directory parses as a Docker Hub name: the push then misses the "file" REF.
    const relative = await runCli(['push', 'examples', 'localhost:5000/policies:v1'], { cwd: REPO_ROOT });
    expect(relative.code).toBe(3);
    expect(relative.stderr).toMatch(/^Error: localhost:5000\/policies:v1: no such file or directory\n {2}"examples" is a path and "localhost:5000\/policies:v1" a reference: did you swap them\?/);
    const out = join(await mkdtemp(join(tmpdir(), 'swap-')), 'out');
    const pull = await runCli(['pull', out, 'localhost:5000/policies:v1']);
    expect(pull.code).toBe(2);
    expect(lines(pull.stderr).slice(0, 2)).toEqual([
      'Error: unexpected argument "localhost:5000/policies:v1" for pull',
      `  "${out}" is a path and "localhost:5000/policies:v1" a reference: did you swap them? The reference comes first.`,
    ]);
    // Arguments in the right order get no such hint.
    const right = await runCli(['push', 'localhost:5000/policies:v1', join(REPO_ROOT, 'missing-dir')]);
    expect(right.stderr).not.toMatch(/did you swap/);
    // Nor does a layout where the reference goes, when a flag says it is one.
    const layout = await runCli(['copy', '--from-oci-layout', `${out}:v1`, 'localhost:5000/policies:v1']);
    expect(layout.code).not.toBe(0);
    expect(layout.stderr).not.toMatch(/did you swap/);
  });

  it('with --format json, every error is one JSON object on stderr, the exit code unchanged', async () => {
    const cases: Array<{ args: string[]; code: number; error: string }> = [
      { args: ['inspect', '--format', 'json'], code: 2, error: 'USAGE' },
      { args: ['--format=json', 'bogus'], code: 2, error: 'USAGE' },
      { args: ['push', 'localhost:5000/p:v1', '--nope', '--format', 'json'], code: 2, error: 'USAGE' },
      { args: ['push', 'localhost:5000/p:v1', join(REPO_ROOT, 'missing-dir'), '--format', 'json'], code: 3, error: 'INVALID_INPUT' },
    ];
    for (const c of cases) {
      const r = await runCli(c.args);
      expect(r.code, c.args.join(' ')).toBe(c.code);
      expect(r.stdout, c.args.join(' ')).toBe('');
      expect(r.stderr.trimEnd().split('\n'), 'one line').toHaveLength(1);
      const parsed = JSON.parse(r.stderr) as { error: { code: string; exitCode: number; message: string; details: string[] } };
      expect(parsed.error).toMatchObject({ code: c.error, exitCode: c.code, message: expect.any(String), details: expect.any(Array) });
    }
    const usage = JSON.parse((await runCli(['inspect', '--format', 'json'])).stderr) as { error: { message: string; details: string[] } };
    expect(usage.error.message).toBe('inspect needs <ref>');
    expect(usage.error.details).toContain('Usage: kubectl policyoci inspect <ref> [options]');
    // The same error in text is the usual "Error:" line.
    expect((await runCli(['inspect'])).stderr).toMatch(/^Error: inspect needs <ref>\n/);
  });
});
