/**
 * A fixed-window rate limit per API key (WorkOS: 1000 requests a minute). Every answer carries
 * `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (Unix time in seconds when
 * the window ends); past the limit the answer is 429 with `Retry-After` (seconds).
 * @module
 */
import { HttpError } from './_http-error.js';

interface Window {
  start: number;
  count: number;
}

/** The outcome of counting one request. */
export interface RateDecision {
  /** Headers for the response. */
  headers: Record<string, string>;
  /** True when the request is over the limit. */
  limited: boolean;
  /** Seconds until the window ends (for `Retry-After`). */
  retryAfter: number;
}

/** Per-key request counters. */
export class RateLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #windows = new Map<string, Window>();

  /**
   * @param options - `limit` per `windowMs`, already checked (positive).
   * @param now - Clock, for tests.
   */
  constructor(options: { limit: number; windowMs: number }, now: () => number = Date.now) {
    this.#limit = options.limit;
    this.#windowMs = options.windowMs;
    this.#now = now;
  }

  /** Counts one request of `keyId`. */
  take(keyId: string): RateDecision {
    const t = this.#now();
    let w = this.#windows.get(keyId);
    if (w === undefined || t >= w.start + this.#windowMs) {
      w = { start: t, count: 0 };
      this.#windows.set(keyId, w);
    }
    w.count++;
    const end = w.start + this.#windowMs;
    const limited = w.count > this.#limit;
    return {
      limited,
      retryAfter: Math.max(1, Math.ceil((end - t) / 1000)),
      headers: {
        'X-RateLimit-Limit': String(this.#limit),
        'X-RateLimit-Remaining': String(Math.max(0, this.#limit - w.count)),
        'X-RateLimit-Reset': String(Math.ceil(end / 1000)),
      },
    };
  }
}

/** The 429 for a limited request. */
export function rateLimited(decision: RateDecision): HttpError {
  return new HttpError(429, 'Rate limit exceeded', {
    ...decision.headers,
    'Retry-After': String(decision.retryAfter),
  });
}
