import { PolicyOciError } from '../errors.ts';

/** kubectl's dry-run strategies: see src/commands/dryrun.ts for what each means here. */
export type DryRun = 'none' | 'client' | 'server';

/** --atomic needs the server's check, which a client dry run does not make (exit 2). */
export function refuseAtomicClientDryRun(dryRun: DryRun): void {
  if (dryRun === 'client') {
    throw new PolicyOciError('USAGE', '--atomic checks the set with a server dry run, which --dry-run=client does not make (use --dry-run=server to see what the check says)');
  }
}
