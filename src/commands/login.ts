import type { Argv } from 'yargs';
import type { LoginResult } from '../core/login.ts';
import { PolicyOciError } from '../errors.ts';
import { readStdin, transportOptionsFrom, withTransportFlags, type TransportFlags } from './options.ts';

interface LoginArgs extends TransportFlags {
  registry: string;
  username?: string;
  password?: string;
  'password-stdin'?: boolean;
}

export const command = 'login <registry>';
export const describe = 'Check credentials against a registry and store them in the docker config';

export function builder(y: Argv): Argv<LoginArgs> {
  return withTransportFlags(y)
    .positional('registry', { type: 'string', demandOption: true })
    .option('username', { alias: 'u', type: 'string', describe: 'Registry user name' })
    .option('password-stdin', { type: 'boolean', describe: 'Read the password or token from stdin' })
    .option('password', { alias: 'p', type: 'string', describe: 'Password (prefer --password-stdin: arguments are visible to other users)' })
    .example('echo "$TOKEN" | $0 login ghcr.io -u me --password-stdin', 'Store a token for ghcr.io') as unknown as Argv<LoginArgs>;
}

export async function handler(args: LoginArgs): Promise<void> {
  if (!args.username) throw new PolicyOciError('USAGE', 'login needs --username');
  if (args['password-stdin'] && args.password !== undefined) throw new PolicyOciError('USAGE', 'give the password once: --password or --password-stdin');
  const password = args['password-stdin'] ? (await readStdin()).replace(/\r?\n$/, '') : args.password;
  if (!password) throw new PolicyOciError('USAGE', 'login needs a password: use --password-stdin');
  const [{ login }, { render }, { loginText }, { startReporter }] = await Promise.all([
    import('../core/login.ts'),
    import('../output/render.ts'),
    import('../output/login.ts'),
    import('../output/reporter.ts'),
  ]);
  const options = { registry: args.registry, username: args.username, password, transport: transportOptionsFrom(args) };
  const reporter = await startReporter();
  let result: LoginResult;
  try {
    result = await login(options, reporter);
  } finally {
    reporter.stop();
  }
  render(args.format, result, loginText);
}
