/**
 * CORS for browsers, off unless asked for: the methods and request headers of the Vault API, and
 * the response headers a browser client needs to read (request id, rate limit, replays).
 * @module
 */
import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { Env } from './_context.js';

/** The response headers a browser may read. */
const EXPOSED = [
  'X-Request-ID',
  'X-RateLimit-Limit',
  'X-RateLimit-Remaining',
  'X-RateLimit-Reset',
  'Retry-After',
  'Idempotent-Replayed',
];

/**
 * The CORS middleware.
 * @param origin - `'*'` or the allowed origins (checked options).
 * @returns The middleware.
 */
export function corsMiddleware(origin: string | string[]): MiddlewareHandler<Env> {
  return cors({
    origin,
    allowMethods: ['GET', 'POST', 'PUT', 'DELETE'],
    allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-ID'],
    exposeHeaders: EXPOSED,
    maxAge: 600,
  });
}
