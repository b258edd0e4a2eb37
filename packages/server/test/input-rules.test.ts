/**
 * What the server accepts as input, and that nothing it accepted becomes unreadable: nesting
 * depth is bounded when a body is parsed (422), a deeply nested string value still reads back
 * through every route; names and key contexts follow the text rules (no lone surrogate, no
 * control character), names `.` and `..` are refused; two contexts never share a key-encryption
 * key because their entries look alike once joined.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '@vault-envelope/server';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, test } from 'vitest';
import { client, sharedServer } from './_helpers.js';

const KV = '/vault/v1/kv';
const DK = '/vault/v1/keys/data-key';
const api = sharedServer().api;

let n = 0;
const unique = (prefix: string) => `${prefix}-${++n}-${Math.random().toString(36).slice(2, 8)}`;

/** JSON text of `depth` nested objects around `1`: `{"a":{"a":...1...}}`. */
const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
/**
 * An object holding arrays nested `depth` levels deep. 100,000 levels: how deep `JSON.stringify`
 * can go depends on the stack of the thread (about 4,100 levels on Node's main thread, four times
 * that in a worker); this is beyond both.
 */
const TOO_DEEP = 100_000;
const deepObject = (depth: number) => `{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`;

describe('nesting depth (F3)', () => {
  test('a body nested deeper than 64 levels is a 422 on every route that reads JSON, never a 500', async () => {
    const deep = `{"name":"deep","data":${deepObject(TOO_DEEP)},"value":"v","key_context":{},"context":{}}`;
    for (const [method, path] of [
      ['POST', '/vault/object/create'],
      ['PUT', '/vault/object/update'],
      ['POST', KV],
      ['POST', DK],
      ['POST', '/vault/key/create-data-key'],
    ] as const) {
      const r = await api(method, path, deep);
      expect(r.status, `${method} ${path}`).toBe(422);
      expect(r.body).toEqual({ error: 'Request body nests deeper than 64 levels' });
    }
    // 64 levels in all (the body is the first) is accepted.
    const data = JSON.parse(nested(62));
    const ok = await api('POST', '/vault/object/create', { name: unique('depth-64'), data });
    expect(ok.status).toBe(201);
    const read = await api('GET', `/vault/object/get?id=${ok.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body.data).toEqual(data);
  });

  test('brackets inside strings do not count towards the depth', async () => {
    const r = await api('POST', KV, { name: unique('brackets'), value: '[[[['.repeat(100), key_context: {} });
    expect(r.status).toBe(201);
  });

  test('a v1 string value that is deep JSON reads back through every route, older ones and version included', async () => {
    const value = deepObject(TOO_DEEP);
    const name = unique('deep-value');
    const m = await api('POST', KV, { name, value, key_context: { org: 'o' } });
    expect(m.status).toBe(201);
    const { id } = m.body;
    expect((await api('GET', `${KV}/${id}`)).body.value).toBe(value);
    expect((await api('GET', `${KV}/name/${encodeURIComponent(name)}`)).body.value).toBe(value);
    for (const path of [
      `/vault/object/get?id=${id}`,
      `/vault/object/get-by-name?name=${encodeURIComponent(name)}`,
      `/vault/object/version?id=${id}&version=1`,
    ]) {
      const r = await api('GET', path);
      expect(r.status, path).toBe(200);
      expect(r.body.data, path).toBeNull();
      expect(r.body.value, path).toBe(value);
    }
    // A shallow JSON object written as a v1 string still reads as data.
    const shallow = await api('POST', KV, { name: unique('shallow'), value: '{"a":[1]}', key_context: {} });
    expect((await api('GET', `/vault/object/get?id=${shallow.body.id}`)).body.data).toEqual({ a: [1] });
  });
});

describe('text rules for names and key contexts (F4, F8, F9)', () => {
  test('key-context names and values with NUL, other C0 controls, DEL or lone surrogates are 422', async () => {
    for (const context of [
      { 'tenant\u0000t1': 'acme' },
      { tenant: 't1\u0000acme' },
      { 'a\nb': 'v' },
      { a: 'line\r\nbreak' },
      { a: 'tab\there' },
      { a: 'del\u007f' },
      { 'lone\ud800': 'v' },
      { a: 'x\udc00y' },
    ]) {
      for (const [path, field] of [
        [DK, 'context'],
        ['/vault/key/create-data-key', 'context'],
      ] as const) {
        const r = await api('POST', path, { [field]: context });
        expect(r.status, JSON.stringify(context)).toBe(422);
        expect(r.body.error).toMatch(
          new RegExp(
            `^${field} (name|value of "[^"]*") must be well-formed text without control characters, got (a control character|a lone surrogate) at index \\d+$`,
          ),
        );
      }
      const o = await api('POST', KV, { name: unique('ctx'), value: 'v', key_context: context });
      expect(o.status).toBe(422);
      const r = await api('POST', '/vault/v1/keys/rekey', { encrypted_keys: 'AAAA', context });
      expect(r.status).toBe(422);
    }
    // Non-ASCII text, a surrogate pair included, is text.
    expect((await api('POST', DK, { context: { région: 'Zürich 🏔' } })).status).toBe(200);
  });

  test('object names: lone surrogates, control characters (CR, LF, NUL) and "." or ".." are 422', async () => {
    for (const name of ['a\udc00b', '\ud800', 'line\nbreak', 'cr\r', 'nul\u0000', 'del\u007f', '.', '..']) {
      for (const [path, body] of [
        [KV, { name, value: 'v', key_context: {} }],
        ['/vault/object/create', { name, data: {} }],
      ] as const) {
        const r = await api('POST', path, body);
        expect(r.status, `${path} ${JSON.stringify(name)}`).toBe(422);
      }
    }
    // Dots inside a name, or a name of three dots, are names like any other.
    for (const name of [unique('a.b'), '...', unique('./x'), unique('x/..y')]) {
      const r = await api('POST', KV, { name, value: 'v', key_context: {} });
      expect(r.status, name).toBe(201);
      const read = await api('GET', `${KV}/name/${encodeURIComponent(name)}`);
      expect(read.status, name).toBe(200);
      expect(read.body.name).toBe(name);
    }
  });

  test('lone surrogates in values, plaintexts and AADs are 422; two values never collapse into one', async () => {
    const r = await api('POST', KV, { name: unique('v'), value: 'a\udc00b', key_context: {} });
    expect(r.status).toBe(422);
    expect(r.body.error).toBe('Field value must be well-formed Unicode, got a lone surrogate');
    const m = await api('POST', KV, { name: unique('v'), value: 'ok', key_context: {} });
    expect((await api('PUT', `${KV}/${m.body.id}`, { value: '\ud800' })).status).toBe(422);
    const dk = (await api('POST', '/vault/key/create-data-key')).body;
    const enc = await api('POST', '/vault/key/encrypt-data', {
      plaintext: 'x\ud800',
      data_key: dk.plaintext_key,
    });
    expect(enc.status).toBe(422);
    const aad = await api('POST', '/vault/key/encrypt-data', {
      plaintext: 'x',
      data_key: dk.plaintext_key,
      aad: '\udfff',
    });
    expect(aad.status).toBe(422);
    // Control characters are fine in values: they are data, not names.
    const ctl = await api('POST', KV, { name: unique('ctl'), value: 'a\u0000b\r\nc', key_context: {} });
    expect(ctl.status).toBe(201);
    expect((await api('GET', `${KV}/${ctl.body.id}`)).body.value).toBe('a\u0000b\r\nc');
  });
});

