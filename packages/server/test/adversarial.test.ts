/**
 * The standing adversarial suite of the server: what a hostile or broken client sends must never
 * make it answer 500, and no answer (to an error) and no log line may hold a secret: the API key,
 * the master key, a data key or an object's value.
 *
 * - A property over every route, in process: nesting depth, ill-formed strings, NUL and control
 *   characters in every field, dot segments, CR/LF and bad percent-encoding in names, ids and
 *   query values, content types, empty and oversized bodies, idempotency keys, bad credentials.
 * - A property over raw sockets: junk request lines, paths and headers that Node's parser sees.
 * - Two servers on one data directory (the lock removed from under the first, as a deleted lock
 *   file would): concurrent first uses of a context and one Idempotency-Key sent to both.
 *
 * `VAULT_FUZZ_RUNS` sets the number of runs of the in-process property (default 300; `pnpm
 * test:long` runs 20,000), a tenth of it the socket property.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createVaultHandler,
  type RunningServer,
  startServer,
  type VaultHandler,
} from '@vault-envelope/server';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call, exited, spawnCli } from './_helpers.js';

const RUNS = Number(process.env['VAULT_FUZZ_RUNS'] ?? 300);
const API_KEY = 'sk_adversarial_secret_0123456789';
const MASTER = new Uint8Array(32).map((_, i) => (i * 37 + 11) & 0xff);
const MASTER_SECRETS = [Buffer.from(MASTER).toString('base64'), Buffer.from(MASTER).toString('hex')];
const MAX_BODY = 256 * 1024;

/** Characters and pieces that have broken servers before. */
const nasty = fc.constantFrom(
  '\u0000',
  '\n',
  '\r',
  '\r\n',
  '\t',
  '\u001b',
  '\u007f',
  '\ud800',
  '\udc00',
  '\udbff\udfff',
  '.',
  '..',
  '/',
  '/../',
  '%',
  '%2E%2E',
  '%2e',
  '%00',
  '%0A',
  '%ED%A0%80',
  '%FF',
  '\u2028',
  '\ufeff',
  '"',
  '\\',
  '{',
  '[',
  '?',
  '#',
  'é',
  '🏔',
);
const text = fc
  .array(fc.oneof(nasty, fc.string({ maxLength: 6 })), { maxLength: 8 })
  .map((parts) => parts.join(''));

/** Percent-encoding of any string (a lone surrogate, which UTF-8 can not carry, as U+FFFD). */
const pct = (s: string) =>
  encodeURIComponent(
    s.replace(/[\ud800-\udfff]/g, (c, i, all: string) => {
      const code = c.charCodeAt(0);
      const pair =
        code < 0xdc00 ? /[\udc00-\udfff]/.test(all[i + 1] ?? '') : /[\ud800-\udbff]/.test(all[i - 1] ?? '');
      return pair ? c : '\ufffd';
    }),
  );

/** JSON text of arrays nested `depth` levels deep. */
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
/**
 * Nesting around the deepest a body may have (64) and far beyond: 100,000 levels overflow
 * `JSON.stringify` on any thread (about 4,100 do on Node's main thread, four times as many in a
 * worker).
 */
const depth = fc.oneof(fc.integer({ min: 60, max: 70 }), fc.constant(100_000));

