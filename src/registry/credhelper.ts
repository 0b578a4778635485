// The docker credential helper protocol: `docker-credential-<name> get|store|erase`, the server
// URL or a JSON document on stdin, JSON on stdout. Secrets travel only through stdin/stdout and
// never reach an error message.
import { PolicyOciError } from '../errors.ts';

export interface HelperCredential {
  username: string;
  secret: string;
}

const TIMEOUT_MS = 60_000;
const NOT_FOUND_RE = /credentials not found/i;

interface HelperRun {
  stdout: string;
  exitCode: number;
}

async function runHelper(helper: string, action: string, input: string, env: NodeJS.ProcessEnv): Promise<HelperRun> {
  if (!/^[A-Za-z0-9._-]+$/.test(helper)) {
    throw new PolicyOciError('IO', `credential helper name "${helper.slice(0, 60)}" is not valid`);
  }
  const program = `docker-credential-${helper}`;
  // Loaded only when a helper is configured: child_process is a few ms of every push and pull.
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const child = execFile(program, [action], { env, timeout: TIMEOUT_MS, encoding: 'utf8', maxBuffer: 1024 * 1024 }, (error, stdout) => {
      if (error === null) return resolve({ stdout, exitCode: 0 });
      const code = (error as { code?: unknown }).code;
      if (code === 'ENOENT') {
        return reject(new PolicyOciError('IO', `credential helper ${program} is configured but not found on PATH`));
      }
      if (typeof code === 'number') return resolve({ stdout, exitCode: code });
      // Killed (timeout) or could not run: say so without its output.
      reject(new PolicyOciError('IO', `credential helper ${program} ${action} did not finish (${error.signal ?? String(code)})`));
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input);
  });
}

function helperFailed(helper: string, action: string, exitCode: number): PolicyOciError {
  return new PolicyOciError('IO', `credential helper docker-credential-${helper} ${action} failed with exit code ${exitCode}`);
}

/** The credential a helper holds for `serverUrl`, or undefined when it has none. */
export async function helperGet(helper: string, serverUrl: string, env: NodeJS.ProcessEnv): Promise<HelperCredential | undefined> {
  const run = await runHelper(helper, 'get', serverUrl, env);
  if (run.exitCode !== 0) {
    if (NOT_FOUND_RE.test(run.stdout)) return undefined;
    throw helperFailed(helper, 'get', run.exitCode);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(run.stdout);
  } catch {
    throw new PolicyOciError('IO', `credential helper docker-credential-${helper} get printed something that is not JSON`);
  }
  const { Username: username, Secret: secret } = (parsed ?? {}) as { Username?: unknown; Secret?: unknown };
  if (typeof secret !== 'string' || secret === '') return undefined;
  return { username: typeof username === 'string' ? username : '', secret };
}

export async function helperStore(helper: string, serverUrl: string, cred: HelperCredential, env: NodeJS.ProcessEnv): Promise<void> {
  const input = JSON.stringify({ ServerURL: serverUrl, Username: cred.username, Secret: cred.secret });
  const run = await runHelper(helper, 'store', input, env);
  if (run.exitCode !== 0) throw helperFailed(helper, 'store', run.exitCode);
}

/** Erases the credential; false when the helper had none. */
export async function helperErase(helper: string, serverUrl: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const run = await runHelper(helper, 'erase', serverUrl, env);
  if (run.exitCode === 0) return true;
  if (NOT_FOUND_RE.test(run.stdout)) return false;
  throw helperFailed(helper, 'erase', run.exitCode);
}
