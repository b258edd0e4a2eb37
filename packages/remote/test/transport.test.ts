/**
 * The client's HTTP behaviour, pinned request by request against a scripted real HTTP server:
 * headers, wire shapes, retries, waits, timeouts, the deadline, aborts and error mapping.
 */
import { inspect } from 'node:util';
import {
  BadRequestError,
  ConflictError,
  NetworkError,
  NotFoundError,
  RateLimitError,
  type ResponseEvent,
  type RetryEvent,
  ServerError,
  TimeoutError,
  VaultClient,
  type VaultClientOptions,
} from '@vault-envelope/remote';
import { afterEach, describe, expect, test } from 'vitest';
import { caught } from './_caught.js';
import {
  type Answer,
  type ScriptedServer,
  type Seen,
  scriptedServer,
  wireMetadata,
} from './_scripted-server.js';

const API_KEY = 'sk_test_transport_SECRET_0123456789';
const VALUE = 'the-secret-value-0xDEADBEEF';
let srv: ScriptedServer | undefined;

afterEach(async () => {
  await srv?.close();
  srv = undefined;
});

/** Fast retries (fixed small backoff) unless a test says otherwise. */
async function setup(
  script: (req: Seen, n: number) => Answer,
  options: Partial<VaultClientOptions> = {},
): Promise<{ vault: VaultClient; seen: Seen[] }> {
  srv = await scriptedServer(script);
  const vault = new VaultClient({
    apiKey: API_KEY,
    baseUrl: srv.url,
    retry: { limit: 3, delay: () => 5, jitter: false },
    ...options,
  });
  return { vault, seen: srv.seen };
}

const created: Answer = { status: 201, body: wireMetadata('obj_9'), headers: { 'x-request-id': 'req_ok' } };

function expectNoSecrets(e: unknown): void {
  const views = [String(e), JSON.stringify(e), inspect(e, { depth: 20, showHidden: true })];
  for (const v of views) {
    expect(v).not.toContain(API_KEY);
    expect(v).not.toContain(VALUE);
  }
}

