/**
 * {@link createVaultHandler}: the Vault API as a web-standard `fetch(Request) → Response`, on Hono,
 * composed from its parts. Every request goes through the same steps, in this order: request id
 * and timing (`_observe.ts`); CORS when on (`_cors.ts`); route match, 404 and 405
 * (`_adapter.ts`); added latency, API key (401, 403), rate limit (429) and injected faults (429,
 * 500, 503, dropped connection) (`_admission.ts`); `Idempotency-Key` on POST; the route
 * (`_routes-v1.ts`, `_routes-seed.ts`). Every answer carries `X-Request-ID`; every authenticated
 * answer the rate-limit headers.
 * @module
 */
import { Hono } from 'hono';
import { mountRoutes } from './_adapter.js';
import { admission } from './_admission.js';
import { errorSink } from './_answer.js';
import { ApiKeys } from './_auth.js';
import type { Env } from './_context.js';
import { corsMiddleware } from './_cors.js';
import { Drops } from './_drop.js';
import { FaultInjector } from './_faults.js';
import { observe, RequestIds, Stats } from './_observe.js';
import { checkHandlerOptions, type HandlerConfig } from './_options.js';
import { RateLimiter } from './_rate-limit.js';
import { seedRoutes } from './_routes-seed.js';
import { v1Routes } from './_routes-v1.js';
import { openServices } from './_services.js';
import type { FaultOptions, HandlerOptions, NodeBindings, ServerStats, VaultHandler } from './options.js';

/**
 * Builds a handler from checked options (`startServer` checks its own, then calls this).
 * @param config - The checked options.
 * @param now - The clock of the stores and the rate limit.
 * @param ids - Where request ids come from (`startServer` shares them with its answers to
 *   requests Node refuses before the handler sees them).
 * @returns The handler.
 * @throws MasterKeyError / DatabaseError as {@link createVaultHandler}.
 * @internal
 */
export function buildHandler(
  config: HandlerConfig,
  now: () => number = Date.now,
  ids: RequestIds = new RequestIds(),
): VaultHandler {
  const limiter = config.rateLimit === undefined ? undefined : new RateLimiter(config.rateLimit, now);
  const faults = new FaultInjector(config.faults);
  const services = openServices(config, now);
  const apiKeys = new ApiKeys(config.apiKeys, services.publicId);
  const stats = new Stats();
  const drops = new Drops();
  let closed = false;

  const app = new Hono<Env>();
  app.use('*', observe(stats, config.log, ids));
  if (config.cors !== undefined) app.use('*', corsMiddleware(config.cors));
  mountRoutes(app, [...v1Routes(services), ...seedRoutes(services)], {
    admit: admission({ faults, apiKeys, limiter }),
    drops,
    idempotency: services.idempotency,
    maxBodyBytes: config.maxBodyBytes,
    report: errorSink(config.log),
    closed: () => closed,
  });

  return {
    apiKeys: [...apiKeys.keys],
    async fetch(request: Request, env?: NodeBindings): Promise<Response> {
      return drops.settle(await app.fetch(request, env), env);
    },
    stats(): ServerStats {
      return stats.snapshot();
    },
    resetStats(): void {
      stats.reset();
    },
    setFaults(f: FaultOptions | undefined): void {
      faults.set(f);
    },
    close(): void {
      if (closed) return;
      closed = true;
      services.close();
    },
  };
}

/**
 * Builds the Vault API as an in-process request handler, over its own database.
 *
 * @param options - As for `startServer`, without `host`, `port` and the connection limits.
 * @returns The handler: `fetch`, the accepted `apiKeys`, stats, fault control, `close`.
 * @throws TypeError / RangeError on malformed or unknown options; MasterKeyError when the master
 *   key does not open the data directory, or is missing beside its database; DatabaseError when
 *   the database can not be opened or is damaged, or another server or handler holds the data
 *   directory (until this handler is closed, it holds it too).
 * @example
 * ```ts
 * const vault = createVaultHandler({ memory: true, apiKeys: ['sk_test'] });
 * const res = await vault.fetch(new Request('http://vault/vault/v1/keys/data-key', {
 *   method: 'POST',
 *   headers: { Authorization: 'Bearer sk_test', 'Content-Type': 'application/json' },
 *   body: JSON.stringify({ context: { organization_id: 'org_1' } }),
 * }));
 * vault.close();
 * ```
 */
export function createVaultHandler(options: HandlerOptions = {}): VaultHandler {
  return buildHandler(checkHandlerOptions(options));
}
