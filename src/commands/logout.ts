import type { Argv } from 'yargs';
import { withoutGlobalFlags } from './options.ts';
import type { Format } from '../output/render.ts';

interface LogoutArgs {
  registry: string;
  format: Format;
}

export const command = 'logout <registry>';
export const describe = 'Remove stored credentials for a registry';

export function builder(y: Argv): Argv<LogoutArgs> {
  // logout only edits a local file: nothing to trace, no progress, no warnings.
  return withoutGlobalFlags(y, 'logout', ['quiet', 'verbose', 'progress']).positional('registry', { type: 'string', demandOption: true }).example('$0 logout ghcr.io', 'Forget ghcr.io credentials') as unknown as Argv<LogoutArgs>;
}

export async function handler(args: LogoutArgs): Promise<void> {
  const [{ logout }, { render }, { logoutText }, { reporting }] = await Promise.all([
    import('../core/login.ts'),
    import('../output/render.ts'),
    import('../output/login.ts'),
    import('../output/reporter.ts'),
  ]);
  const result = await reporting((reporter) => logout({ registry: args.registry }, reporter));
  render(args.format, result, logoutText);
}
