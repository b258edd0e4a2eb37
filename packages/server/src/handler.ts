/**
 * {@link createVaultHandler}: the Vault API as a web-standard `fetch(Request) → Response`, on Hono.
 * Every request goes through the same steps, in this order: request id and timing; CORS (when
 * on); route match (404, 405); added latency (faults); API key (401, 403); rate limit (429);
 * injected faults (429, 500, 503, dropped connection); `Idempotency-Key` (POST); the route.
 * Every answer carries `X-Request-ID`; every authenticated answer the rate-limit headers.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { type Context, Hono } from 'hono';
import { cors } from 'hono/cors';
import { ApiKeys, type Principal } from './_auth.js';
import { parseJsonObject, readBody } from './_body.js';
import { token } from './_crypto.js';
import { type Db, openDatabase } from './_db.js';
import { FaultInjector } from './_faults.js';
import { HttpError } from './_http-error.js';
import { fingerprint, IdempotencyStore, type StoredResponse } from './_idempotency.js';
import { Keyring } from './_keyring.js';
import { bindMasterKey, loadMasterKey } from './_master.js';
import { ObjectStore } from './_objects.js';
import { RateLimiter, rateLimited } from './_rate-limit.js';
import { type ApiResult, pathPattern, type RouteDef, type RouteRequest, template } from './_route.js';
import { seedRoutes } from './_routes-seed.js';
import { v1Routes } from './_routes-v1.js';
import type { FaultOptions, NodeBindings, ServerOptions, ServerStats, VaultHandler } from './options.js';

/** Default largest request body: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES: number = 1024 * 1024;
/** Default rate limit: 1000 requests a minute per API key. */
export const DEFAULT_RATE_LIMIT: { limit: number; windowMs: number } = { limit: 1000, windowMs: 60_000 };

/** Per-request state, kept on the Hono context. */
interface RequestState {
  id: string;
  start: number;
  route: string;
  headers: Record<string, string>;
  dropped: boolean;
  /** The answer already carries `X-Request-ID`. */
  stamped: boolean;
}

type Env = { Variables: { state: RequestState } };

const JSON_HEADERS = { 'Content-Type': 'application/json' };
const EXPOSED = [
  'X-Request-ID',
  'X-RateLimit-Limit',
  'X-RateLimit-Remaining',
  'X-RateLimit-Reset',
  'Retry-After',
  'Idempotent-Replayed',
];

/**
 * A JSON answer with the request id. Headers are a plain record, which `@hono/node-server` writes
 * without building a `Headers` object.
 */
function jsonResponse(
  state: RequestState,
  status: number,
  text: string,
  headers: Record<string, string>,
): Response {
  state.stamped = true;
  return new Response(text, {
    status,
    headers: { ...JSON_HEADERS, 'X-Request-ID': state.id, ...headers },
  });
}

function errorText(message: string): string {
  return JSON.stringify({ error: message });
}

/** The Node request under a Hono context, when served by `startServer`. */
function incomingOf(c: Context<Env>): IncomingMessage | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
}

/**
 * A request header, read from Node's request when there is one: building a web `Headers` object
 * for every request costs more than the rest of a key unwrap.
 */
function header(c: Context<Env>, name: string): string | undefined {
  const incoming = incomingOf(c);
  if (incoming === undefined) return c.req.header(name);
  const v = incoming.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function checkOptions(options: Omit<ServerOptions, 'host' | 'port'>): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const max = options.maxBodyBytes;
  if (max !== undefined && (!Number.isSafeInteger(max) || max < 1)) {
    throw new RangeError('maxBodyBytes must be a positive integer');
  }
  if (options.log !== undefined && options.log !== false && typeof options.log !== 'function') {
    throw new TypeError('log must be a function or false');
  }
  if (options.dataDir !== undefined && typeof options.dataDir !== 'string') {
    throw new TypeError('dataDir must be a string');
  }
}

