/**
 * One logical Vault call: HTTP attempts through ky, retried by the policy of `_retry.ts`, bounded
 * by a per-attempt timeout and an overall deadline, each failure mapped to its typed error.
 *
 * ky does one attempt (`retry: 0`, `timeout: false`, `throwHttpErrors: false`); the loop here
 * drives retries because ky 1.x's model does not fit: it never retries POST by default, its
 * timeout does not cover the response body, it has no overall deadline, and a `Retry-After`
 * above `maxRetryAfter` is shortened to the cap rather than ending the call. Doing it here also
 * keeps one `Idempotency-Key` on every attempt of a call, and keeps ky's own errors (which carry
 * the request options, `Authorization` header included) out of the `cause` of ours.
 * @module
 */
import ky, { type KyInstance } from 'ky';
import type { ResolvedOptions } from './_options.js';
import { RateBudget, rateReportOf } from './_rate-budget.js';
import { backoffDelay, requestedWait } from './_retry.js';
import { serverMessageOf } from './_server-text.js';
import {
  errorForStatus,
  NetworkError,
  RateLimitError,
  TimeoutError,
  VaultError,
  type VaultErrorDetails,
} from './errors.js';
import type { AttemptEvent } from './options.js';

/** One logical call. */
export interface CallSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path with every variable segment already percent-encoded. */
  path: string;
  /** Query parameters; entries that are `undefined` are left out. */
  query?: Record<string, string | undefined> | undefined;
  /** JSON body. */
  body?: unknown;
  signal?: AbortSignal | undefined;
  /**
   * Secrets of the request besides the API key (an object's value), redacted from any server
   * text quoted in an error.
   */
  secrets?: readonly string[] | undefined;
}

/** A successful response. */
export interface CallResult {
  status: number;
  /** The parsed JSON body, or `undefined` for an empty one. */
  body: unknown;
  requestId: string | undefined;
}

/** What one attempt ended in. */
type Outcome =
  | { kind: 'response'; status: number; headers: Headers; text: string; requestId: string | undefined }
  | { kind: 'timeout' }
  | { kind: 'network'; cause: unknown };

const now = (): number => globalThis.performance.now();

