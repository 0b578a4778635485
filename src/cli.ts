// The yargs root: global flags, lazy command loading (each command module is imported only when
// it runs, so start-up stays close to bare Node), and the one place errors become exit codes.
import { exitCodeFor, isPolicyOciError } from './errors.ts';
import { TOOL_NAME, VERSION } from './version.ts';

export async function run(argv: string[]): Promise<number> {
  // Fast path: `version` needs no argument parser at all.
  if (argv.length === 1 && (argv[0] === 'version' || argv[0] === '--version')) {
    process.stdout.write(`${TOOL_NAME} ${VERSION} (node ${process.versions.node})\n`);
    return 0;
  }
  try {
    const { default: yargs } = await import('yargs');
    let code = 0;
    await yargs(argv)
      .scriptName('kubectl policyoci')
      .command('version', 'Print the version', {}, () => {
        process.stdout.write(`${TOOL_NAME} ${VERSION} (node ${process.versions.node})\n`);
      })
      .demandCommand(1)
      .strict()
      .fail((msg, err) => {
        throw err ?? new Error(msg);
      })
      .parseAsync();
    return code;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`Error: ${msg}\n`);
    if (isPolicyOciError(err)) for (const d of err.details) process.stderr.write(`  ${d}\n`);
    return exitCodeFor(err);
  }
}
