import { describe, expect, it } from 'vitest';
import { parseChallenges } from '../../../src/registry/challenge.ts';

describe('parseChallenges', () => {
  it('reads a distribution Bearer challenge', () => {
    const header = 'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push"';
    expect(parseChallenges(header)).toEqual([
      {
        scheme: 'bearer',
        params: { realm: 'https://auth.example.com/token', service: 'registry.example.com', scope: 'repository:a/b:pull,push' },
      },
    ]);
  });

  it('reads several challenges in one header, with commas and escapes inside quotes', () => {
    const header = 'Basic realm="a, \\"quoted\\" realm", charset=UTF-8, Bearer realm="https://t/x?a=1,2" , error="insufficient_scope"';
    expect(parseChallenges(header)).toEqual([
      { scheme: 'basic', params: { realm: 'a, "quoted" realm', charset: 'UTF-8' } },
      { scheme: 'bearer', params: { realm: 'https://t/x?a=1,2', error: 'insufficient_scope' } },
    ]);
  });

  it('reads challenges spread over several headers, case-insensitive names', () => {
    expect(parseChallenges(['BASIC Realm="r"', 'bearer REALM = "https://t" ,SERVICE=svc'])).toEqual([
      { scheme: 'basic', params: { realm: 'r' } },
      { scheme: 'bearer', params: { realm: 'https://t', service: 'svc' } },
    ]);
  });

  it('copes with token68, bare schemes, empty and junk input', () => {
    expect(parseChallenges('Negotiate abc==, Basic realm="x"').map((c) => c.scheme)).toEqual(['negotiate', 'basic']);
    expect(parseChallenges('Basic')).toEqual([{ scheme: 'basic', params: {} }]);
    expect(parseChallenges(undefined)).toEqual([]);
    expect(parseChallenges('')).toEqual([]);
    expect(parseChallenges('Bearer realm="unterminated')).toEqual([{ scheme: 'bearer', params: { realm: 'unterminated' } }]);
  });
});
