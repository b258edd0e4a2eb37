/**
 * Regression tests for the review findings on the keys a cache shares: a backend that zeroes
 * the key it prepares (F1), a caller that destroys a shared key or finds a destroyed entry (F2),
 * and a caller that writes to the shared object (F13). Each drives the public API only, as an
 * application (or a hostile dependency inside it) would.
 */
import { cachedKeyProvider } from '@vault-envelope/cache';
import {
  type AeadBackend,
  type DataKey,
  Envelope,
  fastBackend,
  MemoryKeyProvider,
  type PreparedKey,
  SharedDataKey,
  selectBackend,
} from '@vault-envelope/core';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { CountingProvider, FakeClock } from './_helpers.js';

const ctx = { organization_id: 'org_1' };

function setup() {
  const clock = new FakeClock();
  const provider = new CountingProvider();
  const keys = cachedKeyProvider(provider, { maxAge: 60_000, clock: clock.read });
  // Reads what the cache's Envelopes write without the cache: under the key the blob really wraps.
  const reader = new Envelope({ keys: provider.inner });
  return { clock, provider, keys, reader };
}

/** The fast backend, except that `prepare` zeroes the key it was given once it has copied it. */
function zeroingBackend(): AeadBackend {
  const base = selectBackend('fast');
  return {
    name: 'zeroing',
    prepare(key: Uint8Array): PreparedKey {
      const handle = base.prepare(key);
      key.fill(0);
      return handle;
    },
    encrypt: (k, iv, pt, aad, out, ctAt, tagAt) => base.encrypt(k, iv, pt, aad, out, ctAt, tagAt),
    decrypt: (k, iv, c, t, a) => base.decrypt(k, iv, c, t, a),
    fillIv: (o, at) => base.fillIv(o, at),
  };
}

const allZero = (b: Uint8Array) => b.every((x) => x === 0);

describe('F1: a custom backend that zeroes its key', () => {
  test('can not zero the cached key: every Envelope on the cache keeps encrypting under the real key', async () => {
    const { keys, reader } = setup();
    const custom = new Envelope({ keys, backend: zeroingBackend() });
    const ct1 = await custom.encrypt('from the custom backend', { context: ctx });
    const cached = await keys.createDataKey(ctx);
    expect(allZero(cached.key)).toBe(false);
    // Two more Envelopes on the same cache, on the built-in backends.
    const ct2 = await new Envelope({ keys, backend: 'fast' }).encrypt('fast', { context: ctx });
    const ct3 = await new Envelope({ keys, backend: 'portable' }).encrypt('portable', { context: ctx });
    expect(await reader.decryptToString(ct1)).toBe('from the custom backend');
    expect(await reader.decryptToString(ct2)).toBe('fast');
    expect(await reader.decryptToString(ct3)).toBe('portable');
    expect(keys.stats()).toMatchObject({ remoteCalls: 1, size: 1 });
  });
});

describe('F2: destruction is the cache’s own', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  test("a caller's destroy() attempt on a cached key changes nothing for the others", async () => {
    const { keys, reader } = setup();
    const envelope = new Envelope({ keys });
    const a = await keys.createDataKey(ctx);
    const attempt = (a as { destroy?: () => void }).destroy;
    attempt?.call(a);
    // Every caller keeps the same live key, and the Envelope (which retries a destroyed key three
    // times) writes messages that decrypt.
    const b = await keys.createDataKey(ctx);
    expect(b).toBe(a);
    expect((b as SharedDataKey).destroyed).toBe(false);
    expect(allZero(b.key)).toBe(false);
    const ct = await envelope.encrypt('still works', { context: ctx });
    expect(await reader.decryptToString(ct)).toBe('still works');
    expect(await envelope.decryptToString(ct)).toBe('still works');
    expect(keys.stats()).toMatchObject({ remoteCalls: 1, hits: 3 });
    expect(attempt).toBeUndefined();
  });

  test('a destroyed entry is never served again: the hit paths drop it and fetch', async () => {
    const { keys, provider } = setup();
    const a = await keys.createDataKey(ctx);
    const blob = a.encryptedKeys;
    const bytes = a.key;
    const getter = Object.getOwnPropertyDescriptor(SharedDataKey.prototype, 'destroyed')!.get!;
    // The cache never leaves a destroyed key in its store; make this one read as destroyed, as a
    // bug elsewhere would, and check that no hit path serves it.
    vi.spyOn(SharedDataKey.prototype, 'destroyed', 'get').mockImplementation(function (this: SharedDataKey) {
      return this === a || getter.call(this);
    });
    const b = await keys.createDataKey(ctx);
    expect(b).not.toBe(a);
    expect(provider.creates).toBe(2);
    const c = await keys.decryptDataKey(blob);
    expect(c).not.toBe(a);
    expect(provider.decrypts).toBe(1);
    expect(c.key).toEqual(bytes);
    // the dropped entry was zeroed on its way out
    expect(() => a.key).toThrow('destroyed');
    // and the fetched keys are served from then on
    expect(await keys.createDataKey(ctx)).toBe(b);
    expect(await keys.decryptDataKey(blob)).toBe(c);
    expect(keys.stats()).toMatchObject({ misses: 3, hits: 2, remoteCalls: 3 });
  });

  test('an evicted key met by an Envelope is fetched again, never handed out twice', async () => {
    const provider = new CountingProvider();
    const keys = cachedKeyProvider(provider, { maxAge: 60_000, capacity: 1 });
    const envelope = new Envelope({ keys });
    const seen: DataKey[] = [];
    const spying = {
      createDataKey: async (c: typeof ctx) => {
        const k = await keys.createDataKey(c);
        seen.push(k);
        // Another context pushes this key out of a cache of one before the Envelope uses it.
        if (seen.length === 1) await keys.createDataKey({ organization_id: 'other' });
        return k;
      },
      decryptDataKey: (b: Uint8Array) => keys.decryptDataKey(b),
    };
    const ct = await new Envelope({ keys: spying }).encrypt('x', { context: ctx });
    expect(seen).toHaveLength(2);
    expect(seen[1]).not.toBe(seen[0]);
    expect((seen[0] as SharedDataKey).destroyed).toBe(true);
    expect(await envelope.decryptToString(ct)).toBe('x');
  });
});