/**
 * Builds the Vault API as an in-process request handler, over its own database.
 *
 * @param options - As for `startServer`, without `host` and `port`.
 * @returns The handler: `fetch`, the accepted `apiKeys`, stats, fault control, `close`.
 * @throws TypeError / RangeError on malformed options; MasterKeyError when the master key does
 *   not open the data directory; VaultServerError when the database can not be opened.
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
export function createVaultHandler(options: Omit<ServerOptions, 'host' | 'port'> = {}): VaultHandler {
  checkOptions(options);
  const apiKeys = new ApiKeys(options.apiKeys);
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const limiter =
    options.rateLimit === false ? undefined : new RateLimiter(options.rateLimit ?? DEFAULT_RATE_LIMIT);
  const faults = new FaultInjector(options.faults);
  const log = typeof options.log === 'function' ? options.log : undefined;
  const dataDir = options.memory === true ? undefined : (options.dataDir ?? './.vault-data');

  const db: Db = openDatabase(dataDir);
  let keyring: Keyring;
  let idempotency: IdempotencyStore;
  let objects: ObjectStore;
  try {
    const raw = loadMasterKey(options.masterKey, dataDir);
    try {
      keyring = new Keyring(db, bindMasterKey(db, raw));
    } finally {
      raw.fill(0);
    }
    idempotency = new IdempotencyStore(db);
    objects = new ObjectStore(db, keyring);
  } catch (e) {
    db.close();
    throw e;
  }

  // Request ids: a random per-handler prefix and a counter; unique, and no CSPRNG call per request.
  const idPrefix = `req_${token(9)}`;
  let sequence = 0;
  let counts = new Map<string, number>();
  let total = 0;
  let closed = false;

  const app = new Hono<Env>();

  app.use('*', async (c, next) => {
    const state: RequestState = {
      id: `${idPrefix}${(++sequence).toString(36).padStart(6, '0')}`,
      start: performance.now(),
      route: `${c.req.method} (unmatched)`,
      headers: {},
      dropped: false,
      stamped: false,
    };
    c.set('state', state);
    await next();
    total++;
    counts.set(state.route, (counts.get(state.route) ?? 0) + 1);
    // Answers not made here (a CORS preflight) get the request id too.
    if (!state.dropped && !state.stamped) c.res.headers.set('X-Request-ID', state.id);
    if (log !== undefined) {
      const ms = (performance.now() - state.start).toFixed(1);
      const status = state.dropped ? 'dropped' : String(c.res.status);
      log(`${new Date().toISOString()} ${state.route} ${status} ${ms}ms ${state.id}`);
    }
  });

  if (options.cors !== undefined && options.cors !== false) {
    const origin = options.cors === true ? '*' : options.cors.origins;
    app.use(
      '*',
      cors({
        origin,
        allowMethods: ['GET', 'POST', 'PUT', 'DELETE'],
        allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-ID'],
        exposeHeaders: EXPOSED,
        maxAge: 600,
      }),
    );
  }

  /** Latency, key, rate limit and faults: the steps every matched or unmatched request takes. */
  async function admit(c: Context<Env>, state: RequestState): Promise<Principal | 'drop'> {
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
  }

  function fail(state: RequestState, e: unknown): Response {
    if (e instanceof HttpError) {
      return jsonResponse(state, e.status, errorText(e.message), { ...state.headers, ...e.headers });
    }
    // A bug, not a client's mistake: say so somewhere. Messages are ours or SQLite's, never a
    // value or a key (those never reach an error message in this package).
    const what = e instanceof Error ? `${e.name}: ${e.message}` : 'non-Error thrown';
    (log ?? ((line: string) => process.stderr.write(`${line}\n`)))(
      `${new Date().toISOString()} error ${state.id} ${what}`,
    );
    return jsonResponse(state, 500, errorText('Internal server error'), state.headers);
  }

  function drop(state: RequestState): Response {
    state.dropped = true;
    const res = new Response(null, { status: 599 });
    dropped.add(res);
    return res;
  }

  async function run(def: RouteDef, request: RouteRequest): Promise<StoredResponse> {
    try {
      const result: ApiResult = await def.handler(request);
      return { status: result.status, body: JSON.stringify(result.body) };
    } catch (e) {
      if (e instanceof HttpError) return { status: e.status, body: errorText(e.message) };
      throw e;
    }
  }

  /** Answers that stand for a dropped connection. */
  const dropped = new WeakSet<Response>();

  const routes = [...v1Routes({ keyring, objects }), ...seedRoutes({ keyring, objects })];
  const patterns = routes.map((r) => ({ method: r.method, pattern: pathPattern(r.path) }));

  for (const def of routes) {
    const name = `${def.method} ${template(def.path)}`;
    app.on(def.method, def.path, async (c) => {
      const state = c.get('state');
      state.route = name;
      try {
        if (closed) throw new HttpError(503, 'Server is shutting down');
        const principal = await admit(c, state);
        if (principal === 'drop') return drop(state);
        let bytes: Promise<Uint8Array> | undefined;
        const body = () => {
          bytes ??= readBody(c.req.raw, maxBody, incomingOf(c));
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
          const print = fingerprint(def.method, c.req.path, await body());
          const out = await idempotency.run(principal.id, idemKey, print, def.idempotency === 'persist', () =>
            run(def, request),
          );
          response = out.response;
          replayed = out.replayed;
        } else {
          response = await run(def, request);
        }
        const headers = replayed ? { ...state.headers, 'Idempotent-Replayed': 'true' } : state.headers;
        return jsonResponse(state, response.status, response.body, headers);
      } catch (e) {
        return fail(state, e);
      }
    });
  }

  app.notFound(async (c) => {
    const state = c.get('state');
    try {
      const principal = await admit(c, state);
      if (principal === 'drop') return drop(state);
      const path = c.req.path;
      const allow = [...new Set(patterns.filter((p) => p.pattern.test(path)).map((p) => p.method))];
      if (allow.length > 0) {
        state.route = `${c.req.method} (method not allowed)`;
        throw new HttpError(405, 'Method not allowed', { Allow: allow.join(', ') });
      }
      throw new HttpError(404, 'Not found');
    } catch (e) {
      return fail(state, e);
    }
  });

  app.onError((e, c) => fail(c.get('state'), e));

  return {
    apiKeys: [...apiKeys.keys],
    async fetch(request: Request, env?: NodeBindings): Promise<Response> {
      const res = await app.fetch(request, env);
      // A WeakSet, not a marker header: reading `headers` would make @hono/node-server build a
      // Headers object for every answer.
      if (dropped.has(res)) {
        if (env?.incoming?.socket !== undefined) {
          env.incoming.socket.destroy();
          return RESPONSE_ALREADY_SENT;
        }
        throw new TypeError('fetch failed', { cause: new Error('connection dropped by fault injection') });
      }
      return res;
    },
    stats(): ServerStats {
      return { requests: Object.fromEntries(counts), total };
    },
    resetStats(): void {
      counts = new Map();
      total = 0;
    },
    setFaults(f: FaultOptions | undefined): void {
      faults.set(f);
    },
    close(): void {
      if (closed) return;
      closed = true;
      keyring.close();
      db.close();
    },
  };
}
