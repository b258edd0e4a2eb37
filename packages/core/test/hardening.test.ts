/**
 * Regression tests for the review findings on core's key handling and request shaping: key bytes
 * never handed to a backend (F1), all-zero keys refused wherever key bytes enter, AAD and byte
 * plaintexts that change while the key is fetched (F10), the runtime's string limit checked
 * before the key request, and a shared key destroyed at any `await` between its lookup and its use
 * (asked for again, never used zeroed).
 */
import { constants as bufferConstants } from 'node:buffer';
import {
  type AeadBackend,
  type DataKey,
  Envelope,
  type KeyContext,
  KeyDestroyedError,
  type KeyProvider,
  KeyProviderError,
  MemoryKeyProvider,
  makeDataKey,
  type PreparedKey,
  SharedDataKey,
  selectBackend,
} from '@vault-envelope/core';
import { describe, expect, test } from 'vitest';
import { FixedKeyProvider } from './_helpers.js';

const context = { organization_id: 'org_1' };

/** The fast backend, with some of its methods replaced. */
function backendWith(overrides: Partial<AeadBackend>): AeadBackend {
  const base = selectBackend('fast');
  return {
    name: 'custom',
    prepare: (k) => base.prepare(k),
    fillIv: (o, at) => base.fillIv(o, at),
    decrypt: (k, iv, c, t, a) => base.decrypt(k, iv, c, t, a),
    encrypt: (k, iv, pt, aad, out, ctAt, tagAt) => base.encrypt(k, iv, pt, aad, out, ctAt, tagAt),
    ...overrides,
  };
}

/** A backend that zeroes the key it is given once it has prepared it (as the Envelope may). */
function zeroingBackend(): { backend: AeadBackend; prepared: () => number } {
  const base = selectBackend('fast');
  let n = 0;
  const backend = backendWith({
    prepare(key: Uint8Array): PreparedKey {
      n++;
      const handle = base.prepare(key);
      key.fill(0);
      return handle;
    },
  });
  return { backend, prepared: () => n };
}

