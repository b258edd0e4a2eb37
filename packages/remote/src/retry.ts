/**
 * The retry options of a `VaultClient` and their defaults: how many retries, which statuses,
 * how long to back off, how long a server-requested wait may be. The policy that applies them
 * (full-jitter backoff, `Retry-After`) lives with the transport.
 * @module
 */

/**
 * Retry options of a `VaultClient`; every field is optional (`undefined`: the default).
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
  limit?: number | undefined;
  /**
   * Statuses that are retried. Other 4xx never are; 501 and 505 are left out of the default
   * because repeating the request cannot change their answer.
   * @default [408, 429, 500, 502, 503, 504]
   */
  statusCodes?: readonly number[] | undefined;
  /**
   * Backoff before retry number `retry` (1-based), in milliseconds, before the cap and jitter.
   * @default (retry) => 250 * 2 ** (retry - 1)
   */
  delay?: ((retry: number) => number) | undefined;
  /**
   * Cap on the backoff, in milliseconds (does not cap a wait the server asked for).
   * @default 10_000
   */
  backoffLimit?: number | undefined;
  /**
   * Longest wait asked by `Retry-After` or `X-RateLimit-Reset` that is honoured, in milliseconds.
   * A longer one fails the call at once with the error (a `RateLimitError` carries `retryAfter`).
   * @default 60_000
   */
  maxRetryAfter?: number | undefined;
  /**
   * `true`: full jitter, a uniform wait in `[0, backoff)`. `false`: the backoff exactly. A
   * function: maps the capped backoff to the wait.
   * @default true
   */
  jitter?: boolean | ((backoff: number) => number) | undefined;
  /**
   * Whether network failures and attempts that ran past `timeout` are retried.
   * @default true
   */
  retryOnNetworkError?: boolean | undefined;
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

/**
 * The retry defaults, frozen. Start from them to change one part of the policy.
 * @example
 * ```ts
 * // Also retry 501, keep the rest of the default list.
 * new VaultClient({ retry: { statusCodes: [...DEFAULT_RETRY.statusCodes, 501] } });
 * ```
 */
export const DEFAULT_RETRY: ResolvedRetryOptions = Object.freeze({
  limit: 3,
  statusCodes: Object.freeze([408, 429, 500, 502, 503, 504]),
  delay: (retry: number) => 250 * 2 ** (retry - 1),
  backoffLimit: 10_000,
  maxRetryAfter: 60_000,
  jitter: true,
  retryOnNetworkError: true,
});
