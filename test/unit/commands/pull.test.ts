// `pull` without --apply writes files: the flags it offers only for `pull --apply` are refused when
// typed, and with --apply the file flags are. Runs the real command module through yargs; every
// refusal happens before any registry, file or cluster is touched.
import yargs, { type Argv } from 'yargs';
import { describe, expect, it } from 'vitest';
import { applyBuilder, withSourceFlags } from '../../../src/commands/apply.ts';
import * as pullCommand from '../../../src/commands/pull.ts';
import { PolicyOciError } from '../../../src/errors.ts';

/** What yargs keeps of the declared options (getOptions is on the instance, not in @types/yargs). */
interface DeclaredOptions {
  getOptions(): { key: Record<string, unknown>; alias: Record<string, string[]> };
}

/** The flags a builder declares, by their main name (aliases left out). */
function declared(build: (y: Argv) => Argv): Set<string> {
  const options = (build(yargs([])) as unknown as DeclaredOptions).getOptions();
  const aliases = new Set(Object.values(options.alias).flat());
  return new Set(Object.keys(options.key).filter((k) => !aliases.has(k)));
}

async function runPull(argv: string[]): Promise<unknown> {
  const parser = yargs(['pull', ...argv])
    .option('format', { choices: ['text', 'json'] as const, default: 'text' as const })
    .command(pullCommand as never)
    .strict()
    .fail((msg, err) => {
      throw err ?? new PolicyOciError('USAGE', msg);
    });
  return parser.parseAsync().then(
    () => undefined,
    (err: unknown) => err,
  );
}

describe('pull: flags that belong to --apply', () => {
  it('names every flag apply declares beyond those pull shares with it (registry, limits, trust, source)', () => {
    const apply = declared((y) => applyBuilder(y));
    const shared = declared((y) => withSourceFlags(y));
    for (const positionalOrSource of ['ref', 'image', 'engine']) shared.add(positionalOrSource);
    const applyOnly = [...apply].filter((k) => !shared.has(k) && !['help', 'version'].includes(k)).sort();
    expect(pullCommand.APPLY_ONLY_FLAGS.map((f) => f.key).sort()).toEqual(applyOnly);
  });

  it('givenFlags counts only what was typed (a flag left out is undefined; --no-x counts)', () => {
    expect(pullCommand.givenFlags({ prune: false, context: 'x', namespace: undefined }, pullCommand.APPLY_ONLY_FLAGS)).toEqual(['--prune', '--context']);
    expect(pullCommand.givenFlags({}, pullCommand.FILES_ONLY_FLAGS)).toEqual([]);
  });

  it.each([
    [['--prune'], /^--prune only means something with --apply/],
    [['--prune', '--context', 'kind-a'], /^--prune and --context only mean something with --apply/],
    [['-n', 'team-a'], /^-n\/--namespace only/],
    [['--dry-run=client'], /^--dry-run only/],
    [['--create-namespace', '--force-conflicts', '--kubeconfig', '/k'], /^--force-conflicts, --create-namespace and --kubeconfig only/],
  ])('without --apply refuses %j', async (flags, message) => {
    const err = await runPull(['localhost:5000/p:v1', ...flags]);
    expect(err).toBeInstanceOf(PolicyOciError);
    expect((err as PolicyOciError).code).toBe('USAGE');
    expect((err as PolicyOciError).message).toMatch(message);
  });

  it.each([
    [['-o', 'out'], /-o\/--output has no meaning/],
    [['-d', 'out'], /-o\/--output has no meaning/],
    [['--output', '.', '--force'], /-o\/--output and --force have no meaning/],
  ])('with --apply refuses %j (even the default value typed out)', async (flags, message) => {
    const err = await runPull(['localhost:5000/p:v1', '--apply', ...flags]);
    expect(err).toBeInstanceOf(PolicyOciError);
    expect((err as PolicyOciError).code).toBe('USAGE');
    expect((err as PolicyOciError).message).toMatch(/^pull --apply writes no files/);
    expect((err as PolicyOciError).message).toMatch(message);
  });

  it('--request-timeout is shared with the registry: not refused (the pull then fails on its reference)', async () => {
    const err = await runPull(['--request-timeout', '5s']);
    expect((err as PolicyOciError).message).toBe('pull needs a reference (REF or -i REF)');
  });
});
