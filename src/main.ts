// Entry point of the bundle and the single executable.
import { run } from './cli.ts';

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`kubectl-policyoci: internal error: ${String(err)}\n`);
    process.exitCode = 70;
  },
);