describe('one KEK per context entry, whatever the process saw before (F4)', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('an object stored under a context that breaks the text rules still reads, and its update is a 409, never a 500 or a shared KEK', async () => {
    // Such contexts can no longer be given; an object stored before the rules held may still
    // have one. No key is created under it: guessing which entry it meant could share one KEK
    // between {"tenant\0t1": "acme"} and {"tenant": "t1\0acme"}.
    const dir = mkdtempSync(join(tmpdir(), 'vault-entry-key-'));
    dirs.push(dir);
    const options = { port: 0, dataDir: dir, apiKeys: ['sk_test'], rateLimit: false as const };
    const a = await startServer(options);
    const one = (await client(a)('POST', KV, { name: 'one', value: 'v', key_context: { tenant: 't1' } }))
      .body;
    const two = (await client(a)('POST', KV, { name: 'two', value: 'v', key_context: { tenant: 't1' } }))
      .body;
    await a.close();
    const db = new Database(join(dir, 'vault.sqlite'));
    const setContext = db.prepare('UPDATE objects SET context = ? WHERE id = ?');
    setContext.run(JSON.stringify([['tenant\u0000t1', 'acme']]), one.id);
    setContext.run(JSON.stringify([['tenant', 't1\u0000acme']]), two.id);
    db.close();

    const b = await startServer(options);
    try {
      for (const o of [one, two]) {
        const r = await client(b)('PUT', `${KV}/${o.id}`, { value: 'v2' });
        expect(r.status).toBe(409);
        expect(r.body.error).toMatch(/^The key context stored with this object breaks the text rules/);
        expect((await client(b)('GET', `${KV}/${o.id}`)).body.value).toBe('v');
      }
    } finally {
      await b.close();
    }
    const check = new Database(join(dir, 'vault.sqlite'), { readonly: true });
    const entries = check
      .prepare('SELECT entry_name, entry_value FROM keks ORDER BY entry_name, entry_value')
      .all();
    check.close();
    expect(entries).toEqual([{ entry_name: 'tenant', entry_value: 't1' }]);
  });
});
