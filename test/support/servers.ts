// Small real servers for the transport tests: a web server that is not a registry nor a
// Kubernetes API server (what a wrong port or a wrong kubeconfig reaches), and a TCP relay that
// puts a real server behind another port (the ports Node's fetch refuses as "bad ports").
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { LOOPBACK } from './ports.ts';

export interface RunningServer {
  port: number;
  /** "127.0.0.1:PORT" */
  host: string;
  /** Requests answered so far (web server only). */
  requests: string[];
  stop(): Promise<void>;
}

function closeServer(server: Server | HttpServer, sockets: Set<Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

function track(server: Server | HttpServer): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return sockets;
}

export const WEB_PAGE_TITLE = 'Welcome to the intranet';

/** A long HTML page: what must never be dumped into an error message whole. */
export const WEB_PAGE = `<!DOCTYPE html>\n<html><head><title>${WEB_PAGE_TITLE}</title></head><body>\n${'<p>lorem ipsum dolor sit amet</p>\n'.repeat(200)}</body></html>\n`;

/**
 * A plain web server: HTML for everything. `status` for every path but "/", which answers 200
 * (like nginx's welcome page with 404s elsewhere; use 200 for a catch-all single-page app). POST
 * and PUT get 501, as Python's http.server answers them.
 */
export async function startWebServer(options: { status?: number; port?: number } = {}): Promise<RunningServer> {
  const requests: string[] = [];
  const server = createHttpServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    const status = req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH' ? 501 : req.url === '/' ? 200 : (options.status ?? 404);
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
    res.end(req.method === 'HEAD' ? undefined : WEB_PAGE);
  });
  const sockets = track(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: LOOPBACK, port: options.port ?? 0 }, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return { port, host: `${LOOPBACK}:${port}`, requests, stop: () => closeServer(server, sockets) };
}

/** Listens on LOOPBACK:`port` and relays every connection to `target` ("host:port"), bytes untouched (TLS passes through). */
export async function startRelay(port: number, target: string): Promise<RunningServer> {
  const [targetHost, targetPort] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const server = createServer((client) => {
    const upstream = connect({ host: targetHost, port: targetPort });
    client.pipe(upstream).pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  const sockets = track(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: LOOPBACK, port, exclusive: true }, () => resolve());
  });
  return { port, host: `${LOOPBACK}:${port}`, requests: [], stop: () => closeServer(server, sockets) };
}

/** Ports WHATWG fetch (and so Node's fetch) refuses to connect to, which kubectl and crane reach. */
export const FETCH_BAD_PORTS = [6000, 6665, 6666, 6667, 6668, 6669, 10080, 6697, 5060, 4190];

/** A relay to `target` on the first of FETCH_BAD_PORTS that is free here. */
export async function startRelayOnBadPort(target: string): Promise<RunningServer> {
  for (const port of FETCH_BAD_PORTS) {
    try {
      return await startRelay(port, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
  throw new Error(`every port of ${FETCH_BAD_PORTS.join(', ')} is taken on this machine`);
}