describe('adversarial: every route, in process', () => {
  let h: VaultHandler;
  const lines: string[] = [];
  /** Secrets that must never be in an error answer or a log line. */
  const secrets = new Set<string>([API_KEY, ...MASTER_SECRETS]);
  const ids: string[] = [];
  const names: string[] = [];
  let blob = '';

  async function send(
    method: string,
    path: string,
    body?: string | Uint8Array,
    headers: Record<string, string> = {},
  ) {
    const init: RequestInit = { method, headers };
    if (body !== undefined && method !== 'GET')
      init.body = typeof body === 'string' ? body : new Uint8Array(body);
    const res = await h.fetch(new Request(`http://vault${path}`, init));
    return { status: res.status, headers: res.headers, text: await res.text() };
  }
  const auth = { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' };

  beforeAll(async () => {
    h = createVaultHandler({
      memory: true,
      masterKey: MASTER,
      apiKeys: [API_KEY],
      rateLimit: false,
      maxBodyBytes: MAX_BODY,
      log: (l) => lines.push(l),
    });
    for (let i = 0; i < 4; i++) {
      const secret = `VALUE-SECRET-${i}-${Math.random().toString(36).slice(2)}`;
      // The last value is JSON nested far deeper than a body may be, stored as a v1 string.
      const value = i === 3 ? `{"s":"${secret}","a":${nested(100_000)}}` : secret;
      const name = `obj ${i}/x.y`;
      const r = await send(
        'POST',
        '/vault/v1/kv',
        JSON.stringify({ name, value, key_context: { org: `o${i}` } }),
        auth,
      );
      expect(r.status).toBe(201);
      ids.push(JSON.parse(r.text).id);
      names.push(name);
      secrets.add(secret);
    }
    const dk = JSON.parse(
      (await send('POST', '/vault/v1/keys/data-key', '{"context":{"org":"o1"}}', auth)).text,
    );
    secrets.add(dk.data_key);
    blob = dk.encrypted_keys;
  });
  afterAll(() => h.close());

  test('property: no 500, JSON errors with a request id, no secret in an error answer or a log line', async () => {
    const segment = fc.oneof(
      fc.constantFrom(...ids),
      fc.constantFrom(...names).map(pct),
      fc.constantFrom('.', '..', '%2E', '%2E%2E', '%2e%2E', '', 'x'.repeat(3000)),
      text.map(pct),
      text,
    );
    const id = fc.constantFrom(...ids);
    const name = fc.constantFrom(...names);
    const routes: fc.Arbitrary<[string, string]> = fc.oneof(
      fc.constantFrom<[string, string]>(
        ['POST', '/vault/v1/keys/data-key'],
        ['POST', '/vault/v1/keys/decrypt'],
        ['POST', '/vault/v1/keys/rekey'],
        ['GET', '/vault/v1/kv'],
        ['POST', '/vault/v1/kv'],
        ['POST', '/vault/key/create-data-key'],
        ['POST', '/vault/key/decrypt-data-key'],
        ['POST', '/vault/key/encrypt-data'],
        ['POST', '/vault/key/decrypt-data'],
        ['POST', '/vault/object/create'],
        ['PUT', '/vault/object/update'],
        ['DELETE', '/vault/object/delete'],
        ['GET', '/vault/object/list'],
      ),
      // Every read of the stored objects, the one holding deeply nested JSON included.
      fc
        .tuple(id, name)
        .chain(([i, n]) =>
          fc.constantFrom<[string, string]>(
            ['GET', `/vault/v1/kv/${i}`],
            ['GET', `/vault/v1/kv/name/${pct(n)}`],
            ['PUT', `/vault/v1/kv/${i}`],
            ['GET', `/vault/object/get?id=${i}`],
            ['GET', `/vault/object/get-by-name?name=${pct(n)}`],
            ['GET', `/vault/object/version?id=${i}&version=1`],
            ['GET', `/vault/object/metadata?id=${i}`],
            ['GET', `/vault/object/versions?id=${i}`],
          ),
        ),
      fc
        .tuple(
          fc.constantFrom('GET', 'PUT', 'DELETE', 'POST', 'PATCH'),
          segment,
          fc.constantFrom('', '/metadata', '/versions', '/x'),
        )
        .map(([m, seg, tail]): [string, string] => [m, `/vault/v1/kv/${seg}${tail}`]),
      segment.map((seg): [string, string] => ['GET', `/vault/v1/kv/name/${seg}`]),
      fc
        .tuple(
          fc.constantFrom('get', 'get-by-name', 'metadata', 'versions', 'version', 'list'),
          fc.constantFrom(
            'id',
            'name',
            'version',
            'limit',
            'after',
            'before',
            'search',
            'updatedAfter',
            'order',
          ),
          segment,
          id,
        )
        .map(([route, q, v, i]): [string, string] => ['GET', `/vault/object/${route}?${q}=${v}&id=${i}`]),
      fc
        .tuple(fc.constantFrom('limit', 'after', 'before', 'search', 'updatedAfter', 'order'), segment)
        .map(([q, v]): [string, string] => ['GET', `/vault/v1/kv?${q}=${v}`]),
      fc
        .tuple(fc.constantFrom('GET', 'POST', 'OPTIONS', 'HEAD'), segment)
        .map(([m, seg]): [string, string] => [m, `/${seg}`]),
    );
    const field = fc.oneof(
      text,
      depth.map((d) => nested(d)),
      fc.constantFrom(...ids, ...names, blob, 'AAAA', '=', ''),
      fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b).toString('base64')),
      fc.dictionary(text, text, { maxKeys: 4 }),
      fc.jsonValue({ maxDepth: 3 }),
    );
    const fields = fc.constantFrom(
      'name',
      'value',
      'key_context',
      'context',
      'keys',
      'encrypted_keys',
      'data',
      'id',
      'version_check',
      'version',
      'plaintext',
      'data_key',
      'encrypted_key',
      'ciphertext',
      'aad',
    );
    const body = fc.oneof(
      fc.dictionary(fields, field, { maxKeys: 6 }).map((o) => JSON.stringify(o)),
      // A field holding JSON nested `d` levels deep (text, not a string: built by hand, since the
      // test's own JSON.stringify would overflow on it).
      fc
        .tuple(fields, depth, fc.dictionary(fields, field, { maxKeys: 3 }))
        .map(([f, d, rest]) => `{"${f}":${nested(d)},${JSON.stringify(rest).slice(1)}`),
      fc.constant(''),
      text,
      fc.constant('x'.repeat(MAX_BODY + 1)),
      fc.uint8Array({ maxLength: 64 }),
    );
    const headers = fc.record(
      {
        'Content-Type': fc.constantFrom(
          'application/json',
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'a/b;;;',
        ),
        'Idempotency-Key': fc.oneof(
          fc.string({ maxLength: 20 }),
          fc.constant('k'.repeat(300)),
          fc.constant('fixed-key'),
        ),
        Authorization: fc.constantFrom(
          `Bearer ${API_KEY}`,
          `Bearer ${API_KEY}x`,
          'Bearer sk_',
          `Basic ${API_KEY}`,
          '',
        ),
      },
      { requiredKeys: [] },
    );
    const seenKeys = new Set<string>();
    await fc.assert(
      fc.asyncProperty(routes, body, headers, fc.boolean(), async ([method, path], b, hs, authed) => {
        const h2: Record<string, string> = { ...hs };
        if (authed) h2['Authorization'] = `Bearer ${API_KEY}`;
        let r: Awaited<ReturnType<typeof send>>;
        try {
          r = await send(method, path, b, h2);
        } catch (e) {
          // Only what `new Request` itself refuses (a header value it will not carry).
          expect(e).toBeInstanceOf(TypeError);
          return;
        }
        expect(r.status, `${method} ${path}`).toBeLessThan(500);
        expect(r.headers.get('x-request-id')).toMatch(/^req_/);
        if (method === 'HEAD' || (method === 'OPTIONS' && r.status === 204)) return;
        const parsed = JSON.parse(r.text) as Record<string, unknown>;
        for (const k of ['data_key', 'plaintext_key'])
          if (typeof parsed[k] === 'string') seenKeys.add(parsed[k] as string);
        for (const s of [API_KEY, ...MASTER_SECRETS]) expect(r.text.includes(s)).toBe(false);
        if (r.status >= 400) {
          expect(typeof parsed['error']).toBe('string');
          for (const s of secrets) expect(r.text.includes(s), 'a secret in an error answer').toBe(false);
        }
      }),
      { numRuns: RUNS },
    );
    const log = lines.join('\n');
    expect(lines.length).toBeGreaterThan(RUNS / 2);
    expect(log).not.toMatch(/ 5\d\d /);
    for (const s of [...secrets, ...seenKeys]) expect(log.includes(s), 'a secret in the log').toBe(false);
  });
});

