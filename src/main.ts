// Entry point of the bundle and the single executable.
import { run } from './cli.ts';
import { installInterruptHandlers } from './util/interrupt.ts';

// Ctrl-C, SIGTERM, SIGHUP: clean up (partial output, the cursor), then die of the signal at once
// (exit status 130 for Ctrl-C in a shell); see util/interrupt.ts.
installInterruptHandlers();

// `kubectl policyoci pull … | head -1`: the reader may close the pipe before we finish writing.
// Go tools (kubectl, oras) die of SIGPIPE there; we stop writing to that stream and let the
// command finish, so a pull or push is never cut between its steps by a closed terminal pipe.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') return;
    throw err;
  });
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`kubectl-policyoci: internal error: ${String(err)}\n`);
    process.exitCode = 70;
  },
);
