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
