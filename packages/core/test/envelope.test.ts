import { inspect as utilInspect } from 'node:util';
import {
  type AeadBackend,
  BlindIndex,
  type DataKey,
  DecryptionError,
  Envelope,
  EnvelopeError,
  FormatError,
  inspect,
  type KeyContext,
  type KeyProvider,
  KeyProviderError,
  MemoryKeyProvider,
  makeDataKey,
  portableBackend,
  SharedDataKey,
  selectBackend,
} from '@vault-envelope/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { FixedKeyProvider } from './_helpers.js';

const context = { organization_id: 'org_1' };
const backends = ['fast', 'portable'] as const;

describe.each(backends)('round trips on the %s backend (property)', (backend) => {
  const envelope = new Envelope({ keys: new MemoryKeyProvider(), backend });

  test('any string, with and without AAD', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        fc.option(fc.string()),
        async (text, aad) => {
          const opts = aad === null ? {} : { aad };
          const ct = await envelope.encrypt(text, { context, ...opts });
          expect(await envelope.decryptToString(ct, opts)).toBe(text);
        },
      ),
      { numRuns: 150 },
    );
  });

  test('any bytes, as base64 and as raw bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 2000 }),
        fc.uint8Array({ maxLength: 40 }),
        async (pt, aad) => {
          const ct = await envelope.encryptToBytes(pt, { context, aad });
          expect(await envelope.decrypt(ct, { aad })).toEqual(pt);
          const text = await envelope.encrypt(pt, { context, aad });
          expect(await envelope.decrypt(text, { aad })).toEqual(pt);
        },
      ),
      { numRuns: 100 },
    );
  });

  test('empty and large (4 MiB) plaintexts', async () => {
    expect(await envelope.decryptToString(await envelope.encrypt('', { context }))).toBe('');
    const big = new Uint8Array(4 << 20);
    for (let i = 0; i < big.length; i++) big[i] = i * 31;
    const back = await envelope.decrypt(await envelope.encryptToBytes(big, { context }));
    // Buffer.compare: vitest's deep equality walks 4 Mi elements one by one.
    expect(back.length).toBe(big.length);
    expect(Buffer.compare(back, big)).toBe(0);
  });

  test('non-ASCII text survives, and empty AAD equals no AAD (as in AES-GCM)', async () => {
    const text = 'Zoë 🙂 日本語 \u0000 end';
    const ct = await envelope.encrypt(text, { context, aad: '' });
    expect(await envelope.decryptToString(ct)).toBe(text);
    expect(await envelope.decryptToString(ct, { aad: new Uint8Array(0) })).toBe(text);
  });
});

