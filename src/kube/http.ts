// Raw JSON requests to the API server, authenticated by client-node's KubeConfig (tokens, client
// certificates, exec plugins, OIDC, proxies) but without its generated typed models, which drop
// fields they do not know (a policy's must survive the trip). Same pattern client-node uses for
// its own health and metrics calls (RequestContext → applySecurityAuthentication → its undici
// dispatcher), but sent with undici's `request`, not `fetch`: fetch refuses the WHATWG "bad ports"
// (6000, 6665–6669, 10080…) that kubectl reaches without a second thought.
import type { KubeConfig } from '@kubernetes/client-node';
import { setTimeout as sleepMs } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { RetryPolicy, type RetryOptions } from '../registry/retry.ts';
import { authScheme, redactUrl, traceError, type HttpTrace } from '../registry/trace.ts';
import { TOOL_NAME, VERSION } from '../version.ts';
import type { KubeConfigOptions } from './kubeconfig-convert.ts';

// client-node (with all of undici and its generated API) takes ~30 ms to load: only commands that
// send a request to a cluster load it (and undici), when they send the first one.
let clientNode: Promise<typeof import('./client-node.ts')> | undefined;
const loadClientNode = () => (clientNode ??= import('./client-node.ts'));

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface KubeRequest {
  method: Method;
  /** Absolute API path ("/apis/kyverno.io/v1/clusterpolicies"). */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
  /**
   * Sending it twice leaves the cluster as sending it once (see mayRetry): true for requests that
   * persist nothing although they are POSTs (access reviews). Default: decided by method and body.
   */
  idempotent?: boolean;
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
  /** Set when the answer was a web page, not the API server's: what it was (see notKubernetes). */
  readonly notKubernetes: string | undefined;
  /** The Retry-After header of the answer (429, 503), read by the retry policy. */
  readonly retryAfter: string | undefined;

  constructor(status: number, apiStatus: ApiStatus, notKubernetes?: string, retryAfter?: string) {
    super(apiStatus.message || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.apiStatus = apiStatus;
    this.notKubernetes = notKubernetes;
    this.retryAfter = retryAfter;
  }
}

/**
 * No usable answer: connection refused, TLS failure, timeout, credentials that could not be
 * prepared, or ('answer') a server that answered but is not a Kubernetes API server.
 */
export class ConnectionError extends Error {
  readonly phase: 'auth' | 'connect' | 'timeout' | 'answer';

  constructor(message: string, phase: 'auth' | 'connect' | 'timeout' | 'answer', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConnectionError';
    this.phase = phase;
  }
}

export interface TransportOptions {
  requestTimeoutMs?: number;
  /** API server `Warning` headers (deprecated versions, unknown fields with fieldValidation=Warn…). */
  onWarning?: (warning: string) => void;
  /** Called once per HTTP exchange (-v/--verbose); never handed a secret (see registry/trace.ts). */
  trace?: HttpTrace;
  /** The registry's retry policy by default (registry/retry.ts); tests may shorten it. */
  retry?: RetryOptions;
}

/** Largest response body read (a whole list page of policies fits many times over). */
const MAX_BODY_BYTES = 256 * 1024 * 1024;

export class Transport {
  readonly server: string;
  private readonly kubeConfigOptions: KubeConfigOptions;
  private kc: KubeConfig | undefined;
  private readonly opts: TransportOptions;
  private readonly timeoutMs: number;
  private dispatcher: Dispatcher | undefined;
  private readonly retry: RetryPolicy;

  constructor(kubeConfigOptions: KubeConfigOptions, server: string, opts: TransportOptions = {}) {
    this.kubeConfigOptions = kubeConfigOptions;
    this.server = server;
    this.opts = opts;
    this.timeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.retry = new RetryPolicy(opts.retry);
  }

  /**
   * One request, retried as registry requests are (429 with its Retry-After, 408, 5xx, connection
   * resets; exponential backoff with jitter, 5 attempts) when that cannot apply it twice: see
   * mayRetry. --request-timeout bounds each attempt; a timeout is not retried.
   */
  async request(req: KubeRequest): Promise<KubeResponse> {
    const idempotent = isIdempotent(req);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.send(req);
      } catch (err) {
        const delay = mayRetry(err, idempotent) ? this.retry.delayFor(attempt, { error: err }) : undefined;
        if (delay === undefined) throw err;
        await sleepMs(delay);
      }
    }
  }

  private async send(req: KubeRequest): Promise<KubeResponse> {
    const url = new URL(this.server + req.path);
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    const { KubeConfig, RequestContext, HttpMethod, request } = await loadClientNode();
    if (!this.kc) {
      this.kc = new KubeConfig();
      this.kc.loadFromOptions(this.kubeConfigOptions);
    }
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
    const started = performance.now();
    const trace = (status: number | undefined, err?: unknown) =>
      this.opts.trace?.({
        method: req.method,
        url: redactUrl(url),
        ...(status !== undefined ? { status } : { error: traceError(err) }),
        durationMs: Math.round(performance.now() - started),
        ...(authScheme(headers.authorization ?? headers.Authorization) ? { auth: authScheme(headers.authorization ?? headers.Authorization) } : {}),
      });
    const signal = AbortSignal.timeout(this.timeoutMs);
    let res: Dispatcher.ResponseData;
    let text: string;
    try {
      res = await request(url, {
        method: req.method,
        headers,
        ...(body !== undefined ? { body } : {}),
        ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}),
        signal,
      });
      const declared = Number(res.headers['content-length'] ?? Number.NaN);
      if (declared > MAX_BODY_BYTES) {
        await res.body.dump();
        throw new ConnectionError(`an answer of ${declared} bytes, above the limit of ${MAX_BODY_BYTES}`, 'answer');
      }
      text = await res.body.text();
    } catch (err) {
      trace(undefined, err);
      if (err instanceof ConnectionError) throw err;
      if (signal.aborted) throw new ConnectionError(`no answer within ${this.timeoutMs} ms`, 'timeout', { cause: err });
      throw new ConnectionError(describeFetchError(err), 'connect', { cause: err });
    }
    trace(res.statusCode);
    const warning = headerOf(res.headers, 'warning');
    if (warning && this.opts.onWarning) for (const w of parseWarnings(warning)) this.opts.onWarning(w);
    const contentType = headerOf(res.headers, 'content-type') ?? '';
    const json = /json/i.test(contentType);
    let parsed: unknown = text;
    if (json && text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    const page = isHtml(contentType, text) ? notKubernetes(res.statusCode, contentType, text) : undefined;
    if (res.statusCode >= 400) {
      // The API server's errors are a metav1.Status, or plain text ("404 page not found" for a
      // group it does not serve); a web page is someone else's.
      const status = parsed && typeof parsed === 'object' ? (parsed as ApiStatus) : { message: page ?? (text.trim().split('\n')[0]?.slice(0, 300) || `HTTP ${res.statusCode}`) };
      throw new ApiError(res.statusCode, status, page, headerOf(res.headers, 'retry-after'));
    }
    if (!json && text.trim() !== '' && /json/i.test(req.accept ?? 'application/json')) {
      // A 2xx that is not JSON (a web page, a proxy's login form): not the API server.
      throw new ConnectionError(notKubernetes(res.statusCode, contentType, text), 'answer');
    }
    return { status: res.statusCode, contentType, body: parsed };
  }

  async close(): Promise<void> {
    const d = this.dispatcher;
    this.dispatcher = undefined;
    await d?.close();
  }
}

