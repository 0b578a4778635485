import type { Argv } from 'yargs';
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
    .option('username', { alias: 'u', type: 'string', describe: 'Registry user name (asked for on a terminal when not given)' })
    .option('password-stdin', { type: 'boolean', describe: 'Read the password or token from stdin (else asked for, unechoed, on a terminal)' })
    .option('password', { alias: 'p', type: 'string', describe: 'Password (prefer --password-stdin: arguments are visible to other users)' })
    .example('echo "$TOKEN" | $0 login ghcr.io -u me --password-stdin', 'Store a token for ghcr.io') as unknown as Argv<LoginArgs>;
}

/** The user name and password: from the flags or stdin, else (on a terminal) asked for, as docker does. */
async function credentialsFrom(args: LoginArgs): Promise<{ username: string; password: string }> {
  if (args['password-stdin'] && args.password !== undefined) throw new PolicyOciError('USAGE', 'give the password once: --password or --password-stdin');
  if (args['password-stdin'] && !args.username) throw new PolicyOciError('USAGE', 'login --password-stdin needs --username');
  let username = args.username;
  let password = args['password-stdin'] ? (await readStdin()).replace(/\r?\n$/, '') : args.password;
  if (!username || password === undefined) {
    const { canPrompt, prompt } = await import('../output/prompt.ts');
    if (!canPrompt()) {
      throw new PolicyOciError('USAGE', username ? 'login needs a password: use --password-stdin (there is no terminal to ask on)' : 'login needs --username (and the password from --password-stdin)');
    }
    username ||= (await prompt('Username: ', { hidden: false })).trim();
    if (!username) throw new PolicyOciError('USAGE', 'login needs a user name');
    password ??= await prompt('Password: ', { hidden: true });
  }
  if (!password) throw new PolicyOciError('USAGE', 'login needs a password (it was empty)');
  return { username, password };
}

export async function handler(args: LoginArgs): Promise<void> {
  const { username, password } = await credentialsFrom(args);
  const [{ login }, { render }, { loginText }, { reporting }] = await Promise.all([
    import('../core/login.ts'),
    import('../output/render.ts'),
    import('../output/login.ts'),
    import('../output/reporter.ts'),
  ]);
  const options = { registry: args.registry, username, password, transport: transportOptionsFrom(args) };
  const result = await reporting((reporter) => login(options, reporter));
  render(args.format, result, loginText);
}
