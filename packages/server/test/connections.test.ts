/**
 * Connections, with real sockets: slow clients are bounded by the header, request and idle
 * timeouts and a connection cap; what Node's HTTP parser refuses is answered as JSON with a
 * request id; close() cuts clients part-way through a request instead of waiting for them.
 * Times are only ever bounded from above by a multiple of the configured timeout, far below
 * what the behaviour without the bound would take (Node's defaults: 60 s, 300 s, none).
 */
import { connect, type Socket } from 'node:net';
import { DEFAULT_CONNECTION_LIMITS, type RunningServer, startServer } from '@vault-envelope/server';
import { afterEach, describe, expect, test } from 'vitest';
import { call, testServer } from './_helpers.js';

const KV = '/vault/v1/kv';
const DK = '/vault/v1/keys/data-key';

/** What came back on a raw connection. */
interface Raw {
  /** Everything received. */
  text: string;
  /** Milliseconds from connecting until the server closed the connection. */
  closedAfter: number;
  socket: Socket;
}

/** Opens a raw connection, writes `data`, and resolves when the server closes it. */
function raw(server: RunningServer, data: string, opened?: (s: Socket) => void): Promise<Raw> {
  const { port } = new URL(server.url);
  return new Promise((resolve) => {
    const start = performance.now();
    const socket = connect(Number(port), '127.0.0.1', () => {
      if (data !== '') socket.write(data);
      opened?.(socket);
    });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      text += d;
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve({ text, closedAfter: performance.now() - start, socket }));
  });
}

/** Status, headers and JSON body of a raw HTTP answer. */
function parse(text: string): { status: number; headers: Record<string, string>; body: unknown } {
  const [head = '', body = ''] = text.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(
    lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  );
  return { status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(body) };
}

let servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});
async function server(options: Parameters<typeof testServer>[0] = {}): Promise<RunningServer> {
  const s = await testServer(options);
  servers.push(s);
  return s;
}