describe('both backends give identical bytes', () => {
  const fast = selectBackend('fast');
  const portable = portableBackend();
  test('for the same key, IV (12 or 32 bytes), AAD and plaintext (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.oneof(
          fc.uint8Array({ minLength: 12, maxLength: 12 }),
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
        ),
        fc.option(fc.uint8Array({ maxLength: 64 }), { nil: undefined }),
        fc.uint8Array({ maxLength: 600 }),
        (key, iv, aad, pt) => {
          const outs = [fast, portable].map((b) => {
            const k = b.prepare(key);
            const out = new Uint8Array(pt.length + 16);
            b.encrypt(k, iv, pt, aad, out, 0, pt.length);
            // and each decrypts the other's output
            return { out, k, b };
          });
          expect(outs[0]!.out).toEqual(outs[1]!.out);
          for (const { b, k } of outs) {
            const o = outs[0]!.out;
            expect(b.decrypt(k, iv, o.subarray(0, pt.length), o.subarray(pt.length), aad)).toEqual(pt);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test('an Envelope on one backend decrypts what the other wrote', async () => {
    const keys = new MemoryKeyProvider();
    const a = new Envelope({ keys, backend: 'fast' });
    const b = new Envelope({ keys, backend: 'portable' });
    expect(a.backend).toBe('fast');
    expect(b.backend).toBe('portable');
    expect(await b.decryptToString(await a.encrypt('x', { context, aad: 'r1' }), { aad: 'r1' })).toBe('x');
    expect(await a.decryptToString(await b.encrypt('y', { context, aad: 'r2' }), { aad: 'r2' })).toBe('y');
  });
});

describe.each(backends)('tamper detection on the %s backend (property)', (backend) => {
  const keys = new MemoryKeyProvider();
  const envelope = new Envelope({ keys, backend });

  test('any single-bit flip anywhere in the message is a typed error, never plaintext', async () => {
    const pt = 'attack at dawn';
    const ct = await envelope.encryptToBytes(pt, { context, aad: 'row-1' });
    await fc.assert(
      fc.asyncProperty(fc.nat(ct.length * 8 - 1), async (bit) => {
        const bad = ct.slice();
        bad[bit >> 3]! ^= 1 << (bit & 7);
        const outcome = await envelope.decrypt(bad, { aad: 'row-1' }).then(
          () => 'plaintext',
          (e: unknown) => e,
        );
        expect(outcome).not.toBe('plaintext');
        expect(EnvelopeError.is(outcome)).toBe(true);
      }),
      { numRuns: ct.length * 8 },
    );
  });

  test('any truncation is a typed error', async () => {
    const ct = await envelope.encryptToBytes('some longer plaintext', { context });
    for (let n = 0; n < ct.length; n++) {
      const outcome = await envelope.decrypt(ct.subarray(0, n)).then(
        () => 'plaintext',
        (e: unknown) => e,
      );
      expect(outcome instanceof FormatError || outcome instanceof DecryptionError, `length ${n}`).toBe(true);
    }
  });

  test('a wrong AAD is a DecryptionError with one generic message', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string(), fc.string(), async (aad, other) => {
        fc.pre(aad !== other);
        const ct = await envelope.encrypt('secret', { context, aad });
        const err = await envelope.decrypt(ct, { aad: other }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(DecryptionError);
        expect((err as Error).message).toBe(
          'decryption failed: wrong key, wrong AAD or a modified ciphertext',
        );
      }),
      { numRuns: 50 },
    );
  });

  test('a ciphertext under another data key does not decrypt', async () => {
    const one = new FixedKeyProvider(new Uint8Array(32).fill(1));
    const two = new FixedKeyProvider(new Uint8Array(32).fill(2));
    const ct = await new Envelope({ keys: one, backend }).encrypt('secret', { context });
    await expect(new Envelope({ keys: two, backend }).decrypt(ct)).rejects.toBeInstanceOf(DecryptionError);
  });
});

describe('IVs', () => {
  test('never repeat in 1e6 encryptions (fast backend)', async () => {
    const keys = new FixedKeyProvider(new Uint8Array(32).fill(7));
    const envelope = new Envelope({ keys, backend: 'fast' });
    const seen = new Set<string>();
    const batch = 50_000;
    const items = Array.from({ length: batch }, () => ({ plaintext: new Uint8Array(0), context }));
    for (let round = 0; round < 1e6 / batch; round++) {
      const results = await envelope.encryptManyToBytes(items);
      for (const r of results) {
        if (!r.ok) throw r.error;
        seen.add(Buffer.from(r.value.buffer, r.value.byteOffset, 12).toString('latin1'));
      }
    }
    expect(seen.size).toBe(1e6);
    expect(keys.calls.create).toBe(1e6 / batch);
  }, 120_000);

  test('never repeat in 1e6 draws from the portable pool', () => {
    const b = portableBackend();
    const out = new Uint8Array(12);
    const seen = new Set<string>();
    for (let i = 0; i < 1e6; i++) {
      b.fillIv(out, 0);
      seen.add(Buffer.from(out).toString('latin1'));
    }
    expect(seen.size).toBe(1e6);
  }, 60_000);
});

