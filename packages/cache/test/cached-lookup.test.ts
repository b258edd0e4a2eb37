/**
 * `CachedKeyProvider.cachedDataKey`, the synchronous hit an Envelope asks for first: it answers
 * exactly the hits `decryptDataKey` would answer (same key, same counters, same LRU and
 * refresh-ahead), leaves every other case to `decryptDataKey`, and never keeps or reads beyond
 * the view it is lent.
 */
import { cachedKeyProvider } from '@vault-envelope/cache';
import { Envelope, SharedDataKey } from '@vault-envelope/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { CountingProvider, FakeClock } from './_helpers.js';

const ctx = { organization_id: 'org_1' };

function setup(
  options: { maxAge?: number; refreshAhead?: number; staleIfError?: number; capacity?: number } = {},
) {
  const clock = new FakeClock();
  const provider = new CountingProvider();
  const keys = cachedKeyProvider(provider, { maxAge: 60_000, clock: clock.read, ...options });
  return { clock, provider, keys };
}

/** `bytes` copied into the middle of a larger buffer of noise: a view that is not the whole buffer. */
function viewInNoise(bytes: Uint8Array, before: number, after: number): Uint8Array {
  const buffer = new Uint8Array(before + bytes.length + after).fill(0xa5);
  buffer.set(bytes, before);
  return buffer.subarray(before, before + bytes.length);
}

