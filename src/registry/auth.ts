// The auth layer: answers 401 challenges (Bearer via the token realm, Basic) and caches bearer tokens
// per (registry, scopes) until they expire, attaching them before the request goes out so that only
// the first request of a scope pays the 401 round-trip. Concurrent requests share one token fetch.
import { PolicyOciError } from '../errors.ts';
import type { Challenge } from './challenge.ts';
import { originOf, type Credential, type CredentialFunc } from './credentials.ts';
import { mergeScopes } from './scope.ts';

export { parseChallenges, type Challenge } from './challenge.ts';

/** One HTTP exchange with a token realm (supplied by the client: transport + retry, bounded body). */
export type TokenHttp = (
  url: URL,
  init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string },
) => Promise<{ status: number; body: Buffer }>;

interface BearerInfo {
  realm: string;
  service: string | undefined;
}

interface RegistryState {
  scheme: 'basic' | 'bearer';
  bearer?: BearerInfo;
}

interface CachedToken {
  header: string;
  expiresAt: number;
}

const DEFAULT_TOKEN_SECONDS = 60;
const CLIENT_ID = 'kubectl-policyoci';

function basicHeader(cred: Credential): string {
  return `Basic ${Buffer.from(`${cred.username ?? ''}:${cred.password ?? ''}`, 'utf8').toString('base64')}`;
}

function loginHint(registry: string): string {
  return `run \`kubectl policyoci login ${registry}\``;
}

/**
 * What to say when `where` (the registry, or its token service) refuses `cred`: what to fix
 * depends on where the credential came from. A login hint only where a login would help.
 */
export function rejectionMessage(where: string, registry: string, cred: Credential | undefined): string {
  if (cred === undefined || (cred.password === undefined && cred.identityToken === undefined)) {
    return `${where} requires authentication; ${loginHint(registry)} (or pass --username with --password-stdin)`;
  }
  const origin = originOf(cred);
  switch (origin?.kind) {
    case 'flags':
      return `${where} rejected the user name or password given with --username and --password-stdin`;
    case 'login':
      return `${where} rejected the user name or password`;
    case 'file':
      return `${where} rejected the credentials stored for ${registry} in ${origin.path}; ${loginHint(registry)} to replace them`;
    case 'helper':
      return `${where} rejected the credentials from docker-credential-${origin.helper}; ${loginHint(registry)} to replace them`;
    default:
      return `${where} rejected the credentials; ${loginHint(registry)}`;
  }
}

export class Authenticator {
  /** Requests sent to token realms (for tests and benchmarks). */
  tokenRequestCount = 0;
  private readonly states = new Map<string, RegistryState>();
  private readonly tokens = new Map<string, CachedToken>();
  private readonly inflight = new Map<string, Promise<CachedToken>>();

  private readonly http: TokenHttp;
  private readonly credentials: CredentialFunc;
  private readonly now: () => number;

  constructor(http: TokenHttp, credentials: CredentialFunc = () => Promise.resolve(undefined), now: () => number = Date.now) {
    this.http = http;
    this.credentials = credentials;
    this.now = now;
  }

  /** The Authorization header to send up front, when a previous challenge says what works. */
  async headerFor(registry: string, scopes: string[]): Promise<string | undefined> {
    const state = this.states.get(registry);
    if (state === undefined) return undefined;
    if (state.scheme === 'basic') {
      const cred = await this.credentials(registry);
      return cred?.password !== undefined ? basicHeader(cred) : undefined;
    }
    if (state.bearer === undefined) return undefined;
    return (await this.token(registry, state.bearer, scopes)).header;
  }

