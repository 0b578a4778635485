// A hand-written OCI distribution client. No well-kept JavaScript OCI distribution client covers
// token auth with a per-scope cache, docker credential helpers, retries that restart uploads and
// bounded reads, so we write the small part we need on undici (HTTP, pooling, TLS, proxies).
// Layers, bottom up: transport (TLS, proxy) → retry → auth (challenge, token cache) → credentials.
import { request } from 'undici';
import { PolicyOciError } from '../errors.ts';
import { registryApiHost } from '../reference/reference.ts';
import { Authenticator, parseChallenges } from './auth.ts';
import { MAX_MANIFEST_BYTES } from '../oci/limits.ts';
import { discard, readLimited } from './body.ts';
import { credentialChain, type CredentialFunc } from './credentials.ts';
import { errorFromResponse, transportError } from './errors.ts';
import { RetryPolicy, type RetryOptions } from './retry.ts';
import { Transport, registryScheme, type TransportOptions } from './transport.ts';

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

export class RegistryClient {
  readonly registry: string;
  readonly baseUrl: URL;
  /** HTTP requests sent to the registry (token realm requests excluded). */
  requestCount = 0;
  private readonly transport: Transport;
  readonly retryPolicy: RetryPolicy;
  private readonly auth: Authenticator;
  private readonly userAgent: string;

  constructor(registry: string, opts: RegistryClientOptions = {}) {
    this.registry = registry;
    this.baseUrl = new URL(`${registryScheme(registry, opts)}://${registryApiHost(registry)}`);
    this.transport = new Transport(opts);
    this.retryPolicy = new RetryPolicy(opts.retry);
    this.userAgent = opts.userAgent ?? 'kubectl-policyoci';
    const tokenHttp = async (url: URL, init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string }) => {
      const res = await this.send(url, init.method, init.headers, init.body, TOKEN_BODY_LIMIT, true);
      return { status: res.status, body: res.body };
    };
    this.auth = new Authenticator(tokenHttp, opts.credentials ?? credentialChain());
  }

  /** Token realm requests so far. */
  get tokenRequestCount(): number {
    return this.auth.tokenRequestCount;
  }

  resolveUrl(pathOrUrl: string): URL {
    return new URL(pathOrUrl, this.baseUrl);
  }

  async request(req: RegistryRequest): Promise<RegistryResponse> {
    let url = this.resolveUrl(req.path);
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
    throw errorFromResponse(res, req.method, res.url, this.registry);
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
      let res;
      try {
        res = await request(url, {
          method,
          headers: { 'user-agent': this.userAgent, ...headers },
          body: body ?? null,
          dispatcher: this.transport.dispatcherFor(url),
        });
      } catch (err) {
        throw retry ? err : transportError(err, method, url);
      }
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      let data: Buffer;
      if (method === 'HEAD') {
        await res.body.dump();
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
      throw transportError(err, method, url);
    }
  }

  private tooLarge(url: URL, limit: number): never {
    throw new PolicyOciError('LIMIT', `the response of ${url.host}${url.pathname} is larger than the limit of ${limit} bytes`);
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}
