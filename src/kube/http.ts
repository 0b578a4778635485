// Raw JSON requests to the API server, authenticated by client-node's KubeConfig (tokens, client
// certificates, exec plugins, OIDC, proxies) but without its generated typed models, which drop
// fields they do not know (LIBRARIES.md). Same pattern client-node uses for its own health and
// metrics calls: RequestContext → applySecurityAuthentication → undici fetch with its dispatcher.
import { HttpMethod, RequestContext } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { fetch } from 'undici';
import type { Dispatcher } from 'undici';
import { TOOL_NAME, VERSION } from '../version.ts';

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface KubeRequest {
  method: Method;
  /** Absolute API path ("/apis/kyverno.io/v1/clusterpolicies"). */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
}

export interface KubeResponse {
  status: number;
  contentType: string;
  body: unknown;
}

/** metav1.Status, as the API server sends it with an error. */
export interface ApiStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; group?: string; kind?: string; causes?: Array<{ reason?: string; message?: string; field?: string }> };
}

/** The server answered with an error status. */
export class ApiError extends Error {
  readonly status: number;
  readonly apiStatus: ApiStatus;

  constructor(status: number, apiStatus: ApiStatus) {
    super(apiStatus.message || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.apiStatus = apiStatus;
  }
}

/** No answer: connection refused, TLS failure, timeout, or credentials that could not be prepared. */
export class ConnectionError extends Error {
  readonly phase: 'auth' | 'connect' | 'timeout';

  constructor(message: string, phase: 'auth' | 'connect' | 'timeout', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConnectionError';
    this.phase = phase;
  }
}

export interface TransportOptions {
  requestTimeoutMs?: number;
  /** API server `Warning` headers (deprecated versions, unknown fields with fieldValidation=Warn…). */
  onWarning?: (warning: string) => void;
}

export class Transport {
  readonly server: string;
  private readonly kc: KubeConfig;
  private readonly opts: TransportOptions;
  private readonly timeoutMs: number;
  private dispatcher: Dispatcher | undefined;

  constructor(kc: KubeConfig, server: string, opts: TransportOptions = {}) {
    this.kc = kc;
    this.server = server;
    this.opts = opts;
    this.timeoutMs = opts.requestTimeoutMs ?? 30_000;
  }

  async request(req: KubeRequest): Promise<KubeResponse> {
    const url = new URL(this.server + req.path);
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    const ctx = new RequestContext(url.toString(), HttpMethod[req.method]);
    try {
      await this.kc.applySecurityAuthentication(ctx);
    } catch (err) {
      throw new ConnectionError(`cannot prepare the credentials: ${firstLine(err)}`, 'auth', { cause: err });
    }
    // client-node builds a new undici Agent (and so a new TLS connection) for every request; keep
    // the first one. Only a client certificate rotated by an exec plugin mid-run would differ.
    this.dispatcher ??= ctx.getDispatcher() as Dispatcher | undefined;
    const headers: Record<string, string> = {
      ...ctx.getHeaders(),
      accept: req.accept ?? 'application/json',
      'user-agent': `${TOOL_NAME}/${VERSION}`,
    };
    let body: string | undefined;
    if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers['content-type'] = req.contentType ?? 'application/json';
    }
    let res;
    try {
      res = await fetch(url, {
        method: req.method,
        headers,
        ...(body !== undefined ? { body } : {}),
        ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
        throw new ConnectionError(`no answer within ${this.timeoutMs} ms`, 'timeout', { cause: err });
      }
      throw new ConnectionError(describeFetchError(err), 'connect', { cause: err });
    }
    const warning = res.headers.get('warning');
    if (warning && this.opts.onWarning) for (const w of parseWarnings(warning)) this.opts.onWarning(w);
    const contentType = res.headers.get('content-type') ?? '';
    const text = await res.text();
    let parsed: unknown = text;
    if (/json/i.test(contentType) && text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (res.status >= 400) {
      const status = parsed && typeof parsed === 'object' ? (parsed as ApiStatus) : { message: text.trim().slice(0, 300) || res.statusText };
      throw new ApiError(res.status, status);
    }
    return { status: res.status, contentType, body: parsed };
  }

  async close(): Promise<void> {
    const d = this.dispatcher;
    this.dispatcher = undefined;
    await d?.close();
  }
}

/** `299 - "message"` entries of a Warning header (RFC 7234), messages only. */
export function parseWarnings(header: string): string[] {
  const out: string[] = [];
  const re = /\d{3}\s+\S+\s+"((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(header); m; m = re.exec(header)) out.push(m[1]!.replace(/\\(.)/g, '$1'));
  return out.length ? out : [header];
}

/** undici's "fetch failed" hides the reason in `cause` (ECONNREFUSED, a certificate error…). */
function describeFetchError(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  const code = cause && typeof cause === 'object' && 'code' in cause ? String((cause as { code: unknown }).code) : '';
  const msg = firstLine(cause);
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) return `TLS: ${msg} (check certificate-authority in the kubeconfig)`;
  return code && !msg.includes(code) ? `${code}: ${msg}` : msg;
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return (msg.split('\n').find((l) => l.trim()) ?? msg).trim().slice(0, 300);
}
