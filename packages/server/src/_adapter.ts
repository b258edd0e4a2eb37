/**
 * The route adapter: mounts the route tables on Hono. For a matched route it names the request
 * (`METHOD /template`, for stats and the log), refuses it once the handler is closed, admits it,
 * hands the route a {@link RouteRequest} that reads the body and the query only when asked, runs
 * a POST with an `Idempotency-Key` once per key (when the route keeps replays), and writes the
 * answer. An unmatched request is admitted too, then answered 405 with `Allow` when another
 * method matches the path, else 404.
 * @module
 */
import type { Hono } from 'hono';
import type { Admit } from './_admission.js';
import { type ErrorSink, errorText, failure, jsonResponse } from './_answer.js';
import { parseJsonObject, readBody } from './_body.js';
import { type Env, header, incomingOf } from './_context.js';
import type { Drops } from './_drop.js';
import { HttpError } from './_http-error.js';
import type { IdempotencyStore, StoredResponse } from './_idempotency.js';
import { type ApiResult, pathPattern, type RouteDef, type RouteRequest, template } from './_route.js';

/** What the adapter works with. */
export interface AdapterParts {
  admit: Admit;
  drops: Drops;
  idempotency: IdempotencyStore;
  /** Largest accepted body, in bytes. */
  maxBodyBytes: number;
  report: ErrorSink;
  /** Whether the handler is closed (requests are then answered 503). */
  closed: () => boolean;
}

/** Runs a route: its answer, or the answer of the {@link HttpError} it threw, as JSON text. */
async function run(def: RouteDef, request: RouteRequest): Promise<StoredResponse> {
  try {
    const result: ApiResult = await def.handler(request);
    return { status: result.status, body: JSON.stringify(result.body) };
  } catch (e) {
    if (e instanceof HttpError) return { status: e.status, body: errorText(e.message) };
    throw e;
  }
}

/**
 * Mounts the routes, the 404/405 answer for everything else, and the last-resort error answer.
 * @param app - The Hono app, after its middleware.
 * @param routes - The route tables.
 * @param parts - Admission, drops, idempotency, the body limit, the error sink and the closed flag.
 */
export function mountRoutes(app: Hono<Env>, routes: readonly RouteDef[], parts: AdapterParts): void {
  const { admit, drops, idempotency, maxBodyBytes, report, closed } = parts;
  const patterns = routes.map((r) => ({ method: r.method, pattern: pathPattern(r.path) }));

  for (const def of routes) {
    const name = `${def.method} ${template(def.path)}`;
    app.on(def.method, def.path, async (c) => {
      const state = c.get('state');
      state.route = name;
      try {
        if (closed()) throw new HttpError(503, 'Server is shutting down');
        const principal = await admit(c, state);
        if (principal === 'drop') return drops.answer(state);
        let bytes: Promise<Uint8Array> | undefined;
        const body = () => {
          bytes ??= readBody(c.req.raw, maxBodyBytes, incomingOf(c));
          return bytes;
        };
        let query: URLSearchParams | undefined;
        const request: RouteRequest = {
          params: c.req.param() as Record<string, string>,
          get query() {
            query ??= new URL(c.req.url).searchParams;
            return query;
          },
          json: async (optional) => parseJsonObject(await body(), optional),
          principal,
        };
        const idemKey = def.method === 'POST' ? header(c, 'idempotency-key') : undefined;
        let response: StoredResponse;
        let replayed = false;
        if (idemKey !== undefined && def.idempotency !== undefined) {
          const identity = { method: def.method, path: c.req.path, body: await body() };
          const out = await idempotency.run(
            principal.id,
            idemKey,
            identity,
            def.idempotency === 'persist',
            () => run(def, request),
          );
          response = out.response;
          replayed = out.replayed;
        } else {
          response = await run(def, request);
        }
        const headers = replayed ? { ...state.headers, 'Idempotent-Replayed': 'true' } : state.headers;
        return jsonResponse(state, response.status, response.body, headers);
      } catch (e) {
        return failure(state, e, report);
      }
    });
  }

  app.notFound(async (c) => {
    const state = c.get('state');
    try {
      const principal = await admit(c, state);
      if (principal === 'drop') return drops.answer(state);
      const path = c.req.path;
      const allow = [...new Set(patterns.filter((p) => p.pattern.test(path)).map((p) => p.method))];
      if (allow.length > 0) {
        state.route = `${c.req.method} (method not allowed)`;
        throw new HttpError(405, 'Method not allowed', { Allow: allow.join(', ') });
      }
      throw new HttpError(404, 'Not found');
    } catch (e) {
      return failure(state, e, report);
    }
  });

  app.onError((e, c) => failure(c.get('state'), e, report));
}
