// Child processes for test servers: run a command to completion, or keep a server running with its
// output in a log file and make sure it never outlives the test process.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { TestHost } from './netns.ts';

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs a command and resolves with its output. Errors name the command but never its arguments
 * (they may hold secrets); pass secrets through `input` (stdin) instead of argv.
 */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { input?: string; cwd?: string } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      [...args],
      { cwd: options.cwd, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`${command} failed (${error.code ?? error.signal ?? 'error'}): ${stderr.trim() || error.message}`));
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
    // A command that exits before reading its stdin would otherwise crash us with EPIPE.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input ?? '');
  });
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly pid: number;
  readonly logFile: string;
  /** Settles when the process has exited (it never rejects). */
  readonly exited: Promise<ExitInfo>;
  isRunning(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`. Idempotent. */
  stop(graceMs?: number): Promise<ExitInfo>;
}

interface Tracked {
  child: ChildProcess;
  guardian: ChildProcess | undefined;
}

const live = new Set<Tracked>();
const dirsToRemove = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const tracked of live) {
      killQuietly(tracked.guardian, 'SIGKILL');
      killQuietly(tracked.child, 'SIGKILL');
    }
    live.clear();
    for (const dir of dirsToRemove) rmSync(dir, { recursive: true, force: true });
  });
}

function killQuietly(child: ChildProcess | undefined, signal: NodeJS.Signals): void {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    child.kill(signal);
  } catch {
    // already gone
  }
}

/** Removes `dir` when the test process exits (unless removed earlier). */
export function removeOnExit(dir: string): void {
  installExitHook();
  dirsToRemove.add(dir);
}

export function removeNow(dir: string): void {
  dirsToRemove.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * A watchdog for the case the 'exit' hook cannot cover (the test process killed with SIGKILL): a
 * shell that reads our end of a pipe and, once it sees EOF because we died, terminates `pid` and
 * removes `cleanupDir`.
 */
const GUARDIAN_SCRIPT = [
  'while read -r _; do :; done',
  'kill -TERM "$1" 2>/dev/null',
  'i=0; while kill -0 "$1" 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i+1)); done',
  'kill -KILL "$1" 2>/dev/null',
  'if [ -n "$2" ]; then rm -rf -- "$2"; fi',
].join('\n');

function startGuardian(pid: number, cleanupDir: string | undefined): ChildProcess | undefined {
  const guardian = spawn('sh', ['-c', GUARDIAN_SCRIPT, 'policyoci-guardian', String(pid), cleanupDir ?? ''], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  guardian.on('error', () => undefined);
  guardian.unref();
  (guardian.stdin as Socket | null)?.unref();
  return guardian.pid === undefined ? undefined : guardian;
}

/**
 * Starts a long-running server process with stdout and stderr appended to `logFile`. It does not
 * keep the event loop alive; it is killed when the test process exits, even by SIGKILL (then
 * `cleanupDir`, if given, is removed too). With `host`, it runs on that test host (netns.ts).
 */
export async function startManagedProcess(
  command: string,
  args: readonly string[],
  options: { logFile: string; env?: NodeJS.ProcessEnv; cwd?: string; cleanupDir?: string; host?: TestHost },
): Promise<ManagedProcess> {
  if (options.host) ({ command, args } = options.host.wrap(command, args));
  installExitHook();
  const fd = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, [...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  const spawned = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', (error) => resolve(error));
  });
  if (spawned !== undefined || child.pid === undefined) {
    throw new Error(`cannot start ${command}: ${spawned?.message ?? 'no pid'}`);
  }
  const pid = child.pid;
  const tracked: Tracked = { child, guardian: startGuardian(pid, options.cleanupDir) };
  live.add(tracked);
  child.unref();
  void exited.then(() => {
    live.delete(tracked);
    killQuietly(tracked.guardian, 'SIGKILL');
  });

  let stopping: Promise<ExitInfo> | undefined;
  return {
    pid,
    logFile: options.logFile,
    exited,
    isRunning: () => child.exitCode === null && child.signalCode === null,
    stop(graceMs = 5000): Promise<ExitInfo> {
      stopping ??= (async () => {
        child.ref(); // keep the loop alive while we wait for the exit
        killQuietly(tracked.guardian, 'SIGKILL');
        killQuietly(child, 'SIGTERM');
        const timer = setTimeout(() => killQuietly(child, 'SIGKILL'), graceMs);
        try {
          return await exited;
        } finally {
          clearTimeout(timer);
        }
      })();
      return stopping;
    },
  };
}

/** The last `lines` lines of a log file, for error messages. */
export function tailFile(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
