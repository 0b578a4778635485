// A real Docker registry token server (https://distribution.github.io/distribution/spec/auth/token/)
// for the tests, on node:http and node:crypto only.
//
// distribution 2.8 (registry/auth/token/token.go) accepts a JWT when: iss is the configured issuer,
// aud is the service, exp/nbf hold (60 s leeway), and the signing key is trusted: either an `x5c`
// chain to `rootcertbundle`, or a `kid` equal to the libtrust key ID of a certificate in that bundle.
// We use `kid`: libtrust's ID is SHA-256 of the key's DER SubjectPublicKeyInfo, first 30 bytes,
// base32 without padding, in 4-character groups joined by ':'. The signature is ES256 as JOSE wants
// it (r || s, 32 bytes each), which libtrust checks.
import { createHash, createPrivateKey, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSigningCert } from './certs.ts';
import { LOOPBACK } from './ports.ts';

export interface TokenUser {
  username: string;
  password: string;
  /** Gets only `pull`, whatever it asks for. */
  readOnly?: boolean;
}

export interface TokenIssuerOptions {
  /** Directory for the signing key and certificate. */
  dir: string;
  users: readonly TokenUser[];
  service?: string;
  issuer?: string;
  /** Token lifetime in seconds (default 300). */
  expiresIn?: number;
}

export interface TokenRequestRecord {
  /** undefined for anonymous requests */
  username: string | undefined;
  scopes: string[];
  status: number;
}

export interface ResourceActions {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenIssuer {
  /** http://127.0.0.1:PORT */
  url: string;
  /** The realm the registry advertises: `${url}/token` */
  realm: string;
  service: string;
  issuer: string;
  /** PEM certificate of the signing key: the registry's `rootcertbundle`. */
  rootCertBundle: string;
  /** libtrust key ID of the signing key (the JWT `kid`). */
  keyId: string;
  /** Every request to the server, whatever its outcome. */
  readonly requestCount: number;
  readonly requests: readonly TokenRequestRecord[];
  resetCounts(): void;
  stop(): Promise<void>;
}

export const DEFAULT_SERVICE = 'policyoci-test-registry';
export const DEFAULT_ISSUER = 'policyoci-test-issuer';

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/** libtrust's key ID (docker/libtrust util.go keyIDFromCryptoKey). */
export function libtrustKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const digest = createHash('sha256').update(der).digest().subarray(0, 30);
  const b32 = base32(digest);
  return b32.match(/.{1,4}/g)?.join(':') ?? b32;
}

function base32(data: Buffer): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of data) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

/** Parses `type:name:actions` scopes; a query may repeat `scope` and a value may hold several, space-separated. */
export function parseScopes(values: readonly string[]): ResourceActions[] {
  const out: ResourceActions[] = [];
  for (const scope of values.flatMap((value) => value.split(' ')).filter((s) => s !== '')) {
    const first = scope.indexOf(':');
    const last = scope.lastIndexOf(':');
    if (first <= 0 || last === first) continue;
    out.push({
      type: scope.slice(0, first),
      name: scope.slice(first + 1, last),
      actions: scope.slice(last + 1).split(',').filter((a) => a !== ''),
    });
  }
  return out;
}

function grant(user: TokenUser | undefined, requested: readonly ResourceActions[]): ResourceActions[] {
  if (user === undefined) return [];
  const granted: ResourceActions[] = [];
  for (const resource of requested) {
    let allowed: Set<string>;
    if (resource.type.startsWith('repository')) {
      allowed = user.readOnly ? new Set(['pull']) : new Set(['pull', 'push', 'delete', '*']);
    } else if (resource.type === 'registry' && resource.name === 'catalog') {
      allowed = new Set(['*']);
    } else {
      continue;
    }
    const actions = resource.actions.filter((action) => allowed.has(action));
    if (actions.length > 0) granted.push({ ...resource, actions });
  }
  return granted;
}

function parseBasic(header: string | undefined): { username: string; password: string } | null | undefined {
  if (header === undefined) return undefined;
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export async function startTokenIssuer(options: TokenIssuerOptions): Promise<TokenIssuer> {
  const service = options.service ?? DEFAULT_SERVICE;
  const issuer = options.issuer ?? DEFAULT_ISSUER;
  const expiresIn = options.expiresIn ?? 300;
  const signing = await createSigningCert(options.dir);
  const privateKey = createPrivateKey(await readFile(signing.keyFile));
  const keyId = libtrustKeyId(new X509Certificate(await readFile(signing.certFile)).publicKey);
  const header = base64url(JSON.stringify({ typ: 'JWT', alg: 'ES256', kid: keyId }));

  const makeToken = (subject: string, access: ResourceActions[]): { token: string; issuedAt: Date } => {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: issuer,
      sub: subject,
      aud: service,
      exp: now + expiresIn,
      nbf: now,
      iat: now,
      jti: randomBytes(16).toString('hex'),
      access,
    };
    const input = `${header}.${base64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    return { token: `${input}.${base64url(signature)}`, issuedAt: new Date(now * 1000) };
  };

  const requests: TokenRequestRecord[] = [];
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://issuer');
    const record: TokenRequestRecord = { username: undefined, scopes: url.searchParams.getAll('scope'), status: 0 };
    requests.push(record);
    const reply = (status: number, body: unknown, headers?: Record<string, string>): void => {
      record.status = status;
      sendJson(res, status, body, headers);
    };
    if (url.pathname !== '/token') return reply(404, { errors: [{ code: 'NOT_FOUND', message: 'not found' }] });
    if (req.method !== 'GET') return reply(405, { errors: [{ code: 'UNSUPPORTED', message: 'use GET' }] }, { allow: 'GET' });
    const requestedService = url.searchParams.get('service');
    if (requestedService !== null && requestedService !== service) {
      return reply(400, { errors: [{ code: 'INVALID_SERVICE', message: `unknown service ${requestedService}` }] });
    }
    const credentials = parseBasic(req.headers.authorization);
    let user: TokenUser | undefined;
    if (credentials !== undefined) {
      user = options.users.find((u) => credentials !== null && u.username === credentials.username && u.password === credentials.password);
      record.username = credentials?.username;
      if (user === undefined) {
        return reply(
          401,
          { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
          { 'www-authenticate': `Basic realm="${issuer}"` },
        );
      }
    }
    const { token, issuedAt } = makeToken(user?.username ?? '', grant(user, parseScopes(record.scopes)));
    reply(200, { token, access_token: token, expires_in: expiresIn, issued_at: issuedAt.toISOString() });
  };

  const server = createServer((req, res) => {
    // Drain the body (GET has none) so keep-alive works, then answer.
    req.resume();
    req.once('end', () => handle(req, res));
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve());
  });
  server.unref();
  const { port } = server.address() as AddressInfo;
  const url = `http://${LOOPBACK}:${port}`;

  let stopped: Promise<void> | undefined;
  return {
    url,
    realm: `${url}/token`,
    service,
    issuer,
    rootCertBundle: signing.certFile,
    keyId,
    get requestCount() {
      return requests.length;
    },
    get requests() {
      return requests;
    },
    resetCounts() {
      requests.length = 0;
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