  /** Answers a 401: the header to retry with. Throws UNAUTHORIZED when there is nothing better to send. */
  async onUnauthorized(registry: string, scopes: string[], challenges: Challenge[], sent: string | undefined): Promise<string> {
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    if (bearer !== undefined) {
      const info: BearerInfo = { realm: bearer.params.realm ?? '', service: bearer.params.service };
      this.states.set(registry, { scheme: 'bearer', bearer: info });
      const key = this.cacheKey(registry, scopes);
      const cached = this.tokens.get(key);
      if (cached !== undefined && cached.header !== sent && cached.expiresAt > this.now()) return cached.header;
      if (cached !== undefined && cached.header === sent) this.tokens.delete(key);
      const wanted = bearer.params.scope ? [...scopes, bearer.params.scope] : scopes;
      return (await this.token(registry, info, scopes, wanted)).header;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      const cred = await this.credentials(registry);
      if (cred?.password === undefined) throw new PolicyOciError('UNAUTHORIZED', rejectionMessage(registry, registry, undefined));
      const header = basicHeader(cred);
      if (sent === header) throw new PolicyOciError('UNAUTHORIZED', rejectionMessage(registry, registry, cred));
      this.states.set(registry, { scheme: 'basic' });
      return header;
    }
    throw new PolicyOciError('UNAUTHORIZED', `${registry} answered 401 without a usable challenge; ${loginHint(registry)}`);
  }

  private cacheKey(registry: string, scopes: string[]): string {
    return `${registry} ${mergeScopes(scopes).join(' ')}`;
  }

  /** A valid cached token for `scopes`, or one fetched (once, however many callers ask at the same time). */
  private token(registry: string, info: BearerInfo, scopes: string[], wanted: string[] = scopes): Promise<CachedToken> {
    const key = this.cacheKey(registry, scopes);
    const cached = this.tokens.get(key);
    if (cached !== undefined && cached.expiresAt > this.now()) return Promise.resolve(cached);
    let pending = this.inflight.get(key);
    if (pending === undefined) {
      pending = this.fetchToken(registry, info, mergeScopes(wanted))
        .then((token) => {
          this.tokens.set(key, token);
          return token;
        })
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  private async fetchToken(registry: string, info: BearerInfo, scopes: string[]): Promise<CachedToken> {
    let realm: URL;
    try {
      realm = new URL(info.realm);
    } catch {
      throw new PolicyOciError('REGISTRY', `${registry} named a token realm that is not a URL`);
    }
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') {
      throw new PolicyOciError('REGISTRY', `${registry} named a token realm with scheme ${realm.protocol}`);
    }
    const cred = await this.credentials(registry);
    const issuedAt = this.now();
    this.tokenRequestCount++;
    let res: { status: number; body: Buffer };
    if (cred?.identityToken !== undefined) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: cred.identityToken, client_id: CLIENT_ID });
      if (info.service !== undefined) form.set('service', info.service);
      if (scopes.length > 0) form.set('scope', scopes.join(' '));
      const headers = { 'content-type': 'application/x-www-form-urlencoded' };
      res = await this.http(realm, { method: 'POST', headers, body: form.toString() });
    } else {
      if (info.service !== undefined) realm.searchParams.set('service', info.service);
      for (const scope of scopes) realm.searchParams.append('scope', scope);
      const headers: Record<string, string> = cred?.password !== undefined ? { authorization: basicHeader(cred) } : {};
      res = await this.http(realm, { method: 'GET', headers });
    }
    const where = `the token service of ${registry} (${realm.host})`;
    if (res.status === 401 || res.status === 403) throw new PolicyOciError('UNAUTHORIZED', rejectionMessage(where, registry, cred));
    if (res.status !== 200) throw new PolicyOciError('REGISTRY', `${where} answered HTTP ${res.status}`);
    return this.readToken(res.body, where, issuedAt);
  }

  private readToken(body: Buffer, where: string, issuedAt: number): CachedToken {
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
    } catch {
      throw new PolicyOciError('REGISTRY', `${where} answered something that is not JSON`);
    }
    const token = typeof parsed.token === 'string' && parsed.token !== '' ? parsed.token : parsed.access_token;
    if (typeof token !== 'string' || token === '') throw new PolicyOciError('REGISTRY', `${where} answered without a token`);
    const seconds = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : DEFAULT_TOKEN_SECONDS;
    const margin = Math.min(10_000, seconds * 100); // 10% or 10 s, whichever is smaller
    return { header: `Bearer ${token}`, expiresAt: issuedAt + seconds * 1000 - margin };
  }
}
