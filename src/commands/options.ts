// Flags shared by several commands, declared once.
import type { Argv } from 'yargs';
import { PolicyOciError } from '../errors.ts';
import type { Format } from '../output/render.ts';

export interface RegistryFlags {
  'oci-layout'?: boolean;
  'plain-http'?: boolean;
  insecure?: boolean;
  'ca-file'?: string;
  'cert-file'?: string;
  'key-file'?: string;
  username?: string;
  'password-stdin'?: boolean;
  concurrency: number;
  'request-timeout'?: string;
  format: Format;
}

export function withRegistryFlags<T>(y: Argv<T>): Argv<T & RegistryFlags> {
  return y
    .option('oci-layout', { type: 'boolean', describe: 'REF is an OCI image layout directory (DIR:tag or DIR@digest)' })
    .option('plain-http', { type: 'boolean', describe: 'Use http instead of https (default for localhost and 127.0.0.0/8)' })
    .option('insecure', { type: 'boolean', describe: 'Skip TLS certificate verification' })
    .option('ca-file', { type: 'string', describe: 'Extra CA certificate (PEM) to trust for the registry' })
    .option('cert-file', { type: 'string', describe: 'Client certificate (PEM) for mutual TLS' })
    .option('key-file', { type: 'string', describe: 'Client key (PEM) for mutual TLS' })
    .option('username', { alias: 'u', type: 'string', describe: 'Registry user name (password from --password-stdin)' })
    .option('password-stdin', { type: 'boolean', describe: 'Read the registry password or token from stdin' })
    .option('concurrency', { type: 'number', default: 8, describe: 'Parallel uploads/downloads' })
    .option('request-timeout', { type: 'string', describe: 'Timeout per request, e.g. 30s, 2m (0 = none)' }) as unknown as Argv<T & RegistryFlags>;
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