/** A provider whose answers wait until the test releases them (the window of a key request). */
class GatedProvider implements KeyProvider {
  readonly inner = new MemoryKeyProvider();
  #gates: (() => void)[] = [];
  calls = 0;
  /** Resolves when a call is waiting at the gate. */
  waiting: Promise<void>;
  #arrived!: () => void;
  constructor() {
    this.waiting = new Promise((r) => {
      this.#arrived = r;
    });
  }
  async #gate(): Promise<void> {
    this.calls++;
    const open = new Promise<void>((r) => this.#gates.push(r));
    this.#arrived();
    await open;
  }
  /** Lets every waiting call go on. */
  open(): void {
    for (const g of this.#gates.splice(0)) g();
  }
  async createDataKey(ctx: KeyContext): Promise<DataKey> {
    await this.#gate();
    return this.inner.createDataKey(ctx);
  }
  async decryptDataKey(blob: Uint8Array): Promise<DataKey> {
    await this.#gate();
    return this.inner.decryptDataKey(blob);
  }
}

describe('F1: a backend never gets the shared key bytes, and all-zero keys are refused', () => {
  test('a backend that zeroes the key it prepares can not zero a shared key for the others', async () => {
    const mem = new MemoryKeyProvider();
    const { shared } = SharedDataKey.create(await mem.createDataKey(context));
    const pinned: KeyProvider = { createDataKey: async () => shared, decryptDataKey: async () => shared };
    const zeroing = zeroingBackend();
    const first = new Envelope({ keys: pinned, backend: zeroing.backend });
    await first.encrypt('first', { context });
    expect(zeroing.prepared()).toBe(1);
    expect(shared.key.some((b) => b !== 0)).toBe(true);
    // Another Envelope (another backend) on the same shared key encrypts under the real key: the
    // provider behind it, which never saw the shared object, decrypts the message.
    const ct = await new Envelope({ keys: pinned, backend: 'portable' }).encrypt('second', { context });
    expect(await new Envelope({ keys: mem }).decryptToString(ct)).toBe('second');
    expect(await first.decryptToString(await first.encrypt('third', { context }))).toBe('third');
  });

  test("the Envelope's own prepare refuses an all-zero key from a provider, before using it", async () => {
    const zero = new FixedKeyProvider(new Uint8Array(32));
    const seen: Uint8Array[] = [];
    const base = selectBackend('fast');
    const spy = backendWith({
      prepare(k) {
        seen.push(k);
        return base.prepare(k);
      },
    });
    const envelope = new Envelope({ keys: zero, backend: spy });
    const refused = new KeyProviderError('the key provider returned an all-zero data key');
    await expect(envelope.encrypt('x', { context })).rejects.toThrow(refused);
    await expect(envelope.encryptToBytes(new Uint8Array(3), { context })).rejects.toThrow(refused);
    const [r] = await envelope.encryptMany([{ plaintext: 'x', context }]);
    expect(r).toEqual({ ok: false, error: refused });
    const ct = await new Envelope({ keys: new FixedKeyProvider(new Uint8Array(32).fill(1)) }).encrypt('x', {
      context,
    });
    await expect(envelope.decrypt(ct)).rejects.toThrow(refused);
    expect(seen).toEqual([]);
  });

  test('a malformed key from a provider is a KeyProviderError whose cause says what is wrong', async () => {
    const provider: KeyProvider = {
      createDataKey: async () => ({
        id: 'x',
        key: new Uint8Array(31),
        encryptedKeys: new Uint8Array(3),
        context,
      }),
      decryptDataKey: async () => ({ id: 'x', key: new Uint8Array(32).fill(1), encryptedKeys: 'b' }) as never,
    };
    const envelope = new Envelope({ keys: provider });
    const e1 = await envelope.encrypt('x', { context }).catch((e: unknown) => e);
    expect(e1).toEqual(new KeyProviderError('the key provider returned a malformed data key'));
    expect((e1 as Error).cause).toEqual(new RangeError('data key must be 32 bytes, got 31'));
    const ct = await new Envelope({ keys: new MemoryKeyProvider() }).encrypt('x', { context });
    const e2 = await envelope.decrypt(ct).catch((e: unknown) => e);
    expect((e2 as Error).cause).toEqual(
      new TypeError('encryptedKeys from the key provider must be a non-empty Uint8Array, got string'),
    );
  });
});

describe('F10: inputs that change while the key is fetched', () => {
  test('byte AAD is copied at call time: changing it during the key request changes nothing', async () => {
    const keys = new GatedProvider();
    const envelope = new Envelope({ keys });
    const aad = new TextEncoder().encode('users/42/ssn');
    const pending = envelope.encrypt('123-45-6789', { context, aad });
    await keys.waiting;
    aad.fill(0x41);
    keys.open();
    const ct = await pending;
    const reader = new Envelope({ keys: keys.inner });
    expect(await reader.decryptToString(ct, { aad: 'users/42/ssn' })).toBe('123-45-6789');
    // and on the way back: the AAD a decryption was called with is the one it checks
    const gated = new GatedProvider();
    const ct2 = await new Envelope({ keys: gated.inner }).encrypt('v', { context, aad: 'row-7' });
    const aad2 = new TextEncoder().encode('row-7');
    const opening = new Envelope({ keys: gated }).decryptToString(ct2, { aad: aad2 });
    await gated.waiting;
    aad2.fill(0);
    gated.open();
    expect(await opening).toBe('v');
  });

  test('byte AAD in a batch is copied at call time too', async () => {
    const keys = new GatedProvider();
    const aad = new TextEncoder().encode('a1');
    const pending = new Envelope({ keys }).encryptManyToBytes([{ plaintext: 'p', context, aad }]);
    await keys.waiting;
    aad.set([0x62, 0x32]);
    keys.open();
    const [r] = await pending;
    if (!r?.ok) throw new Error('expected a message');
    expect(await new Envelope({ keys: keys.inner }).decryptToString(r.value, { aad: 'a1' })).toBe('p');
  });

  /** Starts encrypting `view`, applies `change` while the key is fetched, and returns the outcome. */
  async function changedDuringFetch(
    view: Uint8Array,
    change: () => void,
    call: (e: Envelope) => Promise<unknown> = (e) => e.encryptToBytes(view, { context }),
  ): Promise<unknown> {
    const keys = new GatedProvider();
    const pending = call(new Envelope({ keys })).then(
      (v) => v,
      (e: unknown) => e,
    );
    await keys.waiting;
    change();
    keys.open();
    return pending;
  }

  const resizable = (length: number, max: number): ArrayBuffer & { resize(n: number): void } =>
    new (
      ArrayBuffer as unknown as new (
        n: number,
        o: { maxByteLength: number },
      ) => ArrayBuffer & {
        resize(n: number): void;
      }
    )(length, { maxByteLength: max });

  test('a byte plaintext whose resizable buffer shrinks during the key request is refused', async () => {
    const rab = resizable(64, 128);
    const view = new Uint8Array(rab).fill(7); // length-tracking: it shrinks with the buffer
    const out = await changedDuringFetch(view, () => rab.resize(10));
    expect(out).toEqual(
      new RangeError('plaintext must keep its length of 64 bytes while its key is fetched, got 10'),
    );
  });

  test('… and one whose buffer grows, or whose fixed view falls out of bounds', async () => {
    const rab = resizable(64, 128);
    const grown = await changedDuringFetch(new Uint8Array(rab), () => rab.resize(100));
    expect(grown).toEqual(
      new RangeError('plaintext must keep its length of 64 bytes while its key is fetched, got 100'),
    );
    const rab2 = resizable(64, 128);
    const fixed = new Uint8Array(rab2, 0, 64);
    const out = await changedDuringFetch(fixed, () => rab2.resize(32));
    expect(out).toEqual(
      new RangeError('plaintext must keep its length of 64 bytes while its key is fetched, got 0'),
    );
  });

  test('a byte plaintext whose buffer is detached (transferred) during the key request is refused', async () => {
    const buffer = new ArrayBuffer(48);
    const view = new Uint8Array(buffer).fill(1);
    const out = await changedDuringFetch(view, () => structuredClone(buffer, { transfer: [buffer] }));
    expect(out).toEqual(
      new TypeError('plaintext must not be detached while its key is fetched, got a detached buffer'),
    );
    // the text path refuses it the same way
    const b2 = new ArrayBuffer(48);
    const v2 = new Uint8Array(b2);
    const text = await changedDuringFetch(
      v2,
      () => structuredClone(b2, { transfer: [b2] }),
      (e) => e.encrypt(v2, { context }),
    );
    expect(text).toBeInstanceOf(TypeError);
  });

  test('in a batch, the item whose plaintext changed fails alone', async () => {
    const rab = resizable(16, 32);
    const view = new Uint8Array(rab).fill(3);
    const out = (await changedDuringFetch(
      view,
      () => rab.resize(8),
      (e) =>
        e.encryptManyToBytes([
          { plaintext: view, context },
          { plaintext: new Uint8Array(16).fill(3), context },
        ]),
    )) as { ok: boolean; error?: Error }[];
    expect(out[0]).toEqual({
      ok: false,
      error: new RangeError('plaintext must keep its length of 16 bytes while its key is fetched, got 8'),
    });
    expect(out[1]?.ok).toBe(true);
  });

  test('an unchanged byte plaintext is not copied: the backend reads the caller bytes', async () => {
    const base = selectBackend('fast');
    const seen: Uint8Array[] = [];
    const spy = backendWith({
      encrypt(k, iv, pt, aad, out, ctAt, tagAt) {
        seen.push(pt);
        base.encrypt(k, iv, pt, aad, out, ctAt, tagAt);
      },
    });
    const plaintext = new Uint8Array(64 * 1024).fill(5);
    await new Envelope({ keys: new MemoryKeyProvider(), backend: spy }).encryptToBytes(plaintext, {
      context,
    });
    expect(seen[0]).toBe(plaintext);
  });
});

describe("the runtime's string limit, checked before the key request", () => {
  // Node says it: 2^29-24 UTF-16 code units on 64-bit V8.
  const limit = bufferConstants.MAX_STRING_LENGTH;
  // The longest message whose base64 fits, and the shortest format A header (IV, tag, LEB128, K).
  const maxMessage = Math.floor(limit / 4) * 3;
  const minHeader = 12 + 16 + 1 + 1;

  test('encrypt() of a plaintext whose base64 can not be a string is a RangeError naming encryptToBytes, before any key request', async () => {
    expect(limit).toBe(2 ** 29 - 24);
    const keys = new FixedKeyProvider(new Uint8Array(32).fill(1));
    // Zero-filled and never read: the check needs the length only.
    const huge = new Uint8Array(maxMessage - minHeader + 1);
    const got = Math.ceil((huge.length + minHeader) / 3) * 4;
    expect(got).toBeGreaterThan(limit);
    await expect(new Envelope({ keys }).encrypt(huge, { context })).rejects.toThrow(
      new RangeError(
        `encrypt output must be at most ${limit} characters of base64 (the longest string this runtime makes), got ${got}; use encryptToBytes() for a plaintext this large`,
      ),
    );
    expect(keys.calls.create).toBe(0);
  });

  test('a plaintext that fits alone but not with its key blob is refused after the key arrives, before sealing', async () => {
    const keys = new FixedKeyProvider(new Uint8Array(32).fill(1), new Uint8Array(100).fill(9));
    const sealed: number[] = [];
    const spy = backendWith({ encrypt: (_k, _iv, pt) => void sealed.push(pt.length) });
    const plaintext = new Uint8Array(maxMessage - minHeader);
    const e = await new Envelope({ keys, backend: spy })
      .encrypt(plaintext, { context })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RangeError);
    expect((e as Error).message).toMatch(
      /^encrypt output must be at most 536870888 characters of base64 .*use encryptToBytes\(\)/,
    );
    expect(keys.calls.create).toBe(1);
    expect(sealed).toEqual([]);
  });

  test('encryptMany fails the oversized item alone, naming encryptManyToBytes, and asks no key for it', async () => {
    const keys = new FixedKeyProvider(new Uint8Array(32).fill(1));
    const huge = new Uint8Array(maxMessage);
    const results = await new Envelope({ keys }).encryptMany([
      { plaintext: huge, context: { organization_id: 'big' } },
      { plaintext: 'small', context },
    ]);
    expect(results[0]).toEqual({
      ok: false,
      error: new RangeError(
        `items[0] output must be at most ${limit} characters of base64 (the longest string this runtime makes), got ${Math.ceil((maxMessage + minHeader) / 3) * 4}; use encryptManyToBytes() for a plaintext this large`,
      ),
    });
    expect(results[1]?.ok).toBe(true);
    expect(keys.calls.create).toBe(1);
  });

  test('a data key from makeDataKey still works when its key is not all zero', async () => {
    // The all-zero refusal is not a refusal of keys with zero bytes in them.
    const key = new Uint8Array(32);
    key[31] = 1;
    const dk = makeDataKey({ id: 'k', key, encryptedKeys: new Uint8Array([1]) });
    const keys: KeyProvider = { createDataKey: async () => dk, decryptDataKey: async () => dk };
    await expect(new Envelope({ keys }).encryptToBytes('x', { context })).resolves.toBeInstanceOf(Uint8Array);
  });
});

