// The bottom layer: undici dispatchers with our TLS settings and the scheme decision. Loopback
// registries are never sent through a proxy (as Go's ProxyFromEnvironment does); everything else
// honours HTTPS_PROXY/HTTP_PROXY/NO_PROXY through EnvHttpProxyAgent.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Agent, EnvHttpProxyAgent, type Dispatcher } from 'undici';
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
  /** Headers and body timeout per request, in ms (default: undici's 300 s). */
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

/** Keep-alive connection pools for one registry (and the token realms it points to). */
export class Transport {
  private readonly direct: Agent;
  private readonly proxied: Dispatcher | undefined;

  constructor(opts: TransportOptions = {}, env: NodeJS.ProcessEnv = process.env) {
    const connect = tlsOptions(opts);
    const common = {
      connections: opts.concurrency ?? 16,
      keepAliveTimeout: 30_000,
      connect,
      ...(opts.requestTimeoutMs !== undefined ? { headersTimeout: opts.requestTimeoutMs, bodyTimeout: opts.requestTimeoutMs } : {}),
    };
    this.direct = new Agent(common);
    this.proxied = proxyConfigured(env) ? new EnvHttpProxyAgent({ ...common, requestTls: connect }) : undefined;
  }

  dispatcherFor(url: URL): Dispatcher {
    if (this.proxied === undefined || isLoopback(url.host)) return this.direct;
    return this.proxied;
  }

  async close(): Promise<void> {
    await Promise.all([this.direct.close(), this.proxied?.close()]);
  }
}
