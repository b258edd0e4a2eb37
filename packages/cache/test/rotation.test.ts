/**
 * What the cache does for key rotation: `retire()` (fresh data keys for the next encryptions of
 * one context or all, decryption unaffected), and the pass-through of the provider's optional
 * members, `rekeyDataKey` and `keyBlobHeaders`.
 */
import { CacheClosedError, cachedKeyProvider } from '@vault-envelope/cache';
import {
  type CreateDataKeyOptions,
  type DataKey,
  Envelope,
  type KeyContext,
  type KeyProvider,
  type KeyRequestOptions,
  MemoryKeyProvider,
} from '@vault-envelope/core';
import { describe, expect, test } from 'vitest';
import { CountingProvider, FakeClock, flush, gate } from './_helpers.js';

const org1 = { organization_id: 'org_1' };
const org2 = { organization_id: 'org_2' };

function setup() {
  const clock = new FakeClock();
  const provider = new CountingProvider();
  const keys = cachedKeyProvider(provider, { maxAge: 60_000, clock: clock.read });
  return { clock, provider, keys };
}

describe('retire()', () => {
  test('retire(context): the next createDataKey for it fetches a new key; others keep theirs', async () => {
    const { provider, keys } = setup();
    const a1 = await keys.createDataKey(org1);
    const b1 = await keys.createDataKey(org2);
    expect(keys.retire({ organization_id: 'org_1' })).toBe(1);
    const a2 = await keys.createDataKey(org1);
    expect(a2).not.toBe(a1);
    expect(a2.key).not.toEqual(a1.key);
    expect(await keys.createDataKey(org2)).toBe(b1);
    expect(provider.creates).toBe(3);
    expect(keys.stats()).toMatchObject({ retiredOnRequest: 1, retired: 0, size: 3 });
  });

  test('the retired key keeps serving decryption of what was written under it', async () => {
    const { provider, keys } = setup();
    const envelope = new Envelope({ keys });
    const before = await envelope.encrypt('old', { context: org1 });
    keys.retire(org1);
    const after = await envelope.encrypt('new', { context: org1 });
    expect(await envelope.decryptToString(before)).toBe('old');
    expect(await envelope.decryptToString(after)).toBe('new');
    expect(provider.decrypts).toBe(0);
    expect(provider.creates).toBe(2);
  });

  test('retire() with no argument retires every context, and counts them', async () => {
    const { provider, keys } = setup();
    const a = await keys.createDataKey(org1);
    const b = await keys.createDataKey(org2);
    expect(keys.retire()).toBe(2);
    expect(keys.retire()).toBe(0);
    expect(await keys.createDataKey(org1)).not.toBe(a);
    expect(await keys.createDataKey(org2)).not.toBe(b);
    expect(await keys.decryptDataKey(a.encryptedKeys)).toBe(a);
    expect(provider.creates).toBe(4);
    expect(keys.stats().retiredOnRequest).toBe(2);
  });

  test('retire(context) of a context without a cached key retires nothing', () => {
    const { keys } = setup();
    expect(keys.retire(org1)).toBe(0);
    expect(keys.stats().retiredOnRequest).toBe(0);
  });

  test('a call in flight when retire() runs answers its callers, but its key serves no later encryption', async () => {
    const { provider, keys } = setup();
    const g = gate();
    provider.gate = g.promise;
    const waiting = keys.createDataKey(org1);
    await flush();
    expect(keys.retire(org1)).toBe(0);
    // A caller after retire() does not join the old call: it starts its own.
    const later = keys.createDataKey(org1);
    g.open();
    const [k1, k2] = await Promise.all([waiting, later]);
    provider.gate = undefined;
    expect(k2).not.toBe(k1);
    expect(provider.creates).toBe(2);
    expect(await keys.createDataKey(org1)).toBe(k2);
    // The retired call's key still decrypts (cached for decryption only).
    expect(await keys.decryptDataKey(k1.encryptedKeys)).toBe(k1);
    expect(provider.decrypts).toBe(0);
  });

  test('retire() refuses a malformed context, and runs no more after close()', async () => {
    const { keys } = setup();
    expect(() => keys.retire({ organization_id: 1 } as never)).toThrow(
      new TypeError('key context value of "organization_id" must be a string, got number'),
    );
    expect(() => keys.retire(null as never)).toThrow(
      new TypeError('key context must be an object, got null'),
    );
    await keys.close();
    expect(() => keys.retire()).toThrow(CacheClosedError);
  });
});

