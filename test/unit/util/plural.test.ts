import { describe, expect, it } from 'vitest';
import { count, noun } from '../../../src/util/plural.ts';

describe('count', () => {
  it('says "1 policy" and "0 policies", "2 policies", irregular and regular nouns alike', () => {
    expect([0, 1, 2].map((n) => count(n, 'policy'))).toEqual(['0 policies', '1 policy', '2 policies']);
    expect([1, 7].map((n) => count(n, 'manifest'))).toEqual(['1 manifest', '7 manifests']);
    expect(count(1, 'more problem')).toBe('1 more problem');
    expect(noun(3, 'index', 'indexes')).toBe('indexes');
  });
});
