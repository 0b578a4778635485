// The yargs root: global flags, the command table, and the one place errors become exit codes.
// Command modules are small (flags + a handler); each handler imports its heavy modules only when
// it runs, so `version` and `--help` stay close to bare Node start-up.
import { exitCodeFor, isPolicyOciError, PolicyOciError } from './errors.ts';
import { TOOL_NAME, VERSION } from './version.ts';

function versionLine(): string {
  return `${TOOL_NAME} ${VERSION} (node ${process.versions.node}, ${process.platform}/${process.arch})`;
}

function reportError(err: unknown, debug: boolean): number {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`Error: ${message}\n`);
  if (isPolicyOciError(err)) {
    for (const d of err.details) if (!message.includes(d)) process.stderr.write(`  ${d}\n`);
  } else if (debug && err instanceof Error && err.stack) {
    process.stderr.write(`${err.stack}\n`);
  }
  return exitCodeFor(err);
}

export async function run(argv: string[]): Promise<number> {
  // Fast path: `version` needs no argument parser at all.
  if (argv.length === 1 && (argv[0] === 'version' || argv[0] === '--version')) {
    process.stdout.write(`${versionLine()}\n`);
    return 0;
  }
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') process.env.FORCE_COLOR = '0';
  const { default: yargs } = await import('yargs');
  const commands = await Promise.all([
    import('./commands/push.ts'),
    import('./commands/pull.ts'),
    import('./commands/inspect.ts'),
    import('./commands/tags.ts'),
    import('./commands/login.ts'),
    import('./commands/logout.ts'),
    import('./commands/export.ts'),
    import('./commands/apply.ts'),
    import('./commands/diff.ts'),
    import('./commands/migrate.ts'),
    import('./commands/attach.ts'),
    import('./commands/discover.ts'),
    import('./commands/sign.ts'),
    import('./commands/verify.ts'),
    import('./commands/copy.ts'),
  ]);
  const debug = argv.includes('--debug');
  try {
    const { STDIN_MARKER } = await import('./commands/options.ts');
    // Shell completion must name the real executable (a function name cannot hold a space).
    const completing = argv[0] === 'completion' || argv.includes('--get-yargs-completions');
    // A bare --dry-run never takes the next word as its value (kubectl's rule): `--dry-run REF`.
    let parser = yargs(argv.map((a) => (a === '-' ? STDIN_MARKER : a === '--dry-run' ? '--dry-run=' : a)))
      .scriptName(completing ? 'kubectl-policyoci' : 'kubectl policyoci')
      .usage('$0 <command> [options]\n\nMove Kyverno and KubeArmor policies between clusters, files and OCI registries.')
      .option('format', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'Output format (json for scripts)', global: true })
      .option('debug', { type: 'boolean', describe: 'Print stack traces of internal errors', global: true })
      .version(false)
      .command('version', 'Print the version', {}, () => {
        process.stdout.write(`${versionLine()}\n`);
      })
      .completion('completion', 'Print a shell completion script (bash/zsh)')
      .demandCommand(1, 'Name a command; see --help')
      .recommendCommands()
      .strict()
      .help()
      .alias('help', 'h')
      .wrap(Math.min(110, process.stdout.columns || 100))
      .epilogue('Exit codes: 0 ok, 2 usage, 3 invalid input, 4 not found, 5 auth, 6 unsafe/limit, 7 exists, 8 registry/cluster/io.')
      .fail((msg, err) => {
        // yargs wraps what a flag's coerce throws (our usage errors) in its own YError.
        const cause = (err as { cause?: unknown } | undefined)?.cause;
        if (err?.name === 'YError') throw isPolicyOciError(cause) ? cause : new PolicyOciError('USAGE', err.message);
        throw err ?? new PolicyOciError('USAGE', msg);
      });
    for (const c of commands) parser = parser.command(c as never);
    skipHelpCaching(parser);
    await parser.parseAsync();
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return reportError(err, debug);
  }
}

/**
 * yargs lays out a command's whole help text every time the command runs, to keep it for a later
 * failure (40–90 ms of CPU per run, mostly string-width). Our .fail() never prints help, so that
 * text is never used: skip making it. Internal API: if yargs changes it, this does nothing.
 */
function skipHelpCaching(parser: unknown): void {
  const internal = (parser as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } }).getInternalMethods?.();
  const usage = internal?.getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => undefined;
}
