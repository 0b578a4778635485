// Runs the built executable the way a user does. The test command builds it first.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const EXECUTABLE = join(REPO_ROOT, 'dist', 'kubectl-policyoci');
export const CORPUS = join(REPO_ROOT, '..', 'shared', 'corpus');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): Promise<CliResult> {
  if (!existsSync(EXECUTABLE)) throw new Error(`${EXECUTABLE} is missing: run \`npm run build\` first (npm test does)`);
  return runProcess(EXECUTABLE, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, NO_COLOR: '1', CI: '1', ...options.env },
    ...(options.input !== undefined ? { input: options.input } : {}),
  });
}

/** Runs any command to its end with exactly this environment; resolves with its exit code and output (never rejects on a non-zero exit). */
export function runProcess(command: string, args: readonly string[], options: { env: NodeJS.ProcessEnv; cwd: string; input?: string }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.end(options.input ?? '');
  });
}

/** Runs and expects exit 0, with the output in the error when it is not. */
export async function runOk(args: string[], options: Parameters<typeof runCli>[1] = {}): Promise<CliResult> {
  const r = await runCli(args, options);
  if (r.code !== 0) throw new Error(`kubectl-policyoci ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** Where `secret` (as it is, or base64) shows in the output of `results`: "run N stdout", …; [] when nowhere. */
export function secretShownIn(results: CliResult[], secret: string): string[] {
  const forms = [secret, Buffer.from(secret).toString('base64')];
  return results.flatMap((r, i) => (['stdout', 'stderr'] as const).filter((stream) => forms.some((f) => r[stream].includes(f))).map((stream) => `run ${i + 1} ${stream}`));
}
