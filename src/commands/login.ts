import type { Argv } from 'yargs';
import { PolicyOciError } from '../errors.ts';
import { readStdin, withRegistryFlags, type RegistryFlags } from './options.ts';

interface LoginArgs extends RegistryFlags {
  registry: string;
  password?: string;
}

export const command = 'login <registry>';
export const describe = 'Check credentials against a registry and store them in the docker config';

export function builder(y: Argv): Argv<LoginArgs> {
  return withRegistryFlags(y)
    .positional('registry', { type: 'string', demandOption: true })
    .option('password', { alias: 'p', type: 'string', describe: 'Password (prefer --password-stdin: arguments are visible to other users)' })
    .example('echo "$TOKEN" | $0 login ghcr.io -u me --password-stdin', 'Store a token for ghcr.io') as unknown as Argv<LoginArgs>;
}

export async function handler(args: LoginArgs): Promise<void> {
  if (!args.username) throw new PolicyOciError('USAGE', 'login needs --username');
  const password = args['password-stdin'] ? (await readStdin()).replace(/\r?\n$/, '') : args.password;
  if (!password) throw new PolicyOciError('USAGE', 'login needs a password: use --password-stdin');
  const [{ loginToRegistry }, { render }] = await Promise.all([import('../core/login.ts'), import('../output/render.ts')]);
  const result = await loginToRegistry(args.registry, { username: args.username, password }, args);
  render(args.format, result, (r) => `Login succeeded for ${r.registry} (credentials stored in ${r.store})`);
}
