/**
 * Options of a {@link VaultClient} and the hooks it calls, with their defaults and the checks
 * run on them at construction. The API key is looked up in `WORKOS_API_KEY` where the runtime
 * has an environment (`process.env` in Node, Bun and Deno's Node mode); never through a static
 * `node:` import, so the client runs in browsers and edge runtimes too.
 * @module
 */

import { aobject } from './_validate.js';
import type { VaultError } from './errors.js';
import { aduration, type ResolvedRetryOptions, type RetryOptions, resolveRetryOptions } from './retry.js';

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
  beforeRequest?: readonly ((request: Request, event: AttemptEvent) => void | Promise<void>)[];
  /** After each attempt that got a complete response, whatever its status. */
  afterResponse?: readonly ((event: ResponseEvent) => void | Promise<void>)[];
  /** Before waiting for a retry. */
  beforeRetry?: readonly ((event: RetryEvent) => void | Promise<void>)[];
}

/**
 * Options of `new VaultClient(options)`. Every field is optional.
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
  apiKey?: string;
  /**
   * Where Vault is: the production API, or a local `@vault-envelope/server`.
   * @default 'https://api.workos.com'
   */
  baseUrl?: string;
  /**
   * Time limit of one HTTP attempt, headers and body, in milliseconds. An attempt that runs past
   * it is aborted and retried (see `retry.retryOnNetworkError`).
   * @default 10_000
   */
  timeout?: number;
  /**
   * Time limit of one call, all attempts and waits included, in milliseconds. When it passes
   * the call fails with `TimeoutError`; a wait that would end past it is not started (the call
   * fails at once with the last error).
   * @default 60_000
   */
  deadline?: number;
  /**
   * Retry policy; a number is shorthand for `{ limit }`, `0` disables retries.
   * @default { limit: 3, statusCodes: [408, 429, 500, 502, 503, 504], backoffLimit: 10_000, maxRetryAfter: 60_000, jitter: true }
   */
  retry?: RetryOptions | number;
  /**
   * The `fetch` to use (a mock, an instrumented fetch, undici with a custom dispatcher...).
   * @default globalThis.fetch
   */
  fetch?: typeof globalThis.fetch;
  /**
   * `User-Agent` header (browsers may ignore it).
   * @default 'vault-envelope-remote/0.1.0'
   */
  userAgent?: string;
  /** Functions called around each attempt. */
  hooks?: VaultHooks;
}

/** The default `baseUrl`. */
export const DEFAULT_BASE_URL = 'https://api.workos.com';
/** The default `User-Agent`. */
export const DEFAULT_USER_AGENT = 'vault-envelope-remote/0.1.0';

/** Options with every default filled in. */
export interface ResolvedOptions {
  readonly apiKey: string;
  readonly baseUrl: string;
  readonly timeout: number;
  readonly deadline: number;
  readonly retry: ResolvedRetryOptions;
  readonly fetch: typeof globalThis.fetch | undefined;
  readonly userAgent: string;
  readonly hooks: Required<VaultHooks>;
}

/** Reads `WORKOS_API_KEY` where an environment exists, without importing anything. */
function environmentApiKey(): string | undefined {
  try {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
    const key = env?.['WORKOS_API_KEY'];
    return key === undefined || key === '' ? undefined : key;
  } catch {
    // Some runtimes guard the environment behind a permission and throw on access.
    return undefined;
  }
}

function hookList<T>(value: unknown, title: string): readonly T[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new TypeError(`hooks.${title} must be an array of functions`);
  for (const h of value)
    if (typeof h !== 'function') throw new TypeError(`hooks.${title} must hold functions`);
  return Object.freeze([...value]) as readonly T[];
}

/**
 * Checks client options and fills in the defaults.
 * @param options - What the caller passed.
 * @returns Complete options.
 * @throws TypeError on a wrong type or a missing API key; RangeError on a bad duration.
 * @example
 * ```ts
 * resolveOptions({ apiKey: 'sk_test' }).baseUrl; // 'https://api.workos.com'
 * ```
 */
export function resolveOptions(options: VaultClientOptions | undefined): ResolvedOptions {
  const o = (options === undefined ? {} : aobject(options, 'VaultClient options')) as VaultClientOptions;
  const apiKey = o.apiKey ?? environmentApiKey();
  if (apiKey === undefined || apiKey === '') {
    throw new TypeError(
      'VaultClient needs a WorkOS API key: pass { apiKey } or set the WORKOS_API_KEY environment variable',
    );
  }
  if (typeof apiKey !== 'string') throw new TypeError('apiKey must be a string');
  if (/[\r\n]/.test(apiKey)) throw new TypeError('apiKey must not contain line breaks');

  const rawBase = o.baseUrl ?? DEFAULT_BASE_URL;
  if (typeof rawBase !== 'string') throw new TypeError('baseUrl must be a string');
  let url: URL;
  try {
    url = new URL(rawBase);
  } catch {
    throw new TypeError('baseUrl must be an absolute http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError('baseUrl must be an absolute http or https URL');
  }
  if (url.search !== '' || url.hash !== '')
    throw new TypeError('baseUrl must not have a query or a fragment');
  const baseUrl = url.href.replace(/\/+$/, '');

  const timeout = o.timeout === undefined ? 10_000 : aduration(o.timeout, 'timeout');
  const deadline = o.deadline === undefined ? 60_000 : aduration(o.deadline, 'deadline');
  if (timeout === 0 || deadline === 0) throw new RangeError('timeout and deadline must be above 0');

  if (o.fetch !== undefined && typeof o.fetch !== 'function') throw new TypeError('fetch must be a function');
  const userAgent = o.userAgent ?? DEFAULT_USER_AGENT;
  if (typeof userAgent !== 'string') throw new TypeError('userAgent must be a string');

  const hooks = o.hooks === undefined ? {} : (aobject(o.hooks, 'hooks') as VaultHooks);
  return Object.freeze({
    apiKey,
    baseUrl,
    timeout,
    deadline,
    retry: resolveRetryOptions(o.retry),
    fetch: o.fetch,
    userAgent,
    hooks: Object.freeze({
      beforeRequest: hookList(hooks.beforeRequest, 'beforeRequest'),
      afterResponse: hookList(hooks.afterResponse, 'afterResponse'),
      beforeRetry: hookList(hooks.beforeRetry, 'beforeRetry'),
    }),
  }) as ResolvedOptions;
}
