import type { Argv } from 'yargs';

interface LogoutArgs {
  registry: string;
  format: 'text' | 'json';
}

export const command = 'logout <registry>';
export const describe = 'Remove stored credentials for a registry';

export function builder(y: Argv): Argv<LogoutArgs> {
  return y.positional('registry', { type: 'string', demandOption: true }).example('$0 logout ghcr.io', 'Forget ghcr.io credentials') as unknown as Argv<LogoutArgs>;
}

export async function handler(args: LogoutArgs): Promise<void> {
  const [{ logoutFromRegistry }, { render }] = await Promise.all([import('../core/login.ts'), import('../output/render.ts')]);
  const result = await logoutFromRegistry(args.registry);
  render(args.format, result, (r) => (r.removed ? `Removed credentials for ${r.registry}` : `No credentials were stored for ${r.registry}`));
}
