// The bottom layer: Node's own HTTP/1.1 client (http/https Agents: keep-alive pools, our TLS
// settings, the HTTP(S)_PROXY/NO_PROXY environment) and the scheme decision. Loopback registries are
// never sent through a proxy (as Go's ProxyFromEnvironment does). Node's client, not undici: its
// parser is native, and a push or pull of 10 policies spent ~40 ms of CPU in undici's WebAssembly
// parser and its loading (bench/README.md); node:https (and node:tls) load only for an https URL.
import { proxyForDisplay, proxyFromEnv } from '../util/proxy.ts';
import { readFileSync } from 'node:fs';
import type { Agent as HttpAgent, IncomingMessage, RequestOptions } from 'node:http';
import type { Agent as HttpsAgent, AgentOptions as HttpsAgentOptions } from 'node:https';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import { PolicyOciError } from '../errors.ts';
import type { HttpTrace } from './trace.ts';

export interface TransportOptions {
  /** Talk plain HTTP (true) or HTTPS (false) to the registry; unset: HTTP on loopback only. */
  plainHttp?: boolean;
  /**
   * Skip TLS certificate verification, and (as crane's --insecure) allow plain HTTP: unless
   * plainHttp says otherwise, HTTPS is tried first and HTTP used when the server does not speak TLS.
   */
  insecure?: boolean;
  /** Extra CA bundle (PEM) trusted on top of the system roots. */
  caFile?: string;
  /** Client certificate (PEM) for mutual TLS, with keyFile. */
  certFile?: string;
  keyFile?: string;
  /** Connections per origin (default 16). */
  concurrency?: number;
  /** Time a connection or an answer may stay silent, in ms (default 300 s). */
  requestTimeoutMs?: number;
  /** Called once per HTTP exchange (-v/--verbose); never handed a secret (see trace.ts). */
  trace?: HttpTrace;
}

/** The host part of a registry ("localhost:5000" → "localhost", "[::1]:5000" → "::1"). */
export function registryHostname(registry: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(registry);
  if (bracketed?.[1] !== undefined) return bracketed[1].toLowerCase();
  return registry.replace(/:\d+$/, '').toLowerCase();
}

export function isLoopback(registry: string): boolean {
  const host = registryHostname(registry);
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/**
 * `https` unless plain HTTP is asked for, or the registry is on loopback and nothing TLS-specific
 * (a CA, a client certificate, --insecure) says it speaks TLS.
 */
export function registryScheme(registry: string, opts: TransportOptions = {}): 'http' | 'https' {
  if (opts.plainHttp !== undefined) return opts.plainHttp ? 'http' : 'https';
  const tlsHinted = opts.caFile !== undefined || opts.certFile !== undefined || opts.insecure === true;
  return isLoopback(registry) && !tlsHinted ? 'http' : 'https';
}

/**
 * True when a failed TLS handshake may be retried over plain HTTP: --insecure without an explicit
 * --plain-http (crane's and go-containerregistry's `insecure` registries: HTTPS first, then HTTP).
 */
export function allowsHttpFallback(opts: TransportOptions = {}): boolean {
  return opts.insecure === true && opts.plainHttp === undefined;
}

function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new PolicyOciError('IO', `cannot read ${what} ${file} (${code})`, { cause: err });
  }
}

export function tlsOptions(opts: TransportOptions): ConnectionOptions {
  const tls: ConnectionOptions = { rejectUnauthorized: opts.insecure !== true };
  if (opts.caFile !== undefined) {
    // node:tls takes ~10 ms to load; a plain-HTTP registry never needs it.
    const { rootCertificates } = process.getBuiltinModule('node:tls');
    tls.ca = [...rootCertificates, readPem(opts.caFile, 'CA file')];
  }
  if ((opts.certFile === undefined) !== (opts.keyFile === undefined)) {
    throw new PolicyOciError('USAGE', 'a client certificate needs both --cert-file and --key-file');
  }
  if (opts.certFile !== undefined && opts.keyFile !== undefined) {
    tls.cert = readPem(opts.certFile, 'client certificate');
    tls.key = readPem(opts.keyFile, 'client key');
  }
  return tls;
}

function proxyConfigured(env: NodeJS.ProcessEnv): boolean {
  return [env.https_proxy, env.HTTPS_PROXY, env.http_proxy, env.HTTP_PROXY].some((v) => v !== undefined && v !== '');
}

/** The proxy variables Node's Agent reads (proxyEnv), from `env` only. */
function proxyEnvOf(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const keys = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY', 'no_proxy', 'NO_PROXY'];
  return Object.fromEntries(keys.filter((k) => env[k] !== undefined).map((k) => [k, env[k]]));
}

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  /** Read it whole, drain it or destroy it: the connection goes back to the pool only then. */
  body: Readable;
}

export interface SendOptions {
  method: string;
  headers: Record<string, string>;
  body?: Buffer | string | undefined;
}

/** Requests sent again at once when a pooled connection turns out closed (Go's "replayable"). */
const REPLAYABLE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** One pool per scheme, and one more per scheme through the proxy when the environment names one. */
interface Pools {
  direct: HttpAgent | HttpsAgent;
  proxied: HttpAgent | HttpsAgent | undefined;
  /** The same without keep-alive, made on first use: for origins that close connections under requests. */
  directOnce?: HttpAgent | HttpsAgent;
  proxiedOnce?: HttpAgent | HttpsAgent;
}