/** A fresh `Idempotency-Key`: a random UUID (v4). */
function newIdempotencyKey(): string {
  const c = globalThis.crypto;
  if (typeof c.randomUUID === 'function') return c.randomUUID();
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Sends Vault calls for one client. */
export class Transport {
  readonly #options: ResolvedOptions;
  readonly #ky: KyInstance;
  readonly #budget: RateBudget | undefined;

  /** @param options - Resolved client options. */
  constructor(options: ResolvedOptions) {
    this.#options = options;
    this.#budget =
      options.rateLimit === false ? undefined : new RateBudget(options.rateLimit.requestsPerMinute, now);
    this.#ky = ky.create({
      timeout: false,
      retry: 0,
      throwHttpErrors: false,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    });
  }

  /**
   * Runs one logical call to completion: a 2xx response, or the typed error of the last failure.
   * @param spec - The call.
   * @returns The parsed response.
   * @throws VaultError subclasses; the signal's reason when the caller aborts.
   */
  async call(spec: CallSpec): Promise<CallResult> {
    const o = this.#options;
    const { method, path, signal } = spec;
    signal?.throwIfAborted();
    const idempotencyKey = method === 'GET' ? undefined : newIdempotencyKey();
    const url = this.#url(spec);
    // Serialised once: every attempt sends the same bytes, which a server's idempotency check
    // compares along with the key.
    const body = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    const deadlineAt = now() + o.deadline;

    const secrets = [o.apiKey, ...(spec.secrets ?? [])];
    const budget = this.#budget;
    let last: VaultError | undefined;

    for (let attempt = 1; ; attempt++) {
      const base: VaultErrorDetails = { method, path, attempts: attempt };
      if (budget !== undefined) {
        const refused = await budget.acquire(deadlineAt, signal);
        if (refused > 0) {
          // No token before the deadline: fail now rather than at the deadline. A retry that can
          // not be sent in time ends in the error that called for it.
          throw last ?? new RateLimitError({ method, path, attempts: 0 }, refused / 1000, 'budget');
        }
      }
      const remaining = deadlineAt - now();
      if (remaining <= 0) {
        budget?.settle(undefined);
        throw new TimeoutError(base, 'deadline');
      }
      const limitedByDeadline = remaining < o.timeout;
      const event: AttemptEvent = { method, path, attempt, idempotencyKey };
      const started = now();
      const outcome = await this.#budgeted(() =>
        this.#attempt(url, spec, body, event, Math.min(o.timeout, remaining)),
      );

      let error: VaultError;
      let retryable: boolean;
      let wait: number | undefined;
      if (outcome.kind === 'response') {
        const { status, requestId } = outcome;
        for (const hook of o.hooks.afterResponse) {
          await hook({ ...event, status, requestId, durationMs: now() - started });
        }
        if (status >= 200 && status < 300) {
          return { status, body: this.#parse(outcome, base), requestId };
        }
        wait = requestedWait(outcome.headers, Date.now(), status === 429);
        const details = { ...base, requestId, serverMessage: serverMessageOf(outcome.text, secrets) };
        error = errorForStatus(status, details, wait === undefined ? undefined : wait / 1000);
        retryable = o.retry.statusCodes.includes(status);
      } else if (outcome.kind === 'timeout') {
        error = new TimeoutError(base, limitedByDeadline ? 'deadline' : 'attempt');
        retryable = !limitedByDeadline && o.retry.retryOnNetworkError;
      } else {
        error = new NetworkError({ ...base, cause: outcome.cause });
        retryable = o.retry.retryOnNetworkError;
      }

      if (!retryable || attempt > o.retry.limit) throw error;
      let delay: number;
      if (wait !== undefined) {
        // The server said when to come back: honour it as said, or give up now if it is too long.
        if (wait > o.retry.maxRetryAfter) throw error;
        delay = wait;
      } else {
        delay = backoffDelay(attempt, o.retry, Math.random);
      }
      // A wait that ends past the deadline only postpones the same failure.
      if (now() + delay >= deadlineAt) throw error;
      for (const hook of o.hooks.beforeRetry) await hook({ ...event, error, delayMs: delay });
      await sleep(delay, signal);
      last = error;
    }
  }

  /** Runs one attempt that holds a token of the budget, and gives the token back with what the answer said. */
  async #budgeted(run: () => Promise<Outcome>): Promise<Outcome> {
    const budget = this.#budget;
    if (budget === undefined) return run();
    let outcome: Outcome | undefined;
    try {
      outcome = await run();
      return outcome;
    } finally {
      if (outcome?.kind === 'response') {
        const at = Date.now();
        const pause = outcome.status === 429 ? requestedWait(outcome.headers, at, true) : undefined;
        budget.settle(rateReportOf(outcome.headers, at), pause);
      } else {
        budget.settle(undefined);
      }
    }
  }

  #url(spec: CallSpec): string {
    let url = this.#options.baseUrl + spec.path;
    if (spec.query !== undefined) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(spec.query)) if (v !== undefined) q.append(k, v);
      const s = q.toString();
      if (s !== '') url += `?${s}`;
    }
    return url;
  }

  /** One HTTP attempt, body included, under its own timeout. Never throws a ky error. */
  async #attempt(
    url: string,
    spec: CallSpec,
    body: string | undefined,
    event: AttemptEvent,
    timeoutMs: number,
  ): Promise<Outcome> {
    const o = this.#options;
    const userSignal = spec.signal;
    const attemptController = new AbortController();
    const timer = setTimeout(() => attemptController.abort(), timeoutMs);
    const signal =
      userSignal === undefined
        ? attemptController.signal
        : AbortSignal.any([userSignal, attemptController.signal]);
    const headers: Record<string, string> = {
      authorization: `Bearer ${o.apiKey}`,
      accept: 'application/json',
      'user-agent': o.userAgent,
    };
    if (event.idempotencyKey !== undefined) headers['idempotency-key'] = event.idempotencyKey;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let hookFailure: { error: unknown } | undefined;
    const beforeRequest = o.hooks.beforeRequest.map((hook) => async (request: Request) => {
      try {
        await hook(request, event);
      } catch (error) {
        hookFailure = { error };
        throw error;
      }
    });
    try {
      const exchange = async (): Promise<Outcome> => {
        const response = await this.#ky(url, {
          method: spec.method,
          headers,
          signal,
          ...(body === undefined ? {} : { body }),
          hooks: { beforeRequest },
        });
        const text = await response.text();
        const requestId = response.headers.get('x-request-id') ?? undefined;
        return { kind: 'response', status: response.status, headers: response.headers, text, requestId };
      };
      // The timeout and the caller's signal end the attempt even when the `fetch` in use does not
      // honour its signal (an injected or polyfilled one): the time bounds never rest on it.
      return await untilAborted(exchange(), signal);
    } catch (cause) {
      if (hookFailure !== undefined) throw hookFailure.error;
      if (userSignal?.aborted) throw userSignal.reason;
      if (attemptController.signal.aborted) return { kind: 'timeout' };
      return { kind: 'network', cause };
    } finally {
      clearTimeout(timer);
    }
  }

  #parse(
    outcome: { text: string; requestId: string | undefined; status: number },
    base: VaultErrorDetails,
  ): unknown {
    if (outcome.text === '') return undefined;
    try {
      return JSON.parse(outcome.text) as unknown;
    } catch {
      // The parser's own error quotes the text around the fault, which may be a data key or a
      // value: it is replaced by one that says what failed, and no more.
      const cause = new SyntaxError(
        `the body of a ${outcome.status} answer is not valid JSON (${outcome.text.length} characters)`,
      );
      throw new VaultError('Vault sent a response that is not JSON', 'INVALID_RESPONSE', {
        ...base,
        status: outcome.status,
        requestId: outcome.requestId,
        cause,
      });
    }
  }
}

/**
 * Settles as `work` does, or rejects with the signal's reason as soon as `signal` aborts,
 * whichever comes first. A late rejection of `work` is caught, so it can not surface as an
 * unhandled rejection.
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  work.catch(() => {});
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
