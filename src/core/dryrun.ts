/** kubectl's dry-run strategies: see src/commands/dryrun.ts for what each means here. */
export type DryRun = 'none' | 'client' | 'server';