describe('key ownership and zeroization', () => {
  test('the Envelope zeroes each plain DataKey it received, after encrypt and after decrypt', async () => {
    const keys = new FixedKeyProvider(new Uint8Array(32).fill(9));
    const envelope = new Envelope({ keys });
    const ct = await envelope.encrypt('x', { context });
    await envelope.decrypt(ct);
    expect(keys.issued).toHaveLength(2);
    for (const dk of keys.issued) expect(dk.key.every((b) => b === 0)).toBe(true);
  });

  test('… also when decryption fails', async () => {
    const keys = new FixedKeyProvider(new Uint8Array(32).fill(9));
    const envelope = new Envelope({ keys });
    const ct = await envelope.encrypt('x', { context, aad: 'a' });
    await expect(envelope.decrypt(ct, { aad: 'b' })).rejects.toBeInstanceOf(DecryptionError);
    for (const dk of keys.issued) expect(dk.key.every((b) => b === 0)).toBe(true);
  });

  test('a SharedDataKey is used without being zeroed, and its prepared state is reused', async () => {
    const mem = new MemoryKeyProvider();
    const { shared, destroy } = SharedDataKey.create(await mem.createDataKey(context));
    let prepares = 0;
    const base = selectBackend('fast');
    const counting = {
      name: 'counting',
      prepare: (k: Uint8Array) => {
        prepares++;
        return base.prepare(k);
      },
      encrypt: base.encrypt.bind(base),
      decrypt: base.decrypt.bind(base),
      fillIv: base.fillIv.bind(base),
    };
    const provider: KeyProvider = { createDataKey: async () => shared, decryptDataKey: async () => shared };
    const envelope = new Envelope({ keys: provider, backend: counting as typeof base });
    const cts = await Promise.all([1, 2, 3].map((i) => envelope.encrypt(`v${i}`, { context })));
    for (const [i, ct] of cts.entries()) expect(await envelope.decryptToString(ct)).toBe(`v${i + 1}`);
    expect(prepares).toBe(1);
    expect(shared.key.some((b) => b !== 0)).toBe(true);
    // destroying zeroes the key and its prepared state; later reads fail
    destroy();
    expect(shared.destroyed).toBe(true);
    expect(() => shared.key).toThrow('destroyed');
  });

  test('a shared key destroyed between lookup and use makes the Envelope ask again', async () => {
    const mem = new MemoryKeyProvider();
    let calls = 0;
    const provider: KeyProvider = {
      createDataKey: async (ctx) => {
        calls++;
        const s = SharedDataKey.create(await mem.createDataKey(ctx));
        if (calls === 1) s.destroy(); // evicted before the caller got to it
        return s.shared;
      },
      decryptDataKey: (b) => mem.decryptDataKey(b),
    };
    const envelope = new Envelope({ keys: provider });
    const ct = await envelope.encrypt('still works', { context });
    expect(calls).toBe(2);
    expect(await envelope.decryptToString(ct)).toBe('still works');
  });

  test('a provider returning a malformed key is a KeyProviderError', async () => {
    const provider: KeyProvider = {
      createDataKey: async () => ({
        id: 'x',
        key: new Uint8Array(16),
        encryptedKeys: new Uint8Array(3),
        context: {},
      }),
      decryptDataKey: async () => ({}) as DataKey,
    };
    const envelope = new Envelope({ keys: provider });
    await expect(envelope.encrypt('x', { context })).rejects.toBeInstanceOf(KeyProviderError);
  });

  test("a provider's own errors pass through unchanged", async () => {
    class VaultDown extends Error {}
    const boom = new VaultDown('503 from the key service');
    const provider: KeyProvider = {
      createDataKey: async () => {
        throw boom;
      },
      decryptDataKey: async () => {
        throw boom;
      },
    };
    const envelope = new Envelope({ keys: provider });
    await expect(envelope.encrypt('x', { context })).rejects.toBe(boom);
    const ct = await new Envelope({ keys: new MemoryKeyProvider() }).encrypt('x', { context });
    await expect(envelope.decrypt(ct)).rejects.toBe(boom);
  });
});

describe('no secret in messages, toString or util.inspect', () => {
  test('DataKey objects and errors never show the key or the plaintext', async () => {
    const key = new Uint8Array(32).fill(0xab);
    const dk = makeDataKey({ id: 'k', key, encryptedKeys: new Uint8Array([1, 2]), context });
    const { shared } = SharedDataKey.create(
      makeDataKey({ id: 'k', key: key.slice(), encryptedKeys: new Uint8Array([1]), context }),
    );
    for (const shown of [
      utilInspect(dk),
      JSON.stringify(dk),
      String(dk),
      utilInspect(shared),
      JSON.stringify(shared),
    ]) {
      expect(shown).not.toMatch(/171|ab,|abab|q6ur/i);
      expect(shown).not.toContain('Uint8Array(32)');
    }
    expect(utilInspect(dk)).toContain('[redacted]');
    expect(utilInspect(shared)).toContain('[redacted]');
    expect(Object.keys(shared)).not.toContain('key');
    const envelope = new Envelope({ keys: new MemoryKeyProvider() });
    const ct = await envelope.encrypt('TOP-SECRET-PLAINTEXT', { context, aad: 'a' });
    const err = await envelope.decrypt(ct, { aad: 'b' }).catch((e: unknown) => e);
    expect(`${String(err)} ${utilInspect(err)}`).not.toContain('TOP-SECRET');
  });
});

