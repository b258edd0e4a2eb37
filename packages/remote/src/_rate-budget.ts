/**
 * The client's rate budget: every HTTP attempt takes a token first, so that the client does not
 * send requests the server would answer 429, and waits (within the call's deadline) instead.
 *
 * Two sources of tokens:
 * - **The server's word.** An answer with `X-RateLimit-Remaining` and `X-RateLimit-Reset` says
 *   how many requests the key has left until the window resets. From then until that reset the
 *   client sends at most that many, less the requests still in flight (the server may not have
 *   counted them yet): answers arrive out of order, so within one window the lowest count wins,
 *   and an answer about an older window is ignored. At the reset the quota is back.
 * - **A token bucket**, before the first such answer, between the end of a window and the first
 *   answer about the next one, and for servers that send no such headers: it holds
 *   `max(1, floor(L / 10))` tokens and refills the rest of `L` evenly over a minute, so no span
 *   of 60 s ever sees more than `L` requests. `L` is `requestsPerMinute` until the server states
 *   its `X-RateLimit-Limit`, then that.
 *
 * The reset is read against the server's own `Date` header when there is one (a whole second,
 * rounded down, so the wait is never shorter than what is left, whatever the client's clock
 * says), else against the client's clock. A 429 also pauses the budget for the wait it asked
 * for (`Retry-After`, or `X-RateLimit-Reset`): the limit is the key's, not one call's.
 *
 * Waiters are served first come, first served by one timer. A waiter is refused at once when no
 * token can come before its deadline for certain (a pause, or a spent window or bucket with no
 * answer in flight that could bring one), with that wait for `retryAfter`; one whose deadline
 * passes in the queue is refused then; an aborted signal rejects with its reason.
 * @module
 */
import type { HeaderSource } from './_retry.js';

const MINUTE = 60_000;

/** What one answer said about the rate limit. */
export interface RateReport {
  /** `X-RateLimit-Limit`, when it was sent. */
  readonly limit: number | undefined;
  /** `X-RateLimit-Remaining`. */
  readonly remaining: number;
  /**
   * Which window this is: the reset as an absolute time in ms (server clock), or `undefined`
   * when the server sends the reset as seconds from now (then windows can not be told apart).
   */
  readonly window: number | undefined;
  /** Milliseconds from the answer's arrival until the window ends (never less than what is left). */
  readonly endsIn: number;
}

function headerNumber(headers: HeaderSource, name: string): number | undefined {
  const v = headers.get(name)?.trim();
  return v !== undefined && /^\d+(\.\d+)?$/.test(v) ? Number(v) : undefined;
}

/**
 * Reads the rate-limit headers of an answer. `X-RateLimit-Reset` is Unix seconds above 10^9,
 * Unix milliseconds above 10^12, and seconds from now otherwise (servers use all three).
 * @param headers - The answer's headers.
 * @param now - The client's clock, ms since the epoch (used when there is no `Date` header).
 * @returns The report, or `undefined` when `Remaining` or `Reset` is missing or malformed.
 */
export function rateReportOf(headers: HeaderSource, now: number): RateReport | undefined {
  const remaining = headerNumber(headers, 'x-ratelimit-remaining');
  const reset = headerNumber(headers, 'x-ratelimit-reset');
  if (remaining === undefined || reset === undefined) return undefined;
  const stated = headerNumber(headers, 'x-ratelimit-limit');
  const limit = stated !== undefined && stated >= 1 ? Math.floor(stated) : undefined;
  let window: number | undefined;
  let endsIn: number;
  if (reset > 1e9) {
    const at = reset > 1e12 ? reset : reset * 1000;
    const date = Date.parse(headers.get('date') ?? '');
    endsIn = at - (Number.isNaN(date) ? now : date);
    window = at;
  } else {
    endsIn = reset * 1000;
  }
  return { limit, remaining: Math.floor(remaining), window, endsIn: Math.max(0, Math.ceil(endsIn)) };
}

interface Waiter {
  grant(): void;
}

/** The budget of one client. */
export class RateBudget {
  readonly #now: () => number;
  // The bucket.
  #capacity = 1;
  #rate = 0; // tokens per ms
  #tokens = 0;
  #refilledAt: number;
  // The server's window, while one is known to be open.
  #windowEnd: number | undefined;
  #windowId: number | undefined;
  #windowTokens = 0;
  #pausedUntil = Number.NEGATIVE_INFINITY;
  #inFlight = 0;
  // The queue.
  readonly #queue: Waiter[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Number.POSITIVE_INFINITY;

  /**
   * @param requestsPerMinute - The bucket's budget until the server states its own (at least 1).
   * @param now - A monotonic clock in ms (injectable for tests).
   */
  constructor(requestsPerMinute: number, now: () => number = () => globalThis.performance.now()) {
    this.#now = now;
    this.#setLimit(requestsPerMinute);
    this.#tokens = this.#capacity;
    this.#refilledAt = now();
  }

  /** Requests sent and not answered yet. */
  get inFlight(): number {
    return this.#inFlight;
  }

  #setLimit(perMinute: number): void {
    // A bucket of B tokens refilled at r per ms grants fewer than B + r·W in any half-open span
    // of W ms (the last grant comes before the span's end), so B + r·W = L + 1 allows at most L
    // a minute, and L = 1 still refills.
    this.#capacity = Math.max(1, Math.floor(perMinute / 10));
    this.#rate = (perMinute - this.#capacity + 1) / MINUTE;
    if (this.#tokens > this.#capacity) this.#tokens = this.#capacity;
  }

