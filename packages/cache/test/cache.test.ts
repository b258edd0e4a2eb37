import { CacheClosedError, cachedKeyProvider, KeyCacheError } from '@vault-envelope/cache';
import {
  type DataKey,
  KeyDestroyedError,
  KeyProviderError,
  MemoryKeyProvider,
  makeDataKey,
  SharedDataKey,
} from '@vault-envelope/core';
import { describe, expect, test, vi } from 'vitest';
import { CountingProvider, FakeClock, flush, gate, httpError } from './_helpers.js';

const ctx = { organization_id: 'org_1' };

/** Whether a key the cache handed out has been zeroed by it. */
function destroyed(k: DataKey): boolean {
  if (!(k instanceof SharedDataKey)) throw new Error('not a shared key');
  return k.destroyed;
}

function setup(options: Record<string, unknown> = {}) {
  const clock = new FakeClock();
  const provider = new CountingProvider();
  const keys = cachedKeyProvider(provider, { maxAge: 60_000, clock: clock.read, ...options });
  return { clock, provider, keys };
}

describe('hits and keys', () => {
  test('a hit returns the same SharedDataKey object and makes no provider call', async () => {
    const { provider, keys } = setup();
    const a = await keys.createDataKey(ctx);
    const b = await keys.createDataKey(ctx);
    expect(a).toBeInstanceOf(SharedDataKey);
    expect(b).toBe(a);
    expect(provider.creates).toBe(1);
    expect(keys.stats()).toMatchObject({ hits: 1, misses: 1, remoteCalls: 1, size: 1 });
  });

  test('key order of the context does not matter; different contexts never share a key', async () => {
    const { provider, keys } = setup();
    const a = await keys.createDataKey({ a: '1', b: '2' });
    expect(await keys.createDataKey({ b: '2', a: '1' })).toBe(a);
    expect(await keys.createDataKey({ a: '1' })).not.toBe(a);
    expect(await keys.createDataKey({ a: '1', b: '3' })).not.toBe(a);
    expect(await keys.createDataKey({ a: '1', b: '2', c: '' })).not.toBe(a);
    expect(await keys.createDataKey({})).not.toBe(a);
    expect(provider.creates).toBe(5);
  });

  test('a data key created for encryption also serves decryption of its own wrapped bytes', async () => {
    const { provider, keys } = setup();
    const a = await keys.createDataKey(ctx);
    // A copy of the bytes, at an odd offset inside a larger buffer, as a parsed ciphertext has it.
    const blob = a.encryptedKeys;
    const framed = new Uint8Array(blob.length + 7);
    framed.set(blob, 3);
    expect(await keys.decryptDataKey(framed.subarray(3, 3 + blob.length))).toBe(a);
    expect(provider.decrypts).toBe(0);
  });

  test('the decrypt side is keyed by the exact bytes', async () => {
    const { provider, keys } = setup();
    const a = await keys.createDataKey(ctx);
    const blob = a.encryptedKeys;
    const flipped = blob.slice();
    flipped[5]! ^= 1;
    await expect(keys.decryptDataKey(flipped)).rejects.toThrow();
    await expect(keys.decryptDataKey(blob.subarray(0, blob.length - 1))).rejects.toThrow();
    expect(provider.decrypts).toBe(2);
    const fresh = await new CountingProvider().inner.createDataKey(ctx);
    expect(keys.stats().hits).toBe(0);
    fresh.key.fill(0);
  });

  test('decrypt misses are cached by blob', async () => {
    const { provider, keys } = setup();
    const dk = await provider.inner.createDataKey(ctx);
    const blob = dk.encryptedKeys;
    const expected = dk.key.slice();
    const a = await keys.decryptDataKey(blob);
    expect(a.key).toEqual(expected);
    expect(await keys.decryptDataKey(blob.slice())).toBe(a);
    expect(provider.decrypts).toBe(1);
  });

  test('a blob passed as a Node Buffer is copied, not kept as a view (Buffer#slice is a view)', async () => {
    const { provider, keys } = setup();
    const dk = await provider.inner.createDataKey(ctx);
    const original = new Uint8Array(dk.encryptedKeys);
    const mine = Buffer.from(original);
    const a = await keys.decryptDataKey(mine);
    mine.fill(0); // the caller reuses its buffer
    expect(await keys.decryptDataKey(original)).toBe(a);
    expect(provider.decrypts).toBe(1);
  });

  test('the provider is asked with the most this cache may encrypt under the key', async () => {
    const { provider, keys } = setup({ maxMessages: 100, maxBytes: 5000 });
    await keys.createDataKey(ctx, { usage: { messages: 1, bytes: 1 } });
    expect(provider.calls[0]!.usage).toEqual({ messages: 100, bytes: 5000 });
  });
});

