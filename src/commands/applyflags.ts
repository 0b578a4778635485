import type { Argv } from 'yargs';
import { PolicyOciError } from '../errors.ts';

export interface ApplyFlags {
  'dry-run'?: string;
  'force-conflicts'?: boolean;
  'create-namespace'?: boolean;
  prune?: boolean;
}

export function withApplyFlags<T>(y: Argv<T>): Argv<T & ApplyFlags> {
  return y
    .option('dry-run', { type: 'string', describe: 'server: ask the API server to check everything and persist nothing', coerce: (v: unknown) => (v === true || v === '' ? 'server' : String(v)) })
    .option('force-conflicts', { type: 'boolean', describe: 'Take ownership of fields another manager set (server-side apply --force)' })
    .option('create-namespace', { type: 'boolean', describe: 'Create missing namespaces of namespaced policies' })
    .option('prune', { type: 'boolean', describe: 'Delete policies applied earlier from the same repository that are no longer in the artifact' }) as unknown as Argv<T & ApplyFlags>;
}

export function isServerDryRun(flags: ApplyFlags): boolean {
  const v = flags['dry-run'];
  if (v === undefined || v === 'none' || v === 'false') return false;
  if (v === 'server' || v === 'true') return true;
  throw new PolicyOciError('USAGE', `--dry-run takes "server" or "none" (client-side dry run is not offered: the server is the judge), got "${v}"`);
}
