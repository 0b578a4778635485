// `--dry-run` means one thing everywhere, after kubectl: none | client | server.
//   client: everything is read and checked locally, nothing is sent (push: print the manifest;
//           apply: list what would be applied, contacting no cluster).
//   server: a cluster is asked to check everything and persists nothing (cluster writes only).
// A bare `--dry-run` asks for the strongest check the command has: server where it writes to a
// cluster, client elsewhere.
import type { Argv } from 'yargs';
import type { DryRun } from '../core/dryrun.ts';
import { PolicyOciError } from '../errors.ts';

export interface DryRunFlag {
  'dry-run'?: string;
}

export function withDryRunFlag<T>(y: Argv<T>, options: { server: boolean; describe: string }): Argv<T & DryRunFlag> {
  const values = options.server ? 'none|client|server' : 'none|client';
  return y.option('dry-run', {
    type: 'string',
    describe: `${options.describe} (${values}; bare --dry-run = ${options.server ? 'server' : 'client'})`,
    coerce: (v: unknown) => (v === true || v === '' ? (options.server ? 'server' : 'client') : String(v)),
  }) as unknown as Argv<T & DryRunFlag>;
}

export function dryRunFrom(flags: DryRunFlag, options: { server: boolean }): DryRun {
  const v = flags['dry-run'];
  if (v === undefined || v === 'none' || v === 'false') return 'none';
  if (v === 'client' || (v === 'true' && !options.server)) return 'client';
  if (options.server && (v === 'server' || v === 'true')) return 'server';
  // `--dry-run REF` gives REF to --dry-run: say how to write it.
  const hint = /[/:.]/.test(v) ? ' (write --dry-run=VALUE, or put REF before --dry-run)' : '';
  throw new PolicyOciError('USAGE', `--dry-run takes ${options.server ? 'none, client or server' : 'none or client (nothing here writes to a cluster)'}, got "${v}"${hint}`);
}