describe('limits', () => {
  test('an entry exactly maxAge old is still served; one past it never', async () => {
    const { clock, provider, keys } = setup({ maxAge: 1000 });
    const a = await keys.createDataKey(ctx);
    clock.advance(1000);
    expect(await keys.createDataKey(ctx)).toBe(a);
    expect(await keys.decryptDataKey(a.encryptedKeys)).toBe(a);
    clock.advance(1);
    const b = await keys.createDataKey(ctx);
    expect(b).not.toBe(a);
    expect(provider.creates).toBe(2);
    expect(destroyed(a)).toBe(true);
    expect(keys.stats().expirations).toBe(1);
  });

  test('an entry exactly at maxMessages is still served; one past never', async () => {
    const { provider, keys } = setup({ maxMessages: 3 });
    const a = await keys.createDataKey(ctx, { usage: { messages: 2, bytes: 10 } });
    expect(await keys.createDataKey(ctx, { usage: { messages: 1, bytes: 10 } })).toBe(a);
    const b = await keys.createDataKey(ctx, { usage: { messages: 1, bytes: 10 } });
    expect(b).not.toBe(a);
    expect(provider.creates).toBe(2);
    expect(keys.stats().retired).toBe(1);
    // Retired from encryption, the key still serves decryption of its blob until maxAge.
    expect(destroyed(a)).toBe(false);
    expect(await keys.decryptDataKey(a.encryptedKeys)).toBe(a);
  });

  test('an entry exactly at maxBytes is still served; one past never', async () => {
    const { provider, keys } = setup({ maxBytes: 100 });
    const a = await keys.createDataKey(ctx, { usage: { messages: 1, bytes: 60 } });
    expect(await keys.createDataKey(ctx, { usage: { messages: 1, bytes: 40 } })).toBe(a);
    expect(await keys.createDataKey(ctx, { usage: { messages: 0, bytes: 0 } })).toBe(a);
    expect(await keys.createDataKey(ctx, { usage: { messages: 1, bytes: 1 } })).not.toBe(a);
    expect(provider.creates).toBe(2);
  });

  test('no usage declared counts as one message', async () => {
    const { provider, keys } = setup({ maxMessages: 2 });
    const a = await keys.createDataKey(ctx);
    expect(await keys.createDataKey(ctx)).toBe(a);
    expect(await keys.createDataKey(ctx)).not.toBe(a);
    expect(provider.creates).toBe(2);
  });

  test('a request whose usage alone exceeds the limits gets a fresh key that is never cached', async () => {
    const { provider, keys } = setup({ maxMessages: 10, maxBytes: 1000 });
    const one = { usage: { messages: 1, bytes: 10 } };
    const cached = await keys.createDataKey(ctx, one);
    const big = await keys.createDataKey(ctx, { usage: { messages: 11, bytes: 1 } });
    expect(big).not.toBeInstanceOf(SharedDataKey);
    const huge = await keys.createDataKey(ctx, { usage: { messages: 1, bytes: 1001 } });
    expect(huge).not.toBe(big);
    // The cached key is untouched and still served.
    expect(await keys.createDataKey(ctx, one)).toBe(cached);
    expect(keys.stats()).toMatchObject({ uncached: 2, size: 1, remoteCalls: 3, retired: 0 });
    // The uncached key's blob was never cached either.
    await keys.decryptDataKey(big.encryptedKeys);
    expect(provider.decrypts).toBe(1);
  });

  test('with maxBytes set, a call of unknown size gets an uncached key', async () => {
    const { provider, keys } = setup({ maxBytes: 1000 });
    const a = await keys.createDataKey(ctx);
    const b = await keys.createDataKey(ctx);
    expect(a).not.toBeInstanceOf(SharedDataKey);
    expect(b).not.toBe(a);
    expect(provider.creates).toBe(2);
    expect(keys.stats().size).toBe(0);
  });

  test('LRU capacity: the least recently used key is evicted and zeroed', async () => {
    const { provider, keys } = setup({ capacity: 2 });
    const a = await keys.createDataKey({ t: 'a' });
    const b = await keys.createDataKey({ t: 'b' });
    expect(await keys.createDataKey({ t: 'a' })).toBe(a); // a is now most recent
    const c = await keys.createDataKey({ t: 'c' }); // evicts b
    expect(destroyed(b)).toBe(true);
    expect(destroyed(a)).toBe(false);
    expect(await keys.createDataKey({ t: 'a' })).toBe(a);
    expect(await keys.createDataKey({ t: 'c' })).toBe(c);
    expect(keys.stats()).toMatchObject({ evictions: 1, size: 2 });
    expect(provider.creates).toBe(3);
  });

  test('expired keys are zeroed on the next call, whatever it asks for', async () => {
    const { clock, keys } = setup({ maxAge: 1000 });
    const a = await keys.createDataKey({ t: 'a' });
    clock.advance(1001);
    await keys.createDataKey({ t: 'other' });
    expect(destroyed(a)).toBe(true);
    expect(() => a.key).toThrow(KeyDestroyedError);
    expect(keys.stats()).toMatchObject({ expirations: 1, size: 1 });
  });
});

