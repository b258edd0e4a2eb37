/**
 * The retry policy: which failures are retried, how long to wait before the next attempt
 * (exponential backoff with full jitter, or what the server asked for in `Retry-After` /
 * `X-RateLimit-Reset`), and when to give up instead of waiting.
 *
 * Full jitter (the wait is uniform in `[0, min(backoffLimit, delay(attempt)))`) spreads the
 * retries of many clients hit by the same outage, which fixed or proportional jitter does not.
 * A wait the server asked for is honoured as asked (never shortened by jitter), but only up to
 * `maxRetryAfter`: a longer one ends the call at once with the error, whose `retryAfter` says
 * how long, rather than holding the caller for minutes or retrying early into the same refusal.
 * @module
 */
import { aint, aobject } from './_validate.js';

/**
 * Retry options of a `VaultClient`; every field is optional.
 * @example
 * ```ts
 * // A batch job that may wait: more tries, longer backoff, obey waits of up to 2 minutes.
 * new VaultClient({ deadline: 300_000, retry: { limit: 8, backoffLimit: 30_000, maxRetryAfter: 120_000 } });
 * // A request handler that must answer fast: one retry, no long waits.
 * new VaultClient({ timeout: 1_000, deadline: 2_500, retry: { limit: 1, maxRetryAfter: 1_000 } });
 * ```
 */
export interface RetryOptions {
  /**
   * Retries after the first attempt (so `limit + 1` attempts at most). `0` disables retries.
   * @default 3
   */
  limit?: number;
  /**
   * Statuses that are retried. Other 4xx never are; 501 and 505 are left out of the default
   * because repeating the request cannot change their answer.
   * @default [408, 429, 500, 502, 503, 504]
   */
  statusCodes?: readonly number[];
  /**
   * Backoff before retry number `retry` (1-based), in milliseconds, before the cap and jitter.
   * @default (retry) => 250 * 2 ** (retry - 1)
   */
  delay?: (retry: number) => number;
  /**
   * Cap on the backoff, in milliseconds (does not cap a wait the server asked for).
   * @default 10_000
   */
  backoffLimit?: number;
  /**
   * Longest wait asked by `Retry-After` or `X-RateLimit-Reset` that is honoured, in milliseconds.
   * A longer one fails the call at once with the error (a `RateLimitError` carries `retryAfter`).
   * @default 60_000
   */
  maxRetryAfter?: number;
  /**
   * `true`: full jitter, a uniform wait in `[0, backoff)`. `false`: the backoff exactly. A
   * function: maps the capped backoff to the wait.
   * @default true
   */
  jitter?: boolean | ((backoff: number) => number);
  /**
   * Whether network failures and attempts that ran past `timeout` are retried.
   * @default true
   */
  retryOnNetworkError?: boolean;
}

/** {@link RetryOptions} with every default filled in. */
export interface ResolvedRetryOptions {
  readonly limit: number;
  readonly statusCodes: readonly number[];
  readonly delay: (retry: number) => number;
  readonly backoffLimit: number;
  readonly maxRetryAfter: number;
  readonly jitter: boolean | ((backoff: number) => number);
  readonly retryOnNetworkError: boolean;
}

/** The retry defaults. */
export const DEFAULT_RETRY: ResolvedRetryOptions = Object.freeze({
  limit: 3,
  statusCodes: Object.freeze([408, 429, 500, 502, 503, 504]),
  delay: (retry: number) => 250 * 2 ** (retry - 1),
  backoffLimit: 10_000,
  maxRetryAfter: 60_000,
  jitter: true,
  retryOnNetworkError: true,
});

/**
 * Checks retry options and fills in the defaults. A number is shorthand for `{ limit }`.
 * @param options - The caller's options, a retry limit, or undefined.
 * @returns Complete options.
 * @throws TypeError for a wrong type; RangeError for a negative or non-finite number.
 * @example
 * ```ts
 * resolveRetryOptions({ limit: 5 }).backoffLimit; // 10_000
 * ```
 */
