/**
 * Regression tests of the client's hardening: strings that are not well-formed (lone
 * surrogates) or that hold control characters where a name is expected are refused before
 * anything is sent; ids and names that a URL would resolve as dot segments are refused; server
 * text reaches an error only from a JSON error's message field, bounded, with the API key and
 * the request's value redacted, and a body that is not JSON is never quoted, not even through
 * a parser error in `cause`; and the option types accept `undefined` (and `null` for
 * `versionCheck`) under `exactOptionalPropertyTypes`.
 */
import { inspect } from 'node:util';
import { __TESTS, VaultClient, type VaultClientOptions, VaultError } from '@vault-envelope/remote';
import fc from 'fast-check';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { caught } from './_caught.js';
import {
  type Answer,
  type ScriptedServer,
  type Seen,
  scriptedServer,
  wireMetadata,
} from './_scripted-server.js';

const API_KEY = 'sk_test_hardening_SECRET_0123456789';
const VALUE = 'the-object-value-SECRET-0xC0FFEE';

/** A client whose fetch counts calls and fails: validation must stop every call before it. */
function offline(): { vault: VaultClient; calls: () => number } {
  let n = 0;
  const fetch = (async () => {
    n++;
    throw new Error('fetch must not be called');
  }) as typeof globalThis.fetch;
  return { vault: new VaultClient({ apiKey: API_KEY, fetch, retry: 0 }), calls: () => n };
}

/** A client whose fetch records the URL and answers `body` with `status`. */
function recording(
  status = 200,
  body: unknown = { data: [], list_metadata: {} },
): { vault: VaultClient; urls: string[]; bodies: (string | null)[] } {
  const urls: string[] = [];
  const bodies: (string | null)[] = [];
  const fetch = (async (input: Request) => {
    urls.push(input.url);
    bodies.push(input.method === 'GET' ? null : await input.text());
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  }) as unknown as typeof globalThis.fetch;
  return {
    vault: new VaultClient({ apiKey: API_KEY, baseUrl: 'http://vault.test', fetch, retry: 0 }),
    urls,
    bodies,
  };
}

const LONE = ['\ud800', '\udbff', '\udc00', '\udfff'] as const;
const textRule = 'must be well-formed text without control characters';

