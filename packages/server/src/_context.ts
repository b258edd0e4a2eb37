/**
 * What the request pipeline keeps per request (on the Hono context), and how it reads a request:
 * from Node's `IncomingMessage` when the handler runs under `startServer`, because building a web
 * `Headers` object for every request costs more than the rest of a key unwrap.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';

/** Per-request state, kept on the Hono context. */
export interface RequestState {
  id: string;
  start: number;
  /** `METHOD /template` of the matched route, for stats and the log. */
  route: string;
  /** Headers every answer to this request carries (the rate-limit headers). */
  headers: Record<string, string>;
  /** The request is answered by destroying its connection. */
  dropped: boolean;
  /** The answer already carries `X-Request-ID`. */
  stamped: boolean;
}

/** The Hono environment of the pipeline. */
export type Env = { Variables: { state: RequestState } };

/** A Hono context of the pipeline. */
export type Ctx = Context<Env>;

/**
 * The Node request under a Hono context, when served by `startServer`.
 * @param c - The context.
 * @returns The request, or `undefined` in process.
 */
export function incomingOf(c: Ctx): IncomingMessage | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
}

/**
 * A request header, read from Node's request when there is one.
 * @param c - The context.
 * @param name - The header name, lower case.
 * @returns Its value (repeated headers joined with `, `), or `undefined`.
 */
export function header(c: Ctx, name: string): string | undefined {
  const incoming = incomingOf(c);
  if (incoming === undefined) return c.req.header(name);
  const v = incoming.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}
