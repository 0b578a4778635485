// Paths of the peer tools built from Go modules by scripts/tools/build.sh (CI builds them first).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './cli.ts';

export function toolPath(tool: string): string {
  try {
    return execFileSync('bash', [join(REPO_ROOT, 'scripts', 'tools', 'path.sh'), tool], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`${tool} is not built: run \`bash scripts/tools/build.sh ${tool}\` (.ci/run does this)`);
  }
}

export function runTool(tool: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  return execFileSync(toolPath(tool), args, { encoding: 'utf8', cwd: options.cwd ?? REPO_ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
}
