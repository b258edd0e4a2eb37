/**
 * Options of a {@link VaultClient} and the hooks it calls, with their defaults: the public types.
 * They are checked once, at construction; a wrong type is a `TypeError`, a value out of range a
 * `RangeError`.
 * @module
 */

import type { VaultError } from './errors.js';
import type { RetryOptions } from './retry.js';

/** What a hook is told about one HTTP attempt. */
export interface AttemptEvent {
  /** HTTP method, upper case. */
  readonly method: string;
  /** Request path, without query string. */
  readonly path: string;
  /** 1 for the first attempt, 2 for the first retry, ... */
  readonly attempt: number;
  /** The `Idempotency-Key` sent (the same on every attempt of one call), for non-GET requests. */
  readonly idempotencyKey: string | undefined;
}

/** What an `afterResponse` hook is told. */
export interface ResponseEvent extends AttemptEvent {
  /** The response status. */
  readonly status: number;
  /** The `X-Request-ID` response header. */
  readonly requestId: string | undefined;
  /** Time from sending the request to the end of the response body, in milliseconds. */
  readonly durationMs: number;
}

/** What a `beforeRetry` hook is told: the attempt that failed, why, and the wait before the next. */
export interface RetryEvent extends AttemptEvent {
  /** Why the attempt failed. */
  readonly error: VaultError;
  /** How long the client waits before the next attempt, in milliseconds. */
  readonly delayMs: number;
}

/**
 * Functions the client calls around each HTTP attempt, for tracing, metrics and logging. A hook
 * that throws fails the call with its error. Hooks see the request (with its `Authorization`
 * header): do not log its headers.
 */
export interface VaultHooks {
  /** Before each attempt; may set headers on `request` (for example a trace id). */
  beforeRequest?: readonly ((request: Request, event: AttemptEvent) => void | Promise<void>)[] | undefined;
  /** After each attempt that got a complete response, whatever its status. */
  afterResponse?: readonly ((event: ResponseEvent) => void | Promise<void>)[] | undefined;
  /** Before waiting for a retry. */
  beforeRetry?: readonly ((event: RetryEvent) => void | Promise<void>)[] | undefined;
}

/**
 * The client's rate budget (see {@link VaultClientOptions.rateLimit}).
 * @example
 * ```ts
 * new VaultClient({ rateLimit: { requestsPerMinute: 1_000 } }); // the local server's default
 * ```
 */
export interface RateLimitOptions {
  /**
   * Requests a minute the client allows itself until the server states its own limit in
   * `X-RateLimit-*` headers (and for a server that never does).
   * @default 6_000 (what WorkOS publishes per API key for its API)
   */
  requestsPerMinute?: number | undefined;
}

/**
 * Options of `new VaultClient(options)`. Every field is optional, and `undefined` means "not
 * given" (so `apiKey: process.env.WORKOS_API_KEY` type-checks under `exactOptionalPropertyTypes`).
 * @example
 * ```ts
 * new VaultClient({
 *   apiKey: process.env.WORKOS_API_KEY,
 *   baseUrl: 'http://127.0.0.1:8787',      // the local server
 *   timeout: 2_000,                        // per attempt
 *   deadline: 10_000,                      // per call
 *   retry: { limit: 5, maxRetryAfter: 5_000 },
 *   hooks: { beforeRetry: [(e) => metrics.increment('vault.retry', { code: e.error.code })] },
 * });
 * ```
 */
export interface VaultClientOptions {
  /**
   * The WorkOS API key (`sk_...`).
   * @default process.env.WORKOS_API_KEY, where the runtime has an environment
   */
  apiKey?: string | undefined;
  /**
   * Where Vault is: the production API, or a local `@vault-envelope/server`.
   * @default 'https://api.workos.com'
   */
  baseUrl?: string | undefined;
  /**
   * Time limit of one HTTP attempt, headers and body, in milliseconds. An attempt that runs past
   * it is aborted and retried (see `retry.retryOnNetworkError`).
   * @default 10_000
   */
  timeout?: number | undefined;
  /**
   * Time limit of one call, all attempts and waits included, in milliseconds. When it passes
   * the call fails with `TimeoutError`; a wait that would end past it is not started (the call
   * fails at once with the last error).
   * @default 60_000
   */
  deadline?: number | undefined;
  /**
   * Retry policy; a number is shorthand for `{ limit }`, `0` disables retries.
   * @default { limit: 3, statusCodes: [408, 429, 500, 502, 503, 504], backoffLimit: 10_000, maxRetryAfter: 60_000, jitter: true }
   */
  retry?: RetryOptions | number | undefined;
  /**
   * The `fetch` to use (a mock, an instrumented fetch, undici with a custom dispatcher...).
   * @default globalThis.fetch
   */
  fetch?: typeof globalThis.fetch | undefined;
  /**
   * `User-Agent` header (browsers may ignore it).
   * @default 'vault-envelope-remote/0.1.0'
   */
  userAgent?: string | undefined;
  /** Functions called around each attempt. */
  hooks?: VaultHooks | undefined;
  /**
   * The client's rate budget: before each attempt the client takes a token, waiting for one if
   * none is left (within the call's `deadline`, and the call's `signal` aborts the wait), so
   * that it does not send requests the server would refuse with 429. It follows the server's
   * `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` headers once an answer
   * carries them; before that, and for a server that sends none, it allows `requestsPerMinute`
   * (a tenth at once, the rest spread over the minute). When no token can come before the
   * deadline the call fails at once with a `RateLimitError` (no `status`, nothing sent).
   * `false` turns the budget off: every attempt is sent at once, and 429s are retried as the
   * `retry` policy says. The budget is per client: share one client per API key.
   * @default { requestsPerMinute: 6_000 }
   */
  rateLimit?: RateLimitOptions | false | undefined;
}

/** The default `rateLimit.requestsPerMinute`: what WorkOS publishes per API key for its API. */
export const DEFAULT_REQUESTS_PER_MINUTE = 6_000;

/** The default `baseUrl`. */
export const DEFAULT_BASE_URL = 'https://api.workos.com';
/** The default `User-Agent`. */
export const DEFAULT_USER_AGENT = 'vault-envelope-remote/0.1.0';