/**
 * Which requests may be sent again after a failure that may have come after the server acted on
 * them. Safe: reads (GET), DELETE (a second one finds nothing: 404, "already gone"), server-side
 * apply (a PATCH of content type apply-patch: the same configuration applied twice gives the same
 * object, so it is idempotent by nature), anything with dryRun (persists nothing) and requests
 * marked idempotent. Not safe: other POSTs (a create sent twice answers 409 the second time, or
 * creates twice with generateName) and other PATCHes (a JSON patch may append twice).
 */
export function isIdempotent(req: KubeRequest): boolean {
  if (req.idempotent !== undefined) return req.idempotent;
  if (req.query?.dryRun !== undefined) return true;
  if (req.method === 'GET' || req.method === 'DELETE' || req.method === 'PUT') return true;
  return req.method === 'PATCH' && req.contentType === 'application/apply-patch+yaml';
}

/**
 * Whether a failed request may be retried at all (the retry policy then decides on the status or
 * error). A non-idempotent request is retried only when the server certainly did not act on it:
 * 429 (the API server's priority and fairness refuses before handling the request) or a
 * connection that was never made. A reset after it was sent, a 5xx, or a timeout may have
 * followed the write: never retried.
 */
export function mayRetry(err: unknown, idempotent: boolean): boolean {
  if (err instanceof ConnectionError && (err.phase === 'timeout' || err.phase === 'auth' || err.phase === 'answer')) return false;
  if (idempotent) return true;
  if (err instanceof ApiError) return err.status === 429;
  return err instanceof ConnectionError && neverConnected(err);
}

function neverConnected(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ECONNREFUSED') return true;
  }
  return false;
}

function headerOf(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function isHtml(contentType: string, text: string): boolean {
  return /html/i.test(contentType) || /^\s*<(!doctype|html)/i.test(text);
}

/**
 * What to say about an answer that is not the API server's JSON: its status, its type, and one
 * line of it at most (an HTML page's <title>, else its first line), never the whole body.
 */
export function notKubernetes(status: number, contentType: string, text: string): string {
  const type = contentType.split(';')[0]?.trim() || 'no content type';
  const title = /<title[^>]*>([^<]{1,200})<\/title>/i.exec(text)?.[1]?.trim();
  const firstLine = text.split('\n').map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('<'));
  const excerpt = title ?? firstLine;
  const shown = excerpt ? `: "${excerpt.replace(/\s+/g, ' ').slice(0, 120)}"` : '';
  const what = isHtml(contentType, text) ? 'an HTML page' : `a ${type} answer`;
  return `HTTP ${status} with ${what}${shown}, not a Kubernetes API answer; is the kubeconfig's server a Kubernetes API server?`;
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
