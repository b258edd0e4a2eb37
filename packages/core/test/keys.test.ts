import {
  BlindIndex,
  canonicalContext,
  isText,
  KEY_CONTEXT_LIMITS,
  KeyDestroyedError,
  KeyProviderError,
  MemoryKeyProvider,
  makeDataKey,
  SharedDataKey,
  validateKeyContext,
} from '@vault-envelope/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

const contextArb = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 8 }), {
  maxKeys: 10,
});
/** Names and values over all of Unicode (astral characters included), well-formed. */
const fullUnicodeContextArb = fc.dictionary(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  { maxKeys: 10 },
);

describe('key contexts', () => {
  test('limits: 10 entries, names ≤ 120, values ≤ 500, strings only (exact messages)', () => {
    expect(KEY_CONTEXT_LIMITS).toEqual({ maxEntries: 10, maxNameLength: 120, maxValueLength: 500 });
    const ten = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 'v']));
    expect(validateKeyContext(ten)).toBe(ten);
    expect(validateKeyContext({ ['n'.repeat(120)]: 'v'.repeat(500) })).toBeTruthy();
    expect(validateKeyContext({})).toEqual({});
    expect(validateKeyContext({ a: '' })).toEqual({ a: '' });
    const refused: [unknown, Error][] = [
      [{ ...ten, k10: 'v' }, new RangeError('key context must have at most 10 entries, got 11')],
      [
        { ['n'.repeat(121)]: 'v' },
        new RangeError('key context name must be at most 120 characters, got 121'),
      ],
      [
        { n: 'v'.repeat(501) },
        new RangeError('key context value of "n" must be at most 500 characters, got 501'),
      ],
      [{ '': 'v' }, new RangeError('key context name must not be empty, got an empty string')],
      [{ n: 1 }, new TypeError('key context value of "n" must be a string, got number')],
      [{ n: null }, new TypeError('key context value of "n" must be a string, got null')],
      [null, new TypeError('key context must be an object, got null')],
      [['a'], new TypeError('key context must be an object, got array')],
      [Promise.resolve({}), new TypeError('key context must be an object, got Promise')],
    ];
    for (const [ctx, error] of refused) expect(() => validateKeyContext(ctx)).toThrow(error);
    expect(() => validateKeyContext({ n: 1 }, 'items[3].context')).toThrow(
      new TypeError('items[3].context value of "n" must be a string, got number'),
    );
  });

  test('names and values follow the text rules: no NUL, no control character, no lone surrogate (F4)', () => {
    // The two contexts of the finding: with NUL allowed, a separator-joined key made them one.
    expect(() => validateKeyContext({ 'tenant\u0000t1': 'acme' })).toThrow(
      new TypeError(
        'key context name must be well-formed text without control characters, got a control character at index 6',
      ),
    );
    expect(() => validateKeyContext({ tenant: 't1\u0000acme' })).toThrow(
      new TypeError(
        'key context value of "tenant" must be well-formed text without control characters, got a control character at index 2',
      ),
    );
    expect(() => validateKeyContext({ a: 'x\udc00y' })).toThrow(
      new TypeError(
        'key context value of "a" must be well-formed text without control characters, got a lone surrogate at index 1',
      ),
    );
    expect(() => validateKeyContext({ 'line\nbreak': 'v' })).toThrow(TypeError);
    expect(() => validateKeyContext({ del: '\u007f' })).toThrow(TypeError);
    // Text beyond ASCII is fine: tabs are not, astral characters (a valid pair) are.
    expect(validateKeyContext({ région: 'Zürich', '🔑': '\u{1f600}' })).toBeTruthy();
  });

  test('the text rules hold for every string (property): exactly the strings isText accepts pass', () => {
    const anyString = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.string({
        unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
        maxLength: 12,
      }),
    );
    fc.assert(
      fc.property(anyString, anyString, (name, value) => {
        const ok = name.length > 0 && isText(name) && isText(value);
        let error: unknown;
        try {
          validateKeyContext({ [name]: value });
        } catch (e) {
          error = e;
        }
        expect(error === undefined).toBe(ok);
        // A refusal never quotes the offending text (it could be anything), only a position.
        if (error !== undefined && name.length > 0 && !isText(name)) {
          expect((error as Error).message).not.toContain(name);
        }
        if (error !== undefined && name.length > 0 && isText(name) && !isText(value)) {
          expect((error as Error).message).toMatch(/^key context value of ".*" must be well-formed text/s);
          if (value.length > 0) expect((error as Error).message).not.toContain(`got ${value}`);
        }
      }),
      { numRuns: 500 },
    );
  });

  test('canonicalContext ignores key order (property)', () => {
    fc.assert(
      fc.property(contextArb, (ctx) => {
        const reversed = Object.fromEntries(Object.entries(ctx).reverse());
        expect(canonicalContext(reversed)).toBe(canonicalContext(ctx));
      }),
    );
  });

  test('canonicalContext separates different contexts (property)', () => {
    fc.assert(
      fc.property(contextArb, contextArb, (a, b) => {
        const same =
          Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);
        expect(canonicalContext(a) === canonicalContext(b)).toBe(same);
      }),
      { numRuns: 500 },
    );
  });

  test('canonicalContext is unambiguous: it parses back to exactly the entries (property)', () => {
    fc.assert(
      fc.property(fullUnicodeContextArb, (ctx) => {
        const pairs = JSON.parse(canonicalContext(ctx)) as [string, string][];
        expect(Object.fromEntries(pairs)).toEqual({ ...ctx });
        expect(pairs).toHaveLength(Object.keys(ctx).length);
      }),
      { numRuns: 300 },
    );
  });

  test('canonicalContext sorts names by code point, the order of their UTF-8 bytes (property)', () => {
    const utf8 = (s: string) => Buffer.from(s, 'utf8');
    fc.assert(
      fc.property(fullUnicodeContextArb, (ctx) => {
        const names = (JSON.parse(canonicalContext(ctx)) as [string, string][]).map(([n]) => n);
        for (let i = 1; i < names.length; i++) {
          expect(Buffer.compare(utf8(names[i - 1]!), utf8(names[i]!))).toBe(-1);
          const a = [...names[i - 1]!].map((c) => c.codePointAt(0)!);
          const b = [...names[i]!].map((c) => c.codePointAt(0)!);
          const k = a.findIndex((x, j) => x !== b[j]);
          expect(k === -1 ? a.length < b.length : a[k]! < (b[k] ?? -1)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('canonicalContext: a name above U+FFFF sorts after U+FFFF (UTF-16 unit order would not)', () => {
    const ctx = { '\u{10000}': 'astral', '\uffff': 'bmp' };
    expect(canonicalContext(ctx)).toBe('[["\uffff","bmp"],["\u{10000}","astral"]]');
    expect(canonicalContext({ '\ue000': '1', '\ud83d\ude00': '2', z: '3' })).toBe(
      '[["z","3"],["\ue000","1"],["\ud83d\ude00","2"]]',
    );
  });

  test('canonicalContext has no separator ambiguity', () => {
    expect(canonicalContext({ 'a,b': 'c' })).not.toBe(canonicalContext({ a: 'b,c' }));
    expect(canonicalContext({ a: '1', b: '2' })).not.toBe(canonicalContext({ a: '1","b', '': '2' }));
    expect(canonicalContext({ 'tenant\u0000t1': 'acme' })).not.toBe(
      canonicalContext({ tenant: 't1\u0000acme' }),
    );
  });
});

describe('SharedDataKey', () => {
  const fresh = () => new MemoryKeyProvider().createDataKey({ a: '1' });

  test('create takes ownership: copies the bytes, zeroes the original', async () => {
    const dk = await fresh();
    const original = dk.key;
    const before = original.slice();
    const { shared } = SharedDataKey.create(dk);
    expect(original.every((b) => b === 0)).toBe(true);
    expect(shared.key).toEqual(before);
  });

  test('callers cannot corrupt it: key and encryptedKeys are fresh copies', async () => {
    const { shared } = SharedDataKey.create(await fresh());
    const k1 = shared.key;
    k1.fill(0);
    expect(shared.key.some((b) => b !== 0)).toBe(true);
    const blob = shared.encryptedKeys;
    blob.fill(0);
    expect(shared.encryptedKeys.some((b) => b !== 0)).toBe(true);
    expect(shared.wraps(blob)).toBe(false);
    expect(shared.wraps(shared.encryptedKeys)).toBe(true);
    expect(Object.isFrozen(shared.context)).toBe(true);
  });

  test("destruction is the creator's capability: the key has no destroy, the handle does", async () => {
    const handle = SharedDataKey.create(await fresh());
    const { shared } = handle;
    expect('destroy' in shared).toBe(false);
    expect(Object.isFrozen(handle)).toBe(true);
    expect(shared.destroyed).toBe(false);
    handle.destroy();
    handle.destroy();
    expect(shared.destroyed).toBe(true);
    expect(() => shared.key).toThrow(new KeyDestroyedError());
  });

  test('it can only be made through create (new is refused at run time)', async () => {
    const dk = await fresh();
    const Ctor = SharedDataKey as unknown as new (...args: unknown[]) => SharedDataKey;
    expect(() => new Ctor(dk)).toThrow(
      new TypeError('SharedDataKey must be made with SharedDataKey.create(dataKey), got new'),
    );
    expect(() => new Ctor(Symbol('SharedDataKey.create'), dk)).toThrow(TypeError);
    expect(dk.key.some((b) => b !== 0)).toBe(true); // refused before it took anything
  });

  test('it is frozen: no property can be set, added or shadowed', async () => {
    const { shared } = SharedDataKey.create(await fresh());
    const id = shared.id;
    expect(Object.isFrozen(shared)).toBe(true);
    const attempts: [string, () => void][] = [
      ['set id', () => Object.assign(shared, { id: 'evil' })],
      ['set context', () => Object.assign(shared, { context: { a: 'evil' } })],
      ['change a context value', () => Object.assign(shared.context, { a: 'evil' })],
      ['shadow key', () => Object.defineProperty(shared, 'key', { value: new Uint8Array(32) })],
      ['shadow wraps', () => Object.assign(shared, { wraps: () => true })],
      ['add prepared', () => Object.assign(shared, { prepared: () => ({ destroy() {} }) })],
    ];
    for (const [what, attempt] of attempts) expect(attempt, what).toThrow(TypeError);
    expect(shared.id).toBe(id);
    expect(shared.context).toEqual({ a: '1' });
    expect(shared.key.some((b) => b !== 0)).toBe(true);
    expect(shared.wraps(new Uint8Array(3))).toBe(false);
    expect('prepared' in shared).toBe(false);
  });

  test('an all-zero key, or a malformed one, is refused at creation with a KeyProviderError', async () => {
    const zero = makeDataKey({ id: 'z', key: new Uint8Array(32), encryptedKeys: new Uint8Array([1]) });
    expect(() => SharedDataKey.create(zero)).toThrow(
      new KeyProviderError('the key provider returned an all-zero data key'),
    );
    const short = {
      id: 'x',
      key: new Uint8Array(16).fill(1),
      encryptedKeys: new Uint8Array([1]),
      context: {},
    };
    const e = (() => {
      try {
        SharedDataKey.create(short);
      } catch (error) {
        return error;
      }
    })();
    expect(e).toEqual(new KeyProviderError('the key provider returned a malformed data key'));
    expect((e as Error).cause).toEqual(new RangeError('data key must be 32 bytes, got 16'));
    expect(short.key.every((b) => b === 0)).toBe(true); // handed over, not used: zeroed
    const noBlob = {
      id: 'x',
      key: new Uint8Array(32).fill(1),
      encryptedKeys: new Uint8Array(0),
      context: {},
    };
    expect(() => SharedDataKey.create(noBlob)).toThrow(KeyProviderError);
  });

  test('makeDataKey checks its fields', () => {
    const ok = { id: 'a', key: new Uint8Array(32), encryptedKeys: new Uint8Array(1) };
    expect(() => makeDataKey({ ...ok, key: new Uint8Array(31) })).toThrow(RangeError);
    expect(() => makeDataKey({ ...ok, encryptedKeys: new Uint8Array(0) })).toThrow(RangeError);
    expect(() => makeDataKey({ ...ok, id: 5 as never })).toThrow(TypeError);
    expect(Object.keys(makeDataKey(ok))).not.toContain('key');
  });
});

describe('MemoryKeyProvider', () => {
  test('unwraps its own blobs only, and authenticates the context', async () => {
    const a = new MemoryKeyProvider();
    const dk = await a.createDataKey({ org: '1' });
    const back = await a.decryptDataKey(dk.encryptedKeys);
    expect(back.key).toEqual(dk.key);
    expect(back.id).toBe(dk.id);
    expect(back.context).toEqual({ org: '1' });
    await expect(new MemoryKeyProvider().decryptDataKey(dk.encryptedKeys)).rejects.toThrow(
      'could not unwrap',
    );
    const tampered = dk.encryptedKeys.slice();
    tampered[14]! ^= 1; // inside the context JSON
    await expect(a.decryptDataKey(tampered)).rejects.toThrow('could not unwrap');
    await expect(a.decryptDataKey(new Uint8Array([1, 2, 3]))).rejects.toThrow(
      'not a MemoryKeyProvider key blob',
    );
    expect(a.stats()).toEqual({ created: 1, decrypted: 3, rekeyed: 0 });
  });

  test('honours an aborted signal', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(new MemoryKeyProvider().createDataKey({}, { signal: ac.signal })).rejects.toThrow();
  });
});

describe('BlindIndex', () => {
  const root = new Uint8Array(32).fill(5);

  test('truncates to the chosen bit length, zeroing the unused low bits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 256 }), fc.string(), (bits, value) => {
        const full = new BlindIndex({ key: root, bits: 256 }).computeBytes(value);
        const cut = new BlindIndex({ key: root, bits }).computeBytes(value);
        expect(cut.length).toBe(Math.ceil(bits / 8));
        for (let i = 0; i < bits; i++) {
          const bit = (b: Uint8Array) => (b[i >> 3]! >> (7 - (i & 7))) & 1;
          expect(bit(cut)).toBe(bit(full));
        }
        for (let i = bits; i < cut.length * 8; i++) expect((cut[i >> 3]! >> (7 - (i & 7))) & 1).toBe(0);
      }),
    );
  });

  test('equal values give equal indexes; distinct index names give unrelated ones', () => {
    const email = new BlindIndex({ key: root, name: 'users.email' });
    const phone = new BlindIndex({ key: root, name: 'users.phone' });
    expect(email.compute('a@x.io')).toBe(email.compute('a@x.io'));
    expect(email.compute('a@x.io')).not.toBe(phone.compute('a@x.io'));
    expect(email.compute('a@x.io')).toHaveLength(16); // 64 bits by default
  });

  test('normalize makes lookups case- and space-insensitive', () => {
    const idx = new BlindIndex({ key: root, name: 'e', normalize: (s) => s.trim().toLowerCase() });
    expect(idx.compute('  Ada@Example.COM ')).toBe(idx.compute('ada@example.com'));
  });

  test('option checks and destroy', () => {
    expect(() => new BlindIndex({ key: new Uint8Array(31) })).toThrow(RangeError);
    expect(() => new BlindIndex({ key: root, bits: 0 })).toThrow(RangeError);
    expect(() => new BlindIndex({ key: root, bits: 257 })).toThrow(RangeError);
    expect(() => new BlindIndex({ key: root, name: '' })).toThrow(RangeError);
    const idx = new BlindIndex({ key: root });
    idx.destroy();
    expect(() => idx.compute('x')).toThrow(TypeError);
    expect(root.every((b) => b === 5)).toBe(true); // the caller's key is copied, not zeroed
  });
});