describe('a key the cache destroys while an Envelope holds it', () => {
  // `clear()` (as eviction, expiry and `close()`) zeroes a key whatever call is using it. Swept
  // over every microtask of the call: the Envelope asks again, and never seals under the zeroed
  // key (the batches lease a key and used it after another await: they sealed under zeros).
  const outcome = <T>(p: Promise<T>) =>
    p.then(
      (v) => ({ ok: true as const, v }),
      (e: Error) => ({ ok: false as const, v: `${e.constructor.name}: ${e.message}` }),
    );
  const first = <T>([r]: { ok: boolean; value?: T; error?: Error }[]): T => {
    if (!r!.ok) throw r!.error;
    return r!.value as T;
  };

  test.each(['fast', 'portable', 'web'] as const)(
    'on %s: clear() at any moment of a call leaves it correct',
    async (backend) => {
      for (let depth = 0; depth < 14; depth++) {
        for (const op of ['encrypt', 'encryptMany', 'decrypt', 'decryptMany'] as const) {
          const { keys, reader } = setup();
          const envelope = new Envelope({ keys, backend });
          // Both sides warm: the call finds its key in the cache.
          const message = await envelope.encrypt('secret', { context: ctx });
          await envelope.decrypt(message);
          const call =
            op === 'encrypt'
              ? envelope.encrypt('secret', { context: ctx })
              : op === 'encryptMany'
                ? envelope.encryptMany([{ plaintext: 'secret', context: ctx }]).then(first)
                : op === 'decrypt'
                  ? envelope.decryptToString(message)
                  : envelope.decryptManyToString([{ ciphertext: message }]).then(first);
          let at = Promise.resolve();
          for (let i = 0; i < depth; i++) at = at.then(() => undefined);
          void at.then(() => keys.clear());
          const got = await outcome(call);
          expect({ op, depth, ok: got.ok || got.v }).toEqual({ op, depth, ok: true });
          // What was sealed decrypts under the key its blob wraps.
          const plain = op.startsWith('encrypt') ? await outcome(reader.decryptToString(got.v)) : got;
          expect({ op, depth, plain }).toEqual({ op, depth, plain: { ok: true, v: 'secret' } });
        }
      }
    },
  );
});

describe('F13: the shared key is frozen', () => {
  test("a caller's attempts to set id or context, or to shadow or call its methods, change nothing others see", async () => {
    const { keys, reader } = setup();
    const a = await keys.createDataKey(ctx);
    const id = a.id;
    const evilKey = new Uint8Array(32).fill(0x66);
    const fast = fastBackend()!;
    const attempts: [string, () => unknown][] = [
      ['set id', () => Object.assign(a, { id: 'attacker' })],
      ['set context', () => Object.assign(a, { context: { organization_id: 'attacker' } })],
      ['edit context', () => Object.assign(a.context, { organization_id: 'attacker' })],
      ['shadow key', () => Object.defineProperty(a, 'key', { value: evilKey })],
      ['shadow encryptedKeys', () => Object.defineProperty(a, 'encryptedKeys', { value: new Uint8Array(3) })],
      ['shadow prepared', () => Object.assign(a, { prepared: () => fast.prepare(evilKey) })],
      [
        'plant prepared state',
        () =>
          (a as { prepared?: (...args: unknown[]) => unknown }).prepared?.(fast, () => fast.prepare(evilKey)),
      ],
      ['zero a copy', () => a.key.fill(0)],
    ];
    for (const [, attempt] of attempts) {
      try {
        attempt();
      } catch {
        // Frozen: in strict mode a write throws; what matters is what the others see next.
      }
    }
    const b = await keys.createDataKey(ctx);
    expect(b).toBe(a);
    expect(b.id).toBe(id);
    expect(b.context).toEqual(ctx);
    expect(allZero(b.key)).toBe(false);
    expect(b.key).not.toEqual(evilKey);
    // The Envelopes on the cache still encrypt under the key the blob wraps.
    for (const backend of ['fast', 'portable'] as const) {
      const ct = await new Envelope({ keys, backend }).encrypt(backend, { context: ctx });
      expect(await reader.decryptToString(ct)).toBe(backend);
    }
    expect(await keys.decryptDataKey(a.encryptedKeys)).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
  });

  test('the plain keys a cache hands over (not cached) are the caller’s own', async () => {
    const keys = cachedKeyProvider(new MemoryKeyProvider(), { maxAge: 60_000, maxMessages: 1 });
    const k = await keys.createDataKey(ctx, { usage: { messages: 2, bytes: 0 } });
    expect(k).not.toBeInstanceOf(SharedDataKey);
    k.key.fill(0);
    expect(allZero(k.key)).toBe(true);
  });
});
