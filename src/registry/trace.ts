// The HTTP trace behind `-v/--verbose`: one event per exchange (method, URL, status or error,
// timing). The registry and kube clients call the callback; the command layer decides where the
// lines go. Nothing secret is ever handed over: no header values (only the scheme of an
// Authorization header), no userinfo, and query values only for parameters known to be harmless
// (a presigned storage URL's signature, an upload's state or a token are replaced).

export interface HttpTraceEvent {
  method: string;
  /** The URL, redacted (see redactUrl). */
  url: string;
  /** The status answered, or undefined when the exchange failed (see error). */
  status?: number;
  /** Why there was no answer (connection refused, TLS, timeout), one line. */
  error?: string;
  durationMs: number;
  /** The scheme of the Authorization header sent ("Basic", "Bearer"), never its value. */
  auth?: string;
}

export type HttpTrace = (event: HttpTraceEvent) => void;

/** Query parameters whose values are shown; every other value is replaced. */
const SHOWN_PARAMS = new Set([
  'n',
  'last',
  'mount',
  'from',
  'digest',
  'scope',
  'service',
  'artifactType',
  'limit',
  'labelSelector',
  'fieldSelector',
  'fieldManager',
  'fieldValidation',
  'dryRun',
  'force',
  'timeout',
  'watch',
]);

export const REDACTED = 'REDACTED';

/** The URL without userinfo, and with the value of every query parameter not known to be harmless replaced. */
export function redactUrl(input: URL | string): string {
  const url = new URL(input.toString());
  url.username = '';
  url.password = '';
  const params = [...url.searchParams.entries()];
  if (params.length === 0) return url.href;
  const shown = params.map(([k, v]) => `${encodeURIComponent(k)}=${SHOWN_PARAMS.has(k) ? encodeURIComponent(v) : REDACTED}`);
  url.search = '';
  return `${url.href}?${shown.join('&')}`;
}

/** "Bearer" of "Bearer eyJ…": the scheme only. */
export function authScheme(header: string | undefined): string | undefined {
  if (header === undefined || header === '') return undefined;
  return header.split(/\s/, 1)[0]?.slice(0, 20);
}

/** One line of an error for the trace (first line, at most 200 characters). */
export function traceError(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  const e = cause as { code?: unknown; message?: unknown };
  const text = typeof e?.message === 'string' ? e.message : String(cause);
  const line = (text.split('\n').find((l) => l.trim()) ?? text).trim().slice(0, 200);
  return typeof e?.code === 'string' && !line.includes(e.code) ? `${e.code}: ${line}` : line;
}