describe('adversarial: raw sockets', () => {
  let server: RunningServer;
  const lines: string[] = [];
  beforeAll(async () => {
    server = await startServer({
      port: 0,
      memory: true,
      masterKey: MASTER,
      apiKeys: [API_KEY],
      rateLimit: false,
      maxBodyBytes: MAX_BODY,
      log: (l) => lines.push(l),
    });
  });
  afterAll(() => server.close());

  function exchange(bytes: string): Promise<string> {
    return new Promise((resolve) => {
      const socket = connect(Number(new URL(server.url).port), '127.0.0.1', () =>
        socket.end(bytes, 'latin1'),
      );
      let got = '';
      socket.setEncoding('latin1');
      socket.on('data', (d: string) => {
        got += d;
      });
      socket.on('error', () => {});
      socket.on('close', () => resolve(got));
    });
  }

  test('property: junk request lines, paths and headers get a JSON answer below 500 with a request id, or none', async () => {
    const token = fc.oneof(
      fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'G\u0000T', 'GET GET', ''),
      fc.string({ maxLength: 8 }),
    );
    const path = fc.oneof(
      fc.constantFrom(
        '/vault/v1/kv/..',
        '/vault/v1/kv/name/.',
        '/vault/v1/kv/%2E%2E',
        '/vault/v1/kv/a%0Ab',
        '*',
        '//',
        '/vault/v1/kv/\u0000',
        'http://x/vault/v1/kv',
      ),
      text.map((t) => `/vault/v1/kv/name/${Buffer.from(t, 'utf8').toString('latin1')}`),
    );
    const header = fc.oneof(
      fc.constantFrom(
        `Authorization: Bearer ${API_KEY}`,
        'Content-Length: 5',
        'Content-Length: -1',
        'Content-Length: 99999999999',
        'Transfer-Encoding: chunked',
        'Transfer-Encoding: chunked\r\nContent-Length: 3',
        'Host:',
        'X: a\u0000b',
        ': empty-name',
        'Content-Type: application/json',
        'Connection: keep-alive',
      ),
      fc.string({ maxLength: 30 }),
      fc.constant(`X-Big: ${'b'.repeat(17_000)}`),
    );
    const tail = fc.constantFrom('', '{"context":{}}', '0\r\n\r\n', '5\r\nhello\r\n0\r\n\r\n', 'zz\r\n');
    await fc.assert(
      fc.asyncProperty(
        token,
        path,
        fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/9', ''),
        fc.array(header, { maxLength: 4 }),
        tail,
        async (m, p, v, hs, t) => {
          const answer = await exchange(
            `${m} ${p} ${v}\r\n${hs.join('\r\n')}\r\nConnection: close\r\n\r\n${t}`,
          );
          if (answer === '') return;
          const match = /^HTTP\/1\.1 (\d{3}) /.exec(answer);
          expect(match, answer.slice(0, 80)).not.toBeNull();
          expect(Number(match![1])).toBeLessThan(500);
          expect(answer).toMatch(/\r\nX-Request-ID: req_\S+\r\n/i);
          for (const s of [API_KEY, ...MASTER_SECRETS]) expect(answer.includes(s)).toBe(false);
        },
      ),
      { numRuns: Math.max(30, Math.round(RUNS / 10)) },
    );
    const log = lines.join('\n');
    expect(log).not.toMatch(/ 5\d\d /);
    for (const s of [API_KEY, ...MASTER_SECRETS]) expect(log.includes(s)).toBe(false);
  });
});

