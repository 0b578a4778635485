// The tool's cache root, for everything it caches (checked files, Sigstore TUF metadata):
// $POLICYOCI_CACHE_DIR, else $XDG_CACHE_HOME/kubectl-policyoci, else ~/.cache/kubectl-policyoci
// (the same root as scripts/tools' Go tools); POLICYOCI_CACHE_DIR=off: none.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function toolCacheRoot(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const own = env.POLICYOCI_CACHE_DIR;
  if (own === 'off') return undefined;
  if (own) return own;
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'kubectl-policyoci');
}
