import { describe, expect, it } from 'vitest';
import { isRetryableError, parseRetryAfter, RetryPolicy } from '../../../src/registry/retry.ts';

const NOW = Date.parse('2026-05-01T12:00:00Z');

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('3', NOW)).toBe(3000);
    expect(parseRetryAfter(' 0 ', NOW)).toBe(0);
    expect(parseRetryAfter('Fri, 01 May 2026 12:00:05 GMT', NOW)).toBe(5000);
    expect(parseRetryAfter('Fri, 01 May 2026 11:00:00 GMT', NOW)).toBe(0);
  });
  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
    expect(parseRetryAfter('-1', NOW)).toBeUndefined();
    expect(parseRetryAfter('1.5', NOW)).toBeUndefined();
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
  });
});

function policy(waits: number[], maxAttempts = 5): RetryPolicy {
  return new RetryPolicy({
    maxAttempts,
    baseDelayMs: 100,
    maxDelayMs: 1000,
    maxRetryAfterMs: 2000,
    random: () => 1,
    now: () => NOW,
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
  });
}

describe('RetryPolicy', () => {
  it('retries retryable statuses with exponential backoff up to maxAttempts', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await policy(waits).run(
      () => Promise.resolve(++calls),
      () => ({ status: 503 }),
    );
    expect(result).toBe(5);
    expect(waits).toEqual([100, 200, 400, 800]);
  });

  it('stops on success and on statuses that are not retryable', async () => {
    for (const status of [200, 400, 401, 404]) {
      const waits: number[] = [];
      await policy(waits).run(() => Promise.resolve(status), (s) => (s === 200 ? undefined : { status: s }));
      expect(waits).toEqual([]);
    }
  });

  it('honours Retry-After, capped', async () => {
    const waits: number[] = [];
    const p = policy(waits, 3);
    expect(p.delayFor(1, { status: 429, retryAfter: '1' })).toBe(1000);
    expect(p.delayFor(1, { status: 429, retryAfter: '60' })).toBe(2000);
    expect(p.delayFor(1, { status: 429, retryAfter: 'Fri, 01 May 2026 12:00:01 GMT' })).toBe(1000);
    expect(p.delayFor(3, { status: 429, retryAfter: '1' })).toBeUndefined();
  });

  it('retries network errors and rethrows the last one', async () => {
    const waits: number[] = [];
    let calls = 0;
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    await expect(
      policy(waits, 3).run(() => {
        calls++;
        return Promise.reject(reset);
      }, () => undefined),
    ).rejects.toBe(reset);
    expect(calls).toBe(3);
    expect(waits).toHaveLength(2);
  });

  it('does not retry other errors; judges errors with a status by the status', async () => {
    const waits: number[] = [];
    await expect(policy(waits).run(() => Promise.reject(new Error('boom')), () => undefined)).rejects.toThrow('boom');
    expect(waits).toEqual([]);
    const p = policy(waits);
    expect(p.delayFor(1, { error: Object.assign(new Error('x'), { status: 502 }) })).toBe(100);
    expect(p.delayFor(1, { error: Object.assign(new Error('x'), { status: 404 }) })).toBeUndefined();
  });

  it('classifies transport errors through their causes', () => {
    expect(isRetryableError(new Error('wrap', { cause: Object.assign(new Error('s'), { code: 'UND_ERR_SOCKET' }) }))).toBe(true);
    expect(isRetryableError(new Error('other side closed'))).toBe(true);
    expect(isRetryableError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(false);
    expect(isRetryableError('string')).toBe(false);
  });
});
