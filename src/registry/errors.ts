// Maps registry responses to PolicyOciError, keeping the registry's own error codes
// (`{"errors":[{"code","message"}]}`) in the message. URLs are shown without their query (upload
// state) and no header value ever appears in a message.
import { PolicyOciError, type ErrorCode } from '../errors.ts';

export interface RegistryErrorEntry {
  code: string;
  message: string;
}

/** An HTTP failure from a registry; `status` lets the retry layer judge it. */
export class RegistryHttpError extends PolicyOciError {
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly registryErrors: RegistryErrorEntry[];

  constructor(code: ErrorCode, message: string, status: number, retryAfter: string | undefined, registryErrors: RegistryErrorEntry[]) {
    super(code, message);
    this.status = status;
    this.retryAfter = retryAfter;
    this.registryErrors = registryErrors;
  }
}

export function parseRegistryErrors(body: Uint8Array): RegistryErrorEntry[] {
  if (body.byteLength === 0) return [];
  try {
    const parsed: unknown = JSON.parse(Buffer.from(body).toString('utf8'));
    const errors = (parsed as { errors?: unknown }).errors;
    if (!Array.isArray(errors)) return [];
    return errors.slice(0, 10).map((e: unknown) => {
      const entry = (e ?? {}) as { code?: unknown; message?: unknown };
      return {
        code: typeof entry.code === 'string' ? entry.code.slice(0, 100) : 'UNKNOWN',
        message: typeof entry.message === 'string' ? entry.message.slice(0, 300) : '',
      };
    });
  } catch {
    return [];
  }
}

/** "GET /v2/x/manifests/v1" style text for messages: path only, never the query or userinfo. */
export function describeRequest(method: string, url: URL): string {
  return `${method} ${url.host}${url.pathname}`;
}

export interface FailedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
}

function codeFor(status: number): ErrorCode {
  switch (status) {
    case 401:
      return 'UNAUTHORIZED';
    case 403:
      return 'DENIED';
    case 404:
      return 'NOT_FOUND';
    default:
      return 'REGISTRY';
  }
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The variable that names the proxy for `url`. */
function proxyVariable(url: URL): string {
  return url.protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY';
}

/** How to leave the proxy out, appended to every proxy hint. */
function aroundProxy(url: URL): string {
  return `, or add ${url.hostname} to NO_PROXY to reach the registry directly`;
}

export function errorFromResponse(res: FailedResponse, method: string, url: URL, registry: string, proxy?: string): RegistryHttpError {
  const entries = parseRegistryErrors(res.body);
  const detail = entries.map((e) => (e.message ? `${e.code}: ${e.message}` : e.code)).join('; ');
  const code = codeFor(res.status);
  let message = `${describeRequest(method, url)}: HTTP ${res.status}${detail ? ` (${detail})` : ''}`;
  if (code === 'UNAUTHORIZED') message += `; run \`kubectl policyoci login ${registry}\``;
  if (code === 'DENIED') message += `; the credentials for ${registry} lack permission`;
  if (res.status === 407) {
    message += `; the proxy${proxy ? ` ${proxy}` : ''} asks for credentials: give them in ${proxyVariable(url)} as http://USER:PASSWORD@HOST:PORT${aroundProxy(url)}`;
  }
  // Go's HTTPS servers answer a plain-HTTP request with this 400 (we default to HTTP on loopback).
  // A HEAD response has no body to tell, so an empty 400 over plain HTTP gets the hint too.
  const body = Buffer.from(res.body).toString('utf8');
  if (res.status === 400 && url.protocol === 'http:' && (body.trim() === '' || /HTTP request to an HTTPS server/i.test(body))) {
    message += '; if the registry speaks HTTPS, pass --ca-file for its CA certificate (or --insecure)';
  }
  return new RegistryHttpError(code, message, res.status, firstHeader(res.headers['retry-after']), entries);
}

/** OpenSSL's "…:error:0A00010B:SSL routines:func:reason:file:line:" dump, as its reason only. */
function opensslReason(text: string): string | undefined {
  return /error:[0-9A-F]+:[A-Za-z0-9 ]+ routines:[^:]*:([^:\n]+)/.exec(text)?.[1]?.trim();
}

/** Codes of a TLS handshake with a server that does not speak TLS (a plain-HTTP registry). */
const NOT_TLS_CODES = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_HTTP_REQUEST', 'EPROTO']);

/** True when `err` says the server answered a TLS handshake with something that is not TLS. */
export function isNotTlsError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NOT_TLS_CODES.has(code)) return true;
    if (/wrong version number|packet length too long|http request/i.test(opensslReason(e.message) ?? '')) return true;
  }
  return false;
}

/**
 * Transport failures (connection refused, TLS, DNS) as REGISTRY errors naming the host, with what
 * to check; `proxy`: the proxy the request went through (HTTP(S)_PROXY), whose failures these may be.
 */
export function transportError(err: unknown, method: string, url: URL, proxy?: string): PolicyOciError {
  if (err instanceof PolicyOciError) return err;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  let text = typeof e.message === 'string' && e.message.trim() !== '' ? e.message : code || String(err);
  const reason = opensslReason(text);
  if (reason !== undefined) text = `TLS handshake failed (${reason})`;
  text = (text.split('\n').find((l) => l.trim()) ?? text).trim().slice(0, 300);
  const what = describeRequest(method, url);
  let hint = '';
  const variable = proxyVariable(url);
  const noProxy = aroundProxy(url);
  if (proxy !== undefined && code === 'ERR_PROXY_TUNNEL') {
    hint = /\b40[17]\b/.test(text)
      ? `; the proxy ${proxy} did not accept the credentials (none or wrong: give them in ${variable} as http://USER:PASSWORD@HOST:PORT)${noProxy}`
      : `; check the proxy ${proxy} (from ${variable})${noProxy}`;
  } else if (proxy !== undefined && (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN')) {
    text = code === 'ECONNREFUSED' ? 'the proxy refused the connection' : 'the proxy\'s host name does not resolve';
    hint = `; check that the proxy ${proxy} (from ${variable}) is running${noProxy}`;
  } else if (isNotTlsError(err)) {
    text = 'the server does not speak TLS (HTTPS)';
    hint = '; for a plain-HTTP registry pass --plain-http';
  } else if (code === 'ECONNREFUSED') {
    text = 'connection refused';
    hint = `; is the registry running, and listening on ${url.host}?`;
  } else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    text = `the host name ${url.hostname} does not resolve`;
    hint = '; check the registry name';
  } else if (/certificate|self.signed|SSL|TLS/i.test(text) || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/.test(code)) {
    hint = '; for a private CA pass --ca-file, to skip verification --insecure, for a plain-HTTP registry --plain-http';
  }
  const shownCode = code && !text.includes(code) ? ` [${code}]` : '';
  return new PolicyOciError('REGISTRY', `${what} failed: ${text}${shownCode}${hint}`, { cause: err });
}

/** A server that answers, but not as an OCI registry (a web server, another service on the port). */
export function notARegistryError(registry: string, probe: string): PolicyOciError {
  return new PolicyOciError('REGISTRY', `${registry} is not an OCI registry: GET /v2/ answered ${probe} where a registry answers 200 or 401; check the host and port`);
}