describe('copy safety and zeroization', () => {
  test('a caller can not corrupt the cached key', async () => {
    const { keys } = setup();
    const a = await keys.createDataKey(ctx);
    const original = a.key;
    a.key.fill(0xff);
    a.encryptedKeys.fill(0xff);
    expect(() => {
      (a as { key: Uint8Array }).key = new Uint8Array(32);
    }).toThrow(TypeError);
    const again = await keys.createDataKey(ctx);
    expect(again.key).toEqual(original);
    expect(await keys.decryptDataKey(again.encryptedKeys)).toBe(a);
    const json = JSON.stringify(a);
    expect(json).toContain('[redacted]');
    expect(json).not.toContain(Buffer.from(original).toString('hex'));
    expect(json).not.toContain(Buffer.from(original).toString('base64'));
  });

  test("the provider's own key buffer is zeroed once the cache has copied it", async () => {
    const { provider, keys } = setup();
    await keys.createDataKey(ctx);
    expect(provider.returned[0]!.key.every((b) => b === 0)).toBe(true);
  });

  test('clear() zeroes every key and the next calls go to the provider', async () => {
    const { provider, keys } = setup();
    const a = await keys.createDataKey(ctx);
    const d = await keys.decryptDataKey((await provider.inner.createDataKey({ x: 'y' })).encryptedKeys);
    keys.clear();
    expect(destroyed(a) && destroyed(d)).toBe(true);
    expect(keys.stats().size).toBe(0);
    expect(await keys.createDataKey(ctx)).not.toBe(a);
    expect(provider.creates).toBe(2);
  });

  test('a fetch in flight during clear() reaches its callers as owned copies and is not cached', async () => {
    const { provider, keys } = setup();
    const g = gate();
    provider.gate = g.promise;
    const p1 = keys.createDataKey(ctx);
    const p2 = keys.createDataKey(ctx);
    keys.clear();
    g.open();
    const [k1, k2] = await Promise.all([p1, p2]);
    expect(k1).not.toBeInstanceOf(SharedDataKey);
    expect(k1).not.toBe(k2);
    expect(k1.key).toEqual(k2.key);
    expect(keys.stats().size).toBe(0);
    provider.gate = undefined;
    expect(await keys.createDataKey(ctx)).toBeInstanceOf(SharedDataKey);
    expect(provider.creates).toBe(2);
  });

  test('a malformed key from the provider is a KeyProviderError, not cached', async () => {
    const bad = {
      createDataKey: async () => ({
        id: 'x',
        key: new Uint8Array(16),
        encryptedKeys: new Uint8Array(4),
        context: {},
      }),
      decryptDataKey: async () =>
        makeDataKey({ id: 'y', key: new Uint8Array(32), encryptedKeys: new Uint8Array(4) }),
    };
    const keys = cachedKeyProvider(bad, { maxAge: 1000 });
    await expect(keys.createDataKey(ctx)).rejects.toBeInstanceOf(KeyProviderError);
    expect(keys.stats().size).toBe(0);
  });
  test('an all-zero key (a DataKey handed out twice and zeroed by its first owner) is refused', async () => {
    const inner = new MemoryKeyProvider();
    const once = await inner.createDataKey(ctx);
    const reused = { createDataKey: async () => once, decryptDataKey: async () => once };
    const keys = cachedKeyProvider(reused, { maxAge: 1000 });
    await keys.createDataKey(ctx); // takes the key and zeroes the provider's buffer
    keys.clear();
    await expect(keys.createDataKey(ctx)).rejects.toBeInstanceOf(KeyProviderError);
    expect(keys.stats().size).toBe(0);
  });

  test('a cache can wrap another cache: each owns its copy, the outer declares its full usage', async () => {
    const clock = new FakeClock();
    const provider = new CountingProvider();
    const inner = cachedKeyProvider(provider, { maxAge: 10_000, maxMessages: 100, clock: clock.read });
    const outer = cachedKeyProvider(inner, { maxAge: 1000, maxMessages: 10, clock: clock.read });
    const a = await outer.createDataKey(ctx);
    expect(await outer.createDataKey(ctx)).toBe(a);
    const innerKey = await inner.createDataKey(ctx, { usage: { messages: 0, bytes: 0 } });
    expect(innerKey).not.toBe(a);
    expect(innerKey.key).toEqual(a.key);
    expect(inner.stats().hits).toBe(1); // the outer's 10 messages were counted by the inner cache
    clock.advance(1001); // the outer key expires and is zeroed; the inner one lives on
    expect(destroyed(a)).toBe(false);
    const b = await outer.createDataKey(ctx);
    expect(destroyed(a)).toBe(true);
    expect(destroyed(innerKey)).toBe(false);
    expect(b.key).toEqual(innerKey.key); // 10 + 10 messages fit in the inner key's 100
    expect(provider.creates).toBe(1);
    await outer.close();
    await inner.close();
  });
});

