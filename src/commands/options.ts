// Flags shared by several commands, declared once.
import type { Argv } from 'yargs';
import { PolicyOciError } from '../errors.ts';
import type { StoreOptions } from '../content/open.ts';
import type { Format } from '../output/render.ts';
import { httpTrace } from '../output/trace.ts';
import type { TransportOptions } from '../registry/transport.ts';

/** How to reach a registry: TLS, plain HTTP, timeouts (login needs only these). */
export interface TransportFlags {
  'plain-http'?: boolean;
  insecure?: boolean;
  'ca-file'?: string;
  'cert-file'?: string;
  'key-file'?: string;
  'request-timeout'?: string;
  format: Format;
}

export interface RegistryFlags extends TransportFlags {
  'oci-layout'?: boolean;
  username?: string;
  'password-stdin'?: boolean;
}

export interface ConcurrencyFlag {
  concurrency?: number;
}

export function withTransportFlags<T>(y: Argv<T>): Argv<T & TransportFlags> {
  return y
    .option('plain-http', { type: 'boolean', describe: 'Use http instead of https (default for localhost and 127.0.0.0/8; --plain-http=false forces https there, even with --insecure)' })
    .option('insecure', { type: 'boolean', describe: 'Skip TLS certificate verification, and use plain http when the registry does not speak TLS (as crane does)' })
    .option('ca-file', { type: 'string', describe: 'Extra CA certificate (PEM) to trust for the registry' })
    .option('cert-file', { type: 'string', describe: 'Client certificate (PEM) for mutual TLS' })
    .option('key-file', { type: 'string', describe: 'Client key (PEM) for mutual TLS' })
    .option('request-timeout', { type: 'string', describe: 'Timeout per request, e.g. 30s, 2m (0 = none)' }) as unknown as Argv<T & TransportFlags>;
}

export function withRegistryFlags<T>(y: Argv<T>): Argv<T & RegistryFlags> {
  return withTransportFlags(y.option('oci-layout', { type: 'boolean', describe: 'REF is an OCI image layout directory (DIR:tag or DIR@digest)' }))
    .option('username', { alias: 'u', type: 'string', describe: 'Registry user name (password from --password-stdin)' })
    .option('password-stdin', { type: 'boolean', describe: 'Read the registry password or token from stdin' }) as unknown as Argv<T & RegistryFlags>;
}

/**
 * A yargs `coerce` for a flag taking a whole number in [min, max]; declare the flag `type: 'string'`
 * so that the message quotes what was typed ("many", not NaN). Anything else is a usage error.
 */
export function wholeNumber(flag: string, min: number, max = Number.MAX_SAFE_INTEGER): (v: unknown) => number {
  return (v) => {
    const text = String(Array.isArray(v) ? v.at(-1) : v).trim();
    const n = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
    if (Number.isSafeInteger(n) && n >= min && n <= max) return n;
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new PolicyOciError('USAGE', `${flag} takes a whole number ${range}, got "${text}"`);
  };
}

/** `--concurrency`, only on the commands that move many blobs at once (left undefined: core's default). */
export function withConcurrencyFlag<T>(y: Argv<T>, describe = 'Parallel uploads/downloads (default 8)'): Argv<T & ConcurrencyFlag> {
  return y.option('concurrency', {
    // Read as a string so that a message can quote what was typed ("many", not NaN).
    type: 'string',
    describe,
    coerce: wholeNumber('--concurrency', 1, 256),
  }) as unknown as Argv<T & ConcurrencyFlag>;
}

