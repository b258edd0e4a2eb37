/**
 * The checks run on `new VaultClient(options)`, once, before anything is sent, and the options
 * with their defaults filled in. The API key is looked up in `WORKOS_API_KEY` where the runtime
 * has an environment (`process.env` in Node, Bun and Deno's Node mode); never through a static
 * `node:` import, so that the client runs in browsers and edge runtimes too.
 * @module
 */
import { aduration, afunction, aint, aobject, aoptions, astring, atext, kindOf } from '@vault-envelope/core';
import { resolveRetryOptions } from './_retry.js';
import {
  type AttemptEvent,
  DEFAULT_BASE_URL,
  DEFAULT_REQUESTS_PER_MINUTE,
  DEFAULT_USER_AGENT,
  type ResponseEvent,
  type RetryEvent,
  type VaultClientOptions,
  type VaultHooks,
} from './options.js';
import type { ResolvedRetryOptions } from './retry.js';

/** The hooks, each list present (empty when none). */
export interface ResolvedHooks {
  readonly beforeRequest: readonly ((request: Request, event: AttemptEvent) => void | Promise<void>)[];
  readonly afterResponse: readonly ((event: ResponseEvent) => void | Promise<void>)[];
  readonly beforeRetry: readonly ((event: RetryEvent) => void | Promise<void>)[];
}

/** Options with every default filled in. */
export interface ResolvedOptions {
  readonly apiKey: string;
  readonly baseUrl: string;
  readonly timeout: number;
  readonly deadline: number;
  readonly retry: ResolvedRetryOptions;
  readonly fetch: typeof globalThis.fetch | undefined;
  readonly userAgent: string;
  readonly hooks: ResolvedHooks;
  /** The rate budget, or `false` for none. */
  readonly rateLimit: { readonly requestsPerMinute: number } | false;
}

/** Largest `requestsPerMinute`: a bound far above any published limit, so a typo is caught. */
const MAX_REQUESTS_PER_MINUTE = 100_000_000;

function checkRateLimit(value: unknown): { readonly requestsPerMinute: number } | false {
  if (value === false) return false;
  if (value === undefined) return Object.freeze({ requestsPerMinute: DEFAULT_REQUESTS_PER_MINUTE });
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`rateLimit must be an object or false, got ${kindOf(value)}`);
  }
  const o = aoptions(value, 'rateLimit', ['requestsPerMinute']);
  const n = o['requestsPerMinute'];
  return Object.freeze({
    requestsPerMinute:
      n === undefined
        ? DEFAULT_REQUESTS_PER_MINUTE
        : aint(n, 1, MAX_REQUESTS_PER_MINUTE, 'rateLimit.requestsPerMinute'),
  });
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
  if (!Array.isArray(value))
    throw new TypeError(`${title} must be an array of functions, got ${kindOf(value)}`);
  for (let i = 0; i < value.length; i++) afunction(value[i], `${title}[${i}]`);
  return Object.freeze([...value]) as readonly T[];
}

/** Checks `baseUrl` and returns it without trailing slashes. */
function checkBaseUrl(value: unknown): string {
  const raw = astring(value, 'baseUrl');
  const what = 'an absolute http or https URL';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TypeError(`baseUrl must be ${what}, got a string that is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`baseUrl must be ${what}, got a URL of another scheme`);
  }
  if (url.search !== '' || url.hash !== '') {
    throw new TypeError(`baseUrl must be ${what} without a query or a fragment, got a URL with one`);
  }
  return url.href.replace(/\/+$/, '');
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
  const o = aoptions(options, 'VaultClient options') as VaultClientOptions;
  const given: unknown = o.apiKey ?? environmentApiKey();
  if (given === undefined || given === '') {
    throw new TypeError(
      `apiKey must be a WorkOS API key (pass { apiKey } or set the WORKOS_API_KEY environment variable), got ${given === '' ? 'an empty string' : 'undefined'}`,
    );
  }
  // Text rules: a line break would let the key end the Authorization header and start another
  // one, and any other control character makes fetch refuse the header with a message that
  // quotes it (which would carry the key into a NetworkError's cause).
  const apiKey = atext(given, 'apiKey');

  const baseUrl = checkBaseUrl(o.baseUrl ?? DEFAULT_BASE_URL);
  const positive = { exclusive: true };
  const timeout = o.timeout === undefined ? 10_000 : aduration(o.timeout, 'timeout', positive);
  const deadline = o.deadline === undefined ? 60_000 : aduration(o.deadline, 'deadline', positive);
  const fetch = o.fetch === undefined ? undefined : afunction<typeof globalThis.fetch>(o.fetch, 'fetch');
  // Text rules: a control character would end the header (or make fetch throw on every attempt).
  const userAgent = atext(o.userAgent ?? DEFAULT_USER_AGENT, 'userAgent');

  const hooks = o.hooks === undefined ? {} : (aobject(o.hooks, 'hooks') as VaultHooks);
  return Object.freeze({
    apiKey,
    baseUrl,
    timeout,
    deadline,
    retry: resolveRetryOptions(o.retry),
    fetch,
    userAgent,
    hooks: Object.freeze({
      beforeRequest: hookList(hooks.beforeRequest, 'hooks.beforeRequest'),
      afterResponse: hookList(hooks.afterResponse, 'hooks.afterResponse'),
      beforeRetry: hookList(hooks.beforeRetry, 'hooks.beforeRetry'),
    }),
    rateLimit: checkRateLimit(o.rateLimit),
  }) as ResolvedOptions;
}