describe('well-formed strings (lone surrogates are refused before sending)', () => {
  test('names, values, ids, versions, cursors and search: exact messages, nothing sent', async () => {
    const { vault, calls } = offline();
    const cases: [Promise<unknown>, Error][] = [
      [
        vault.createObject({ name: 'a\ud800b', value: 'v', context: {} }),
        new TypeError(`name ${textRule}, got a lone surrogate at index 1`),
      ],
      [
        vault.createObject({ name: 'n', value: 'ab\udc00', context: {} }),
        new TypeError('value must be well-formed Unicode, got a lone surrogate at index 2'),
      ],
      [
        vault.updateObject({ id: 'o', value: '\udfffx' }),
        new TypeError('value must be well-formed Unicode, got a lone surrogate at index 0'),
      ],
      [vault.readObjectByName('x\udbff'), new TypeError(`name ${textRule}, got a lone surrogate at index 1`)],
      [
        vault.readObject({ id: 'obj\ud800' }),
        new TypeError(`id ${textRule}, got a lone surrogate at index 3`),
      ],
      [
        vault.updateObject({ id: 'o', value: 'v', versionCheck: 'v\udc00' }),
        new TypeError(`versionCheck ${textRule}, got a lone surrogate at index 1`),
      ],
      [
        vault.deleteObject({ id: 'o', versionCheck: '\ud800' }),
        new TypeError(`versionCheck ${textRule}, got a lone surrogate at index 0`),
      ],
      [
        vault.listObjects({ after: 'a\ud800' }),
        new TypeError(`after ${textRule}, got a lone surrogate at index 1`),
      ],
      [
        vault.listObjects({ before: '\udc00' }),
        new TypeError(`before ${textRule}, got a lone surrogate at index 0`),
      ],
      [
        vault.listObjects({ search: 'q\udfff' }),
        new TypeError('search must be well-formed Unicode, got a lone surrogate at index 1'),
      ],
    ];
    for (const [p, error] of cases) await expect(p).rejects.toThrow(error);
    expect(() => vault.objects({ search: '\ud800' })).toThrow(TypeError);
    expect(calls()).toBe(0);
  });

  test('key contexts: a lone surrogate or a control character in a name or a value is refused', async () => {
    const { vault, calls } = offline();
    const bad = [
      { ['org\ud800']: 'x' },
      { org: 'a\udc00' },
      { ['a\u0000b']: 'x' },
      { org: 'a\nb' },
      { org: '\u007f' },
    ];
    for (const context of bad) {
      for (const [p, title] of [
        [vault.createDataKey(context), 'key context'],
        [vault.rekey(new Uint8Array([1, 2, 3]), context), 'new key context'],
        [vault.createObject({ name: 'n', value: 'v', context }), 'context'],
      ] as const) {
        const e = await p.catch((x: unknown) => x);
        expect(e).toBeInstanceOf(TypeError);
        expect((e as Error).message).toMatch(new RegExp(`^${title} .*(lone surrogate|control character)`));
      }
    }
    expect(calls()).toBe(0);
  });

  test('control characters: refused in names, ids and versions; a value may hold any well-formed text', async () => {
    const { vault, calls } = offline();
    await expect(vault.createObject({ name: 'a\r\nb', value: 'v', context: {} })).rejects.toThrow(
      new TypeError(`name ${textRule}, got a control character at index 1`),
    );
    await expect(vault.readObjectByName('line\n')).rejects.toThrow(
      new TypeError(`name ${textRule}, got a control character at index 4`),
    );
    await expect(vault.readObject({ id: 'a\u0000' })).rejects.toThrow(
      new TypeError(`id ${textRule}, got a control character at index 1`),
    );
    await expect(vault.updateObject({ id: 'o', value: 'v', versionCheck: '\t' })).rejects.toThrow(
      new TypeError(`versionCheck ${textRule}, got a control character at index 0`),
    );
    expect(calls()).toBe(0);

    const { vault: ok, bodies } = recording(201, wireMetadata('obj_1'));
    const multiline = 'line 1\r\nline 2\ttab\u0000nul \u{1F600}';
    await ok.createObject({ name: 'n', value: multiline, context: {} });
    expect(JSON.parse(bodies[0]!).value).toBe(multiline);
  });

  test('property: a lone surrogate anywhere in any string argument is refused, nothing sent', async () => {
    const { vault, calls } = offline();
    const withLone = fc
      .tuple(
        fc.string({ unit: 'grapheme', maxLength: 20 }),
        fc.constantFrom(...LONE),
        fc.string({ maxLength: 20 }),
      )
      .map(([a, s, b]) => `x${a}${s}${b.replace(/[\ud800-\udfff]/g, '')}`);
    await fc.assert(
      fc.asyncProperty(withLone, async (s) => {
        const calls = [
          vault.createObject({ name: s.slice(0, 200), value: 'v', context: {} }),
          vault.createObject({ name: 'n', value: s, context: {} }),
          vault.createObject({ name: 'n', value: 'v', context: { k: s.slice(0, 500) } }),
          vault.createDataKey({ [s.slice(0, 120)]: 'v' }),
          vault.readObjectByName(s.slice(0, 200)),
          vault.readObject({ id: s }),
          vault.updateObject({ id: 'o', value: s }),
          vault.deleteObject({ id: 'o', versionCheck: s }),
          vault.listObjects({ search: s }),
        ];
        for (const p of calls) await expect(p).rejects.toBeInstanceOf(TypeError);
      }),
      { numRuns: 60 },
    );
    expect(calls()).toBe(0);
  });

  test('a list cursor from the server that is not text ends the iteration with INVALID_RESPONSE', async () => {
    const page = { data: [{ id: 'o1', name: 'n1' }], list_metadata: { before: null, after: 'c\u0000x' } };
    const { vault, urls } = recording(200, page);
    const seen: string[] = [];
    const e = await (async () => {
      for await (const o of vault.objects()) seen.push(o.id);
    })().catch((x: unknown) => x);
    expect(seen).toEqual(['o1']);
    expect(VaultError.is(e) && e.code).toBe('INVALID_RESPONSE');
    expect((e as Error).message).toBe('Vault sent a list cursor that is not text: GET /vault/v1/kv');
    expect(urls).toHaveLength(1);
  });

  test('property: any well-formed value is sent exactly as given', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme', maxLength: 40 }), async (value) => {
        const { vault, bodies } = recording(201, wireMetadata('obj_1'));
        await vault.createObject({ name: 'n', value, context: {} });
        expect(JSON.parse(bodies[0]!).value).toBe(value);
      }),
      { numRuns: 60 },
    );
  });
});

