/**
 * The HTTP layer: authentication and permissions, the rate limit and its headers, bad input
 * (400/404/405/413/422, never a 500), Idempotency-Key replays, fault injection, CORS, the access
 * log, stats, and a graceful close.
 */
import { request as httpRequest } from 'node:http';
import { createVaultHandler, type RunningServer, startServer } from '@vault-envelope/server';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call, client, sharedServer, testServer } from './_helpers.js';

const DK = '/vault/v1/keys/data-key';
const KV = '/vault/v1/kv';

describe('auth', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await testServer({ apiKeys: ['sk_test', { key: 'sk_ro', name: 'no vault', permissions: [] }] });
  });
  afterAll(() => server.close());

  test('missing, malformed and unknown keys are 401; a key without vault permission is 403', async () => {
    expect((await call(server.url, 'GET', KV, undefined, {}, '')).status).toBe(401);
    expect((await call(server.url, 'GET', KV, undefined, { Authorization: 'Basic abc' }, '')).status).toBe(
      401,
    );
    expect((await call(server.url, 'GET', KV, undefined, {}, 'pk_test')).status).toBe(401);
    expect((await call(server.url, 'GET', KV, undefined, {}, 'sk_other')).status).toBe(401);
    const forbidden = await call(server.url, 'POST', DK, { context: {} }, {}, 'sk_ro');
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error).toMatch(/permission/);
    expect((await call(server.url, 'GET', KV, undefined, {}, 'sk_test')).status).toBe(200);
  });

  test('an error never echoes the API key', async () => {
    const r = await call(server.url, 'GET', KV, undefined, {}, 'sk_secret_value_123');
    expect(r.text).not.toContain('sk_secret_value_123');
  });

  test('no configured key: one sk_dev_ key is generated and works', async () => {
    const dev = await startServer({ port: 0, memory: true });
    try {
      expect(dev.apiKeys).toHaveLength(1);
      expect(dev.apiKeys[0]).toMatch(/^sk_dev_[A-Za-z0-9_-]{32}$/);
      expect((await call(dev.url, 'GET', KV, undefined, {}, dev.apiKeys[0]!)).status).toBe(200);
    } finally {
      await dev.close();
    }
  });

  test('a configured key must start with sk_', async () => {
    await expect(startServer({ port: 0, memory: true, apiKeys: ['pk_1'] })).rejects.toThrow(RangeError);
  });
});

