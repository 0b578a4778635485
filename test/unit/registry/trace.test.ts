// What the -v/--verbose trace and the failure messages may show: never a credential, never a
// whole web page; and the auth messages say what to fix for where the credentials came from.
import { describe, expect, it } from 'vitest';
import { rejectionMessage } from '../../../src/registry/auth.ts';
import { withOrigin } from '../../../src/registry/credentials.ts';
import { transportError } from '../../../src/registry/errors.ts';
import { authScheme, redactUrl } from '../../../src/registry/trace.ts';
import { notKubernetes } from '../../../src/kube/http.ts';

describe('redactUrl', () => {
  it('drops userinfo and replaces every query value that is not known to be harmless', () => {
    const url = 'https://alice:s3cret@store.example/blob?X-Amz-Signature=abc123&X-Amz-Credential=AKIA&access_token=tok-value-9f3&_state=opaque&digest=sha256%3Aaa&n=10';
    const shown = redactUrl(url);
    for (const secret of ['alice', 's3cret', 'abc123', 'AKIA', 'tok-value-9f3', 'opaque']) expect(shown).not.toContain(secret);
    expect(shown).toBe('https://store.example/blob?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED&access_token=REDACTED&_state=REDACTED&digest=sha256%3Aaa&n=10');
    expect(redactUrl('http://127.0.0.1:5000/v2/')).toBe('http://127.0.0.1:5000/v2/');
  });

  it('shows the scheme of an Authorization header only', () => {
    expect(authScheme('Bearer eyJhbGciOi.payload.sig')).toBe('Bearer');
    expect(authScheme('Basic YWxpY2U6czNjcmV0')).toBe('Basic');
    expect(authScheme(undefined)).toBeUndefined();
  });
});

describe('rejectionMessage', () => {
  it('says what to fix for each origin of the credentials, and sends to `login` only where it helps', () => {
    const cred = { username: 'alice', password: 'pw' };
    expect(rejectionMessage('r.test', 'r.test', withOrigin({ ...cred }, { kind: 'flags' }))).toBe('r.test rejected the user name or password given with --username and --password-stdin');
    expect(rejectionMessage('r.test', 'r.test', withOrigin({ ...cred }, { kind: 'login' }))).toBe('r.test rejected the user name or password');
    expect(rejectionMessage('r.test', 'r.test', withOrigin({ ...cred }, { kind: 'file', path: '/h/.docker/config.json' }))).toBe(
      'r.test rejected the credentials stored for r.test in /h/.docker/config.json; run `kubectl policyoci login r.test` to replace them',
    );
    expect(rejectionMessage('r.test', 'r.test', withOrigin({ ...cred }, { kind: 'helper', helper: 'pass' }))).toMatch(/from docker-credential-pass; run `kubectl policyoci login r.test`/);
    expect(rejectionMessage('r.test', 'r.test', undefined)).toMatch(/requires authentication; run `kubectl policyoci login r.test` \(or pass --username with --password-stdin\)/);
  });
});

describe('transportError', () => {
  it("turns OpenSSL's dump into one line, and a refused connection into a question about the registry", () => {
    const tls = Object.assign(new Error('409342DE517F0000:error:0A00010B:SSL routines:tls_validate_record_header:wrong version number:../deps/openssl/openssl/ssl/record/methods/tlsany_meth.c:78:\n'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' });
    const msg = transportError(tls, 'GET', new URL('https://127.0.0.1:5000/v2/')).message;
    expect(msg).toBe('GET 127.0.0.1:5000/v2/ failed: the server does not speak TLS (HTTPS) [ERR_SSL_WRONG_VERSION_NUMBER]; for a plain-HTTP registry pass --plain-http');
    const refused = Object.assign(new AggregateError([], ''), { code: 'ECONNREFUSED' });
    expect(transportError(refused, 'HEAD', new URL('http://localhost:5000/v2/x')).message).toMatch(/failed: connection refused \[ECONNREFUSED\]; is the registry running, and listening on localhost:5000\?/);
  });
});

describe('notKubernetes', () => {
  it('names the status, the kind of answer and its title, never the page', () => {
    const page = `<!DOCTYPE html><html><head><title>Sign in - Corp SSO</title></head><body>${'x'.repeat(10_000)}</body></html>`;
    const text = notKubernetes(200, 'text/html; charset=utf-8', page);
    expect(text).toBe('HTTP 200 with an HTML page: "Sign in - Corp SSO", not a Kubernetes API answer; is the kubeconfig\'s server a Kubernetes API server?');
    expect(notKubernetes(502, 'text/plain', 'Bad Gateway\n')).toMatch(/^HTTP 502 with a text\/plain answer: "Bad Gateway"/);
  });
});