export function parseDuration(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new PolicyOciError('USAGE', `invalid duration "${text}" (use e.g. 500ms, 30s, 2m)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000);
}

export function parseAnnotations(list: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new PolicyOciError('USAGE', `--annotation takes key=value, got "${item}"`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** yargs drops a lone "-" argument; cli.ts swaps it for this marker and push swaps it back. */
export const STDIN_MARKER = '\u0000stdin';

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The transport part of the registry flags, shared by every command that talks to a registry. */
export function transportOptionsFrom(flags: Partial<TransportFlags & ConcurrencyFlag>): TransportOptions {
  const timeout = parseDuration(flags['request-timeout']);
  return {
    ...(flags['plain-http'] !== undefined ? { plainHttp: flags['plain-http'] } : {}),
    ...(flags.insecure ? { insecure: true } : {}),
    ...(flags['ca-file'] ? { caFile: flags['ca-file'] } : {}),
    ...(flags['cert-file'] ? { certFile: flags['cert-file'] } : {}),
    ...(flags['key-file'] ? { keyFile: flags['key-file'] } : {}),
    ...(flags.concurrency ? { concurrency: flags.concurrency } : {}),
    ...(timeout ? { requestTimeoutMs: timeout } : {}),
    ...traceOption(),
  };
}

/** `{ trace }` under -v/--verbose (the HTTP trace on stderr), else nothing: for the registry and kube client options. */
export function traceOption(): { trace?: NonNullable<TransportOptions['trace']> } {
  const trace = httpTrace();
  return trace ? { trace } : {};
}

let stdinPassword: Promise<string> | undefined;

/** The registry flags as typed store options; the password is read from stdin once. */
export async function storeOptionsFrom(flags: Partial<RegistryFlags & ConcurrencyFlag & { 'max-manifest-size': number }>, ociLayout = flags['oci-layout'] ?? false): Promise<StoreOptions> {
  if (flags['password-stdin'] && !flags.username) throw new PolicyOciError('USAGE', '--password-stdin needs --username');
  let credentials: StoreOptions['credentials'];
  if (flags.username) {
    if (!flags['password-stdin']) {
      // On a terminal the password is asked for, unechoed (as oras does); elsewhere it must come from stdin.
      const { canPrompt, prompt } = await import('../output/prompt.ts');
      if (!canPrompt()) throw new PolicyOciError('USAGE', '--username needs --password-stdin (or use `login`)');
      stdinPassword ??= prompt(`Password for ${flags.username}: `, { hidden: true });
    }
    stdinPassword ??= readStdin().then((text) => text.replace(/\r?\n$/, ''));
    credentials = { username: flags.username, password: await stdinPassword };
  }
  return {
    ociLayout,
    transport: transportOptionsFrom(flags),
    ...(credentials ? { credentials } : {}),
    ...(typeof flags['max-manifest-size'] === 'number' ? { maxManifestBytes: flags['max-manifest-size'] } : {}),
  };
}

export type ReferrersModeFlag = 'auto' | 'api' | 'tag';

export interface ReferrersFlags {
  'referrers-mode'?: ReferrersModeFlag;
}

/** `--referrers-mode`: how referrers are listed and indexed (shared by attach, discover, sign, verify, copy, pull). */
export function withReferrersFlags<T>(y: Argv<T>): Argv<T & ReferrersFlags> {
  return y.option('referrers-mode', {
    choices: ['auto', 'api', 'tag'] as const,
    default: 'auto' as const,
    describe: 'Referrers: the registry API, the sha256-<hex> tag schema, or auto (probe, as oras does)',
  }) as unknown as Argv<T & ReferrersFlags>;
}

/**
 * Global flags that mean nothing for one command (cli.ts declares them for all): hidden from its
 * --help and refused when given, so no flag is accepted and silently ignored.
 */
export function withoutGlobalFlags<T>(y: Argv<T>, command: string, keys: readonly string[]): Argv<T> {
  return keys
    .reduce((acc, key) => acc.hide(key), y)
    .check((args) => {
      const given = keys.filter((key) => (args as Record<string, unknown>)[key] !== undefined && !(key === 'format' && (args as Record<string, unknown>)[key] === 'text'));
      if (given.length > 0) throw new PolicyOciError('USAGE', `${given.map((k) => `--${k}`).join(', ')} ${given.length === 1 ? 'has' : 'have'} no meaning for ${command}`);
      return true;
    });
}

/** The keyless verification flags (cosign's names) and --trusted-root, on every command that verifies. */
export interface KeylessFlags {
  'certificate-identity'?: string;
  'certificate-identity-regexp'?: string;
  'certificate-oidc-issuer'?: string;
  'certificate-oidc-issuer-regexp'?: string;
  'certificate-github-workflow-trigger'?: string;
  'certificate-github-workflow-sha'?: string;
  'certificate-github-workflow-name'?: string;
  'certificate-github-workflow-repository'?: string;
  'certificate-github-workflow-ref'?: string;
  'trusted-root'?: string;
}

const KEYLESS_OPTIONS: ReadonlyArray<[keyof KeylessFlags, string]> = [
  ['certificate-identity', 'Keyless: the signing certificate\'s identity (SAN: e-mail, URI), exactly'],
  ['certificate-identity-regexp', 'Keyless: the certificate identity as a regular expression (unanchored, as cosign)'],
  ['certificate-oidc-issuer', 'Keyless: the OIDC issuer in the certificate, exactly (e.g. https://token.actions.githubusercontent.com)'],
  ['certificate-oidc-issuer-regexp', 'Keyless: the OIDC issuer as a regular expression'],
  ['certificate-github-workflow-trigger', 'Keyless: the GitHub workflow trigger in the certificate (e.g. push)'],
  ['certificate-github-workflow-sha', 'Keyless: the commit SHA of the GitHub workflow run'],
  ['certificate-github-workflow-name', 'Keyless: the GitHub workflow name'],
  ['certificate-github-workflow-repository', 'Keyless: the GitHub repository of the workflow (owner/name)'],
  ['certificate-github-workflow-ref', 'Keyless: the git ref of the workflow run (e.g. refs/heads/main)'],
  ['trusted-root', 'Sigstore trusted root (JSON) for certificates, logs and timestamps (default: the public good, from its TUF repository, else the copy shipped inside the executable)'],
];

export function withKeylessFlags<T>(y: Argv<T>): Argv<T & KeylessFlags> {
  const withOptions = KEYLESS_OPTIONS.reduce((acc, [key, describe]) => acc.option(key, { type: 'string', requiresArg: true, describe }), y as Argv<unknown>);
  return withOptions.group(KEYLESS_OPTIONS.map(([key]) => key), 'Keyless verification (Sigstore):') as unknown as Argv<T & KeylessFlags>;
}

/**
 * The trust policy of the flags (undefined when none was given): a key, or keyless constraints.
 * Combinations that cannot be meant are usage errors (exit 2), one line naming the flags.
 */
export async function trustPolicyFrom(args: KeylessFlags, key: { flag: string; path: string | undefined }): Promise<import('../signing/trust.ts').TrustPolicy | undefined> {
  const keylessKeys = KEYLESS_OPTIONS.map(([k]) => k).filter((k) => k !== 'trusted-root');
  const keylessGiven = keylessKeys.some((k) => args[k] !== undefined);
  if (!key.path && !keylessGiven && args['trusted-root'] === undefined) return undefined;
  const github = {
    ...(args['certificate-github-workflow-trigger'] !== undefined ? { trigger: args['certificate-github-workflow-trigger'] } : {}),
    ...(args['certificate-github-workflow-sha'] !== undefined ? { sha: args['certificate-github-workflow-sha'] } : {}),
    ...(args['certificate-github-workflow-name'] !== undefined ? { name: args['certificate-github-workflow-name'] } : {}),
    ...(args['certificate-github-workflow-repository'] !== undefined ? { repository: args['certificate-github-workflow-repository'] } : {}),
    ...(args['certificate-github-workflow-ref'] !== undefined ? { ref: args['certificate-github-workflow-ref'] } : {}),
  };
  const policy = {
    ...(key.path ? { keyPath: key.path } : {}),
    ...(keylessGiven
      ? {
          keyless: {
            ...(args['certificate-identity'] !== undefined ? { identity: args['certificate-identity'] } : {}),
            ...(args['certificate-identity-regexp'] !== undefined ? { identityRegexp: args['certificate-identity-regexp'] } : {}),
            ...(args['certificate-oidc-issuer'] !== undefined ? { issuer: args['certificate-oidc-issuer'] } : {}),
            ...(args['certificate-oidc-issuer-regexp'] !== undefined ? { issuerRegexp: args['certificate-oidc-issuer-regexp'] } : {}),
            ...(Object.keys(github).length ? { github } : {}),
          },
        }
      : {}),
    ...(args['trusted-root'] !== undefined ? { trustedRootPath: args['trusted-root'] } : {}),
  };
  const { checkTrustPolicy } = await import('../signing/trust.ts');
  checkTrustPolicy(policy, key.flag);
  return policy;
}