/**
 * A provider whose first key is a shared key destroyed `depth` microtasks after it is handed out
 * (as a cache destroys a key on eviction, `clear()` or `close()`, at whatever moment another call
 * makes it), and whose later keys stay alive.
 */
function destroyingAfter(depth: number) {
  const inner = new MemoryKeyProvider();
  let handed = 0;
  const share = (dk: DataKey): DataKey => {
    const { shared, destroy } = SharedDataKey.create(dk);
    if (handed++ === 0) {
      let p = Promise.resolve();
      for (let i = 0; i < depth; i++) p = p.then(() => undefined);
      void p.then(destroy);
    }
    return shared;
  };
  const keys: KeyProvider = {
    createDataKey: async (ctx) => share(await inner.createDataKey(ctx)),
    decryptDataKey: async (blob) => share(await inner.decryptDataKey(blob)),
  };
  return { inner, keys, handed: () => handed };
}

describe('a shared key destroyed at an await between its lookup and its use', () => {
  // The moment of destruction is swept over every microtask of the calls: the single calls, the
  // batches (whose key is leased, then used after the lease's own await) and, on the web backend,
  // the await of the key import. Each outcome is the right plaintext, or a message that decrypts
  // under the key its blob wraps; never a message sealed under the zeroed prepared key, never a
  // TypeError for a key that is no longer ready.
  const backends = ['fast', 'portable', 'web'] as const;
  const outcome = <T>(p: Promise<T>) =>
    p.then(
      (v) => ({ ok: true as const, v }),
      (e: Error) => ({ ok: false as const, v: `${e.constructor.name}: ${e.message}` }),
    );

  test.each(backends)(
    'encrypt and encryptMany on %s: every message decrypts under its blob, at every moment',
    async (backend) => {
      for (let depth = 0; depth < 16; depth++) {
        for (const batch of [false, true]) {
          const { inner, keys, handed } = destroyingAfter(depth);
          const envelope = new Envelope({ keys, backend });
          const sealed = await outcome(
            batch
              ? envelope.encryptMany([{ plaintext: 'secret', context }]).then(([r]) => {
                  if (!r!.ok) throw r!.error;
                  return r!.value;
                })
              : envelope.encrypt('secret', { context }),
          );
          expect({ depth, batch, sealed: sealed.ok || sealed.v }).toEqual({ depth, batch, sealed: true });
          const read = await outcome(new Envelope({ keys: inner }).decryptToString(sealed.v));
          expect({ depth, batch, read }).toEqual({ depth, batch, read: { ok: true, v: 'secret' } });
          expect(handed()).toBeLessThanOrEqual(2);
        }
      }
    },
  );

  test.each(backends)('decrypt and decryptMany on %s: the plaintext, at every moment', async (backend) => {
    for (let depth = 0; depth < 16; depth++) {
      for (const batch of [false, true]) {
        const { inner, keys } = destroyingAfter(depth);
        const message = await new Envelope({ keys: inner }).encrypt('secret', { context });
        const envelope = new Envelope({ keys, backend });
        const read = await outcome(
          batch
            ? envelope.decryptManyToString([{ ciphertext: message }]).then(([r]) => {
                if (!r!.ok) throw r!.error;
                return r!.value;
              })
            : envelope.decryptToString(message),
        );
        expect({ depth, batch, read }).toEqual({ depth, batch, read: { ok: true, v: 'secret' } });
      }
    }
  });

  test('a key destroyed after every lease of a batch, before its items run, fails the items with KeyDestroyedError', async () => {
    const inner = new MemoryKeyProvider();
    const destroys: (() => void)[] = [];
    const keys: KeyProvider = {
      createDataKey: async (ctx) => {
        const { shared, destroy } = SharedDataKey.create(await inner.createDataKey(ctx));
        destroys.push(destroy);
        return shared;
      },
      decryptDataKey: (blob) => inner.decryptDataKey(blob),
    };
    const base = selectBackend('fast');
    // Preparing the key is the lease's last step: the key is destroyed right after it, before the
    // batch runs its items.
    const backend = backendWith({
      prepare(key) {
        queueMicrotask(destroys.at(-1)!);
        return base.prepare(key);
      },
    });
    const results = await new Envelope({ keys, backend }).encryptMany([
      { plaintext: 'a', context },
      { plaintext: 'b', context },
    ]);
    expect(results).toHaveLength(2);
    for (const r of results) expect(r.ok ? 'sealed' : r.error).toBeInstanceOf(KeyDestroyedError);
    // The first lease and three more.
    expect(destroys.length).toBe(4);
  });
});