describe('failures and signals', () => {
  test('a failure is delivered to the callers waiting and never cached', async () => {
    const { provider, keys } = setup();
    const boom = new Error('boom');
    provider.failures = [boom];
    const waits = [keys.createDataKey(ctx), keys.createDataKey(ctx), keys.createDataKey(ctx)];
    for (const w of waits) await expect(w).rejects.toBe(boom);
    expect(provider.creates).toBe(1);
    const a = await keys.createDataKey(ctx);
    expect(a).toBeInstanceOf(SharedDataKey);
    expect(provider.creates).toBe(2);
  });

  test('a provider that throws synchronously still gives a rejected promise', async () => {
    const thrower = {
      createDataKey: () => {
        throw new Error('sync');
      },
      decryptDataKey: () => {
        throw new Error('sync');
      },
    };
    const keys = cachedKeyProvider(thrower as never, { maxAge: 1000 });
    await expect(keys.createDataKey(ctx)).rejects.toThrow('sync');
    await expect(keys.decryptDataKey(new Uint8Array(3))).rejects.toThrow('sync');
    expect(keys.stats().inFlight).toBe(0);
  });

  test("an already-aborted signal rejects with the signal's reason and calls nothing", async () => {
    const { provider, keys } = setup();
    const reason = new Error('stop');
    const signal = AbortSignal.abort(reason);
    await expect(keys.createDataKey(ctx, { signal })).rejects.toBe(reason);
    await expect(keys.decryptDataKey(new Uint8Array(3), { signal })).rejects.toBe(reason);
    expect(provider.calls.length).toBe(0);
  });

  test("one caller's abort ends only its own wait; the shared fetch goes on and is cached", async () => {
    const { provider, keys } = setup();
    const g = gate();
    provider.gate = g.promise;
    const ac = new AbortController();
    const leaving = keys.createDataKey(ctx, { signal: ac.signal });
    const staying = keys.createDataKey(ctx);
    ac.abort(new Error('caller left'));
    await expect(leaving).rejects.toThrow('caller left');
    expect(provider.calls[0]!.signal!.aborted).toBe(false);
    g.open();
    const k = await staying;
    expect(k).toBeInstanceOf(SharedDataKey);
    expect(await keys.createDataKey(ctx)).toBe(k);
    expect(provider.creates).toBe(1);
  });

  test('when every waiter left, the fetch still completes and fills the cache', async () => {
    const { provider, keys } = setup();
    const g = gate();
    provider.gate = g.promise;
    const ac = new AbortController();
    const waits = [1, 2, 3].map(() => keys.decryptDataKey(new Uint8Array([1, 2, 3]), { signal: ac.signal }));
    ac.abort();
    for (const w of waits) await expect(w).rejects.toThrow();
    const dk = await provider.inner.createDataKey(ctx);
    g.open();
    await flush();
    // The blob above was not a valid one: the failure reaches nobody and nothing is cached.
    expect(keys.stats()).toMatchObject({ inFlight: 0, size: 0 });
    provider.gate = undefined;
    const a = await keys.decryptDataKey(dk.encryptedKeys);
    expect(await keys.decryptDataKey(dk.encryptedKeys)).toBe(a);
  });

  test('arguments are checked: TypeError for wrong types, RangeError for wrong sizes', async () => {
    const { keys } = setup();
    const tooMany = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v']));
    const cases: [Promise<unknown>, Error][] = [
      [keys.createDataKey(null as never), new TypeError('key context must be an object, got null')],
      [keys.createDataKey([] as never), new TypeError('key context must be an object, got array')],
      [
        keys.createDataKey(ctx, { usage: { messages: 1.5, bytes: 0 } }),
        new TypeError('usage.messages must be an integer, got a fraction'),
      ],
      [
        keys.createDataKey(ctx, { usage: { messages: -1, bytes: 0 } }),
        new RangeError('usage.messages must be in [0, 9007199254740991], got -1'),
      ],
      [
        keys.createDataKey(ctx, { usage: { messages: 1 } as never }),
        new TypeError('usage.bytes must be an integer, got undefined'),
      ],
      [keys.createDataKey(ctx, { usage: null as never }), new TypeError('usage must be an object, got null')],
      [
        keys.createDataKey(ctx, { signal: {} as never }),
        new TypeError('options.signal must be an AbortSignal, got object'),
      ],
      [
        keys.createDataKey(ctx, 'fast' as never),
        new TypeError('createDataKey options must be an object, got string'),
      ],
      [keys.decryptDataKey('abc' as never), new TypeError('encryptedKeys must be a Uint8Array, got string')],
      [
        keys.decryptDataKey(new Uint8Array(0)),
        new RangeError('encryptedKeys must not be empty, got 0 bytes'),
      ],
      [
        keys.decryptDataKey(new Uint8Array(3), 7 as never),
        new TypeError('decryptDataKey options must be an object, got number'),
      ],
    ];
    for (const [p, error] of cases) await expect(p).rejects.toThrow(error);
    // The context's own rules are core's validateKeyContext (its wording is core's).
    await expect(keys.createDataKey({ a: 1 } as never)).rejects.toBeInstanceOf(TypeError);
    await expect(keys.createDataKey(tooMany)).rejects.toBeInstanceOf(RangeError);
    expect(keys.stats().remoteCalls).toBe(0);
  });
});