describe('argument checks', () => {
  const envelope = new Envelope({ keys: new MemoryKeyProvider() });
  test('constructor', () => {
    expect(() => new Envelope({} as never)).toThrow(TypeError);
    expect(() => new Envelope({ keys: new MemoryKeyProvider(), backend: 'turbo' as never })).toThrow(
      TypeError,
    );
  });
  test('encrypt', async () => {
    await expect(envelope.encrypt(42 as never, { context })).rejects.toThrow(TypeError);
    await expect(envelope.encrypt('x', { context: 'org' as never })).rejects.toThrow(TypeError);
    await expect(envelope.encrypt('x', { context: { a: 1 } as never })).rejects.toThrow(TypeError);
    const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v']));
    await expect(envelope.encrypt('x', { context: eleven })).rejects.toThrow(RangeError);
    await expect(envelope.encrypt('x', { context, aad: 5 as never })).rejects.toThrow(TypeError);
  });
  test('decrypt', async () => {
    await expect(envelope.decrypt(5 as never)).rejects.toThrow(TypeError);
    await expect(envelope.decrypt('not base64!')).rejects.toThrow(FormatError);
  });
  test('decryptToString of non-UTF-8 plaintext is a FormatError pointing at decrypt()', async () => {
    const ct = await envelope.encrypt(new Uint8Array([0xff, 0xfe]), { context });
    await expect(envelope.decryptToString(ct)).rejects.toThrow('use decrypt()');
  });
  test('exact messages', async () => {
    expect(() => new Envelope({} as never)).toThrow(
      new TypeError(
        'Envelope options.keys must be a KeyProvider (createDataKey and decryptDataKey), got undefined',
      ),
    );
    expect(() => new Envelope({ keys: { createDataKey() {} } as never })).toThrow(
      new TypeError(
        'Envelope options.keys must be a KeyProvider (createDataKey and decryptDataKey), got object',
      ),
    );
    await expect(envelope.encrypt(42 as never, { context })).rejects.toThrow(
      new TypeError('plaintext must be a string or a Uint8Array, got number'),
    );
    await expect(envelope.encrypt('x', { context, aad: 5 as never })).rejects.toThrow(
      new TypeError('aad must be a string or a Uint8Array, got number'),
    );
    await expect(envelope.decrypt(5 as never)).rejects.toThrow(
      new TypeError('ciphertext must be a string or a Uint8Array, got number'),
    );
    await expect(envelope.decrypt('x', null as never)).rejects.toThrow(
      new TypeError('decrypt options must be an object, got null'),
    );
    await expect(envelope.encryptMany('x' as never)).rejects.toThrow(
      new TypeError('items must be an array, got string'),
    );
    await expect(envelope.decryptMany([], 5 as never)).rejects.toThrow(
      new TypeError('batch options must be an object, got number'),
    );
  });
  test('a plaintext over the GCM limit is a RangeError, before any key request', async () => {
    // A Uint8Array that claims 2^36 bytes: nothing may read it before the length check.
    class Huge extends Uint8Array {
      override get length(): number {
        return 2 ** 36;
      }
    }
    const keys = new FixedKeyProvider(new Uint8Array(32));
    const e = new Envelope({ keys });
    await expect(e.encrypt(new Huge(1), { context })).rejects.toThrow(
      new RangeError('plaintext must be at most 68719476704 bytes (the GCM limit), got 68719476736'),
    );
    const [r] = await e.encryptMany([{ plaintext: new Huge(1), context }]);
    expect(r).toEqual({
      ok: false,
      error: new RangeError(
        'items[0].plaintext must be at most 68719476704 bytes (the GCM limit), got 68719476736',
      ),
    });
    expect(keys.calls.create).toBe(0);
  });
});

