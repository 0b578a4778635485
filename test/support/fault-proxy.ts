// A fault-injecting HTTP(S) proxy on loopback, in front of a real server (a docker-registry or a
// kube-apiserver), for the reliability tests. Every request is forwarded unchanged (Host header
// included, so the registry's Location headers keep pointing at the proxy) unless a rule matches
// it; a rule then injects one fault: an error status (with Retry-After), a connection reset while
// the request body is still arriving or after part of the response body, a truncated or corrupted
// response body, a stall, a crafted answer, or a hook that runs first (e.g. stops the server).
// `goAway()` makes the whole server disappear: the listener closes and every connection drops.
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { LOOPBACK } from './ports.ts';

export type Fault =
  /** Answer with this status without forwarding (default body: a registry-style error JSON). */
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string | Buffer }
  /** Answer with this response without forwarding: a hostile or broken server. */
  | { kind: 'respond'; status?: number; headers?: Record<string, string>; body: Buffer | string }
  /** Read `afterBytes` of the request body (all of it when shorter), then reset the connection. */
  | { kind: 'reset-request'; afterBytes: number }
  /** Forward; relay the headers and `afterBytes` of the body, then reset the connection. */
  | { kind: 'reset-response'; afterBytes: number }
  /**
   * Forward; relay only the first `toBytes` of the body. `keepLength`: the Content-Length still
   * promises the whole body and the connection closes early; otherwise the short body is sent
   * chunked and ends cleanly (only a digest check can tell).
   */
  | { kind: 'truncate'; toBytes: number; keepLength?: boolean }
  /** Forward; flip one byte of the body (at `offset`, default the middle), length unchanged. */
  | { kind: 'corrupt'; offset?: number }
  /** Never answer (`afterBytes` undefined), or send the headers and `afterBytes` of the body and hang. */
  | { kind: 'stall'; afterBytes?: number }
  /** Drop the connection at once, without an answer. */
  | { kind: 'drop' }
  /** Run `run` (e.g. stop the upstream server), then forward. */
  | { kind: 'hook'; run: (req: SeenRequest) => Promise<void> | void };

export interface SeenRequest {
  /** 1-based, in arrival order. */
  n: number;
  at: number;
  method: string;
  /** Path and query, as sent. */
  path: string;
  headers: http.IncomingHttpHeaders;
}

export interface FaultRule {
  /** Shown in the log. */
  name?: string;
  method?: string | string[];
  /** Matched against the path with its query. */
  path?: RegExp | string;
  /** Any other condition (e.g. on a header). */
  when?: (req: SeenRequest) => boolean;
  /** Matching requests to let through untouched before the fault starts (default 0). */
  skip?: number;
  /** How many matching requests get the fault (default: all). */
  times?: number;
  fault: Fault;
}

export interface LogEntry {
  n: number;
  at: number;
  method: string;
  path: string;
  /** The fault injected, if any. */
  fault?: string;
  /** The status the client was sent (the upstream's or the injected one). */
  status?: number;
  /** Set when the upstream could not be reached. */
  upstreamError?: string;
}

export interface FaultProxyOptions {
  /** "http://127.0.0.1:5000" or "https://127.0.0.1:6443". */
  upstream: string;
  /** CA (PEM) of an HTTPS upstream. */
  upstreamCa?: string | Buffer;
  /** Listen with TLS (PEM certificate and key); default plain HTTP. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Port to listen on (default: any free one). */
  port?: number;
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade'];

function withoutHopByHop(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.includes(k)) out[k] = v;
  return out;
}

function matches(rule: FaultRule, req: SeenRequest): boolean {
  if (rule.method !== undefined && !(Array.isArray(rule.method) ? rule.method : [rule.method]).includes(req.method)) return false;
  if (rule.when !== undefined && !rule.when(req)) return false;
  if (rule.path === undefined) return true;
  return typeof rule.path === 'string' ? req.path.includes(rule.path) : rule.path.test(req.path);
}