describe('refresh-ahead', () => {
  test('a hit inside the window starts one background refresh; callers keep the current key', async () => {
    const { clock, provider, keys } = setup({ maxAge: 1000, refreshAhead: 200 });
    const a = await keys.createDataKey(ctx);
    clock.advance(799);
    expect(await keys.createDataKey(ctx)).toBe(a);
    expect(provider.creates).toBe(1);
    const g = gate();
    provider.gate = g.promise;
    clock.advance(1);
    expect(await keys.createDataKey(ctx)).toBe(a);
    expect(await keys.createDataKey(ctx)).toBe(a);
    expect(provider.creates).toBe(2);
    g.open();
    await flush();
    const b = await keys.createDataKey(ctx);
    expect(b).not.toBe(a);
    expect(keys.stats()).toMatchObject({ refreshes: 1, remoteCalls: 2, hits: 4 });
    // The old key still decrypts its own ciphertexts until its maxAge.
    expect(await keys.decryptDataKey(a.encryptedKeys)).toBe(a);
    clock.advance(201);
    expect(destroyed(a)).toBe(false);
    await keys.createDataKey(ctx);
    expect(destroyed(a)).toBe(true);
  });

  test('a decrypt refresh keeps the same shared key and restarts its clock', async () => {
    const { clock, provider, keys } = setup({ maxAge: 1000, refreshAhead: 200 });
    const dk = await provider.inner.createDataKey(ctx);
    const a = await keys.decryptDataKey(dk.encryptedKeys);
    clock.advance(900);
    expect(await keys.decryptDataKey(dk.encryptedKeys)).toBe(a);
    await flush();
    expect(provider.decrypts).toBe(2);
    clock.advance(700); // 1600 ms after the first fetch, 700 after the refresh
    expect(await keys.decryptDataKey(dk.encryptedKeys)).toBe(a);
    expect(destroyed(a)).toBe(false);
    expect(keys.stats()).toMatchObject({ refreshes: 1, hits: 2, misses: 1 });
  });

  test('a decrypt refresh does not take the key from encryption, nor extend its encryption life', async () => {
    const { clock, provider, keys } = setup({ maxAge: 1000, refreshAhead: 200 });
    const a = await keys.createDataKey(ctx);
    clock.advance(850);
    expect(await keys.decryptDataKey(a.encryptedKeys)).toBe(a); // starts a decrypt refresh
    await flush();
    expect(provider.decrypts).toBe(1);
    expect(await keys.createDataKey(ctx)).toBe(a); // still a hit for encryption
    expect(keys.stats().misses).toBe(1);
    await flush(); // the encrypt hit in its window started an encrypt refresh
    expect(provider.creates).toBe(2);
    const b = await keys.createDataKey(ctx);
    expect(b).not.toBe(a);
    clock.advance(300); // 1150: past a's original maxAge, inside its renewed decryption life
    expect(await keys.decryptDataKey(a.encryptedKeys)).toBe(a);
    expect(destroyed(a)).toBe(false);
    expect(keys.stats()).toMatchObject({ misses: 1, refreshes: 2 });
  });

  test('a failed refresh is not cached; the current key is served until it expires', async () => {
    const { clock, provider, keys } = setup({ maxAge: 1000, refreshAhead: 200 });
    const a = await keys.createDataKey(ctx);
    provider.failures = [new Error('refresh failed')];
    clock.advance(900);
    expect(await keys.createDataKey(ctx)).toBe(a);
    await flush();
    expect(await keys.createDataKey(ctx)).toBe(a);
    await flush();
    expect(provider.creates).toBe(3); // the first refresh failed, the next hit started another
    expect(await keys.createDataKey(ctx)).not.toBe(a);
  });
});

