/**
 * Observation: request ids, request counters per route template, and the access log, as the
 * first middleware of the pipeline. Ids are a random per-handler prefix and a counter: unique,
 * with no CSPRNG call per request. A log line holds the time, the route template, the status, the
 * duration and the request id: never a path parameter, a body, a key or a value.
 * @module
 */
import type { MiddlewareHandler } from 'hono';
import type { Env, RequestState } from './_context.js';
import { token } from './_crypto.js';
import type { ServerStats } from './options.js';

/** Request ids: a random prefix per handler and a counter, e.g. `req_k2Y5zLaYBQNr00002a`. */
export class RequestIds {
  readonly #prefix = `req_${token(9)}`;
  #sequence = 0;

  /** The next id. */
  next(): string {
    return `${this.#prefix}${(++this.#sequence).toString(36).padStart(6, '0')}`;
  }
}

/** Request counters, keyed by `'METHOD /route/:template'`. */
export class Stats {
  #counts = new Map<string, number>();
  #total = 0;

  /** Counts one request of `route`. */
  count(route: string): void {
    this.#total++;
    this.#counts.set(route, (this.#counts.get(route) ?? 0) + 1);
  }

  /** The counters now. */
  snapshot(): ServerStats {
    return { requests: Object.fromEntries(this.#counts), total: this.#total };
  }

  /** Zeroes the counters. */
  reset(): void {
    this.#counts = new Map();
    this.#total = 0;
  }
}

/**
 * The first middleware: gives the request its state and id, and once it is answered counts it,
 * stamps the id on answers made elsewhere (a CORS preflight) and writes the log line.
 * @param stats - The counters.
 * @param log - The access log, if any.
 * @param ids - Where request ids come from.
 * @returns The middleware.
 */
export function observe(
  stats: Stats,
  log: ((line: string) => void) | undefined,
  ids: RequestIds,
): MiddlewareHandler<Env> {
  return async (c, next) => {
    const state: RequestState = {
      id: ids.next(),
      start: performance.now(),
      route: `${c.req.method} (unmatched)`,
      headers: {},
      dropped: false,
      stamped: false,
    };
    c.set('state', state);
    await next();
    stats.count(state.route);
    if (!state.dropped && !state.stamped) c.res.headers.set('X-Request-ID', state.id);
    if (log !== undefined) {
      const ms = (performance.now() - state.start).toFixed(1);
      const status = state.dropped ? 'dropped' : String(c.res.status);
      log(`${new Date().toISOString()} ${state.route} ${status} ${ms}ms ${state.id}`);
    }
  };
}
