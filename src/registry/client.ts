// A hand-written OCI distribution client. No well-kept JavaScript OCI distribution client covers
// token auth with a per-scope cache, docker credential helpers, retries that restart uploads and
// bounded reads, so we write the small part we need on Node's HTTP client (pooling, TLS, proxies).
// Layers, bottom up: transport (TLS, proxy) → retry → auth (challenge, token cache) → credentials.
import { PolicyOciError } from '../errors.ts';
import { registryApiHost } from '../reference/reference.ts';
import { Authenticator, parseChallenges, rejectionMessage } from './auth.ts';
import { MAX_MANIFEST_BYTES } from '../oci/limits.ts';
import { discard, drain, readLimited } from './body.ts';
import { credentialChain, type CredentialFunc } from './credentials.ts';
import { describeRequest, errorFromResponse, isNotTlsError, notARegistryError, parseRegistryErrors, RegistryHttpError, transportError } from './errors.ts';
import { RetryPolicy, type RetryOptions } from './retry.ts';
import { authScheme, redactUrl, traceError, type HttpTrace } from './trace.ts';
import { Transport, allowsHttpFallback, registryScheme, type TransportOptions } from './transport.ts';

export interface RegistryClientOptions extends TransportOptions {
  /** Where credentials come from (default: the docker/podman chain). */
  credentials?: CredentialFunc;
  retry?: RetryOptions;
  userAgent?: string;
}

export type ResponseHeaders = Record<string, string | string[] | undefined>;

export interface RegistryRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** A path under the registry ("/v2/...") or an absolute URL (a Location header). */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Token scopes the request needs, e.g. ["repository:x:pull"]. */
  scope: string[];
  /** Statuses handed back instead of thrown, besides 2xx (e.g. 404 for an existence check). */
  okStatuses?: number[];
  /** Cap of the response body in bytes (default 4 MiB). */
  maxBytes?: number;
  /** Follow 3xx (blob downloads redirected to storage); auth is not sent to another origin. */
  followRedirects?: boolean;
  /** Retry at this layer (default true); uploads pass false and restart their session instead. */
  retry?: boolean;
}

export interface RegistryResponse {
  status: number;
  headers: ResponseHeaders;
  body: Buffer;
  /** The URL that answered (after redirects). */
  url: URL;
}