  /** Ends a window that is over and refills the bucket up to `now`. */
  #sync(now: number): void {
    if (this.#windowEnd !== undefined && now >= this.#windowEnd) {
      // The window is over and its quota is back; until an answer reports the next window,
      // the bucket applies, full.
      this.#windowEnd = undefined;
      this.#tokens = this.#capacity;
      this.#refilledAt = now;
    }
    if (this.#windowEnd === undefined) {
      this.#tokens = Math.min(this.#capacity, this.#tokens + (now - this.#refilledAt) * this.#rate);
      this.#refilledAt = now;
    }
  }

  /**
   * The time until the next token by the budget's own schedule: the end of a pause, of the
   * server's window, or the bucket's next refill. An answer in flight may bring one sooner.
   * @returns Milliseconds; 0 when a token is available now.
   */
  nextTokenIn(): number {
    const now = this.#now();
    this.#sync(now);
    const paused = Math.max(0, this.#pausedUntil - now);
    let wait: number;
    if (this.#windowEnd !== undefined) wait = this.#windowTokens >= 1 ? 0 : this.#windowEnd - now;
    else wait = this.#tokens >= 1 ? 0 : (1 - this.#tokens) / this.#rate;
    return Math.max(paused, wait);
  }

  /**
   * A time before which no token can come: a pause always holds, and with nothing in flight no
   * answer can come to bring a token sooner than the schedule.
   */
  #certainWait(): number {
    if (this.#inFlight === 0) return this.nextTokenIn();
    return Math.max(0, this.#pausedUntil - this.#now());
  }

  /**
   * Takes a token if one is available now (the request is then in flight until
   * {@link RateBudget.settle}).
   * @returns 0 when a token was taken, else the milliseconds to wait before asking again (≥ 1).
   */
  take(): number {
    const wait = this.nextTokenIn();
    if (wait > 0) return Math.max(1, Math.ceil(wait));
    if (this.#windowEnd !== undefined) this.#windowTokens--;
    else this.#tokens--;
    this.#inFlight++;
    return 0;
  }

  /**
   * Ends one request that had a token: answered (with its rate-limit report, if any) or not.
   * @param report - What the answer said, or `undefined`.
   * @param pauseMs - For a 429: the wait it asked for.
   */
  settle(report: RateReport | undefined, pauseMs?: number): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
    const now = this.#now();
    if (pauseMs !== undefined && pauseMs > 0) this.#pausedUntil = Math.max(this.#pausedUntil, now + pauseMs);
    if (report !== undefined) this.#observe(report, now);
    if (this.#queue.length > 0) this.#pump();
  }

  #observe(report: RateReport, now: number): void {
    if (report.limit !== undefined) this.#setLimit(report.limit);
    this.#sync(now);
    const end = now + report.endsIn;
    if (end <= now) return; // that window is already over
    const stated = report.limit === undefined ? report.remaining : Math.min(report.remaining, report.limit);
    const left = Math.max(0, stated - this.#inFlight);
    const id = report.window;
    const known = this.#windowId;
    if (id !== undefined && known !== undefined && id < known) return; // a late answer
    if (id !== undefined && id === known && this.#windowEnd === undefined) return; // a window that ended
    if (this.#windowEnd !== undefined && (id === undefined || id === known)) {
      // The same window: answers arrive out of order, so the lowest count is the truest.
      this.#windowTokens = Math.min(this.#windowTokens, left);
      this.#windowEnd = Math.max(this.#windowEnd, end);
    } else {
      this.#windowId = id;
      this.#windowEnd = end;
      this.#windowTokens = left;
    }
  }

  /**
   * Waits for a token, first come first served, until `deadlineAt` at the latest.
   * @param deadlineAt - The call's deadline on the budget's clock.
   * @param signal - Aborts the wait: the promise rejects with the signal's reason.
   * @returns 0 once a token is taken; else (the token can not come before the deadline) a lower
   *   bound of the wait in milliseconds, without a token.
   */
  acquire(deadlineAt: number, signal?: AbortSignal): Promise<number> {
    if (this.#queue.length === 0) {
      const wait = this.take();
      if (wait === 0) return Promise.resolve(0);
    }
    const now = this.#now();
    // A later place in the queue waits at least as long as the head.
    const certain = this.#certainWait();
    if (certain > 0 && now + certain >= deadlineAt) return Promise.resolve(Math.max(1, Math.ceil(certain)));
    return new Promise<number>((resolve, reject) => {
      const leave = (): void => {
        const i = this.#queue.indexOf(waiter);
        if (i !== -1) this.#queue.splice(i, 1);
        clearTimeout(deadline);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        grant: () => {
          leave();
          resolve(0);
        },
      };
      const onAbort = (): void => {
        leave();
        reject(signal?.reason);
      };
      const deadline = setTimeout(
        () => {
          leave();
          resolve(Math.max(1, Math.ceil(this.nextTokenIn())));
        },
        Math.max(0, deadlineAt - now),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(waiter);
      this.#pump();
    });
  }

  /** Grants tokens to the head of the queue while there are some; else sets the one timer. */
  #pump(): void {
    while (this.#queue.length > 0) {
      const wait = this.take();
      if (wait > 0) {
        this.#schedule(wait);
        return;
      }
      this.#queue[0]!.grant();
    }
  }

  #schedule(ms: number): void {
    const at = this.#now() + ms;
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Number.POSITIVE_INFINITY;
      this.#pump();
    }, ms);
  }
}