describe('timeouts and the connection cap (F12)', () => {
  test('the defaults are documented numbers', () => {
    expect(DEFAULT_CONNECTION_LIMITS).toEqual({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      idleTimeoutMs: 5_000,
      maxConnections: 512,
    });
  });

  test('half a header block is answered 408 (JSON, with a request id) and closed after headersTimeoutMs', async () => {
    const s = await server({ headersTimeoutMs: 200, requestTimeoutMs: 400 });
    const [half, silent] = await Promise.all([
      raw(s, 'GET /vault/v1/kv HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk_te'),
      raw(s, ''),
    ]);
    for (const r of [half, silent]) {
      expect(r.closedAfter).toBeGreaterThanOrEqual(150);
      expect(r.closedAfter).toBeLessThan(5_000);
      const answer = parse(r.text);
      expect(answer.status).toBe(408);
      expect(answer.body).toEqual({ error: 'Request timeout: the request did not arrive in time' });
      expect(answer.headers['x-request-id']).toMatch(/^req_/);
      expect(answer.headers['content-type']).toBe('application/json');
    }
  });

  test('a body that never completes is answered 408 after requestTimeoutMs', async () => {
    const lines: string[] = [];
    const s = await server({ headersTimeoutMs: 200, requestTimeoutMs: 400, log: (l) => lines.push(l) });
    const r = await raw(
      s,
      `POST ${DK} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk_test\r\nContent-Type: application/json\r\n` +
        'Content-Length: 100\r\n\r\n{"context":',
    );
    expect(r.closedAfter).toBeGreaterThanOrEqual(350);
    expect(r.closedAfter).toBeLessThan(5_000);
    expect(parse(r.text).status).toBe(408);
    expect(lines.some((l) => / \(refused by the HTTP parser\) 408 - req_\S+$/.test(l))).toBe(true);
  });

  test('an idle keep-alive connection is closed after idleTimeoutMs', async () => {
    const s = await server({ idleTimeoutMs: 150 });
    const r = await raw(s, `GET ${KV} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk_test\r\n\r\n`);
    expect(r.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(r.closedAfter).toBeGreaterThanOrEqual(100);
    expect(r.closedAfter).toBeLessThan(5_000);
  });

  test('past maxConnections a new connection is closed at once; a freed slot is used again', async () => {
    const lines: string[] = [];
    const s = await server({ maxConnections: 2, log: (l) => lines.push(l) });
    const held: Socket[] = [];
    const closedHeld = [raw(s, '', (x) => held.push(x)), raw(s, '', (x) => held.push(x))];
    while (held.length < 2) await new Promise((r) => setTimeout(r, 10));
    // Give the server the two connections before the third arrives.
    await new Promise((r) => setTimeout(r, 50));
    const third = await raw(s, `GET ${KV} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk_test\r\n\r\n`);
    expect(third.text).toBe('');
    expect(lines.some((l) => l.includes('(connection refused: maxConnections 2)'))).toBe(true);
    held[0]!.destroy();
    await closedHeld[0];
    await new Promise((r) => setTimeout(r, 50));
    expect((await call(s.url, 'GET', KV, undefined, { Connection: 'close' })).status).toBe(200);
    held[1]!.destroy();
    await closedHeld[1];
  });

  test('timeouts and the cap are checked like every option', async () => {
    const cases: [Record<string, unknown>, ErrorConstructor, string][] = [
      [
        { headersTimeoutMs: 0 },
        RangeError,
        'headersTimeoutMs must be a finite number of milliseconds greater than 0 and less than 2147483648, got 0',
      ],
      [{ requestTimeoutMs: '1' }, TypeError, 'requestTimeoutMs must be a number of milliseconds, got string'],
      [
        { idleTimeoutMs: Number.POSITIVE_INFINITY },
        RangeError,
        'idleTimeoutMs must be a finite number of milliseconds greater than 0 and less than 2147483648, got Infinity',
      ],
      [{ maxConnections: 0 }, RangeError, 'maxConnections must be in [1, 2147483647], got 0'],
      [
        { headersTimeoutMs: 2000, requestTimeoutMs: 1000 },
        RangeError,
        'headersTimeoutMs must be at most requestTimeoutMs (1000), got 2000',
      ],
    ];
    for (const [options, error, message] of cases) {
      const e = await startServer({ port: 0, memory: true, ...options }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(error);
      expect((e as Error).message).toBe(message);
    }
  });
});

describe('requests Node refuses', () => {
  test('431 for an oversized header block and 400 for a malformed request line: JSON, a request id, no echo', async () => {
    const lines: string[] = [];
    const s = await server({ log: (l) => lines.push(l) });
    const big = await raw(
      s,
      `GET ${KV} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk_test\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    const bad = await raw(s, 'GARBAGE /\r\n\r\n');
    const nul = await raw(s, `GET /vault/v1/kv\u0000 HTTP/1.1\r\nHost: x\r\n\r\n`);
    const answers = [big, bad, nul].map((r) => parse(r.text));
    expect(answers.map((a) => a.status)).toEqual([431, 400, 400]);
    expect(answers[0]!.body).toEqual({ error: 'Request header fields too large' });
    expect(answers[1]!.body).toEqual({ error: 'Bad request: malformed HTTP' });
    for (const a of answers) {
      expect(a.headers['x-request-id']).toMatch(/^req_/);
      expect(a.headers.connection).toBe('close');
    }
    expect(new Set(answers.map((a) => a.headers['x-request-id'])).size).toBe(3);
    expect(big.text).not.toContain('sk_test');
    expect(lines.join('\n')).not.toContain('sk_test');
    expect(lines.filter((l) => l.includes('(refused by the HTTP parser)'))).toHaveLength(3);
  });
});

describe('close() with slow clients', () => {
  test('cuts clients part-way through their headers or body at once, and lets a request that arrived finish', async () => {
    const s = await testServer({ faults: { latencyMs: 300, routes: [DK] } });
    const slow = [
      ...Array.from({ length: 5 }, () => raw(s, 'GET /vault/v1/kv HTTP/1.1\r\nHost: x\r\n')),
      ...Array.from({ length: 5 }, () =>
        raw(
          s,
          `POST ${KV} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk_test\r\nContent-Length: 1000\r\n\r\n{"name":`,
        ),
      ),
      raw(s, ''),
    ];
    // Two requests in one write (pipelined): when the answer to the first arrives, the server has
    // parsed the second, which then waits out its 300 ms of latency: a request that has arrived.
    let answered: () => void = () => {};
    const first = new Promise<void>((resolve) => {
      answered = resolve;
    });
    const body = '{"context":{}}';
    const working = raw(
      s,
      `GET ${KV} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk_test\r\n\r\n` +
        `POST ${DK} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk_test\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\n\r\n${body}`,
      (socket) => socket.once('data', () => answered()),
    );
    await first;
    const t = performance.now();
    await s.close();
    const took = performance.now() - t;
    // The grace period is 10 s; without cutting the slow clients, close() would wait all of it.
    expect(took).toBeLessThan(5_000);
    const answers = (await working).text.split(/(?=HTTP\/1\.1 )/);
    expect(answers.map((a) => a.slice(0, 15))).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    expect(answers[1]).toMatch(/\r\nConnection: close\r\n/i);
    for (const r of await Promise.all(slow)) expect(r.text).toBe('');
  });
});