describe('requests on the wire', () => {
  test('createObject sends snake_case JSON, auth, user agent and an Idempotency-Key', async () => {
    const { vault, seen } = await setup(() => created);
    const meta = await vault.createObject({ name: 'n1', value: VALUE, context: { app: 'x' } });
    expect(meta.id).toBe('obj_9');
    expect(meta.updatedAt).toEqual(new Date('2024-06-15T10:30:00Z'));
    expect(meta.environmentId).toBe('environment_test');
    const r = seen[0]!;
    expect(r.method).toBe('POST');
    expect(r.url).toBe('/vault/v1/kv');
    expect(JSON.parse(r.body)).toEqual({ name: 'n1', value: VALUE, key_context: { app: 'x' } });
    expect(r.headers['authorization']).toBe(`Bearer ${API_KEY}`);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.headers['user-agent']).toBe('vault-envelope-remote/0.1.0');
    expect(r.headers['idempotency-key']).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  test('GET sends no Idempotency-Key; two calls get two different keys', async () => {
    const { vault, seen } = await setup((req) =>
      req.method === 'GET' ? { status: 200, body: { data: [], list_metadata: {} } } : created,
    );
    await vault.listObjects();
    await vault.createObject({ name: 'a', value: 'v', context: {} });
    await vault.createObject({ name: 'b', value: 'v', context: {} });
    expect(seen[0]!.headers['idempotency-key']).toBeUndefined();
    expect(seen[1]!.headers['idempotency-key']).not.toBe(seen[2]!.headers['idempotency-key']);
  });

  test('updateObject sends version_check only when given', async () => {
    const body = { id: 'obj_1', name: 'n', metadata: wireMetadata() };
    const { vault, seen } = await setup(() => ({ status: 201, body }));
    await vault.updateObject({ id: 'obj_1', value: 'v2' });
    await vault.updateObject({ id: 'obj_1', value: 'v3', versionCheck: 'ver_1' });
    expect(JSON.parse(seen[0]!.body)).toEqual({ value: 'v2' });
    expect(JSON.parse(seen[1]!.body)).toEqual({ value: 'v3', version_check: 'ver_1' });
    expect(seen[0]!.method).toBe('PUT');
  });

  test('deleteObject sends version_check as a query only when given', async () => {
    const { vault, seen } = await setup(() => ({ status: 200, body: { name: 'n', success: true } }));
    await vault.deleteObject({ id: 'obj 1?x' });
    await vault.deleteObject({ id: 'obj_1', versionCheck: 'ver_7' });
    expect(seen[0]!.url).toBe('/vault/v1/kv/obj%201%3Fx');
    expect(seen[1]!.url).toBe('/vault/v1/kv/obj_1?version_check=ver_7');
  });

  test('listObjects uses the spec query names, updatedAfter as ISO-8601, and sends nothing absent', async () => {
    const { vault, seen } = await setup(() => ({
      status: 200,
      body: {
        data: [
          { id: 'o1', name: 'n1', updated_at: '2024-01-02T00:00:00Z' },
          { id: 'o2', name: 'n2', updated_at: null },
        ],
        list_metadata: { before: null, after: 'o2' },
      },
    }));
    const page = await vault.listObjects({
      limit: 5,
      before: 'b',
      after: 'a',
      order: 'desc',
      search: 'x y',
      updatedAfter: new Date('2024-01-01T00:00:00Z'),
    });
    await vault.listObjects({});
    const q = new URL(seen[0]!.url, 'http://h').searchParams;
    expect(Object.fromEntries(q)).toEqual({
      limit: '5',
      before: 'b',
      after: 'a',
      order: 'desc',
      search: 'x y',
      updatedAfter: '2024-01-01T00:00:00.000Z',
    });
    expect(seen[1]!.url).toBe('/vault/v1/kv');
    expect(page.data[0]!.updatedAt).toEqual(new Date('2024-01-02T00:00:00Z'));
    expect(page.data[1]!.updatedAt).toBeNull();
    expect(page.listMetadata).toEqual({ before: null, after: 'o2' });
  });

  test('readObjectByName percent-encodes the name and takes a string or { name }', async () => {
    const body = { id: 'o', name: 'a/b c', value: 'v', metadata: wireMetadata('o') };
    const { vault, seen } = await setup(() => ({ status: 200, body }));
    expect((await vault.readObjectByName('a/b c')).value).toBe('v');
    await vault.readObjectByName({ name: 'a/b c' });
    expect(seen.map((s) => s.url)).toEqual(['/vault/v1/kv/name/a%2Fb%20c', '/vault/v1/kv/name/a%2Fb%20c']);
  });

  test('a path prefix in baseUrl is kept (a trailing slash or not)', async () => {
    const { seen } = await setup(() => created);
    for (const prefix of ['/proxy/vault-api', '/proxy/vault-api/']) {
      const c = new VaultClient({ apiKey: API_KEY, baseUrl: `${srv!.url}${prefix}` });
      await c.createObject({ name: 'n', value: 'v', context: {} });
    }
    expect(seen.map((r) => r.url)).toEqual(['/proxy/vault-api/vault/v1/kv', '/proxy/vault-api/vault/v1/kv']);
  });

  test('a custom userAgent and beforeRequest hook headers are sent', async () => {
    const { vault, seen } = await setup(() => created, {
      userAgent: 'my-app/1',
      hooks: { beforeRequest: [(request) => request.headers.set('traceparent', 't-1')] },
    });
    await vault.createObject({ name: 'n', value: 'v', context: {} });
    expect(seen[0]!.headers['user-agent']).toBe('my-app/1');
    expect(seen[0]!.headers['traceparent']).toBe('t-1');
  });
});

describe('retries', () => {
  test('503, 500 then 201: three attempts with the same Idempotency-Key', async () => {
    const events: RetryEvent[] = [];
    const { vault, seen } = await setup(
      (_r, n) => (n === 0 ? { status: 503 } : n === 1 ? { status: 500, body: { error: 'boom' } } : created),
      { hooks: { beforeRetry: [(e) => void events.push(e)] } },
    );
    const meta = await vault.createObject({ name: 'n', value: 'v', context: {} });
    expect(meta.id).toBe('obj_9');
    expect(seen).toHaveLength(3);
    const keys = new Set(seen.map((s) => s.headers['idempotency-key']));
    expect(keys.size).toBe(1);
    expect(events.map((e) => [e.attempt, e.error.status, e.delayMs])).toEqual([
      [1, 503, 5],
      [2, 500, 5],
    ]);
  });

  test('gives up after limit + 1 attempts with the last error', async () => {
    const { vault, seen } = await setup(() => ({ status: 502, body: { error: 'bad gateway' } }));
    const e = await caught(vault.readObject({ id: 'x' }));
    expect(e).toBeInstanceOf(ServerError);
    expect(e.attempts).toBe(4);
    expect(seen).toHaveLength(4);
  });

  test('other 4xx and 501 are never retried', async () => {
    for (const status of [400, 401, 403, 404, 409, 422, 501]) {
      const { vault, seen } = await setup(() => ({ status, body: { error: `e${status}` } }));
      const e = await caught(vault.readObject({ id: 'x' }));
      expect(e.status).toBe(status);
      expect(e.serverMessage).toBe(`e${status}`);
      expect(seen).toHaveLength(1);
      await srv!.close();
      srv = undefined;
    }
  });

  test('retry: 0 disables retries', async () => {
    const { vault, seen } = await setup(() => ({ status: 503 }), { retry: 0 });
    await expect(vault.readObject({ id: 'x' })).rejects.toBeInstanceOf(ServerError);
    expect(seen).toHaveLength(1);
  });

  test('429 with Retry-After waits as asked (not jittered)', async () => {
    const { vault, seen } = await setup((_r, n) =>
      n === 0 ? { status: 429, headers: { 'retry-after': '1' }, body: { error: 'slow down' } } : created,
    );
    const t0 = performance.now();
    await vault.createObject({ name: 'n', value: 'v', context: {} });
    const waited = performance.now() - t0;
    expect(seen).toHaveLength(2);
    expect(waited).toBeGreaterThanOrEqual(990);
    expect(waited).toBeLessThan(2500);
  });

  test('429 with X-RateLimit-Reset (Unix seconds) waits until the reset', async () => {
    const events: RetryEvent[] = [];
    const { vault } = await setup(
      (_r, n) =>
        n === 0
          ? { status: 429, headers: { 'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000)) } }
          : created,
      { hooks: { beforeRetry: [(e) => void events.push(e)] } },
    );
    await vault.createObject({ name: 'n', value: 'v', context: {} });
    expect(events).toHaveLength(1);
    expect(events[0]!.delayMs).toBeLessThanOrEqual(1000);
    expect(events[0]!.error).toBeInstanceOf(RateLimitError);
  });

  test('a Retry-After above maxRetryAfter fails at once with retryAfter set', async () => {
    const { vault, seen } = await setup(() => ({
      status: 429,
      headers: { 'retry-after': '120', 'x-request-id': 'req_rl' },
      body: { error: 'rate_limit_exceeded' },
    }));
    const t0 = performance.now();
    const e = (await caught(vault.readObject({ id: 'x' }))) as RateLimitError;
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(e).toBeInstanceOf(RateLimitError);
    expect(e.retryAfter).toBe(120);
    expect(e.requestId).toBe('req_rl');
    expect(e.message).toBe(
      'Vault rate limit exceeded: GET /vault/v1/kv/x returned 429: rate_limit_exceeded (request id req_rl)',
    );
    expect(seen).toHaveLength(1);
  });

  test('dropped connections are retried, then surface as NetworkError with the cause', async () => {
    const { vault, seen } = await setup((_r, n) => (n < 2 ? { drop: true } : created));
    expect((await vault.createObject({ name: 'n', value: 'v', context: {} })).id).toBe('obj_9');
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((s) => s.headers['idempotency-key'])).size).toBe(1);

    await srv!.close();
    const again = await setup(() => ({ drop: true }));
    const e = await caught(again.vault.readObject({ id: 'x' }));
    expect(e).toBeInstanceOf(NetworkError);
    expect(e.status).toBeUndefined();
    expect(e.attempts).toBe(4);
    expect(e.cause).toBeInstanceOf(Error);
  });
});

describe('time limits', () => {
  test('an attempt past `timeout` is aborted and retried', async () => {
    const { vault, seen } = await setup((_r, n) => (n === 0 ? { hang: true } : created), { timeout: 150 });
    expect((await vault.createObject({ name: 'n', value: 'v', context: {} })).id).toBe('obj_9');
    expect(seen).toHaveLength(2);
  });

  test('a server that never answers ends in TimeoutError after limit + 1 attempts', async () => {
    const { vault, seen } = await setup(() => ({ hang: true }), {
      timeout: 100,
      retry: { limit: 2, delay: () => 1 },
    });
    const t0 = performance.now();
    const e = await caught(vault.readObject({ id: 'x' }));
    expect(e).toBeInstanceOf(TimeoutError);
    expect(e.message).toBe('the Vault call timed out: GET /vault/v1/kv/x after 3 attempts');
    expect(seen).toHaveLength(3);
    expect(performance.now() - t0).toBeLessThan(1500);
  });

  test('the timeout covers a slow response too (headers sent late)', async () => {
    const { vault } = await setup(() => ({ status: 200, body: {}, delayMs: 2000 }), {
      timeout: 100,
      retry: 0,
    });
    await expect(vault.readObject({ id: 'x' })).rejects.toBeInstanceOf(TimeoutError);
  });

  test('the timeout covers the body: headers then a stall is a timeout, not a hang', async () => {
    const { vault, seen } = await setup((_r, n) => (n === 0 ? { stall: true } : created), { timeout: 150 });
    expect((await vault.createObject({ name: 'n', value: 'v', context: {} })).id).toBe('obj_9');
    expect(seen).toHaveLength(2);
  });

  test('a fetch that ignores its signal can not outlast the timeout, the deadline or the caller', async () => {
    // An injected or polyfilled fetch that never settles and never looks at its signal.
    let calls = 0;
    const deaf = (() => {
      calls++;
      return new Promise<Response>(() => {});
    }) as typeof fetch;
    const vault = new VaultClient({
      apiKey: API_KEY,
      baseUrl: 'http://vault.test',
      fetch: deaf,
      timeout: 50,
      deadline: 400,
      retry: { limit: 2, delay: () => 1, jitter: false },
    });
    const e = await caught(vault.readObject({ id: 'x' }));
    expect(e).toBeInstanceOf(TimeoutError);
    expect(e.message).toBe('the Vault call timed out: GET /vault/v1/kv/x after 3 attempts');
    expect(calls).toBe(3);
    const controller = new AbortController();
    const pending = new VaultClient({ apiKey: API_KEY, baseUrl: 'http://vault.test', fetch: deaf, retry: 0 })
      .readObject({ id: 'x', signal: controller.signal })
      .then(
        () => new Error('expected the call to fail'),
        (error: unknown) => error as Error,
      );
    await new Promise((r) => setTimeout(r, 20)); // the request is in flight
    controller.abort(new Error('the caller gave up'));
    expect((await pending).message).toBe('the caller gave up');
    expect(calls).toBe(4);
  });

  test('the overall deadline bounds attempts and waits', async () => {
    const { vault } = await setup(() => ({ hang: true }), {
      timeout: 10_000,
      deadline: 300,
      retry: { limit: 10 },
    });
    const t0 = performance.now();
    const e = await caught(vault.readObject({ id: 'x' }));
    const took = performance.now() - t0;
    expect(e).toBeInstanceOf(TimeoutError);
    expect(e.message).toBe('the Vault call ran past its overall deadline: GET /vault/v1/kv/x');
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(1500);
  });

  test('a backoff that would end past the deadline is not started: the last error is thrown at once', async () => {
    const { vault, seen } = await setup(() => ({ status: 503 }), {
      deadline: 500,
      retry: { limit: 5, delay: () => 2000, jitter: false },
    });
    const t0 = performance.now();
    const e = await caught(vault.readObject({ id: 'x' }));
    expect(e).toBeInstanceOf(ServerError);
    expect(seen).toHaveLength(1);
    expect(performance.now() - t0).toBeLessThan(400);
  });

  test('aborting the signal rejects with its reason, during an attempt and during a wait', async () => {
    const { vault } = await setup((_r, n) => (n === 0 ? { status: 503 } : { hang: true }), {
      retry: { limit: 3, delay: () => 10_000, jitter: false },
    });
    const reason = new Error('caller gave up');
    const c1 = new AbortController();
    setTimeout(() => c1.abort(reason), 50);
    await expect(vault.readObject({ id: 'x', signal: c1.signal })).rejects.toBe(reason);

    const c2 = new AbortController();
    setTimeout(() => c2.abort(reason), 50);
    await expect(vault.readObject({ id: 'x', signal: c2.signal })).rejects.toBe(reason);

    const c4 = new AbortController();
    setTimeout(() => c4.abort(reason), 50);
    await expect(vault.readObjectByName({ name: 'n', signal: c4.signal })).rejects.toBe(reason);

    const c3 = new AbortController();
    c3.abort(reason);
    await expect(vault.createDataKey({}, { signal: c3.signal })).rejects.toBe(reason);
  });
});

describe('errors from responses', () => {
  test('each status gives its class, the server message and the request id', async () => {
    const { vault } = await setup(() => ({
      status: 409,
      headers: { 'x-request-id': 'req_409' },
      body: { error: 'version mismatch' },
    }));
    const e = await caught(vault.updateObject({ id: 'o1', value: VALUE, versionCheck: 'v0' }));
    expect(e).toBeInstanceOf(ConflictError);
    expect(e.message).toBe(
      'Vault reported a conflict: PUT /vault/v1/kv/o1 returned 409: version mismatch (request id req_409)',
    );
    expectNoSecrets(e);
  });

  test('a non-JSON error body is not quoted (it may echo the request)', async () => {
    const { vault } = await setup(() => ({ status: 400, body: '<html>\n  <b>Bad</b>\n</html>' }));
    const e = await caught(vault.readObject({ id: 'x' }));
    expect(e).toBeInstanceOf(BadRequestError);
    expect(e.serverMessage).toBeUndefined();
    expect(e.message).toBe('Vault rejected the request as malformed: GET /vault/v1/kv/x returned 400');
  });

  test('a 2xx that is not JSON, or not the documented shape, is INVALID_RESPONSE', async () => {
    const { vault } = await setup((_r, n) =>
      n === 0 ? { status: 200, body: 'not json' } : { status: 200, body: { id: 'o', name: 'n' } },
    );
    const e1 = await caught(vault.readObject({ id: 'x' }));
    expect(e1.code).toBe('INVALID_RESPONSE');
    const e2 = await caught(vault.readObject({ id: 'x' }));
    expect(e2.code).toBe('INVALID_RESPONSE');
    expect(e2.message).toBe(
      'Vault sent an unexpected response (value is not a string): GET /vault/v1/kv/x returned 200',
    );
  });

  test('a data key that is not 32 bytes of base64 is INVALID_RESPONSE', async () => {
    const { vault } = await setup((_r, n) => ({
      status: 200,
      body: { id: 'k', data_key: n === 0 ? 'AAAA' : '!!', encrypted_keys: 'AQID', context: {} },
    }));
    expect((await caught(vault.createDataKey({}))).message).toContain('data_key is not 32 bytes');
    expect((await caught(vault.createDataKey({}))).message).toContain('data_key is not base64');
  });

  test('no error ever shows the API key or the value, whatever failed', async () => {
    const answers: Answer[] = [
      { status: 400, body: { error: 'bad' } },
      { status: 401, body: { error: 'unauthorized' } },
      { status: 429, headers: { 'retry-after': '999' } },
      { status: 500 },
      { drop: true },
      { status: 201, body: 'garbage' },
    ];
    for (const a of answers) {
      const { vault } = await setup(() => a, { retry: 0, timeout: 200 });
      const e = await caught(vault.createObject({ name: 'n', value: VALUE, context: {} }));
      expectNoSecrets(e);
      await srv!.close();
      srv = undefined;
    }
  });

  test('afterResponse sees every attempt with status, request id and duration', async () => {
    const events: ResponseEvent[] = [];
    const { vault } = await setup(
      (_r, n) => (n === 0 ? { status: 503, headers: { 'x-request-id': 'req_a' } } : created),
      { hooks: { afterResponse: [(e) => void events.push(e)] } },
    );
    await vault.createObject({ name: 'n', value: 'v', context: {} });
    expect(events.map((e) => [e.attempt, e.status, e.requestId, e.method, e.path])).toEqual([
      [1, 503, 'req_a', 'POST', '/vault/v1/kv'],
      [2, 201, 'req_ok', 'POST', '/vault/v1/kv'],
    ]);
    expect(events[0]!.idempotencyKey).toBe(events[1]!.idempotencyKey);
    expect(events.every((e) => e.durationMs >= 0)).toBe(true);
  });

  test('a hook that throws fails the call with its own error', async () => {
    const boom = new Error('hook failed');
    const { vault } = await setup(() => created, {
      hooks: {
        beforeRequest: [
          () => {
            throw boom;
          },
        ],
      },
    });
    await expect(vault.createObject({ name: 'n', value: 'v', context: {} })).rejects.toBe(boom);
  });

  test('NotFoundError from a 404 on readObjectByName', async () => {
    const { vault } = await setup(() => ({ status: 404, body: { error: 'not_found' } }));
    await expect(vault.readObjectByName('missing')).rejects.toBeInstanceOf(NotFoundError);
  });
});