describe('stale-if-error', () => {
  test('an expired decrypt key is served when the provider fails transiently, within the bound', async () => {
    const { clock, provider, keys } = setup({ maxAge: 1000, staleIfError: 500 });
    const dk = await provider.inner.createDataKey(ctx);
    const a = await keys.decryptDataKey(dk.encryptedKeys);
    clock.advance(1001);
    provider.failures = [httpError(503)];
    expect(await keys.decryptDataKey(dk.encryptedKeys)).toBe(a);
    provider.failures = [Object.assign(new Error('down'), { name: 'NetworkError' })];
    clock.advance(499);
    expect(await keys.decryptDataKey(dk.encryptedKeys)).toBe(a);
    expect(keys.stats().staleServes).toBe(2);
    clock.advance(1);
    provider.failures = [httpError(503)];
    await expect(keys.decryptDataKey(dk.encryptedKeys)).rejects.toThrow('HTTP 503');
    expect(destroyed(a)).toBe(true);
  });

  test('a non-transient failure (4xx) is never hidden by a stale key', async () => {
    const { clock, provider, keys } = setup({ maxAge: 1000, staleIfError: 500 });
    const dk = await provider.inner.createDataKey(ctx);
    await keys.decryptDataKey(dk.encryptedKeys);
    clock.advance(1001);
    provider.failures = [httpError(403)];
    await expect(keys.decryptDataKey(dk.encryptedKeys)).rejects.toThrow('HTTP 403');
    expect(keys.stats().staleServes).toBe(0);
  });

  test('a successful fetch revives the expired entry in place', async () => {
    const { clock, provider, keys } = setup({ maxAge: 1000, staleIfError: 500 });
    const dk = await provider.inner.createDataKey(ctx);
    const a = await keys.decryptDataKey(dk.encryptedKeys);
    clock.advance(1200);
    expect(await keys.decryptDataKey(dk.encryptedKeys)).toBe(a);
    clock.advance(1000);
    expect(await keys.decryptDataKey(dk.encryptedKeys)).toBe(a);
    expect(provider.decrypts).toBe(2);
  });

  test('encryption never uses a stale key', async () => {
    const { clock, provider, keys } = setup({ maxAge: 1000, staleIfError: 500 });
    await keys.createDataKey(ctx);
    clock.advance(1001);
    provider.failures = [httpError(503)];
    await expect(keys.createDataKey(ctx)).rejects.toThrow('HTTP 503');
  });

  test('a custom isTransientError decides', async () => {
    const { clock, provider, keys } = setup({
      maxAge: 1000,
      staleIfError: 500,
      isTransientError: () => true,
    });
    const dk = await provider.inner.createDataKey(ctx);
    const a = await keys.decryptDataKey(dk.encryptedKeys);
    clock.advance(1001);
    provider.failures = [httpError(403)];
    expect(await keys.decryptDataKey(dk.encryptedKeys)).toBe(a);
  });
});

