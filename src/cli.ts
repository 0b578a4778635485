// The yargs root: global flags, the command table, and the one place errors become exit codes.
// Command modules are small (flags + a handler); each handler imports its heavy modules only when
// it runs, so `version` and `--help` stay close to bare Node start-up. What usage errors say is
// worded in usage.ts.
import type { Argv } from 'yargs';
import { exitCodeFor, isPolicyOciError } from './errors.ts';
import { commandNamed, explained, firstWord, formatIn, PROGRAM, usageFromYargs, withoutFormat, type CommandModule, type RunContext } from './usage.ts';
import { TOOL_NAME, versionInfo, versionLine } from './version.ts';

/**
 * The command modules, in the order --help lists them. Only the one being run is loaded (its
 * flags, and through its handler its core modules): loading all of them cost ~30 ms of every run.
 */
const COMMANDS = {
  push: () => import('./commands/push.ts'),
  pull: () => import('./commands/pull.ts'),
  inspect: () => import('./commands/inspect.ts'),
  tags: () => import('./commands/tags.ts'),
  login: () => import('./commands/login.ts'),
  logout: () => import('./commands/logout.ts'),
  export: () => import('./commands/export.ts'),
  apply: () => import('./commands/apply.ts'),
  diff: () => import('./commands/diff.ts'),
  status: () => import('./commands/status.ts'),
  rollback: () => import('./commands/rollback.ts'),
  migrate: () => import('./commands/migrate.ts'),
  attach: () => import('./commands/attach.ts'),
  discover: () => import('./commands/discover.ts'),
  sign: () => import('./commands/sign.ts'),
  verify: () => import('./commands/verify.ts'),
  copy: () => import('./commands/copy.ts'),
  flux: () => import('./commands/flux.ts'),
  completion: () => import('./commands/completion.ts'),
} satisfies Record<string, () => Promise<CommandModule>>;
type CommandName = keyof typeof COMMANDS;

/**
 * The modules to load: the command named by the first word, or every one when there is none
 * (--help lists them all), it is not one of them (the error names them all and suggests one), or
 * the words are being completed.
 */
function commandsFor(argv: string[]): CommandName[] {
  const all = Object.keys(COMMANDS) as CommandName[];
  if (argv[0] === '__complete') return all;
  const word = firstWord(argv);
  return word !== undefined && Object.hasOwn(COMMANDS, word) ? [word as CommandName] : all;
}

/** Commands cli.ts declares itself (the others are modules under commands/). */
const OWN_COMMANDS: CommandModule[] = [{ command: 'version', describe: 'Print the version (--format json: version, commit, build date, platform)' }];

const EXIT_CODES =
  'Exit codes: 0 ok, 2 usage, 3 invalid input, 4 not found, 5 auth, 6 unsafe/limit, 7 exists, 8 registry/cluster/io, 9 some contexts failed (several contexts); 130 interrupted (Ctrl-C).';

const ENVIRONMENT = [
  'Environment:',
  '  KUBECONFIG            kubeconfig files, merged as kubectl merges them (--kubeconfig wins)',
  '  REGISTRY_AUTH_FILE    registry credentials: read first, written by login; then',
  '                        $XDG_RUNTIME_DIR/containers/auth.json (podman) and',
  '                        $DOCKER_CONFIG/config.json (docker; default ~/.docker)',
  '  HTTPS_PROXY, HTTP_PROXY, NO_PROXY',
  '                        proxies, read as Go tools read them; credentials as',
  '                        http://USER:PASSWORD@HOST:PORT, never printed; loopback goes direct',
  '  COSIGN_PASSWORD       the password of an encrypted signing key',
  '  POLICYOCI_CACHE_DIR   cache of checked files and compiled code (default',
  '                        $XDG_CACHE_HOME/kubectl-policyoci or ~/.cache/kubectl-policyoci; off: none)',
  '  SOURCE_DATE_EPOCH     creation time of a Kyverno bundle 1.0 (push --kyverno-format bundle-1.0)',
  '  NO_COLOR              no colours',
].join('\n');

export async function run(argv: string[]): Promise<number> {
  const json = formatIn(argv) === 'json';
  const debug = argv.includes('--debug');
  // Fast path: `version` needs no argument parser at all.
  const bare = withoutFormat(argv);
  if (bare.length === 1 && (bare[0] === 'version' || bare[0] === '--version') && formatIn(argv) !== 'invalid') {
    writeVersion(json);
    return 0;
  }
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') process.env.FORCE_COLOR = '0';
  const modules = await Promise.all(commandsFor(argv).map((name) => COMMANDS[name]()));
  const ctx: RunContext = { argv, json, debug, commands: [...modules, ...OWN_COMMANDS] };
  try {
    if (argv[0] === '__complete') return await complete(argv.slice(1), modules);
    ctx.command = commandNamed(ctx);
    const { default: yargs } = await import('yargs');
    const { STDIN_MARKER, withoutGlobalFlags } = await import('./commands/options.ts');
    const { setOutputSettings } = await import('./output/settings.ts');
    // A bare --dry-run never takes the next word as its value (kubectl's rule): `--dry-run REF`; nor a bare --wait.
    let parser = withGlobalFlags(yargs(argv.map((a) => (a === '-' ? STDIN_MARKER : a === '--dry-run' ? '--dry-run=' : a === '--wait' ? '--wait=' : a))))
      .scriptName(PROGRAM)
      .usage('$0 <command> [options]\n\nMove Kubernetes security policies (Kyverno, KubeArmor, admission policies, Gatekeeper) between clusters, files, OCI registries and Flux.')
      .middleware((args) => {
        ctx.parsed = args;
        setOutputSettings({ progress: args.progress as boolean | undefined, quiet: args.quiet as boolean | undefined, verbose: args.verbose as boolean | undefined });
      }, true)
      .command(OWN_COMMANDS[0]!.command, OWN_COMMANDS[0]!.describe, (y) => withoutGlobalFlags(y, 'version', ['quiet', 'verbose', 'progress']), (args) => writeVersion(args.format === 'json'))
      .demandCommand(1, 'Name a command; see --help')
      .strict()
      .help()
      .alias('help', 'h')
      .wrap(Math.min(110, process.stdout.columns || 100))
      .epilogue(`${EXIT_CODES}\n\n${ENVIRONMENT}`)
      .fail((msg, err, y) => {
        // yargs wraps what a flag's coerce throws (our usage errors) in its own YError.
        const cause = (err as { cause?: unknown } | undefined)?.cause;
        if (err?.name === 'YError') throw isPolicyOciError(cause) ? cause : usageFromYargs(err.message, ctx, y);
        throw err ?? usageFromYargs(msg, ctx, y);
      });
    for (const c of modules) parser = parser.command(c as never);
    skipHelpCaching(parser);
    await parser.parseAsync();
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return reportError(explained(err, ctx), ctx);
  }
}

