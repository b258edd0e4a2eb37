import {
  __TESTS,
  BlindIndex,
  canonicalContext,
  KEY_CONTEXT_LIMITS,
  KeyDestroyedError,
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

describe('key contexts', () => {
  test('limits: 10 entries, names ≤ 120, values ≤ 500, strings only', () => {
    expect(KEY_CONTEXT_LIMITS).toEqual({ maxEntries: 10, maxNameLength: 120, maxValueLength: 500 });
    const ten = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 'v']));
    expect(validateKeyContext(ten)).toBe(ten);
    expect(() => validateKeyContext({ ...ten, k10: 'v' })).toThrow(RangeError);
    expect(validateKeyContext({ ['n'.repeat(120)]: 'v'.repeat(500) })).toBeTruthy();
    expect(() => validateKeyContext({ ['n'.repeat(121)]: 'v' })).toThrow(RangeError);
    expect(() => validateKeyContext({ n: 'v'.repeat(501) })).toThrow(RangeError);
    expect(() => validateKeyContext({ '': 'v' })).toThrow(RangeError);
    expect(() => validateKeyContext({ n: 1 })).toThrow(TypeError);
    expect(() => validateKeyContext(null)).toThrow(TypeError);
    expect(() => validateKeyContext(['a'])).toThrow(TypeError);
    expect(validateKeyContext({})).toEqual({});
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

  test('canonicalContext has no separator ambiguity', () => {
    expect(canonicalContext({ 'a,b': 'c' })).not.toBe(canonicalContext({ a: 'b,c' }));
    expect(canonicalContext({ a: '1', b: '2' })).not.toBe(canonicalContext({ a: '1","b', '': '2' }));
  });
});

describe('SharedDataKey', () => {
  test('takes ownership: copies the bytes, zeroes the original', async () => {
    const dk = await new MemoryKeyProvider().createDataKey({ a: '1' });
    const original = dk.key;
    const before = original.slice();
    const shared = new SharedDataKey(dk);
    expect(original.every((b) => b === 0)).toBe(true);
    expect(shared.key).toEqual(before);
  });

  test('callers cannot corrupt it: key and encryptedKeys are fresh copies', async () => {
    const shared = new SharedDataKey(await new MemoryKeyProvider().createDataKey({ a: '1' }));
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

  test('destroy zeroes every prepared state and makes later use fail', async () => {
    const shared = new SharedDataKey(await new MemoryKeyProvider().createDataKey({ a: '1' }));
    let destroyed = 0;
    const owner = {};
    const state = __TESTS.sharedPrepared(shared, owner, () => ({ destroy: () => destroyed++ }));
    expect(__TESTS.sharedPrepared(shared, owner, () => ({ destroy: () => destroyed++ }))).toBe(state);
    shared.destroy();
    shared.destroy();
    expect(destroyed).toBe(1);
    expect(() => shared.key).toThrow(KeyDestroyedError);
    expect(() => __TESTS.sharedPrepared(shared, owner, () => state)).toThrow(KeyDestroyedError);
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