describe('close()', () => {
  test('close() zeroes every key, aborts fetches in flight and rejects later calls', async () => {
    const { provider, keys } = setup();
    const a = await keys.createDataKey(ctx);
    const g = gate();
    provider.gate = g.promise; // never opened: only the abort can end the call
    const waiting = keys.createDataKey({ other: 'x' });
    const closing = keys.close();
    await expect(waiting).rejects.toBeInstanceOf(CacheClosedError);
    await closing;
    expect(destroyed(a)).toBe(true);
    expect(provider.calls[1]!.signal!.aborted).toBe(true);
    expect(keys.stats()).toMatchObject({ size: 0, inFlight: 0 });
    const after = keys.createDataKey(ctx);
    await expect(after).rejects.toBeInstanceOf(CacheClosedError);
    await expect(after).rejects.toSatisfy(KeyCacheError.is);
    await expect(keys.decryptDataKey(new Uint8Array(3))).rejects.toBeInstanceOf(CacheClosedError);
    await keys.close(); // idempotent
  });

  test('close() leaves nothing running: no timers or handles remain', async () => {
    const before = process.getActiveResourcesInfo().length;
    const { provider, keys } = setup({ refreshAhead: 100, staleIfError: 100 });
    for (let i = 0; i < 50; i++) await keys.createDataKey({ i: String(i) });
    const g = gate();
    provider.gate = g.promise;
    void keys.createDataKey({ late: '1' }).catch(() => {});
    await keys.close();
    await flush();
    expect(process.getActiveResourcesInfo().length).toBeLessThanOrEqual(before);
  });

  test('a key that arrives after close() is zeroed, not cached', async () => {
    // A provider that ignores its AbortSignal.
    const provider = new CountingProvider();
    const g = gate();
    const slow = {
      createDataKey: async (c: Record<string, string>) => {
        await g.promise;
        return provider.inner.createDataKey(c).then((dk) => {
          provider.returned.push(dk);
          return dk;
        });
      },
      decryptDataKey: provider.decryptDataKey.bind(provider),
    };
    const keys = cachedKeyProvider(slow, { maxAge: 1000 });
    const waiting = keys.createDataKey(ctx);
    const closing = keys.close();
    g.open();
    await expect(waiting).rejects.toBeInstanceOf(CacheClosedError);
    await closing;
    expect(provider.returned[0]!.key.every((b) => b === 0)).toBe(true);
  });
});

describe('the expiry timer (default clock only)', () => {
  test('an idle cache zeroes each key at its deadline, with one timer at a time', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      const keys = cachedKeyProvider(new MemoryKeyProvider(), { maxAge: 1000, staleIfError: 500 });
      const a = await keys.createDataKey({ t: 'a' });
      vi.advanceTimersByTime(300);
      const b = await keys.createDataKey({ t: 'b' });
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(1200); // a's deadline (maxAge + staleIfError) is now exactly
      expect(destroyed(a)).toBe(false);
      vi.advanceTimersByTime(2);
      expect(destroyed(a)).toBe(true);
      expect(destroyed(b)).toBe(false);
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(300);
      expect(destroyed(b)).toBe(true);
      expect(keys.stats()).toMatchObject({ expirations: 2, size: 0 });
      expect(vi.getTimerCount()).toBe(0);
      await keys.createDataKey({ t: 'c' });
      expect(vi.getTimerCount()).toBe(1);
      await keys.close();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  test("the timer is unref'd: it never keeps the process alive", async () => {
    const keys = cachedKeyProvider(new MemoryKeyProvider(), { maxAge: 60_000 });
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    await keys.createDataKey(ctx);
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(before);
    await keys.close();
  });

  test('with an injected clock no timer is set', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { keys } = setup();
      await keys.createDataKey(ctx);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