export class FaultProxy {
  readonly port: number;
  /** "127.0.0.1:PORT" */
  readonly host: string;
  /** "http(s)://127.0.0.1:PORT" */
  readonly url: string;
  readonly log: LogEntry[] = [];
  private readonly rules: Array<{ rule: FaultRule; seen: number; applied: number }> = [];
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly upstream: URL;
  private readonly upstreamCa: string | Buffer | undefined;
  private count = 0;
  private gone = false;

  constructor(server: http.Server, port: number, opts: FaultProxyOptions) {
    this.server = server;
    this.port = port;
    this.host = `${LOOPBACK}:${port}`;
    this.url = `${opts.tls ? 'https' : 'http'}://${this.host}`;
    this.upstream = new URL(opts.upstream);
    this.upstreamCa = opts.upstreamCa;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
    });
    server.on('secureConnection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
    });
    server.on('request', (req, res) => this.handle(req, res));
    server.on('clientError', (_err, socket) => socket.destroy());
  }

  /** Adds a rule after the existing ones (the first matching rule with faults left wins). */
  addRule(rule: FaultRule): this {
    this.rules.push({ rule, seen: 0, applied: 0 });
    return this;
  }

  clearRules(): void {
    this.rules.length = 0;
  }

  /** Requests whose fault was injected, per rule name. */
  injected(name: string): number {
    return this.log.filter((e) => e.fault?.startsWith(`${name}:`)).length;
  }

  /** Requests seen so far. */
  get requestCount(): number {
    return this.count;
  }

  private pick(req: SeenRequest): FaultRule | undefined {
    for (const entry of this.rules) {
      if (!matches(entry.rule, req)) continue;
      entry.seen++;
      if (entry.seen <= (entry.rule.skip ?? 0)) continue;
      if (entry.applied >= (entry.rule.times ?? Number.POSITIVE_INFINITY)) continue;
      entry.applied++;
      return entry.rule;
    }
    return undefined;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const seen: SeenRequest = { n: ++this.count, at: Date.now(), method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers };
    const rule = this.pick(seen);
    const entry: LogEntry = { n: seen.n, at: seen.at, method: seen.method, path: seen.path };
    if (rule) entry.fault = `${rule.name ?? 'rule'}:${rule.fault.kind}`;
    this.log.push(entry);
    res.on('finish', () => (entry.status = res.statusCode));
    const fault = rule?.fault;
    switch (fault?.kind) {
      case 'status': {
        req.resume();
        const body = fault.body ?? JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: `injected HTTP ${fault.status}` }] });
        res.writeHead(fault.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...fault.headers });
        res.end(body);
        return;
      }
      case 'respond': {
        req.resume();
        const body = typeof fault.body === 'string' ? Buffer.from(fault.body) : fault.body;
        res.writeHead(fault.status ?? 200, { 'content-length': body.byteLength, ...fault.headers });
        res.end(seen.method === 'HEAD' ? undefined : body);
        return;
      }
      case 'drop':
        req.socket.destroy();
        return;
      case 'stall':
        if (fault.afterBytes === undefined) {
          req.resume(); // read the request, never answer
          return;
        }
        this.forward(req, res, seen, fault);
        return;
      case 'hook':
        void Promise.resolve(fault.run(seen)).then(
          () => this.forward(req, res, seen, undefined),
          () => req.socket.destroy(),
        );
        return;
      default:
        this.forward(req, res, seen, fault);
    }
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, seen: SeenRequest, fault: Fault | undefined): void {
    if (this.gone) {
      req.socket.destroy();
      return;
    }
    const client = this.upstream.protocol === 'https:' ? https : http;
    const up = client.request({
      host: this.upstream.hostname,
      port: this.upstream.port,
      method: seen.method,
      path: seen.path,
      headers: withoutHopByHop(req.headers),
      agent: false,
      ...(this.upstreamCa !== undefined ? { ca: this.upstreamCa } : {}),
    });
    const entry = this.log.find((e) => e.n === seen.n)!;
    up.on('error', (err) => {
      entry.upstreamError = (err as NodeJS.ErrnoException).code ?? err.message;
      // The server is not there: the client sees its connection drop, as with a dead server.
      req.socket.destroy();
    });
    if (fault?.kind === 'reset-request') {
      let received = 0;
      let done = false;
      const cut = () => {
        if (done) return;
        done = true;
        up.destroy();
        req.socket.destroy();
      };
      req.on('data', (chunk: Buffer) => {
        if (done) return;
        received += chunk.byteLength;
        if (received >= fault.afterBytes) cut();
      });
      req.on('end', cut);
      return;
    }
    req.pipe(up);
    up.on('response', (ur) => {
      const status = ur.statusCode ?? 502;
      const headers = withoutHopByHop(ur.headers);
      if (seen.method === 'HEAD' || fault === undefined || fault.kind === 'hook') {
        res.writeHead(status, headers);
        ur.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      ur.on('data', (c: Buffer) => chunks.push(c));
      ur.on('error', () => req.socket.destroy());
      ur.on('end', () => this.deliver(res, req.socket, status, headers, Buffer.concat(chunks), fault));
    });
  }

  /** Sends a whole upstream answer with `fault` applied to its body. */
  private deliver(res: http.ServerResponse, socket: Socket, status: number, headers: http.OutgoingHttpHeaders, body: Buffer, fault: Fault): void {
    const destroyAfterFlush = (part: Buffer) => {
      res.flushHeaders();
      if (part.byteLength === 0) {
        setTimeout(() => socket.destroy(), 20);
        return;
      }
      socket.write(res.chunkedEncoding ? chunkOf(part) : part, () => setTimeout(() => socket.destroy(), 20));
    };
    switch (fault.kind) {
      case 'reset-response': {
        res.writeHead(status, { ...headers, 'content-length': body.byteLength });
        const part = body.subarray(0, Math.min(fault.afterBytes, body.byteLength));
        // Write the part straight to the socket after the headers, then reset it.
        destroyAfterFlush(part);
        return;
      }
      case 'truncate': {
        const part = body.subarray(0, Math.min(fault.toBytes, body.byteLength));
        if (fault.keepLength) {
          res.writeHead(status, { ...headers, 'content-length': body.byteLength });
          destroyAfterFlush(part);
          return;
        }
        const h = { ...headers };
        delete h['content-length'];
        res.writeHead(status, h);
        res.end(part);
        return;
      }
      case 'corrupt': {
        const copy = Buffer.from(body);
        if (copy.byteLength > 0) {
          const at = Math.min(copy.byteLength - 1, fault.offset ?? Math.floor(copy.byteLength / 2));
          copy[at] = copy[at]! ^ 0xff;
        }
        res.writeHead(status, { ...headers, 'content-length': copy.byteLength });
        res.end(copy);
        return;
      }
      case 'stall': {
        res.writeHead(status, { ...headers, 'content-length': body.byteLength });
        res.flushHeaders();
        const part = body.subarray(0, Math.min(fault.afterBytes ?? 0, body.byteLength));
        if (part.byteLength > 0) socket.write(part);
        return; // and never more
      }
      default:
        res.writeHead(status, { ...headers, 'content-length': body.byteLength });
        res.end(body);
    }
  }

  /** The server goes away: no more connections are accepted and every open one is dropped. */
  async goAway(): Promise<void> {
    this.gone = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /** Waits until `predicate` holds for the log (polling), or throws after `timeoutMs`. */
  async waitFor(predicate: (log: LogEntry[]) => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.log)) {
      if (Date.now() > deadline) throw new Error('fault proxy: condition not reached in time');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    if (!this.gone) await this.goAway();
  }
}

function chunkOf(part: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${part.byteLength.toString(16)}\r\n`), part, Buffer.from('\r\n')]);
}

export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const server = opts.tls ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key }) : http.createServer();
  server.keepAliveTimeout = 5_000;
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: LOOPBACK, port: opts.port ?? 0, exclusive: true }, () => {
      const address = server.address();
      if (address !== null && typeof address === 'object') resolve(address.port);
      else reject(new Error('fault proxy: no port'));
    });
  });
  return new FaultProxy(server, port, opts);
}

