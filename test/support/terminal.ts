// Runs the executable on a real pseudo-terminal, as a user at a terminal would: util-linux
// `script` allocates the pty (stdin, stdout and stderr of the command are its slave side) and
// copies what the command writes to our pipe. What we write to script's stdin arrives as typed
// keys, echoed by the terminal unless the command turns echo off: which is what a test of a
// password prompt has to see.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EXECUTABLE, REPO_ROOT } from './cli.ts';

export interface TerminalRun {
  /** Everything the terminal showed so far (stdout and stderr, and echoed keys). */
  readonly output: string;
  /** Resolves once the output matches (rejects after timeoutMs with what was shown). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Types `text` (use "\r" for Enter, "\x03" for Ctrl-C). */
  type(text: string): void;
  /** The exit code (script -e returns the command's own), with the whole output. */
  exited: Promise<{ code: number; output: string }>;
}

function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * Starts `kubectl-policyoci ARGS` on a fresh terminal. `env` is added to this process's
 * environment, with CI removed (a terminal user's shell has none) unless given.
 */
export function runInTerminal(args: string[], options: { env?: NodeJS.ProcessEnv; columns?: number } = {}): TerminalRun {
  const size = options.columns !== undefined ? `stty cols ${options.columns} rows 40; ` : '';
  const command = `${size}exec ${[EXECUTABLE, ...args].map(shellQuote).join(' ')}`;
  const child: ChildProcessWithoutNullStreams = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
    cwd: REPO_ROOT,
    env: { ...process.env, CI: undefined, NO_COLOR: '1', TERM: 'xterm', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    output += chunk.toString('utf8');
    for (const l of listeners) l();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<{ code: number; output: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      for (const l of listeners) l();
      resolve({ code: code ?? -1, output });
    });
  });
  return {
    get output() {
      return output;
    },
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (pattern.test(output)) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          } else if (child.exitCode !== null) {
            listeners.delete(check);
            clearTimeout(timer);
            reject(new Error(`the command exited (${child.exitCode}) before showing ${pattern}:\n${output}`));
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${output}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
    type(text) {
      child.stdin.write(text);
    },
    exited,
  };
}
