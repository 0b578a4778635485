import { describe, expect, it } from 'vitest';
import { Authenticator, parseChallenges, type TokenHttp } from '../../../src/registry/auth.ts';
import type { Credential } from '../../../src/registry/credentials.ts';

const SECRET = 'pa55-w0rd-secret';
const bearer = (scope?: string) =>
  parseChallenges(`Bearer realm="https://auth.test/token",service="reg.test"${scope ? `,scope="${scope}"` : ''}`);

interface Call {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

function fakeRealm(reply: (call: Call, n: number) => { status: number; json?: unknown }) {
  const calls: Call[] = [];
  const http: TokenHttp = async (url, init) => {
    const call = { url, method: init.method, headers: init.headers, body: init.body };
    calls.push(call);
    await new Promise((r) => setTimeout(r, 5));
    const { status, json } = reply(call, calls.length);
    return { status, body: Buffer.from(json === undefined ? '' : JSON.stringify(json)) };
  };
  return { calls, http };
}

const creds = (c: Credential | undefined) => () => Promise.resolve(c);

describe('Authenticator: bearer', () => {
  it('fetches a token with service, scopes and basic auth, then reuses it up front', async () => {
    const realm = fakeRealm((_c, n) => ({ status: 200, json: { token: `t${n}`, expires_in: 300 } }));
    const auth = new Authenticator(realm.http, creds({ username: 'u', password: SECRET }));
    const scope = ['repository:a:pull,push'];
    expect(await auth.headerFor('reg.test', scope)).toBeUndefined();
    expect(await auth.onUnauthorized('reg.test', scope, bearer('repository:a:pull,push'), undefined)).toBe('Bearer t1');
    const call = realm.calls[0];
    expect(call?.url.origin + (call?.url.pathname ?? '')).toBe('https://auth.test/token');
    expect(call?.url.searchParams.get('service')).toBe('reg.test');
    expect(call?.url.searchParams.getAll('scope')).toEqual(['repository:a:pull,push']);
    expect(call?.headers.authorization).toBe(`Basic ${Buffer.from(`u:${SECRET}`).toString('base64')}`);
    for (let i = 0; i < 5; i++) expect(await auth.headerFor('reg.test', scope)).toBe('Bearer t1');
    // another scope: fetched up front (no 401 round-trip), once
    expect(await auth.headerFor('reg.test', ['repository:b:pull'])).toBe('Bearer t2');
    expect(await auth.headerFor('reg.test', ['repository:b:pull'])).toBe('Bearer t2');
    expect(auth.tokenRequestCount).toBe(2);
  });

  it('shares one fetch between concurrent 401s and merges the challenge scope', async () => {
    const realm = fakeRealm(() => ({ status: 200, json: { access_token: 'shared' } }));
    const auth = new Authenticator(realm.http);
    const scope = ['repository:a:pull,push', 'repository:src:pull'];
    const headers = await Promise.all(
      Array.from({ length: 10 }, () => auth.onUnauthorized('reg.test', scope, bearer('repository:a:push'), undefined)),
    );
    expect(new Set(headers)).toEqual(new Set(['Bearer shared']));
    expect(realm.calls).toHaveLength(1);
    expect(realm.calls[0]?.url.searchParams.getAll('scope')).toEqual(['repository:a:pull,push', 'repository:src:pull']);
    expect(realm.calls[0]?.headers.authorization).toBeUndefined(); // anonymous
  });

  it('refetches when the token expires or is rejected', async () => {
    let now = 1_000_000;
    const realm = fakeRealm((_c, n) => ({ status: 200, json: { token: `t${n}`, expires_in: 60 } }));
    const auth = new Authenticator(realm.http, creds(undefined), () => now);
    const scope = ['repository:a:pull'];
    const first = await auth.onUnauthorized('reg.test', scope, bearer(), undefined);
    now += 49_000;
    expect(await auth.headerFor('reg.test', scope)).toBe(first);
    now += 6_000; // 55 s: inside the 10% safety margin of the 60 s lifetime
    expect(await auth.headerFor('reg.test', scope)).toBe('Bearer t2');
    expect(await auth.onUnauthorized('reg.test', scope, bearer(), 'Bearer t2')).toBe('Bearer t3');
  });

  it('exchanges an identity token with an OAuth2 POST', async () => {
    const realm = fakeRealm(() => ({ status: 200, json: { access_token: 'oauth' } }));
    const auth = new Authenticator(realm.http, creds({ identityToken: SECRET }));
    expect(await auth.onUnauthorized('reg.test', ['repository:a:pull'], bearer(), undefined)).toBe('Bearer oauth');
    const call = realm.calls[0];
    expect(call?.method).toBe('POST');
    expect(call?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const form = new URLSearchParams(call?.body);
    expect(Object.fromEntries(form)).toEqual({
      grant_type: 'refresh_token',
      refresh_token: SECRET,
      client_id: 'kubectl-policyoci',
      service: 'reg.test',
      scope: 'repository:a:pull',
    });
  });

  it('reports rejected credentials and bad token responses without secrets', async () => {
    const rejecting = new Authenticator(fakeRealm(() => ({ status: 401 })).http, creds({ username: 'u', password: SECRET }));
    const err = (await rejecting.onUnauthorized('reg.test', [], bearer(), undefined).catch((e: unknown) => e)) as Error & { code: string };
    expect(err.code).toBe('UNAUTHORIZED');
    expect(err.message).toMatch(/rejected the credentials; run `kubectl policyoci login reg.test`/);
    expect(err.message).not.toContain(SECRET);
    const empty = new Authenticator(fakeRealm(() => ({ status: 200, json: {} })).http);
    await expect(empty.onUnauthorized('reg.test', [], bearer(), undefined)).rejects.toThrow(/without a token/);
    const broken = new Authenticator(fakeRealm(() => ({ status: 500 })).http);
    await expect(broken.onUnauthorized('reg.test', [], bearer(), undefined)).rejects.toMatchObject({ code: 'REGISTRY' });
    const weird = new Authenticator(fakeRealm(() => ({ status: 200 })).http);
    await expect(weird.onUnauthorized('reg.test', [], parseChallenges('Bearer realm="file:///etc/passwd"'), undefined)).rejects.toThrow(
      /scheme file:/,
    );
  });
});

describe('Authenticator: basic', () => {
  it('answers Basic challenges with credentials and then sends them up front', async () => {
    const auth = new Authenticator(fakeRealm(() => ({ status: 500 })).http, creds({ username: 'u', password: SECRET }));
    const challenge = parseChallenges('Basic realm="registry"');
    const header = await auth.onUnauthorized('reg.test', [], challenge, undefined);
    expect(header).toBe(`Basic ${Buffer.from(`u:${SECRET}`).toString('base64')}`);
    expect(await auth.headerFor('reg.test', ['repository:x:pull'])).toBe(header);
    const rejected = await auth.onUnauthorized('reg.test', [], challenge, header).catch((e: Error) => e.message);
    expect(rejected).toMatch(/rejected the credentials/);
    expect(rejected).not.toContain(SECRET);
  });

  it('asks for a login when there are no credentials or no usable challenge', async () => {
    const auth = new Authenticator(fakeRealm(() => ({ status: 500 })).http);
    await expect(auth.onUnauthorized('reg.test', [], parseChallenges('Basic realm="r"'), undefined)).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      message: expect.stringMatching(/requires authentication; run `kubectl policyoci login reg.test`/),
    });
    await expect(auth.onUnauthorized('reg.test', [], [], undefined)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });
});