describe('batches', () => {
  test('one createDataKey per distinct context, with the group usage; per-item failures', async () => {
    const mem = new MemoryKeyProvider();
    const usages: unknown[] = [];
    const provider: KeyProvider = {
      createDataKey: (ctx, opts) => {
        usages.push(opts?.usage);
        return mem.createDataKey(ctx, opts);
      },
      decryptDataKey: (b, o) => mem.decryptDataKey(b, o),
    };
    const envelope = new Envelope({ keys: provider });
    const results = await envelope.encryptMany([
      { plaintext: 'a', context: { org: '1' } },
      { plaintext: 'bb', context: { org: '2' } },
      { plaintext: 42 as never, context: { org: '1' } },
      { plaintext: 'ccc', context: { org: '1' } },
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, true, false, true]);
    expect(results[2]).toMatchObject({ ok: false, error: expect.any(TypeError) });
    expect((results[2] as { error: Error }).error.message).toBe(
      'items[2].plaintext must be a string or a Uint8Array, got number',
    );
    expect(usages).toEqual(
      expect.arrayContaining([
        { messages: 2, bytes: 4 },
        { messages: 1, bytes: 2 },
      ]),
    );
    expect(mem.stats().created).toBe(2);

    const decrypted = await envelope.decryptManyToString([
      { ciphertext: (results[0] as { value: string }).value },
      { ciphertext: 'garbage' },
      { ciphertext: (results[3] as { value: string }).value },
      { ciphertext: (results[1] as { value: string }).value, aad: 'wrong' },
    ]);
    expect(decrypted.map((r) => (r.ok ? r.value : r.error.name))).toEqual([
      'a',
      'FormatError',
      'ccc',
      'DecryptionError',
    ]);
    expect(mem.stats().decrypted).toBe(2); // one per distinct wrapped key
  });

  test('a malformed item fails alone, with a message that names it', async () => {
    const envelope = new Envelope({ keys: new MemoryKeyProvider() });
    const good = await envelope.encrypt('ok', { context });
    const enc = await envelope.encryptMany([
      null as never,
      { plaintext: 'a', context: 'org' as never },
      { plaintext: 'a', context, aad: 1 as never },
      { plaintext: 'a', context },
    ]);
    expect(enc.map((r) => (r.ok ? 'ok' : `${r.error.name}: ${r.error.message}`))).toEqual([
      'TypeError: items[0] must be an object, got null',
      'TypeError: items[1].context must be an object, got string',
      'TypeError: items[2].aad must be a string or a Uint8Array, got number',
      'ok',
    ]);
    const dec = await envelope.decryptManyToString([
      { ciphertext: 7 as never },
      { ciphertext: good, aad: [] as never },
      { ciphertext: good, format: 'C' as never },
      { ciphertext: good },
    ]);
    expect(dec.map((r) => (r.ok ? r.value : `${r.error.name}: ${r.error.message}`))).toEqual([
      'TypeError: items[0].ciphertext must be a string or a Uint8Array, got number',
      'TypeError: items[1].aad must be a string or a Uint8Array, got array',
      "TypeError: format must be 'A', 'legacy' or 'B', got another string",
      'ok',
    ]);
  });

  test("a batch zeroes the UTF-8 bytes it made of string plaintexts, never the caller's bytes", async () => {
    const seen: Uint8Array[] = [];
    const real = selectBackend('fast');
    const spy: AeadBackend = {
      name: 'spy',
      prepare: (k) => real.prepare(k),
      fillIv: (out, at) => real.fillIv(out, at),
      decrypt: (k, iv, c, t, a) => real.decrypt(k, iv, c, t, a),
      encrypt(k, iv, pt, aad, out, ctAt, tagAt) {
        real.encrypt(k, iv, pt, aad, out, ctAt, tagAt);
        seen.push(pt);
      },
    };
    const mem = new MemoryKeyProvider();
    const down: KeyProvider = {
      createDataKey: (ctx) =>
        ctx.org === 'down' ? Promise.reject(new Error('503')) : mem.createDataKey(ctx),
      decryptDataKey: (b) => mem.decryptDataKey(b),
    };
    const envelope = new Envelope({ keys: down, backend: spy });
    const mine = new Uint8Array([1, 2, 3]);
    const results = await envelope.encryptMany([
      { plaintext: 'secret one', context: { org: 'up' } },
      { plaintext: mine, context: { org: 'up' } },
      { plaintext: 'secret two', context: { org: 'down' } },
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, true, false]);
    // The failed group sealed nothing; the string's bytes are zeroed, the caller's left alone.
    expect(seen).toHaveLength(2);
    expect(seen[0]!.every((b) => b === 0)).toBe(true);
    expect(seen[1]).toBe(mine);
    expect([...mine]).toEqual([1, 2, 3]);
  });

  test('a key-service failure fails only its group', async () => {
    const mem = new MemoryKeyProvider();
    const provider: KeyProvider = {
      createDataKey: (ctx: KeyContext) =>
        ctx.org === 'down' ? Promise.reject(new Error('503')) : mem.createDataKey(ctx),
      decryptDataKey: (b) => mem.decryptDataKey(b),
    };
    const results = await new Envelope({ keys: provider }).encryptMany([
      { plaintext: 'a', context: { org: 'down' } },
      { plaintext: 'b', context: { org: 'up' } },
    ]);
    expect(results[0]).toMatchObject({ ok: false, error: { message: '503' } });
    expect(results[1]!.ok).toBe(true);
  });
});