describe('adversarial: two servers on one data directory', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('concurrent first uses of contexts never 500; one Idempotency-Key sent to both never replaces a stored answer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vault-two-servers-'));
    dirs.push(dir);
    const args = ['--port', '0', '--data-dir', dir, '--quiet'];
    const env = { VAULT_API_KEYS: 'sk_test', VAULT_RATE_LIMIT: '0' };
    const a = await spawnCli(args, env);
    // A lock file deleted from under a running server no longer protects the directory: the
    // second server then starts, and the storage itself must still be right.
    rmSync(join(dir, 'vault.lock'), { force: true });
    const b = await spawnCli(args, env);
    const both = [a.url, b.url];
    try {
      const first = await Promise.all(
        Array.from({ length: 120 }, (_, i) =>
          both.map((url) =>
            call(url, 'POST', '/vault/v1/keys/data-key', {
              context: { tenant: `t${i}`, org: `o${i}`, unit: `u${i}` },
            }),
          ),
        ).flat(),
      );
      expect(first.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.text}`)).toEqual([]);
      // Every data key opens on the other server: both used the same KEK for an entry.
      const cross = await Promise.all(
        first.map((r, i) =>
          call(both[(i + 1) % 2]!, 'POST', '/vault/v1/keys/decrypt', { keys: r.body.encrypted_keys }),
        ),
      );
      expect(cross.every((r, i) => r.status === 200 && r.body.data_key === first[i]!.body.data_key)).toBe(
        true,
      );

      const keys = Array.from({ length: 40 }, (_, i) => `idem-${i}`);
      const send = (url: string, key: string) =>
        call(
          url,
          'POST',
          '/vault/v1/kv',
          { name: `two-${key}`, value: 'v', key_context: {} },
          { 'Idempotency-Key': key },
        );
      const round = await Promise.all(keys.map((k) => Promise.all(both.map((url) => send(url, k)))));
      const created = new Map<string, string>();
      for (const [i, pair] of round.entries()) {
        const wins = pair.filter((r) => r.status === 201);
        expect(wins.length, keys[i]).toBeGreaterThanOrEqual(1);
        expect(new Set(wins.map((r) => r.body.id)).size).toBe(1);
        created.set(keys[i]!, wins[0]!.body.id);
        // The only other answer: the key is still being worked on by the other server.
        for (const r of pair.filter((x) => x.status !== 201)) {
          expect(r.status).toBe(409);
          expect(r.body.error).toBe('A request with this Idempotency-Key is still in progress');
        }
      }
      // Retries on either server, then on a server that reads everything from the file, replay 201.
      for (const url of both) {
        for (const k of keys) {
          const r = await send(url, k);
          expect(r.status, `${url} ${k}`).toBe(201);
          expect(r.body.id).toBe(created.get(k));
        }
      }
    } finally {
      a.child.kill('SIGTERM');
      b.child.kill('SIGTERM');
      await Promise.all([exited(a.child), exited(b.child)]);
    }
    const c = await startServer({ port: 0, dataDir: dir, apiKeys: ['sk_test'], rateLimit: false });
    try {
      const r = await call(
        c.url,
        'POST',
        '/vault/v1/kv',
        { name: 'two-idem-0', value: 'v', key_context: {} },
        { 'Idempotency-Key': 'idem-0' },
      );
      expect(r.status).toBe(201);
      expect(r.headers.get('idempotent-replayed')).toBe('true');
    } finally {
      await c.close();
    }
  });
});
