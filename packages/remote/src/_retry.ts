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
import { aboolean, aduration, afunction, aint, aobject, kindOf } from '@vault-envelope/core';
import { DEFAULT_RETRY, type ResolvedRetryOptions, type RetryOptions } from './retry.js';

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
  if (typeof options === 'number') return { ...DEFAULT_RETRY, limit: aint(options, 0, 100, 'retry') };
  if (typeof options !== 'object') {
    throw new TypeError(`retry must be a retry limit or a RetryOptions object, got ${kindOf(options)}`);
  }
  const o = aobject(options, 'retry') as RetryOptions;
  const out = { ...DEFAULT_RETRY };
  if (o.limit !== undefined) out.limit = aint(o.limit, 0, 100, 'retry.limit');
  if (o.statusCodes !== undefined) {
    if (!Array.isArray(o.statusCodes)) {
      throw new TypeError(
        `retry.statusCodes must be an array of HTTP statuses, got ${kindOf(o.statusCodes)}`,
      );
    }
    for (const s of o.statusCodes) aint(s, 100, 599, 'retry.statusCodes entry');
    out.statusCodes = Object.freeze([...o.statusCodes]);
  }
  if (o.delay !== undefined) out.delay = afunction<(retry: number) => number>(o.delay, 'retry.delay');
  if (o.backoffLimit !== undefined) out.backoffLimit = aduration(o.backoffLimit, 'retry.backoffLimit');
  if (o.maxRetryAfter !== undefined) out.maxRetryAfter = aduration(o.maxRetryAfter, 'retry.maxRetryAfter');
  if (o.jitter !== undefined) {
    if (typeof o.jitter !== 'boolean' && typeof o.jitter !== 'function') {
      throw new TypeError(`retry.jitter must be a boolean or a function, got ${kindOf(o.jitter)}`);
    }
    out.jitter = o.jitter;
  }
  if (o.retryOnNetworkError !== undefined) {
    out.retryOnNetworkError = aboolean(o.retryOnNetworkError, 'retry.retryOnNetworkError');
  }
  return Object.freeze(out);
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
