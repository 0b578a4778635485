import { describe, expect, it } from 'vitest';
import { mergeScopes, pullScope, pushScope } from '../../../src/registry/scope.ts';
import { nextLink, parseTagPage } from '../../../src/registry/tags.ts';
import { isLoopback, registryScheme, Transport } from '../../../src/registry/transport.ts';

describe('scopes', () => {
  it('merges actions per resource and sorts', () => {
    expect(mergeScopes([pullScope('b'), pushScope('a'), 'repository:b:push', 'repository:a:pull'])).toEqual([
      'repository:a:pull,push',
      'repository:b:pull,push',
    ]);
    expect(mergeScopes(['repository:a:pull', 'repository:a:*', 'registry:catalog:*'])).toEqual(['registry:catalog:*', 'repository:a:*']);
    expect(mergeScopes(['repository:a:pull repository:a:push'])).toEqual(['repository:a:pull,push']);
  });
});

describe('tag pages', () => {
  it('parses pages and the next link', () => {
    expect(parseTagPage(Buffer.from('{"name":"a","tags":["v1","v2"]}'), 'r')).toEqual(['v1', 'v2']);
    expect(parseTagPage(Buffer.from('{"name":"a","tags":null}'), 'r')).toEqual([]);
    expect(() => parseTagPage(Buffer.from('<html>'), 'r')).toThrow(/not JSON/);
    expect(() => parseTagPage(Buffer.from('{"tags":[1]}'), 'r')).toThrow(/malformed/);
    expect(nextLink('</v2/a/tags/list?last=v2&n=2>; rel="next"')).toBe('/v2/a/tags/list?last=v2&n=2');
    expect(nextLink('<https://x/prev>; rel="prev", <https://x/next>; rel=next')).toBe('https://x/next');
    expect(nextLink('<https://x/prev>; rel="prev"')).toBeUndefined();
    expect(nextLink(undefined)).toBeUndefined();
  });
});

describe('transport', () => {
  it('knows loopback hosts', () => {
    for (const host of ['localhost', 'localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000', 'foo.localhost']) {
      expect(isLoopback(host), host).toBe(true);
    }
    for (const host of ['ghcr.io', '10.0.0.1:5000', 'localhost.example.com', '[::2]:5000']) {
      expect(isLoopback(host), host).toBe(false);
    }
  });
  it('picks the scheme', () => {
    expect(registryScheme('ghcr.io')).toBe('https');
    expect(registryScheme('ghcr.io', { plainHttp: true })).toBe('http');
    expect(registryScheme('localhost:5000')).toBe('http');
    expect(registryScheme('127.0.0.1:5000')).toBe('http');
    expect(registryScheme('localhost:5000', { caFile: '/x' })).toBe('https');
    expect(registryScheme('localhost:5000', { insecure: true })).toBe('https');
    expect(registryScheme('localhost:5000', { insecure: true, plainHttp: true })).toBe('http');
  });
  it('routes loopback around a configured proxy', async () => {
    const t = new Transport({}, { HTTPS_PROXY: 'http://proxy.invalid:3128' });
    const direct = t.agentFor(new URL('https://127.0.0.1:5000/v2/'));
    expect(t.agentFor(new URL('https://localhost:5000/v2/'))).toBe(direct);
    expect(t.agentFor(new URL('https://ghcr.io/v2/'))).not.toBe(direct);
    expect(t.agentFor(new URL('http://ghcr.io/v2/'))).not.toBe(t.agentFor(new URL('http://[::1]:5000/v2/')));
    await t.close();
  });
  it('names a missing CA file and a lone client cert', () => {
    expect(() => new Transport({ caFile: '/nonexistent/ca.pem' })).toThrow(/cannot read CA file \/nonexistent\/ca.pem \(ENOENT\)/);
    expect(() => new Transport({ certFile: '/x.pem' })).toThrow(/needs both/);
  });
});
