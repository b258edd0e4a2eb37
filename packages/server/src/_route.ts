/**
 * The shape of a route: what a handler receives and returns. Handlers return a status and a JSON
 * body (or throw an `HttpError`); the handler layer adds headers, idempotency and the log.
 * @module
 */
import type { Principal } from './_auth.js';
import type { Keyring } from './_keyring.js';
import type { ObjectStore } from './_objects.js';

/** What a route handler sees of a request. */
export interface RouteRequest {
  /** Path parameters, percent-decoded. */
  params: Record<string, string>;
  /** Query parameters. */
  query: URLSearchParams;
  /**
   * The body as a JSON object.
   * @param optional - An empty body is `{}` instead of a 400.
   */
  json(optional?: boolean): Promise<Record<string, unknown>>;
  /** The authenticated caller. */
  principal: Principal;
}

/** A handler's answer. */
export interface ApiResult {
  status: number;
  body: unknown;
}

/**
 * A handler's answer.
 * @param body - The JSON body.
 * @param status - The status. @default 200
 * @returns The answer.
 */
export function ok(body: unknown, status = 200): ApiResult {
  return { status, body };
}

/** One route. */
export interface RouteDef {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Hono path, e.g. `/vault/v1/kv/:id`. */
  path: string;
  handler: (request: RouteRequest) => ApiResult | Promise<ApiResult>;
  /**
   * Where `Idempotency-Key` replays are kept: sealed in memory only (answers that hold data keys),
   * or also in the database (object metadata).
   */
  idempotency?: 'memory' | 'persist';
}

/** What the routes work on. */
export interface Services {
  keyring: Keyring;
  objects: ObjectStore;
}

/** The route template for stats and logs: the path without regex constraints. */
export function template(path: string): string {
  return path.replace(/\{[^}]*\}/g, '');
}

/** A regular expression matching the paths of a route, for telling 405 from 404. */
export function pathPattern(path: string): RegExp {
  const source = path
    .split('/')
    .map((seg) => {
      if (!seg.startsWith(':')) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      return /\{\.\+\}$/.test(seg) ? '.+' : '[^/]+';
    })
    .join('/');
  return new RegExp(`^${source}$`);
}
