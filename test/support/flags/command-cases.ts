// The flags of login, logout and version, the global --help (every command) and --debug (once).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { dockerConfigWith, hasStack, SEED, type FlagCase, type FlagContext } from './context.ts';
import { expectExit, isJson, json, plus, type Invocation } from './kit.ts';
import { pushPullCases } from './push-pull-cases.ts';
import { hostileIndexProxy } from './registries.ts';
import { fluxCases } from './flux-cases.ts';
import { signCases } from './sign-cases.ts';
import { trustCases } from './trust-cases.ts';

/** `<command>` prints no help; `<command> --help` prints its usage and options, exit 0. */
export function helpCase(command: string): FlagCase {
  return {
    command,
    flag: 'help',
    how: 'without: no usage text; with: exit 0, "kubectl policyoci <command>" usage and an Options: list',
    async run(ctx) {
      const plain = await ctx.kit.run({ args: [command] });
      expect(plain.stdout, `${command} without --help`).not.toMatch(/^Options:/m);
      const help = await ctx.kit.run({ args: [command, '--help'] });
      expectExit(help, [0], `${command} --help`);
      expect(help.stdout.startsWith(`kubectl policyoci ${command}`), help.stdout).toBe(true);
      expect(help.stdout).toMatch(/^Options:/m);
    },
  };
}

const loginStored = (dir: string, host: string): boolean => {
  const file = join(dir, 'config.json');
  return existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { auths?: Record<string, unknown> }).auths?.[host] !== undefined;
};

function loginCase(flag: string, how: string, base: (ctx: FlagContext) => Invocation, flagArgs: (ctx: FlagContext) => string[]): FlagCase {
  return {
    command: 'login',
    flag,
    how,
    async run(ctx) {
      const host = ctx.htpasswd.host;
      const first = ctx.kit.dir('docker');
      expectExit(await ctx.kit.run({ ...base(ctx), env: { DOCKER_CONFIG: first } }), [2], `login without --${flag}`);
      expect(loginStored(first, host)).toBe(false);
      const second = ctx.kit.dir('docker');
      expectExit(await ctx.kit.run(plus({ ...base(ctx), env: { DOCKER_CONFIG: second } }, ...flagArgs(ctx))), [0], `login with --${flag}`);
      expect(loginStored(second, host), `credentials for ${host} stored in ${second}/config.json`).toBe(true);
    },
  };
}

const loginCases: FlagCase[] = [
  loginCase('username', 'htpasswd registry, password on stdin: exit 2 without -u; with -u the credentials are checked and stored', (ctx) => ({ args: ['login', ctx.htpasswd.host, '--password-stdin'], input: ctx.htpasswd.input! }), (ctx) => ['-u', ctx.htpasswd.origin.username!]),
  loginCase('password-stdin', 'htpasswd registry, -u given, password on stdin: exit 2 without (no password); stored with', (ctx) => ({ args: ['login', ctx.htpasswd.host, '-u', ctx.htpasswd.origin.username!], input: ctx.htpasswd.input! }), () => ['--password-stdin']),
  loginCase('password', 'htpasswd registry, -u given: exit 2 without a password; stored with -p', (ctx) => ({ args: ['login', ctx.htpasswd.host, '-u', ctx.htpasswd.origin.username!] }), (ctx) => ['-p', ctx.htpasswd.input!]),
];

const logoutCases: FlagCase[] = [
  {
    command: 'logout',
    flag: 'format',
    how: 'credentials stored: "Removed credentials for HOST" without; JSON {registry, removed: true} with --format json',
    async run(ctx) {
      const host = ctx.open.host;
      const text = await ctx.kit.ok({ args: ['logout', host], env: { DOCKER_CONFIG: dockerConfigWith(ctx.kit, host) } });
      expect(text.stdout).toMatch(new RegExp(`Removed credentials for ${host}`));
      expect(isJson(text.stdout)).toBe(false);
      const result = await ctx.kit.ok({ args: ['logout', host, '--format', 'json'], env: { DOCKER_CONFIG: dockerConfigWith(ctx.kit, host) } });
      expect(json(result, 'logout --format json')).toMatchObject({ registry: host, removed: true });
    },
  },
];

const versionCases: FlagCase[] = [
  {
    command: 'version',
    flag: 'format',
    how: '"kubectl-policyoci <version> (…)" without; a JSON object with "version" with --format json',
    async run(ctx) {
      const text = await ctx.kit.ok({ args: ['version'] });
      expect(text.stdout).toMatch(/^kubectl-policyoci \d+\.\d+\.\d+/);
      const result = await ctx.kit.ok({ args: ['version', '--format', 'json'] });
      expect(json(result, 'version --format json')).toHaveProperty('version');
    },
  },
];

/**
 * --debug is handled once, in cli.ts, for every command: proven once. An index whose manifest list
 * holds null is refused as unsafe content (exit 6); --debug adds the error's stack trace.
 */
const debugCase: FlagCase = {
  command: 'inspect',
  flag: 'debug',
  how: 'an index listing null as a manifest is refused (exit 6): one "Error:" line without; its stack trace with --debug',
  async run(ctx) {
    const proxy = await hostileIndexProxy(ctx.open.origin);
    try {
      const ref = `${proxy.host}/${SEED.src}`;
      const plain = await ctx.kit.run({ args: ['inspect', ref] });
      expectExit(plain, [6], 'inspect of a hostile index');
      expect(plain.stderr).toMatch(/^Error: .*malformed descriptor/);
      expect(hasStack(plain), plain.stderr).toBe(false);
      const debug = await ctx.kit.run({ args: ['inspect', ref, '--debug'] });
      expectExit(debug, [6], 'inspect --debug of a hostile index');
      expect(hasStack(debug), debug.stderr).toBe(true);
    } finally {
      await proxy.stop();
    }
  },
};

export const HELP_COMMANDS = ['version', 'completion', 'push', 'pull', 'inspect', 'tags', 'login', 'logout', 'export', 'apply', 'diff', 'migrate', 'attach', 'discover', 'sign', 'verify', 'copy', 'flux'];

export function commandCases(): FlagCase[] {
  return [
    ...pushPullCases(),
    ...loginCases,
    ...logoutCases,
    ...trustCases(),
    ...signCases(),
    ...fluxCases(),
    ...versionCases,
    debugCase,
    ...HELP_COMMANDS.map(helpCase),
  ];
}