describe('ids and names a URL path can not address', () => {
  test('"." and ".." as an id are refused: they would reach another route', async () => {
    const { vault, calls } = offline();
    const dot = 'id must be one URL path segment (not "." or "..", no "/" or "\\"), got a dot segment';
    for (const id of ['.', '..']) {
      for (const p of [
        vault.readObject({ id }),
        vault.describeObject({ id }),
        vault.updateObject({ id, value: 'v' }),
        vault.deleteObject({ id }),
        vault.listObjectVersions({ id }),
      ]) {
        await expect(p).rejects.toThrow(new TypeError(dot));
      }
    }
    await expect(vault.readObject({ id: 'a/b' })).rejects.toThrow(
      new TypeError(
        'id must be one URL path segment (not "." or "..", no "/" or "\\"), got a string with a slash',
      ),
    );
    await expect(vault.readObject({ id: '..\\x' })).rejects.toThrow(
      new TypeError(
        'id must be one URL path segment (not "." or "..", no "/" or "\\"), got a string with a backslash',
      ),
    );
    expect(calls()).toBe(0);
  });

  test('"." and ".." as a name are refused at create and at read by name', async () => {
    const { vault, calls } = offline();
    const dot = 'name must be one URL path segment (not "." or ".."), got a dot segment';
    for (const name of ['.', '..']) {
      await expect(vault.createObject({ name, value: 'v', context: {} })).rejects.toThrow(new TypeError(dot));
      await expect(vault.readObjectByName(name)).rejects.toThrow(new TypeError(dot));
      await expect(vault.readObjectByName({ name })).rejects.toThrow(new TypeError(dot));
    }
    expect(calls()).toBe(0);
  });

  test('ids and names that contain dots, and names with slashes, keep their own route', async () => {
    const { vault, urls } = recording(200, { id: 'o', name: 'n', value: 'v', metadata: wireMetadata('o') });
    await vault.readObject({ id: '...' });
    await vault.readObject({ id: '.a' });
    await vault.readObjectByName('../x');
    await vault.readObjectByName('blind-index/users.email');
    await vault.readObjectByName('%2e%2e');
    expect(urls).toEqual([
      'http://vault.test/vault/v1/kv/...',
      'http://vault.test/vault/v1/kv/.a',
      'http://vault.test/vault/v1/kv/name/..%2Fx',
      'http://vault.test/vault/v1/kv/name/blind-index%2Fusers.email',
      'http://vault.test/vault/v1/kv/name/%252e%252e',
    ]);
  });

  test('property: every id that passes the checks stays one path segment under the object route', async () => {
    const { vault, urls } = recording(200, { id: 'o', name: 'n', value: 'v', metadata: wireMetadata('o') });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.constantFrom('.', '..', '...', './x', '/', 'a\\b', '%2e%2e', '?', '#'),
          fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
        ),
        async (id) => {
          urls.length = 0;
          const e = await vault.describeObject({ id }).catch((x: unknown) => x);
          if (e instanceof TypeError) return; // refused: a control character, a dot segment, a slash
          const path = new URL(urls[0]!).pathname;
          const segments = path.split('/');
          expect(segments.slice(0, 4)).toEqual(['', 'vault', 'v1', 'kv']);
          expect(segments.slice(5)).toEqual(['metadata']);
          expect(decodeURIComponent(segments[4]!)).toBe(id);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('server text in errors', () => {
  let srv: ScriptedServer | undefined;
  afterEach(async () => {
    await srv?.close();
    srv = undefined;
  });

  async function setup(
    script: (req: Seen, n: number) => Answer,
    options: Partial<VaultClientOptions> = {},
  ): Promise<VaultClient> {
    srv = await scriptedServer(script);
    return new VaultClient({ apiKey: API_KEY, baseUrl: srv.url, retry: 0, ...options });
  }

  function views(e: unknown): string[] {
    return [String(e), JSON.stringify(e), inspect(e, { depth: 20, showHidden: true })];
  }

  const DATA_KEY = 'c2VjcmV0LWtleS1tYXRlcmlhbC0wMTIzNDU2Nzg5YWI=';

  test('a malformed 2xx body: INVALID_RESPONSE with a plain cause that quotes nothing of the body', async () => {
    const body = `{"id":"k","data_key":${DATA_KEY},"encrypted_keys":"AQID"}`;
    const vault = await setup(() => ({ status: 200, body }));
    const e = await caught(vault.createDataKey({ org: 'o' }));
    expect(e.code).toBe('INVALID_RESPONSE');
    expect(e.message).toBe(
      'Vault sent a response that is not JSON: POST /vault/v1/keys/data-key returned 200',
    );
    expect(e.cause).toEqual(
      new SyntaxError(`the body of a 200 answer is not valid JSON (${body.length} characters)`),
    );
    for (const v of views(e)) expect(v).not.toContain(DATA_KEY.slice(0, 8));
  });

  test('a 502 that echoes the request: the API key and the value are redacted', async () => {
    const echo = (r: Seen): string =>
      `upstream failed: ${r.method} ${r.url} authorization: ${String(r.headers['authorization'])} body: ${r.body}`;
    const vault = await setup((r) => ({ status: 502, body: { error: echo(r) } }));
    const e = await caught(vault.createObject({ name: 'stripe', value: VALUE, context: {} }));
    expect(e.serverMessage).toBe(
      'upstream failed: POST /vault/v1/kv authorization: Bearer [redacted] body: {"name":"stripe","value":"[redacted]","key_context":{}}',
    );
    for (const v of views(e)) {
      expect(v).not.toContain(API_KEY.slice(-12));
      expect(v).not.toContain(VALUE.slice(8, 20));
    }
  });

  test('a JSON error whose message is nested or under `message` is quoted; other fields are not', async () => {
    const bodies: unknown[] = [
      { message: 'name taken' },
      { error: { code: 'conflict', message: 'name taken' } },
      { detail: VALUE, error_description: VALUE },
      [VALUE],
    ];
    const vault = await setup((_r, n) => ({ status: 409, body: bodies[n] }));
    expect((await caught(vault.readObject({ id: 'o' }))).serverMessage).toBe('name taken');
    expect((await caught(vault.readObject({ id: 'o' }))).serverMessage).toBe('name taken');
    for (let i = 0; i < 2; i++) {
      const e = await caught(vault.updateObject({ id: 'o', value: VALUE }));
      expect(e.serverMessage).toBeUndefined();
      expect(e.message).toBe('Vault reported a conflict: PUT /vault/v1/kv/o returned 409');
    }
  });

  test('a body that is not JSON (a proxy page echoing the request) is never quoted', async () => {
    const vault = await setup((r) => ({
      status: 502,
      body: `<html><pre>${String(r.headers['authorization'])}\n${r.body}</pre></html>`,
      headers: { 'content-type': 'text/html' },
    }));
    const e = await caught(vault.createObject({ name: 'n', value: VALUE, context: {} }));
    expect(e.serverMessage).toBeUndefined();
    expect(e.message).toBe('Vault failed to handle the request: POST /vault/v1/kv returned 502');
    for (const v of views(e)) {
      expect(v).not.toContain('Bearer');
      expect(v).not.toContain(VALUE);
    }
  });

  test('a server message is bounded to 300 characters and has no control characters', async () => {
    const vault = await setup(() => ({
      status: 400,
      body: { error: `line 1\nline 2\u001b[31m${'x'.repeat(1000)}` },
    }));
    const e = await caught(vault.readObject({ id: 'o' }));
    expect(e.serverMessage).toHaveLength(300);
    expect(e.serverMessage!.startsWith('line 1 line 2 [31mxxx')).toBe(true);
  });

  test('property: no run of 8 characters of the API key or the value survives, however it is echoed', async () => {
    const secret = fc.string({ unit: 'grapheme', minLength: 8, maxLength: 80 }).map((s) => `Q${s}`);
    const layout = fc.record({
      form: fc.constantFrom('raw', 'json', 'uri', 'prefix', 'suffix', 'middle'),
      cut: fc.integer({ min: 8, max: 60 }),
      field: fc.constantFrom('error', 'message', 'nested'),
      before: fc.string({ maxLength: 320 }),
    });
    let current = { value: '', form: 'raw', cut: 8, field: 'error', before: '' };
    const vault = await setup((r) => {
      const s = current.value;
      const shown =
        current.form === 'json'
          ? JSON.stringify(s).slice(1, -1)
          : current.form === 'uri'
            ? encodeURIComponent(s)
            : current.form === 'prefix'
              ? s.slice(0, current.cut)
              : current.form === 'suffix'
                ? s.slice(-current.cut)
                : current.form === 'middle'
                  ? s.slice(1, 1 + current.cut)
                  : s;
      const text = `${current.before} key ${String(r.headers['authorization'])} value ${shown} body ${r.body}`;
      const body = current.field === 'nested' ? { error: { message: text } } : { [current.field]: text };
      return { status: 500, body };
    });
    await fc.assert(
      fc.asyncProperty(secret, layout, async (value, l) => {
        current = { value, ...l };
        const e = await caught(vault.updateObject({ id: 'o', value }));
        for (const v of [e.message, e.serverMessage ?? '']) {
          for (const s of [value, API_KEY]) {
            for (let i = 0; i + 8 <= s.length; i++) expect(v).not.toContain(s.slice(i, i + 8));
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('redact', () => {
  const { redact, serverMessageOf } = __TESTS;
  const runsOf = (s: string): string[] =>
    Array.from({ length: Math.max(0, s.length - 7) }, (_, i) => s.slice(i, i + 8));

  test('runs of a secret become one [redacted] each; a short secret only where it appears whole', () => {
    expect(redact('key sk_live_0123456789 and sk_live_01 end', ['sk_live_0123456789'])).toBe(
      'key [redacted] and [redacted] end',
    );
    expect(redact('pin 1234 or 123', ['1234'])).toBe('pin [redacted] or 123');
    expect(redact('nothing here', ['sk_live_0123456789', ''])).toBe('nothing here');
    expect(redact('"va\\"lue-secret"', ['va"lue-secret'])).toBe('"[redacted]"');
  });

  test('property: no run of 8 of a secret survives; text that shares none with it is unchanged', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }),
        fc.string({ unit: 'grapheme', maxLength: 120 }),
        fc.integer({ min: 0, max: 120 }),
        (secret, text, at) => {
          const mixed = `${text.slice(0, at)}${secret}${text.slice(at)}`;
          // What is left between the markers is the text as it was: no run of the secret in it.
          for (const piece of redact(mixed, [secret]).split('[redacted]')) {
            for (const run of runsOf(secret)) expect(piece).not.toContain(run);
            if (secret.length < 8) expect(piece).not.toContain(secret);
          }
          const shares =
            secret.length >= 8 ? runsOf(secret).some((r) => text.includes(r)) : text.includes(secret);
          if (!shares && !text.includes(JSON.stringify(secret).slice(1, -1))) {
            expect(redact(text, [secret])).toBe(text);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  test('a large value is scanned once (a 1 MiB value against a 300-character message)', () => {
    const value = 'v'.repeat(1 << 20).replace(/v{16}$/, 'SECRET-TAIL-0123');
    const message = `${'x'.repeat(250)} echo SECRET-TAIL-0123`;
    expect(serverMessageOf(JSON.stringify({ error: message }), [value])).toBe(
      `${'x'.repeat(250)} echo [redacted]`,
    );
  });
});

describe('option types under exactOptionalPropertyTypes', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  test('apiKey and baseUrl take a value that may be undefined (an environment variable)', async () => {
    vi.stubEnv('WORKOS_API_KEY', 'sk_from_env');
    const env: Record<string, string | undefined> = { WORKOS_API_KEY: undefined, VAULT_BASE_URL: undefined };
    let url = '';
    let auth: string | null = null;
    const fetch = (async (input: Request) => {
      url = input.url;
      auth = input.headers.get('authorization');
      return new Response(JSON.stringify({ data: [], list_metadata: {} }), { status: 200 });
    }) as unknown as typeof globalThis.fetch;
    const vault = new VaultClient({
      apiKey: env['WORKOS_API_KEY'],
      baseUrl: env['VAULT_BASE_URL'],
      timeout: undefined,
      retry: undefined,
      fetch,
    });
    await vault.listObjects({ limit: undefined, signal: undefined });
    expect(url).toBe('https://api.workos.com/vault/v1/kv');
    expect(auth).toBe('Bearer sk_from_env');
  });

  test('versionCheck takes metadata.versionId as it is: a string, or null (no check)', async () => {
    const { vault, urls, bodies } = recording(201, { id: 'o', name: 'n', metadata: wireMetadata('o') });
    const versions: (string | null)[] = ['ver_1', null];
    for (const versionCheck of versions) {
      await vault.updateObject({ id: 'o', value: 'v', versionCheck });
      await vault.deleteObject({ id: 'o', versionCheck });
    }
    await vault.updateObject({ id: 'o', value: 'v', versionCheck: undefined });
    expect(bodies.filter((b) => b !== null && b !== '').map((b) => JSON.parse(b!))).toEqual([
      { value: 'v', version_check: 'ver_1' },
      { value: 'v' },
      { value: 'v' },
    ]);
    expect(urls.filter((_, i) => i % 2 === 1)).toEqual([
      'http://vault.test/vault/v1/kv/o?version_check=ver_1',
      'http://vault.test/vault/v1/kv/o',
    ]);
  });
});