/** A provider with the optional members, recording what the cache passes on. */
class RekeyingProvider implements KeyProvider {
  readonly inner = new MemoryKeyProvider();
  readonly rekeys: { blob: Uint8Array; context: KeyContext; options: KeyRequestOptions | undefined }[] = [];
  headers: readonly Uint8Array[] = [new TextEncoder().encode('VE.MEM.v1\0')];
  get keyBlobHeaders(): readonly Uint8Array[] {
    return this.headers;
  }
  createDataKey(context: KeyContext, options?: CreateDataKeyOptions): Promise<DataKey> {
    return this.inner.createDataKey(context, options);
  }
  decryptDataKey(blob: Uint8Array, options?: KeyRequestOptions): Promise<DataKey> {
    return this.inner.decryptDataKey(blob, options);
  }
  async rekeyDataKey(
    blob: Uint8Array,
    context: KeyContext,
    options?: KeyRequestOptions,
  ): Promise<Uint8Array> {
    this.rekeys.push({ blob, context, options });
    return new Uint8Array([...blob, 1]);
  }
}

describe('the optional KeyProvider members pass through', () => {
  test('rekeyDataKey is passed to the wrapped provider unchanged, and caches nothing', async () => {
    const inner = new RekeyingProvider();
    const keys = cachedKeyProvider(inner, { maxAge: 60_000 });
    const blob = (await keys.createDataKey(org1)).encryptedKeys;
    const signal = new AbortController().signal;
    const out = await keys.rekeyDataKey!(blob, org2, { signal });
    expect(out).toEqual(new Uint8Array([...blob, 1]));
    expect(inner.rekeys).toEqual([{ blob, context: org2, options: { signal } }]);
    expect(keys.stats()).toMatchObject({ size: 1, remoteCalls: 1 });
  });

  test('rekeyDataKey checks its arguments, honours an aborted signal, and rejects after close()', async () => {
    const inner = new RekeyingProvider();
    const keys = cachedKeyProvider(inner, { maxAge: 60_000 });
    await expect(keys.rekeyDataKey!('x' as never, org1)).rejects.toThrow(
      new TypeError('encryptedKeys must be a Uint8Array, got string'),
    );
    await expect(keys.rekeyDataKey!(new Uint8Array(0), org1)).rejects.toThrow(
      new RangeError('encryptedKeys must not be empty, got 0 bytes'),
    );
    await expect(keys.rekeyDataKey!(new Uint8Array(1), { 'a\nb': 'c' })).rejects.toThrow(
      new TypeError(
        'key context name must be well-formed text without control characters, got a control character at index 1',
      ),
    );
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(keys.rekeyDataKey!(new Uint8Array(1), org1, { signal: ac.signal })).rejects.toThrow('stop');
    expect(inner.rekeys).toHaveLength(0);
    await keys.close();
    await expect(keys.rekeyDataKey!(new Uint8Array(1), org1)).rejects.toBeInstanceOf(CacheClosedError);
  });

  test("keyBlobHeaders reports the wrapped provider's, read through", async () => {
    const inner = new RekeyingProvider();
    const keys = cachedKeyProvider(inner, { maxAge: 60_000 });
    expect(keys.keyBlobHeaders).toBe(inner.headers);
    inner.headers = [new TextEncoder().encode('WOS.EKM.')];
    expect(keys.keyBlobHeaders).toBe(inner.headers);
    // A cache in front of a cache reports the innermost provider's.
    expect(cachedKeyProvider(keys, { maxAge: 1000 }).keyBlobHeaders).toBe(inner.headers);
  });

  test('a provider without them gives a cache without them (so callers can test for them)', () => {
    const memory = new MemoryKeyProvider();
    const bare: KeyProvider = {
      createDataKey: (context, options) => memory.createDataKey(context, options),
      decryptDataKey: (blob, options) => memory.decryptDataKey(blob, options),
    };
    const keys = cachedKeyProvider(bare, { maxAge: 60_000 });
    expect('rekeyDataKey' in keys).toBe(false);
    expect(keys.rekeyDataKey).toBeUndefined();
    expect('keyBlobHeaders' in keys).toBe(false);
    const viaCache: KeyProvider = keys;
    expect(viaCache.keyBlobHeaders).toBeUndefined();
  });
});