describe('cachedDataKey', () => {
  test('a hit is the same shared key decryptDataKey serves, counted once as a hit', async () => {
    const { provider, keys } = setup();
    const dk = await keys.createDataKey(ctx);
    const blob = dk.encryptedKeys;
    expect(dk).toBeInstanceOf(SharedDataKey);
    const before = keys.stats();
    expect(keys.cachedDataKey(blob)).toBe(dk);
    expect(keys.cachedDataKey(viewInNoise(blob, 5, 9))).toBe(dk);
    expect(await keys.decryptDataKey(blob)).toBe(dk);
    const after = keys.stats();
    expect(after.hits - before.hits).toBe(3);
    expect(after.misses).toBe(before.misses);
    expect(provider.decrypts).toBe(0);
  });

  test('a miss answers undefined and counts nothing; decryptDataKey then counts the miss and fetches', async () => {
    const { provider, keys } = setup();
    const blob = (await provider.inner.createDataKey(ctx)).encryptedKeys;
    const before = keys.stats();
    expect(keys.cachedDataKey(blob)).toBeUndefined();
    expect(keys.stats()).toEqual(before);
    const dk = await keys.decryptDataKey(blob);
    expect(keys.stats().misses).toBe(before.misses + 1);
    expect(provider.decrypts).toBe(1);
    expect(keys.cachedDataKey(blob)).toBe(dk);
  });

  test('an expired key answers undefined and is left to decryptDataKey, whose staleIfError still serves it', async () => {
    const { clock, provider, keys } = setup({ maxAge: 1000, staleIfError: 500 });
    const blob = (await provider.inner.createDataKey(ctx)).encryptedKeys;
    const dk = await keys.decryptDataKey(blob);
    clock.advance(1001);
    expect(keys.cachedDataKey(blob)).toBeUndefined();
    provider.failures = [Object.assign(new Error('HTTP 503'), { status: 503 })];
    expect(await keys.decryptDataKey(blob)).toBe(dk);
    expect(keys.stats().staleServes).toBe(1);
    // Still stale: the lookup never serves it.
    expect(keys.cachedDataKey(blob)).toBeUndefined();
  });

  test('a closed or cleared cache answers undefined', async () => {
    const { keys } = setup();
    const blob = (await keys.createDataKey(ctx)).encryptedKeys;
    keys.clear();
    expect(keys.cachedDataKey(blob)).toBeUndefined();
    const blob2 = (await keys.createDataKey(ctx)).encryptedKeys;
    await keys.close();
    expect(keys.cachedDataKey(blob2)).toBeUndefined();
  });

  test('a hit touches the LRU order as decryptDataKey does', async () => {
    const { keys } = setup({ capacity: 2 });
    const a = await keys.createDataKey({ organization_id: 'a' });
    await keys.createDataKey({ organization_id: 'b' });
    expect(keys.cachedDataKey(a.encryptedKeys)).toBe(a);
    await keys.createDataKey({ organization_id: 'c' });
    // b was the least recently used, so it went; a stays.
    expect(keys.cachedDataKey(a.encryptedKeys)).toBe(a);
    expect(keys.stats().evictions).toBe(1);
  });

  test('a hit within refreshAhead of expiry starts the background refresh, once', async () => {
    const { clock, provider, keys } = setup({ maxAge: 1000, refreshAhead: 200 });
    const blob = (await provider.inner.createDataKey(ctx)).encryptedKeys;
    const dk = await keys.decryptDataKey(blob);
    clock.advance(799);
    expect(keys.cachedDataKey(blob)).toBe(dk);
    expect(provider.decrypts).toBe(1);
    clock.advance(1);
    expect(keys.cachedDataKey(blob)).toBe(dk);
    expect(keys.cachedDataKey(blob)).toBe(dk);
    expect(provider.decrypts).toBe(2);
    expect(keys.stats().refreshes).toBe(1);
  });

  test('a bad argument is a TypeError', () => {
    const { keys } = setup();
    expect(() => keys.cachedDataKey('blob' as never)).toThrow(
      new TypeError('encryptedKeys must be a Uint8Array, got string'),
    );
  });

  test('never keeps the view: overwriting it after any lookup changes nothing in the cache (property)', async () => {
    const { provider, keys } = setup({ capacity: 8 });
    const blobs: Uint8Array[] = [];
    for (let i = 0; i < 6; i++)
      blobs.push((await keys.createDataKey({ organization_id: `o${i}` })).encryptedKeys);
    const foreign = (await provider.inner.createDataKey({ organization_id: 'x' })).encryptedKeys;
    fc.assert(
      fc.property(
        fc.nat(blobs.length),
        fc.nat(40),
        fc.nat(40),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        (i, before, after, noise) => {
          const blob = i === blobs.length ? foreign : blobs[i]!;
          const view = viewInNoise(blob, before, after);
          const size = keys.stats().size;
          const got = keys.cachedDataKey(view);
          expect(got === undefined).toBe(i === blobs.length);
          // Scribble over the view and everything around it.
          for (let k = 0; k < view.buffer.byteLength; k++)
            new Uint8Array(view.buffer)[k] = noise[k % noise.length]!;
          expect(keys.stats().size).toBe(size);
          for (const b of blobs) expect(keys.cachedDataKey(b.slice())).toBeDefined();
          expect(keys.cachedDataKey(foreign.slice())).toBeUndefined();
          if (!blobs.some((b) => b.length === view.length && b.every((x, k) => x === view[k]))) {
            expect(keys.cachedDataKey(view)).toBeUndefined();
          }
        },
      ),
      { numRuns: 300 },
    );
    expect(provider.decrypts).toBe(0);
  });

  test('an Envelope over the cache decrypts a hit without a provider call or a miss', async () => {
    const { provider, keys } = setup();
    const envelope = new Envelope({ keys });
    const ct = await envelope.encrypt('hello', { context: ctx, aad: 'a' });
    const before = keys.stats();
    for (let i = 0; i < 5; i++) expect(await envelope.decryptToString(ct, { aad: 'a' })).toBe('hello');
    const after = keys.stats();
    expect(after.hits - before.hits).toBe(5);
    expect(after.misses).toBe(before.misses);
    expect(after.remoteCalls).toBe(before.remoteCalls);
    expect(provider.decrypts).toBe(0);
    // A message whose key the cache never held goes through decryptDataKey, once.
    const other = await new Envelope({ keys: provider.inner }).encrypt('other', { context: ctx });
    expect(await envelope.decryptToString(other)).toBe('other');
    expect(provider.decrypts).toBe(1);
    expect(keys.stats().misses).toBe(after.misses + 1);
  });
});