/** Keep-alive connection pools for one registry (and the token realms it points to). */
export class Transport {
  private readonly tls: ConnectionOptions;
  private readonly maxSockets: number;
  private readonly timeoutMs: number;
  private readonly proxyEnv: NodeJS.ProcessEnv | undefined;
  private readonly pools = new Map<'http:' | 'https:', Pools>();
  /** Origins whose connections were closed under a request: reached without keep-alive since. */
  private readonly closingOrigins = new Set<string>();

  constructor(opts: TransportOptions = {}, env: NodeJS.ProcessEnv = process.env) {
    // Read (and checked) now: a missing CA file is a usage error before any request.
    this.tls = tlsOptions(opts);
    this.maxSockets = opts.concurrency ?? 16;
    // Without --request-timeout, 300 s (undici's default, which this client used before): never forever.
    this.timeoutMs = opts.requestTimeoutMs ?? 300_000;
    this.proxyEnv = proxyConfigured(env) ? proxyEnvOf(env) : undefined;
  }

  /** The pool a request to `url` goes through: loopback never through the proxy. */
  agentFor(url: URL): HttpAgent | HttpsAgent {
    const scheme = url.protocol === 'https:' ? 'https:' : 'http:';
    let pools = this.pools.get(scheme);
    if (!pools) {
      pools = { direct: this.makeAgent(scheme, true), proxied: this.proxyEnv ? this.makeAgent(scheme, true, this.proxyEnv) : undefined };
      this.pools.set(scheme, pools);
    }
    const proxied = pools.proxied !== undefined && !isLoopback(url.host);
    if (!this.closingOrigins.has(url.origin)) return proxied ? pools.proxied! : pools.direct;
    if (proxied) return (pools.proxiedOnce ??= this.makeAgent(scheme, false, this.proxyEnv));
    return (pools.directOnce ??= this.makeAgent(scheme, false));
  }

  private makeAgent(scheme: 'http:' | 'https:', keepAlive: boolean, proxyEnv?: NodeJS.ProcessEnv): HttpAgent | HttpsAgent {
    const common = { keepAlive, maxSockets: this.maxSockets, ...(proxyEnv ? { proxyEnv } : {}) };
    if (scheme === 'http:') return new (process.getBuiltinModule('node:http').Agent)(common);
    return new (process.getBuiltinModule('node:https').Agent)({ ...common, ...this.tls } as HttpsAgentOptions);
  }

  /**
   * One exchange: resolves at the response's headers, with its body still to be read. A connection
   * or a response silent for --request-timeout (default 300 s) is abandoned with ETIMEDOUT, which
   * retry.ts retries.
   */
  async send(url: URL, options: SendOptions): Promise<HttpResponse> {
    for (let attempt = 1; ; attempt++) {
      const sent = await this.sendOnce(url, options, this.agentFor(url));
      if (!('stale' in sent)) return sent;
      // The server, or a proxy in between (tinyproxy closes after every answer without saying so),
      // closed the pooled connection this request went out on before any answer. Connections to
      // that origin are not kept from now on. Only a request without a body that changes nothing is
      // sent again at once (Go's rule); any other goes to the caller's retry, which for a blob upload
      // opens a new session, as for any cut upload.
      this.closingOrigins.add(url.origin);
      if (!REPLAYABLE.has(options.method) || options.body !== undefined || attempt > 1) throw sent.stale;
    }
  }

  private sendOnce(url: URL, options: SendOptions, agent: HttpAgent | HttpsAgent): Promise<HttpResponse | { stale: Error }> {
    const http = process.getBuiltinModule(url.protocol === 'https:' ? 'node:https' : 'node:http');
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...options.headers };
      if (options.body !== undefined && headers['content-length'] === undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
      const requestOptions: RequestOptions = { method: options.method, headers, agent };
      let answered = false;
      const req = http.request(url, requestOptions, (res: IncomingMessage) => {
        answered = true;
        resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: res });
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        const dropped = err.code === 'ECONNRESET' || err.code === 'EPIPE';
        if (dropped && req.reusedSocket && !answered) resolve({ stale: err });
        else reject(err);
      });
      const ms = this.timeoutMs;
      req.setTimeout(ms, () => req.destroy(Object.assign(new Error(`request timeout: no answer within ${ms} ms`), { code: 'ETIMEDOUT' })));
      req.end(options.body);
    });
  }

  /** The proxy a request to `url` goes through (without its credentials), for messages. */
  proxyFor(url: URL): string | undefined {
    if (this.proxyEnv === undefined || isLoopback(url.host)) return undefined;
    const proxy = proxyFromEnv(url, this.proxyEnv);
    return proxy === undefined ? undefined : proxyForDisplay(proxy);
  }

  async close(): Promise<void> {
    for (const pools of this.pools.values()) {
      for (const agent of [pools.direct, pools.proxied, pools.directOnce, pools.proxiedOnce]) agent?.destroy();
    }
    this.pools.clear();
  }
}