const ERROR_BODY_LIMIT = 64 * 1024;
const TOKEN_BODY_LIMIT = 1024 * 1024;
const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export function firstHeader(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Failures worth asking "is this a registry at all?" about, when they come without the
 * distribution spec's error body: what web servers and other services answer registry requests
 * with. Not 5xx (a registry in trouble, retried) but 501 (a method the server does not implement).
 */
const NOT_A_REGISTRY_STATUSES: ReadonlySet<number> = new Set([400, 404, 405, 406, 415, 501]);

/** What a registry's `GET /v2/` answers: 200 or 401, marked as the distribution API or as JSON. */
function looksLikeRegistryRoot(res: RegistryResponse): boolean {
  if (res.status !== 200 && res.status !== 401) return false;
  if (firstHeader(res.headers, 'docker-distribution-api-version') !== undefined) return true;
  if (res.status === 401 && firstHeader(res.headers, 'www-authenticate') !== undefined) return true;
  return /json/i.test(firstHeader(res.headers, 'content-type') ?? '');
}

function describeAnswer(res: RegistryResponse): string {
  const type = firstHeader(res.headers, 'content-type')?.split(';')[0]?.trim();
  return `HTTP ${res.status}${type ? ` (${type.slice(0, 60)})` : ''}`;
}

export class RegistryClient {
  readonly registry: string;
  /** Where requests go; switches once from https to http when --insecure meets a plain-HTTP registry. */
  baseUrl: URL;
  /** HTTP requests sent to the registry (token realm requests excluded). */
  requestCount = 0;
  private readonly transport: Transport;
  readonly retryPolicy: RetryPolicy;
  private readonly auth: Authenticator;
  private readonly credentials: CredentialFunc;
  private readonly userAgent: string;
  private readonly trace: HttpTrace | undefined;
  /** With --insecure: the one probe deciding between https and http (shared by concurrent requests). */
  private schemeDecided: Promise<void> | undefined;
  private readonly httpsOrigin: string;
  /** The answer to "is this an OCI registry at all?", asked once, after an unexpected failure. */
  private registryCheck: Promise<string | undefined> | undefined;

  constructor(registry: string, opts: RegistryClientOptions = {}) {
    this.registry = registry;
    this.baseUrl = new URL(`${registryScheme(registry, opts)}://${registryApiHost(registry)}`);
    this.httpsOrigin = new URL(`https://${registryApiHost(registry)}`).origin;
    this.schemeDecided = allowsHttpFallback(opts) && this.baseUrl.protocol === 'https:' ? undefined : Promise.resolve();
    this.transport = new Transport(opts);
    this.retryPolicy = new RetryPolicy(opts.retry);
    this.userAgent = opts.userAgent ?? 'kubectl-policyoci';
    this.trace = opts.trace;
    const tokenHttp = async (url: URL, init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string }) => {
      const res = await this.send(url, init.method, init.headers, init.body, TOKEN_BODY_LIMIT, true);
      return { status: res.status, body: res.body };
    };
    this.credentials = opts.credentials ?? credentialChain();
    this.auth = new Authenticator(tokenHttp, this.credentials);
  }

  /**
   * --insecure (crane's meaning): HTTPS, unless the server does not speak TLS at all, then plain
   * HTTP. Decided once by `GET /v2/`; certificate errors are not a reason to fall back (--insecure
   * skips verification anyway).
   */
  private decideScheme(): Promise<void> {
    this.schemeDecided ??= (async () => {
      const url = new URL('/v2/', this.baseUrl);
      try {
        await this.send(url, 'GET', {}, undefined, TOKEN_BODY_LIMIT, false);
      } catch (err) {
        if (isNotTlsError(err)) this.baseUrl = new URL(`http://${registryApiHost(this.registry)}`);
      }
    })();
    return this.schemeDecided;
  }

  /** A URL made before the scheme was decided follows the decision. */
  private rebase(url: URL): URL {
    if (url.origin !== this.httpsOrigin || this.baseUrl.protocol === 'https:') return url;
    const moved = new URL(url.href);
    moved.protocol = 'http:';
    return moved;
  }

  /**
   * Undefined when `GET /v2/` answers as a registry does (or cannot be asked); else what it
   * answered. Asked once, only after a failure a registry would not give (an error without the
   * distribution spec's error body: a web server or another service on the port).
   */
  private notARegistry(): Promise<string | undefined> {
    this.registryCheck ??= (async () => {
      try {
        const res = await this.send(new URL('/v2/', this.baseUrl), 'GET', {}, undefined, ERROR_BODY_LIMIT, false);
        // Go's HTTPS servers answer plain HTTP with this 400: a TLS registry (errorFromResponse says what to pass).
        if (res.status === 400 && /HTTP request to an HTTPS server/i.test(res.body.toString('utf8'))) return undefined;
        return looksLikeRegistryRoot(res) ? undefined : describeAnswer(res);
      } catch {
        return undefined;
      }
    })();
    return this.registryCheck;
  }

  /** Token realm requests so far. */
  get tokenRequestCount(): number {
    return this.auth.tokenRequestCount;
  }

  resolveUrl(pathOrUrl: string): URL {
    return new URL(pathOrUrl, this.baseUrl);
  }

  async request(req: RegistryRequest): Promise<RegistryResponse> {
    await this.decideScheme();
    let url = this.rebase(this.resolveUrl(req.path));
    const limit = req.maxBytes ?? MAX_MANIFEST_BYTES;
    const retry = req.retry !== false;
    let res: RegistryResponse;
    for (let redirects = 0; ; redirects++) {
      const ours = url.origin === this.baseUrl.origin;
      let authorization = ours ? await this.auth.headerFor(this.registry, req.scope) : undefined;
      res = await this.sendWithAuth(url, req, authorization, limit, retry);
      if (res.status === 401 && ours) {
        const challenges = parseChallenges(res.headers['www-authenticate']);
        authorization = await this.auth.onUnauthorized(this.registry, req.scope, challenges, authorization);
        res = await this.sendWithAuth(url, req, authorization, limit, retry);
      }
      const location = firstHeader(res.headers, 'location');
      if (!(req.followRedirects && REDIRECTS.has(res.status) && location !== undefined)) break;
      if (redirects >= MAX_REDIRECTS) break;
      url = new URL(location, url);
    }
    if ((res.status >= 200 && res.status < 300) || req.okStatuses?.includes(res.status)) return res;
    if (res.status === 401 && res.url.origin === this.baseUrl.origin) throw await this.unauthorized(res, req);
    // A body-less answer (a HEAD's 404) from a server that names the registry API in its headers
    // is a registry's "not here": no probe, so a push to a new tag costs no extra request.
    if (NOT_A_REGISTRY_STATUSES.has(res.status) && parseRegistryErrors(res.body).length === 0 && !namesRegistryApi(res)) {
      const answered = await this.notARegistry();
      if (answered !== undefined) throw notARegistryError(this.registry, answered);
    }
    throw errorFromResponse(res, req.method, res.url, this.registry, this.transport.proxyFor(res.url));
  }

  /** Is this a registry answering 404 (true), or something else on the port (throws)? For okStatuses callers. */
  async checkIsRegistry(res: RegistryResponse): Promise<void> {
    if (parseRegistryErrors(res.body).length > 0) return;
    const answered = await this.notARegistry();
    if (answered !== undefined) throw notARegistryError(this.registry, answered);
  }

  /** A 401 that survived the auth flow: say what to fix, which depends on where the credentials came from. */
  private async unauthorized(res: RegistryResponse, req: RegistryRequest): Promise<RegistryHttpError> {
    const entries = parseRegistryErrors(res.body);
    const retryAfter = firstHeader(res.headers, 'retry-after');
    const on = `HTTP 401 on ${describeRequest(req.method, res.url)}`;
    const insufficient = parseChallenges(res.headers['www-authenticate']).some((c) => c.params.error === 'insufficient_scope');
    const cred = await this.credentials(this.registry).catch(() => undefined);
    if (insufficient && cred !== undefined) {
      return new RegistryHttpError('DENIED', `${this.registry}: the credentials lack permission for ${req.scope.join(' ') || 'this request'} (${on})`, 401, retryAfter, entries);
    }
    return new RegistryHttpError('UNAUTHORIZED', `${rejectionMessage(this.registry, this.registry, cred)} (${on})`, 401, retryAfter, entries);
  }

  private sendWithAuth(url: URL, req: RegistryRequest, authorization: string | undefined, limit: number, retry: boolean) {
    const headers: Record<string, string> = { ...req.headers };
    if (authorization !== undefined) headers.authorization = authorization;
    this.requestCount++;
    return this.send(url, req.method, headers, req.body, limit, retry, () => this.requestCount++);
  }

  /** One exchange (with retries when `retry`); the body is read whole, within `limit` for successes. */
  private async send(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: Buffer | string | undefined,
    limit: number,
    retry: boolean,
    onRetry?: () => void,
  ): Promise<RegistryResponse> {
    const attempt = async (n: number): Promise<RegistryResponse> => {
      if (n > 1) onRetry?.();
      const started = performance.now();
      const traced = (status: number | undefined, err?: unknown) =>
        this.trace?.({
          method,
          url: redactUrl(url),
          ...(status !== undefined ? { status } : { error: traceError(err) }),
          durationMs: Math.round(performance.now() - started),
          ...(authScheme(headers.authorization) ? { auth: authScheme(headers.authorization) } : {}),
        });
      let res;
      try {
        res = await this.transport.send(url, { method, headers: { 'user-agent': this.userAgent, ...headers }, body });
      } catch (err) {
        traced(undefined, err);
        throw retry ? err : transportError(err, method, url, this.transport.proxyFor(url));
      }
      traced(res.statusCode);
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      let data: Buffer;
      if (method === 'HEAD') {
        await drain(res.body);
        data = Buffer.alloc(0);
      } else {
        const declared = Number(res.headers['content-length'] ?? Number.NaN);
        if (ok && declared > limit) {
          discard(res.body);
          return this.tooLarge(url, limit);
        }
        data = await readLimited(res.body, ok ? limit : ERROR_BODY_LIMIT, `the response of ${url.host}${url.pathname}`, !ok);
      }
      return { status: res.statusCode, headers: res.headers, body: data, url };
    };
    if (!retry) return attempt(1);
    try {
      return await this.retryPolicy.run(attempt, (res) => ({ status: res.status, retryAfter: firstHeader(res.headers, 'retry-after') }));
    } catch (err) {
      throw transportError(err, method, url, this.transport.proxyFor(url));
    }
  }

  private tooLarge(url: URL, limit: number): never {
    throw new PolicyOciError('LIMIT', `the response of ${url.host}${url.pathname} is larger than the limit of ${limit} bytes`);
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}

/** Docker's registry API v2 (which OCI distribution keeps) has servers send this header on every answer. */
function namesRegistryApi(res: RegistryResponse): boolean {
  return /^registry\/2\./.test(firstHeader(res.headers, 'docker-distribution-api-version') ?? '');
}