describe('rate limit', () => {
  test('headers on every answer, 429 with Retry-After past the limit, per key', async () => {
    const server = await testServer({
      apiKeys: ['sk_test', 'sk_two'],
      rateLimit: { limit: 3, windowMs: 60_000 },
    });
    try {
      const api = client(server);
      const remaining: string[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await api('GET', KV);
        expect(r.status).toBe(200);
        remaining.push(r.headers.get('x-ratelimit-remaining')!);
        const reset = Number(r.headers.get('x-ratelimit-reset'));
        expect(reset).toBeGreaterThan(Date.now() / 1000);
        expect(reset).toBeLessThanOrEqual(Date.now() / 1000 + 61);
      }
      expect(remaining).toEqual(['2', '1', '0']);
      const limited = await api('POST', DK, { context: {} });
      expect(limited.status).toBe(429);
      expect(limited.body.error).toBe('Rate limit exceeded');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
      // Errors of limited keys carry the headers too; another key has its own budget.
      expect(
        (await client(server, 'sk_two')('GET', `${KV}/missing`)).headers.get('x-ratelimit-remaining'),
      ).toBe('2');
    } finally {
      await server.close();
    }
  });

  test('the window resets', async () => {
    const server = await testServer({ rateLimit: { limit: 1, windowMs: 200 } });
    try {
      const api = client(server);
      expect((await api('GET', KV)).status).toBe(200);
      expect((await api('GET', KV)).status).toBe(429);
      await new Promise((r) => setTimeout(r, 250));
      expect((await api('GET', KV)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  test('default: 1000 a minute', async () => {
    const server = await startServer({ port: 0, memory: true, apiKeys: ['sk_test'] });
    try {
      const r = await client(server)('GET', KV);
      expect(r.headers.get('x-ratelimit-limit')).toBe('1000');
      expect(r.headers.get('x-ratelimit-remaining')).toBe('999');
    } finally {
      await server.close();
    }
  });
});

describe('bad input', () => {
  const shared = sharedServer({ maxBodyBytes: 1024 });
  const api = shared.api;

  test('malformed JSON 400, empty body 400, non-object 422, unknown route 404, wrong method 405', async () => {
    expect((await api('POST', DK, '{"context": {')).status).toBe(400);
    expect((await api('POST', DK, '')).status).toBe(400);
    expect((await api('POST', DK, '"context"')).status).toBe(422);
    expect((await api('POST', DK, 'null')).status).toBe(422);
    expect((await api('GET', '/vault/v1/nothing')).status).toBe(404);
    const wrong = await api('PATCH', `${KV}/abc`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, PUT, DELETE');
    expect((await api('GET', DK)).status).toBe(405);
  });

  test('an oversized body is 413, declared or chunked', async () => {
    const big = JSON.stringify({ context: { k: 'x'.repeat(2000) } });
    expect((await api('POST', DK, big)).status).toBe(413);
    const chunked = await new Promise<number>((resolve, reject) => {
      const url = new URL(shared.server().url + DK);
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: DK,
          method: 'POST',
          headers: { Authorization: 'Bearer sk_test' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('x'.repeat(200));
      req.end();
    });
    expect(chunked).toBe(413);
  });

  test('property: any body to any POST route is answered below 500', async () => {
    const routes = [
      '/vault/v1/keys/data-key',
      '/vault/v1/keys/decrypt',
      '/vault/v1/keys/rekey',
      KV,
      '/vault/object/create',
    ];
    const body = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.json().map((j) => j),
      fc.jsonValue().map((v) => JSON.stringify(v)),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), body, async (route, b) => {
        const r = await api('POST', route, b);
        expect(r.status).toBeLessThan(500);
        expect(typeof r.body.error === 'string' || r.status < 300).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('Idempotency-Key', () => {
  const api = sharedServer().api;

  test('a retried create replays the first answer and creates nothing twice', async () => {
    const body = { name: 'idem-1', value: 'v', key_context: {} };
    const first = await api('POST', KV, body, { 'Idempotency-Key': 'k-1' });
    const again = await api('POST', KV, body, { 'Idempotency-Key': 'k-1' });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const list = await api('GET', `${KV}?search=idem-1`);
    expect(list.body.data).toHaveLength(1);
  });

  test('a retried data-key request gets the same key', async () => {
    const a = await api('POST', DK, { context: { o: '1' } }, { 'Idempotency-Key': 'dk-1' });
    const b = await api('POST', DK, { context: { o: '1' } }, { 'Idempotency-Key': 'dk-1' });
    expect(b.body).toEqual(a.body);
    const c = await api('POST', DK, { context: { o: '1' } }, { 'Idempotency-Key': 'dk-2' });
    expect(c.body.id).not.toBe(a.body.id);
  });

  test('concurrent duplicates wait for the first and share its answer', async () => {
    const body = { name: 'idem-concurrent', value: 'v', key_context: {} };
    const replies = await Promise.all(
      Array.from({ length: 6 }, () => api('POST', KV, body, { 'Idempotency-Key': 'k-c' })),
    );
    expect(new Set(replies.map((r) => r.body.id)).size).toBe(1);
    expect(replies.every((r) => r.status === 201)).toBe(true);
  });

  test('the same key with another body is 422; keys are per API key', async () => {
    await api('POST', DK, { context: { a: '1' } }, { 'Idempotency-Key': 'k-x' });
    const r = await api('POST', DK, { context: { a: '2' } }, { 'Idempotency-Key': 'k-x' });
    expect(r.status).toBe(422);
    expect(r.body.error).toMatch(/different request/);
  });

  test('without the header, two creates of one name are a 409', async () => {
    const body = { name: 'idem-none', value: 'v', key_context: {} };
    expect((await api('POST', KV, body)).status).toBe(201);
    expect((await api('POST', KV, body)).status).toBe(409);
  });
});

describe('fault injection', () => {
  test('rates are honoured, seeded sequences repeat, setFaults switches at run time', async () => {
    const server = await testServer({ faults: { rate500: 0.3, rate503: 0.2, seed: 42 } });
    try {
      const api = client(server);
      const run = async () => {
        const statuses: number[] = [];
        for (let i = 0; i < 200; i++) statuses.push((await api('GET', KV)).status);
        return statuses;
      };
      const first = await run();
      const count = (s: number) => first.filter((x) => x === s).length;
      expect(count(500)).toBeGreaterThan(35);
      expect(count(500)).toBeLessThan(85);
      expect(count(503)).toBeGreaterThan(20);
      expect(count(503)).toBeLessThan(65);
      server.setFaults({ rate500: 0.3, rate503: 0.2, seed: 42 });
      expect(await run()).toEqual(first);
      server.setFaults(undefined);
      expect((await run()).every((s) => s === 200)).toBe(true);
    } finally {
      await server.close();
    }
  });

  test('injected 429 carries Retry-After; routes limit which paths fail', async () => {
    const server = await testServer({
      faults: { rate429: 1, retryAfterSeconds: 7, routes: ['/vault/v1/keys'] },
    });
    try {
      const api = client(server);
      const r = await api('POST', DK, { context: {} });
      expect(r.status).toBe(429);
      expect(r.headers.get('retry-after')).toBe('7');
      expect((await api('GET', KV)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  test('a dropped connection is a network error, and nothing is answered', async () => {
    const server = await testServer({ faults: { dropRate: 1 } });
    try {
      await expect(
        fetch(`${server.url}${KV}`, { headers: { Authorization: 'Bearer sk_test' } }),
      ).rejects.toThrow(TypeError);
      server.setFaults({ dropRate: 0 });
      expect((await client(server)('GET', KV)).status).toBe(200);
      expect(server.stats().requests[`GET ${KV}`]).toBe(2);
    } finally {
      await server.close();
    }
  });

  test('latency is added before handling', async () => {
    const server = await testServer({ faults: { latencyMs: [60, 80] } });
    try {
      const t = performance.now();
      expect((await client(server)('GET', KV)).status).toBe(200);
      expect(performance.now() - t).toBeGreaterThanOrEqual(59);
    } finally {
      await server.close();
    }
  });

  test('a client that goes away during the injected latency does not leave the request hanging', async () => {
    const lines: string[] = [];
    const server = await testServer({ faults: { latencyMs: 150 }, log: (l) => lines.push(l) });
    try {
      const { port } = new URL(server.url);
      await new Promise<void>((resolve) => {
        const req = httpRequest({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: DK,
          headers: {
            Authorization: 'Bearer sk_test',
            'Content-Type': 'application/json',
            'Content-Length': '16',
          },
        });
        req.on('error', () => resolve());
        req.end('{"context":{}}  ');
        setTimeout(() => req.destroy(), 30);
      });
      // The handler must finish (and log) once the latency has passed, not wait for a body forever.
      for (let i = 0; i < 40 && lines.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/POST \/vault\/v1\/keys\/data-key 400/);
      expect(server.stats().requests[`POST ${DK}`]).toBe(1);
    } finally {
      await server.close();
    }
  });

  test('malformed fault options are refused', () => {
    expect(() => createVaultHandler({ memory: true, faults: { rate500: 2 } })).toThrow(RangeError);
    expect(() => createVaultHandler({ memory: true, faults: { rate500: 0.6, rate503: 0.6 } })).toThrow(
      RangeError,
    );
    expect(() => createVaultHandler({ memory: true, faults: { latencyMs: [5, 1] } })).toThrow(RangeError);
  });

  test('in process, the handler serves the API without a socket and refuses requests once closed', async () => {
    const h = createVaultHandler({ memory: true, apiKeys: ['sk_test'] });
    const req = () =>
      new Request(`http://vault${DK}`, {
        method: 'POST',
        headers: { Authorization: 'Bearer sk_test' },
        body: JSON.stringify({ context: { org: 'o' } }),
      });
    const res = await h.fetch(req());
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    expect(h.stats().requests[`POST ${DK}`]).toBe(1);
    h.close();
    expect((await h.fetch(req())).status).toBe(503);
  });

  test('in process, a dropped request rejects like fetch does', async () => {
    const h = createVaultHandler({ memory: true, apiKeys: ['sk_test'], faults: { dropRate: 1 } });
    try {
      const req = new Request(`http://vault${KV}`, { headers: { Authorization: 'Bearer sk_test' } });
      await expect(h.fetch(req)).rejects.toThrow('fetch failed');
    } finally {
      h.close();
    }
  });
});

describe('observability and lifecycle', () => {
  test('stats count requests by route template; resetStats zeroes them', async () => {
    const server = await testServer();
    try {
      const api = client(server);
      await api('POST', DK, { context: {} });
      await api('POST', DK, { context: {} });
      const m = await api('POST', KV, { name: 'stats', value: 'v', key_context: {} });
      await api('GET', `${KV}/${m.body.id}`);
      await api('GET', `${KV}/name/stats`);
      expect(server.stats()).toEqual({
        requests: {
          [`POST ${DK}`]: 2,
          [`POST ${KV}`]: 1,
          [`GET ${KV}/:id`]: 1,
          [`GET ${KV}/name/:name`]: 1,
        },
        total: 5,
      });
      server.resetStats();
      expect(server.stats()).toEqual({ requests: {}, total: 0 });
    } finally {
      await server.close();
    }
  });

  test('one access-log line per request, with no body, key, value or API key', async () => {
    const lines: string[] = [];
    const server = await testServer({ log: (l) => lines.push(l) });
    try {
      const api = client(server);
      const dk = await api('POST', DK, { context: { org: 'org_secret' } });
      await api('POST', KV, { name: 'logged-name', value: 'logged-value', key_context: {} });
      await api('GET', `${KV}/name/logged-name`);
      await api('GET', '/nope');
      expect(lines).toHaveLength(4);
      expect(lines[0]).toMatch(/^\S+Z POST \/vault\/v1\/keys\/data-key 200 \d+\.\d+ms req_\S+$/);
      expect(lines[2]).toContain('GET /vault/v1/kv/name/:name 200');
      expect(lines[3]).toContain(' 404 ');
      const all = lines.join('\n');
      for (const secret of [
        dk.body.data_key,
        dk.body.encrypted_keys,
        'org_secret',
        'logged-value',
        'logged-name',
        'sk_test',
      ]) {
        expect(all).not.toContain(secret);
      }
      expect(lines[0]).toContain(dk.headers.get('x-request-id')!);
    } finally {
      await server.close();
    }
  });

  test('CORS: preflight and exposed headers when on, nothing when off', async () => {
    const server = await testServer({ cors: { origins: ['http://app.test'] } });
    try {
      const pre = await fetch(server.url + DK, {
        method: 'OPTIONS',
        headers: { Origin: 'http://app.test', 'Access-Control-Request-Method': 'POST' },
      });
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBe('http://app.test');
      expect(pre.headers.get('access-control-allow-headers')).toContain('Idempotency-Key');
      const r = await call(server.url, 'GET', KV, undefined, { Origin: 'http://app.test' });
      expect(r.headers.get('access-control-expose-headers')).toContain('X-Request-ID');
    } finally {
      await server.close();
    }
    const off = await testServer();
    try {
      const r = await call(off.url, 'GET', KV, undefined, { Origin: 'http://app.test' });
      expect(r.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await off.close();
    }
  });

  test('close() lets in-flight requests finish, then refuses connections', async () => {
    const server = await testServer({ faults: { latencyMs: 300, routes: [DK] } });
    // A first request opens the keep-alive connection, so that the second one reaches the server
    // at once (a request still in the listen backlog when close() begins would be refused).
    expect((await client(server)('GET', KV)).status).toBe(200);
    const inflight = client(server)('POST', DK, { context: {} });
    await new Promise((r) => setTimeout(r, 50));
    const closed = server.close();
    const r = await inflight;
    expect(r.status).toBe(200);
    expect(r.headers.get('connection')).toBe('close');
    await closed;
    await expect(fetch(`${server.url}${KV}`)).rejects.toThrow();
  });

  test('startServer fails cleanly on a taken port', async () => {
    const a = await testServer();
    try {
      const port = Number(new URL(a.url).port);
      await expect(testServer({ port })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await a.close();
    }
  });
});