/** The flags every command takes, and the parser settings run() and complete() share. */
function withGlobalFlags<T>(y: Argv<T>) {
  return y
    .locale('en') // usageFromYargs recognises yargs' messages by their English text
    .parserConfiguration({ 'camel-case-expansion': false }) // one key per flag: `--foo-bar` is not also fooBar
    .option('format', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'Output format (json for scripts; errors too, on stderr)', global: true })
    .option('quiet', { alias: 'q', type: 'boolean', describe: 'No warnings and no progress on stderr (errors are still printed)', global: true })
    .option('verbose', { alias: 'v', type: 'boolean', describe: 'Trace every HTTP request on stderr (method, URL, status, time; never a credential)', global: true })
    .option('progress', {
      type: 'boolean',
      describe: 'Progress on stderr: a spinner on a terminal by default; --progress also as plain lines elsewhere (CI, logs), --no-progress never',
      global: true,
    })
    .option('debug', { type: 'boolean', describe: 'Print the stack trace of an error, with its causes', global: true })
    .version(false);
}

function writeVersion(json: boolean): void {
  const info = versionInfo();
  process.stdout.write(json ? `${JSON.stringify(info, null, 2)}\n` : `${versionLine(info)}\n`);
}

// ---------------------------------------------------------------------------------------------
// Errors

/** The stack of `err` and of each error in its `cause` chain (a registry's HTTP error under ours). */
function stackWithCauses(err: Error): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) parts.push(depth === 0 ? (e.stack ?? String(e)) : `Caused by: ${e.stack ?? String(e)}`);
  return parts.join('\n');
}

function reportError(err: unknown, ctx: RunContext): number {
  const code = exitCodeFor(err);
  const message = err instanceof Error ? err.message : String(err);
  const details = isPolicyOciError(err) ? err.details.filter((d) => !message.includes(d)) : [];
  const stack = ctx.debug && err instanceof Error ? stackWithCauses(err) : undefined;
  if (ctx.json) {
    // Scripts read one JSON object from stderr; the exit code is the same as in text.
    const error = { code: isPolicyOciError(err) ? err.code : 'INTERNAL', exitCode: code, message, details, ...(stack ? { stack } : {}) };
    process.stderr.write(`${JSON.stringify({ error })}\n`);
    return code;
  }
  process.stderr.write(`Error: ${message}\n`);
  for (const d of details) process.stderr.write(`  ${d}\n`);
  if (stack) process.stderr.write(`${stack}\n`);
  return code;
}

// ---------------------------------------------------------------------------------------------
// Completion: `__complete WORD… CURRENT` answers in Cobra's protocol (see output/completion.ts)

async function complete(words: string[], modules: unknown[]): Promise<number> {
  const [{ default: yargs }, { completionFunction }, { NO_FILE_COMPLETION }] = await Promise.all([
    import('yargs'),
    import('./commands/completion.ts'),
    import('./output/completion.ts'),
  ]);
  // yargs formats candidates for the shell named by SHELL, read once: fish's is Cobra's
  // (`name<TAB>description`).
  process.env.SHELL = 'fish';
  const current = words.length > 0 ? words : [''];
  let parser = withGlobalFlags(yargs(['--get-yargs-completions', TOOL_NAME, ...current]))
    .scriptName(TOOL_NAME)
    .command(OWN_COMMANDS[0]!.command, OWN_COMMANDS[0]!.describe, {}, () => undefined)
    .help()
    .alias('help', 'h')
    .exitProcess(false)
    .fail(() => undefined); // the words are being typed: nothing to refuse yet
  // yargs enters the command being completed (its builder gives the flags), never its handler.
  for (const c of modules) parser = parser.command({ ...(c as object), handler: () => undefined } as never);
  const answered = new Promise<void>((resolve) => {
    parser = parser.completion('__complete-script', false, (cur: string, argv: unknown, defaults: unknown, done: (list: string[]) => void) =>
      completionFunction(parser as never, current, NO_FILE_COMPLETION)(cur, argv, defaults as never, (list) => {
        done(list);
        resolve();
      }),
    );
  });
  await parser.parseAsync();
  await answered;
  // A cluster that never answered (-n <TAB>) still holds a connection: the TAB must not wait for it.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(0);
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