export function resolveRetryOptions(options: RetryOptions | number | undefined): ResolvedRetryOptions {
  if (options === undefined) return DEFAULT_RETRY;
  if (typeof options === 'number') return { ...DEFAULT_RETRY, limit: aint(options, 0, 100, 'retry limit') };
  const o = aobject(options, 'retry options') as RetryOptions;
  const out = { ...DEFAULT_RETRY };
  if (o.limit !== undefined) out.limit = aint(o.limit, 0, 100, 'retry.limit');
  if (o.statusCodes !== undefined) {
    if (!Array.isArray(o.statusCodes)) throw new TypeError('retry.statusCodes must be an array of statuses');
    for (const s of o.statusCodes) aint(s, 100, 599, 'retry.statusCodes entry');
    out.statusCodes = Object.freeze([...o.statusCodes]);
  }
  if (o.delay !== undefined) {
    if (typeof o.delay !== 'function') throw new TypeError('retry.delay must be a function');
    out.delay = o.delay;
  }
  if (o.backoffLimit !== undefined) out.backoffLimit = aduration(o.backoffLimit, 'retry.backoffLimit');
  if (o.maxRetryAfter !== undefined) out.maxRetryAfter = aduration(o.maxRetryAfter, 'retry.maxRetryAfter');
  if (o.jitter !== undefined) {
    if (typeof o.jitter !== 'boolean' && typeof o.jitter !== 'function') {
      throw new TypeError('retry.jitter must be a boolean or a function');
    }
    out.jitter = o.jitter;
  }
  if (o.retryOnNetworkError !== undefined) {
    if (typeof o.retryOnNetworkError !== 'boolean') {
      throw new TypeError('retry.retryOnNetworkError must be a boolean');
    }
    out.retryOnNetworkError = o.retryOnNetworkError;
  }
  return Object.freeze(out);
}

/**
 * Checks a duration in milliseconds: a non-negative finite number.
 * @param value - The value.
 * @param title - Its name, for messages.
 * @returns The value.
 * @throws TypeError when it is not a number; RangeError when negative or not finite.
 * @example
 * ```ts
 * aduration(5_000, 'timeout'); // 5000
 * ```
 */
export function aduration(value: unknown, title: string): number {
  if (typeof value !== 'number' || Number.isNaN(value)) throw new TypeError(`${title} must be a number`);
  if (value < 0 || !Number.isFinite(value)) {
    throw new RangeError(`${title} must be a finite number of milliseconds >= 0`);
  }
  return value;
}

/**
 * The backoff before retry number `retry`: `delay(retry)`, capped at `backoffLimit`, then
 * jittered. Never negative, never above the cap.
 * @param retry - 1 for the first retry.
 * @param options - Resolved retry options.
 * @param random - A uniform source in [0, 1) (injectable for tests).
 * @returns Milliseconds to wait.
 * @example
 * ```ts
 * backoffDelay(1, DEFAULT_RETRY, () => 0.5); // 125: half of 250 ms under full jitter
 * ```
 */
export function backoffDelay(
  retry: number,
  options: ResolvedRetryOptions,
  random: () => number = Math.random,
): number {
  const raw = options.delay(retry);
  const capped = Math.min(options.backoffLimit, Number.isFinite(raw) && raw > 0 ? raw : 0);
  let wait = capped;
  if (options.jitter === true) wait = random() * capped;
  else if (typeof options.jitter === 'function') wait = options.jitter(capped);
  if (!Number.isFinite(wait) || wait < 0) return capped;
  return Math.min(wait, options.backoffLimit);
}

/** A header getter, as `Headers` has. */
export interface HeaderSource {
  get(name: string): string | null;
}

/**
 * The wait a response asks for, in milliseconds: `Retry-After` (delta-seconds or an HTTP-date,
 * RFC 9110 §10.2.3) first, else `X-RateLimit-Reset`. The latter is read as seconds to wait when
 * small, as a Unix time in seconds when above 10^9, and in milliseconds when above 10^12 (servers
 * use all three). A date in the past gives 0.
 * @param headers - The response headers.
 * @param now - The current time in ms since the epoch.
 * @param rateLimitReset - Whether to read `X-RateLimit-Reset` too (only meaningful on a 429).
 * @returns The wait, or `undefined` when neither header is present and valid.
 * @example
 * ```ts
 * requestedWait(new Headers({ 'retry-after': '2' }), Date.now()); // 2000
 * ```
 */
export function requestedWait(headers: HeaderSource, now: number, rateLimitReset = true): number | undefined {
  const retryAfter = headers.get('retry-after')?.trim();
  if (retryAfter !== undefined && retryAfter !== '') {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) return Number(retryAfter) * 1000;
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return Math.max(0, at - now);
  }
  if (!rateLimitReset) return undefined;
  const reset = headers.get('x-ratelimit-reset')?.trim();
  if (reset !== undefined && /^\d+(\.\d+)?$/.test(reset)) {
    const n = Number(reset);
    if (n > 1e12) return Math.max(0, n - now);
    if (n > 1e9) return Math.max(0, n * 1000 - now);
    return n * 1000;
  }
  return undefined;
}