describe('Node Buffers as key material (Buffer#slice is a view, not a copy)', () => {
  const real = Buffer.from('DR9idtey9MpMrA1VRFrz30HB1yNgL2PoHZyjAkFeWgg=', 'base64');
  const blob = Buffer.from('buffer-key-blob');
  const provider: KeyProvider = {
    createDataKey: async (ctx) =>
      makeDataKey({ id: 'k', key: Buffer.from(real), encryptedKeys: Buffer.from(blob), context: ctx }),
    decryptDataKey: async (b) =>
      makeDataKey({ id: 'k', key: Buffer.from(real), encryptedKeys: Buffer.from(b) }),
  };

  test.each(backends)(
    'the %s backend encrypts under the real key, not the zeroed original',
    async (backend) => {
      const envelope = new Envelope({ keys: provider, backend });
      const ct = await envelope.encryptToBytes('hello', { context });
      const parts = inspect(ct);
      // Decrypt with node:crypto directly, under the key the provider handed out.
      const { createDecipheriv } = await import('node:crypto');
      const d = createDecipheriv('aes-256-gcm', real, parts.iv, { authTagLength: 16 });
      d.setAuthTag(parts.tag);
      const body = ct.subarray(ct.length - parts.ciphertextLength);
      expect(Buffer.concat([d.update(body), d.final()]).toString()).toBe('hello');
      expect(await envelope.decryptToString(ct)).toBe('hello');
      // and an all-zero key is refused before it is used
      const zero: KeyProvider = {
        createDataKey: provider.createDataKey,
        decryptDataKey: async (b) =>
          makeDataKey({ id: 'k', key: new Uint8Array(32), encryptedKeys: Buffer.from(b) }),
      };
      await expect(new Envelope({ keys: zero, backend }).decrypt(ct)).rejects.toThrow(
        new KeyProviderError('the key provider returned an all-zero data key'),
      );
    },
  );

  test('SharedDataKey, inspect and BlindIndex copy a Buffer instead of viewing it', async () => {
    const { shared } = SharedDataKey.create(await provider.createDataKey(context));
    expect(Buffer.from(shared.key).equals(real)).toBe(true);
    const envelope = new Envelope({ keys: new MemoryKeyProvider() });
    const ct = Buffer.from(await envelope.encryptToBytes('x', { context }));
    const info = inspect(ct);
    info.iv.fill(0);
    expect(ct.subarray(0, 12).some((b) => b !== 0)).toBe(true);
    const key = Buffer.alloc(32, 7);
    const idx = new BlindIndex({ key });
    const before = idx.compute('v');
    key.fill(0);
    expect(idx.compute('v')).toBe(before);
  });
});

test('the key provider receives the key blob in memory of its own, not a view into the message', async () => {
  const mem = new MemoryKeyProvider();
  const seen: Uint8Array[] = [];
  const provider: KeyProvider = {
    createDataKey: (ctx, o) => mem.createDataKey(ctx, o),
    decryptDataKey: (b, o) => {
      seen.push(b);
      return mem.decryptDataKey(b, o);
    },
  };
  const envelope = new Envelope({ keys: provider });
  const ct = await envelope.encrypt('x', { context });
  await envelope.decrypt(ct);
  await envelope.decryptMany([{ ciphertext: ct }]);
  expect(seen).toHaveLength(2);
  for (const b of seen) {
    expect(b.byteOffset).toBe(0);
    expect(b.buffer.byteLength).toBe(b.length);
  }
});
