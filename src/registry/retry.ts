// Retry policy after oras-go's: a few statuses and transport errors are retried with exponential
// backoff and full jitter; Retry-After is honoured up to a cap. Only replayable requests (bodies held
// in memory) go through here; uploads restart their whole session instead (see upload.ts).
import { setTimeout as sleepMs } from 'node:timers/promises';

export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

export interface RetryOptions {
  /** Attempts in total, the first included (default 5). */
  maxAttempts?: number;
  /** First backoff in ms (default 200); doubles each attempt. */
  baseDelayMs?: number;
  /** Cap of one backoff in ms (default 5000). */
  maxDelayMs?: number;
  /** Cap of a server's Retry-After in ms (default 30000). */
  maxRetryAfterMs?: number;
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

/** What one attempt produced: a status (with its Retry-After header) or an error. */
export interface Outcome {
  status?: number;
  retryAfter?: string;
  error?: unknown;
}

/** Retry-After as milliseconds from `now`: delta-seconds or an HTTP date. undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined;
  const when = Date.parse(text);
  if (Number.isNaN(when)) return undefined;
  return Math.max(0, when - now);
}

/** True for transport failures worth another attempt (resets, closed sockets, timeouts). */
export function isRetryableError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && RETRYABLE_CODES.has(code)) return true;
    if (/socket hang up|other side closed|socket closed/i.test(e.message)) return true;
  }
  return false;
}

export class RetryPolicy {
  readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly sleepFn: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(opts: RetryOptions = {}) {
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? 5);
    this.baseDelayMs = opts.baseDelayMs ?? 200;
    this.maxDelayMs = opts.maxDelayMs ?? 5000;
    this.maxRetryAfterMs = opts.maxRetryAfterMs ?? 30_000;
    this.sleepFn = opts.sleep ?? ((ms) => sleepMs(ms));
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
  }

  /** The wait before attempt `attempt + 1`, or undefined to stop (`attempt` counts from 1). */
  delayFor(attempt: number, outcome: Outcome): number | undefined {
    if (attempt >= this.maxAttempts) return undefined;
    if (outcome.error !== undefined) {
      const { status, retryAfter } = outcome.error as { status?: unknown; retryAfter?: unknown };
      if (typeof status === 'number') {
        // An HTTP error raised by a layer above (e.g. an upload step): judge it by its status.
        return this.delayFor(attempt, { status, retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined });
      }
      if (!isRetryableError(outcome.error)) return undefined;
    } else if (outcome.status === undefined || !RETRYABLE_STATUSES.has(outcome.status)) {
      return undefined;
    }
    const backoff = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    const jittered = Math.round(backoff / 2 + (this.random() * backoff) / 2);
    const asked = parseRetryAfter(outcome.retryAfter, this.now());
    return asked === undefined ? jittered : Math.min(this.maxRetryAfterMs, Math.max(asked, jittered));
  }

  /**
   * Runs `attempt` until it yields an outcome that is not retryable or attempts run out.
   * `outcomeOf` describes a result (undefined: a success); thrown errors are classified directly.
   * The last result is returned, the last error rethrown.
   */
  async run<T>(attempt: (n: number) => Promise<T>, outcomeOf: (result: T) => Outcome | undefined): Promise<T> {
    for (let n = 1; ; n++) {
      let delay: number | undefined;
      try {
        const result = await attempt(n);
        const outcome = outcomeOf(result);
        delay = outcome === undefined ? undefined : this.delayFor(n, outcome);
        if (delay === undefined) return result;
      } catch (err) {
        delay = this.delayFor(n, { error: err });
        if (delay === undefined) throw err;
      }
      await this.sleepFn(delay);
    }
  }
}
