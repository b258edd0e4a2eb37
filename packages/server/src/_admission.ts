/**
 * Admission: the steps every request takes before a route sees it, matched or not, in this
 * order: the injected latency, the API key (401, 403), the rate limit (429, and the rate-limit
 * headers every later answer carries), then the injected fault (429, 500, 503 or a dropped
 * connection). An injected fault comes after the key and the rate limit, so it carries the
 * rate-limit headers as any other answer does.
 * @module
 */
import type { ApiKeys, Principal } from './_auth.js';
import { type Ctx, header, type RequestState } from './_context.js';
import type { FaultInjector } from './_faults.js';
import { HttpError } from './_http-error.js';
import { type RateLimiter, rateLimited } from './_rate-limit.js';

/** Admits a request: its caller, or `'drop'` when its connection is to be dropped. */
export type Admit = (c: Ctx, state: RequestState) => Promise<Principal | 'drop'>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The admission step.
 * @param parts - The fault injector, the accepted keys, and the rate limiter (none: no limit).
 * @returns The step.
 */
export function admission(parts: {
  faults: FaultInjector;
  apiKeys: ApiKeys;
  limiter: RateLimiter | undefined;
}): Admit {
  const { faults, apiKeys, limiter } = parts;
  return async (c, state) => {
    const decision = faults.decide(c.req.path);
    if (decision.latencyMs > 0) await sleep(decision.latencyMs);
    const principal = apiKeys.authenticate(header(c, 'authorization'));
    if (limiter !== undefined) {
      const rate = limiter.take(principal.id);
      state.headers = rate.headers;
      if (rate.limited) throw rateLimited(rate);
    }
    switch (decision.action) {
      case 'drop':
        return 'drop';
      case 429:
        throw new HttpError(429, 'Rate limit exceeded (injected)', {
          'Retry-After': String(decision.retryAfterSeconds),
        });
      case 500:
        throw new HttpError(500, 'Internal server error (injected)');
      case 503:
        throw new HttpError(503, 'Service unavailable (injected)');
      default:
        return principal;
    }
  };
}