describe('a byte ciphertext changed while its key is fetched', () => {
  // A provider that does something to the caller's buffer before it answers.
  function meddling(hook: () => void): KeyProvider {
    const inner = new MemoryKeyProvider();
    return {
      createDataKey: (context, options) => inner.createDataKey(context, options),
      decryptDataKey: async (blob, options) => {
        hook();
        return inner.decryptDataKey(blob, options);
      },
      keyBlobHeaders: inner.keyBlobHeaders,
    };
  }

  test.each(['fast', 'portable', 'web'] as const)(
    'on %s: detached is a TypeError and shrunk a RangeError that say so, alone or as a batch item',
    async (backend) => {
      let hook = (): void => {};
      const envelope = new Envelope({ keys: meddling(() => hook()), backend });
      const message = await envelope.encryptToBytes('a secret', { context: { org: 'o' } });

      const detachable = Uint8Array.from(message);
      hook = () => structuredClone(detachable.buffer, { transfer: [detachable.buffer] });
      const detachedError =
        /^ciphertext must not be detached while its key is fetched, got a detached buffer$/;
      const detached = await envelope.decrypt(detachable).catch((e: unknown) => e);
      expect(detached).toBeInstanceOf(TypeError);
      expect((detached as Error).message).toMatch(detachedError);

      // A resizable ArrayBuffer (ES2024; Node 20 has it, the project's lib predates it).
      const Resizable = ArrayBuffer as unknown as new (
        n: number,
        o: { maxByteLength: number },
      ) => ArrayBuffer & { resize(n: number): void };
      const growable = new Resizable(message.length, { maxByteLength: message.length });
      const shrinking = new Uint8Array(growable);
      shrinking.set(message);
      hook = () => growable.resize(10);
      await expect(envelope.decrypt(shrinking)).rejects.toThrow(
        new RangeError('ciphertext must keep its bytes while its key is fetched, got a buffer that shrank'),
      );

      const again = Uint8Array.from(message);
      hook = () => structuredClone(again.buffer, { transfer: [again.buffer] });
      const [bad, good] = await envelope.decryptMany([
        { ciphertext: again },
        { ciphertext: message.slice() },
      ]);
      expect(bad!.ok).toBe(false);
      expect(bad!.ok ? undefined : bad!.error.message).toMatch(detachedError);
      hook = () => {};
      expect(good!.ok ? new TextDecoder().decode(good!.value) : good!.error).toBe('a secret');
    },
  );
});
