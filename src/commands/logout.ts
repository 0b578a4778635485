import type { Argv } from 'yargs';
import type { LogoutResult } from '../core/login.ts';
import type { Format } from '../output/render.ts';

interface LogoutArgs {
  registry: string;
  format: Format;
}

export const command = 'logout <registry>';
export const describe = 'Remove stored credentials for a registry';

export function builder(y: Argv): Argv<LogoutArgs> {
  return y.positional('registry', { type: 'string', demandOption: true }).example('$0 logout ghcr.io', 'Forget ghcr.io credentials') as unknown as Argv<LogoutArgs>;
}

export async function handler(args: LogoutArgs): Promise<void> {
  const [{ logout }, { render }, { logoutText }, { startReporter }] = await Promise.all([
    import('../core/login.ts'),
    import('../output/render.ts'),
    import('../output/login.ts'),
    import('../output/reporter.ts'),
  ]);
  const reporter = await startReporter();
  let result: LogoutResult;
  try {
    result = await logout({ registry: args.registry }, reporter);
  } finally {
    reporter.stop();
  }
  render(args.format, result, logoutText);
}
