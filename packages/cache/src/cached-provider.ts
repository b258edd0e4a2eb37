/**
 * {@link cachedKeyProvider}: a {@link KeyProvider} that remembers unwrapped data keys, bounded in
 * time (`maxAge`), space (LRU `capacity`) and use (`maxMessages`/`maxBytes` per key, NIST SP
 * 800-38D §8.3), with one provider call per key however many callers ask at once.
 *
 * This class is the public edge and the hit path: it checks arguments, counts the declared usage
 * against the limits, and answers a hit from the store. What is cached (indexes, LRU and
 * deadline orders, expiry) is `_store.ts`; the provider calls (one per key, joined by concurrent
 * misses, adopted into the store when they settle) are `_fetcher.ts`.
 *
 * Hits return the same `SharedDataKey` (frozen, read-only, copies out, and not destroyable
 * by its holders: the cache keeps the destroy function) through a promise kept on the entry, so a
 * hit creates no promise and awaits nothing (a decrypt hit allocates nothing; an encrypt hit only
 * the array of `Object.keys`). A destroyed key found on a hit path is dropped, never served.
 * `cachedDataKey` answers the decrypt-side hit synchronously, without even that promise: an
 * `Envelope` on Node asks it first.
 *
 * Over 400 lines because every public member of the cache is here with its full JSDoc; each
 * method body is short, and the state lives in the store and the fetcher modules.
 * @module
 */
import {
  abytes,
  afunction,
  aint,
  aobject,
  asignal,
  type CreateDataKeyOptions,
  type DataKey,
  type KeyContext,
  type KeyProvider,
  type KeyRequestOptions,
  validateKeyContext,
} from '@vault-envelope/core';
import { KeyFetcher } from './_fetcher.js';
import { type ResolvedOptions, resolveOptions } from './_options.js';
import { KeyStore } from './_store.js';
import { CacheClosedError } from './errors.js';
import type { KeyCacheOptions, KeyCacheStats } from './options.js';

/**
 * `aobject` for the hit path: a value that is not a non-null object gets core's refusal; an
 * array, bytes or a promise passes here. Core's full check costs about 6 ns a call, and an
 * encrypt hit makes three (options, usage, context): 80 ns against 63 ns measured. A context
 * still gets the full check on a miss (`validateKeyContext`), as before.
 */
function objectOnHit(value: unknown, title: string): void {
  // TODO(core): an `aobject` cheap enough for a hot path, so that this shortcut can go.
  if (typeof value !== 'object' || value === null) aobject(value, title);
}

/** Checks a call's options object and returns its signal, if any. */
function signalOf(options: object, title: string): AbortSignal | undefined {
  objectOnHit(options, title);
  return asignal((options as { signal?: unknown }).signal, 'options.signal');
}

/** A usage count: a non-negative safe integer. */
function count(value: unknown, title: string): number {
  return aint(value, 0, Number.MAX_SAFE_INTEGER, title);
}

/**
 * A caching {@link KeyProvider}: build it with {@link cachedKeyProvider}.
 *
 * Keys it returns from the cache are `SharedDataKey`s: the same object on every hit,
 * frozen and read-only (`key` is a fresh copy on every read), zeroed by the cache (and only by
 * it) when evicted, expired, cleared or closed. Keys it could not cache (usage over a limit) are plain {@link DataKey}s that
 * belong to the caller.
 *
 * @example
 * ```ts
 * const keys = new CachedKeyProvider(new MemoryKeyProvider(), { maxAge: 60_000 });
 * const a = await keys.createDataKey({ organization_id: 'org_1' });
 * (await keys.decryptDataKey(a.encryptedKeys)) === a; // true: served from the cache
 * ```
 */
export class CachedKeyProvider implements KeyProvider {
  readonly #o: ResolvedOptions;
  readonly #store: KeyStore;
  readonly #fetch: KeyFetcher;
  #closed = false;
  #hits = 0;
  #misses = 0;
  #uncached = 0;
  #retired = 0;
  #retiredOnRequest = 0;

  /**
   * Re-wraps the data key inside `encryptedKeys` under `context`: passed through to the wrapped
   * provider (Vault's rekey), present only when the wrapped provider has it. The 32 key bytes
   * stay the same, so the cached keys stay valid; nothing is cached from the call.
   * @param encryptedKeys - The blob, exactly as the key service issued it.
   * @param context - The key context to wrap the key under.
   * @param options - `signal`.
   * @returns The new blob.
   * @throws TypeError / RangeError on bad arguments; CacheClosedError after `close()`; the
   *   provider's errors unchanged.
   * @example
   * ```ts
   * const blob = await keys.rekeyDataKey?.(inspect(ct).encryptedKeys, { organization_id: 'org_2' });
   * ```
   */
  declare readonly rekeyDataKey?: (
    encryptedKeys: Uint8Array,
    context: KeyContext,
    options?: KeyRequestOptions,
  ) => Promise<Uint8Array>;

  /**
   * The headers every key blob of the wrapped provider starts with (its own `keyBlobHeaders`,
   * read through on every access): present only when the wrapped provider declares them.
   */
  declare readonly keyBlobHeaders?: readonly Uint8Array[];

  /**
   * @param provider - The KeyProvider to wrap.
   * @param options - See {@link KeyCacheOptions}; `maxAge` is required.
   * @throws TypeError / RangeError on an invalid provider or option.
   */
  constructor(provider: KeyProvider, options: KeyCacheOptions) {
    aobject(provider, 'provider');
    afunction(provider.createDataKey, 'provider.createDataKey');
    afunction(provider.decryptDataKey, 'provider.decryptDataKey');
    this.#o = resolveOptions(options);
    this.#store = new KeyStore(this.#o);
    this.#fetch = new KeyFetcher(provider, this.#o, this.#store);
    // The optional members of KeyProvider exist here exactly when they exist on the provider, so
    // that a caller testing for them learns what the provider behind the cache can do.
    if (typeof provider.rekeyDataKey === 'function') {
      Object.defineProperty(this, 'rekeyDataKey', {
        value: (encryptedKeys: Uint8Array, context: KeyContext, options?: KeyRequestOptions) =>
          this.#rekey(provider, encryptedKeys, context, options),
        enumerable: true,
      });
    }
    if (provider.keyBlobHeaders !== undefined) {
      Object.defineProperty(this, 'keyBlobHeaders', { get: () => provider.keyBlobHeaders, enumerable: true });
    }
  }

  /** The partition this cache was given. */
  get partition(): string {
    return this.#o.partition;
  }

  /**
   * Returns a data key for encrypting under `context`: a cached one when it is younger than
   * `maxAge` and the declared `usage` fits in what is left of its `maxMessages`/`maxBytes`,
   * else a fresh one from the provider (shared with concurrent callers of the same context).
   * @param context - The key context (key order does not matter).
   * @param options - `usage` (default one message of unknown size), `signal` (ends this caller's
   *   wait only).
   * @returns A `SharedDataKey` owned by the cache, or, when `usage` alone is over a limit, a
   *   fresh uncached DataKey owned by the caller.
   * @throws TypeError / RangeError on bad arguments; CacheClosedError after `close()`; the
   *   provider's errors unchanged; KeyProviderError when the provider returns a malformed key.
   * @example
   * ```ts
   * const dk = await keys.createDataKey({ organization_id: 'org_1' }, { usage: { messages: 1, bytes: 120 } });
   * ```
   */
  createDataKey(context: KeyContext, options?: CreateDataKeyOptions): Promise<DataKey> {
    try {
      if (this.#closed) throw new CacheClosedError();
      const store = this.#store;
      const now = store.now();
      let signal: AbortSignal | undefined;
      let messages = 1;
      let bytes = 0;
      let sized = false;
      if (options !== undefined) {
        signal = signalOf(options, 'createDataKey options');
        if (signal?.aborted === true) return Promise.reject(signal.reason);
        const usage = options.usage;
        if (usage !== undefined) {
          objectOnHit(usage, 'usage');
          messages = count(usage.messages, 'usage.messages');
          bytes = count(usage.bytes, 'usage.bytes');
          // Without maxBytes, bytes are not limited and so not counted (a cache in front declares
          // Number.MAX_SAFE_INTEGER when it has no bound either).
          if (!this.#o.bytesBounded) bytes = 0;
          sized = true;
        }
      }
      objectOnHit(context, 'key context');
      const o = this.#o;
      if (messages > o.maxMessages || bytes > o.maxBytes || (!sized && o.bytesBounded)) {
        // A request over a limit on its own (or of unknown size when maxBytes is set) gets a
        // fresh key that is never cached or shared, and leaves the cached key alone.
        this.#misses++;
        this.#uncached++;
        return this.#fetch.direct(context, options);
      }
      const e = store.enc.get(context);
      if (e !== undefined) {
        if (e.shared.destroyed) {
          // Never left in the store by the cache itself; if it ever is, it is never served again.
          store.drop(e);
        } else {
          if (now <= e.encExpires) {
            // Limits are checked on every hit; an entry exactly at a limit is still served.
            if (e.messages + messages <= o.maxMessages && e.bytes + bytes <= o.maxBytes) {
              e.messages += messages;
              e.bytes += bytes;
              store.lists.touch(e);
              this.#hits++;
              if (now >= e.encRefreshAt) this.#fetch.refreshEnc(e.encContext!, now);
              return e.resolved;
            }
            this.#retired++;
          }
          store.retire(e);
        }
      }
      this.#misses++;
      validateKeyContext(context);
      return this.#fetch.create(context, messages, bytes, signal, now);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Unwraps a wrapped-key blob: from the cache when a key with exactly these bytes is younger
   * than `maxAge` (a key created for encryption also serves its own blob), else from the
   * provider, one call however many callers ask at once. With `staleIfError`, an expired key is
   * served when the provider fails transiently.
   * @param encryptedKeys - The blob from a ciphertext (not kept; the cache copies what it needs).
   * @param options - `signal` (ends this caller's wait only).
   * @returns A `SharedDataKey` owned by the cache (or an uncached DataKey the caller owns).
   * @throws TypeError / RangeError on bad arguments; CacheClosedError after `close()`; the
   *   provider's errors unchanged; KeyProviderError when the provider returns a malformed key.
   * @example
   * ```ts
   * const dk = await keys.decryptDataKey(inspect(ciphertext).encryptedKeys);
   * ```
   */
  decryptDataKey(encryptedKeys: Uint8Array, options?: KeyRequestOptions): Promise<DataKey> {
    try {
      if (this.#closed) throw new CacheClosedError();
      abytes(encryptedKeys, undefined, 'encryptedKeys');
      // TODO(core): a minimum length for abytes (`abytes(value, { min: 1 }, title)`), shared with remote.
      if (encryptedKeys.length === 0) throw new RangeError('encryptedKeys must not be empty, got 0 bytes');
      const store = this.#store;
      const now = store.now();
      const signal = options === undefined ? undefined : signalOf(options, 'decryptDataKey options');
      if (signal?.aborted === true) return Promise.reject(signal.reason);
      const e = store.dec.get(encryptedKeys);
      if (e !== undefined) {
        if (now <= e.expires && !e.shared.destroyed) {
          store.lists.touch(e);
          this.#hits++;
          if (now >= e.refreshAt) this.#fetch.refreshDec(e.blob, now);
          return e.resolved;
        }
        if (e.shared.destroyed) store.drop(e);
      }
      this.#misses++;
      return this.#fetch.decrypt(encryptedKeys, signal, now);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The cached key for a wrapped-key blob, synchronously, or `undefined`: what an `Envelope` asks
   * first when it decrypts, so that a hit costs no promise. A hit here is a hit of
   * {@link CachedKeyProvider.decryptDataKey} (the same key, counted in `hits`, the same LRU touch
   * and refresh-ahead); a miss, an expired or destroyed key and a closed cache answer `undefined`
   * and leave everything else to `decryptDataKey` (which counts the miss, fetches, or serves a
   * stale key). Nothing of `encryptedKeys` is kept: the lookup reads it and lets it go.
   * @param encryptedKeys - The blob from a ciphertext (lent for the call; not kept).
   * @returns A `SharedDataKey` owned by the cache, or `undefined`.
   * @throws TypeError when `encryptedKeys` is not a Uint8Array.
   * @example
   * ```ts
   * const blob = inspect(ciphertext).encryptedKeys;
   * const dk = keys.cachedDataKey(blob) ?? (await keys.decryptDataKey(blob));
   * ```
   */
  cachedDataKey(encryptedKeys: Uint8Array): DataKey | undefined {
    if (this.#closed) return undefined;
    abytes(encryptedKeys, undefined, 'encryptedKeys');
    const store = this.#store;
    const now = store.now();
    const e = store.dec.get(encryptedKeys);
    if (e === undefined) return undefined;
    if (e.shared.destroyed) {
      // Never left in the store by the cache itself; if it ever is, it is never served again.
      store.drop(e);
      return undefined;
    }
    if (now > e.expires) return undefined;
    store.lists.touch(e);
    this.#hits++;
    if (now >= e.refreshAt) this.#fetch.refreshDec(e.blob, now);
    return e.shared;
  }

  /**
   * Retires the cached encryption key of `context`, or of every context with no argument: the
   * next `createDataKey` for it fetches a new data key from the provider (a call in flight for it
   * still answers the callers waiting on it, but its key is not used for later encryptions).
   * Decryption is unaffected: the retired keys stay cached, until they expire, for reading what
   * was written under them. Use it to re-encrypt under fresh data keys without dropping every
   * key (`clear()`). Counted in `stats().retiredOnRequest`.
   * @param context - The key context (any key order), or nothing for all.
   * @returns How many cached keys were retired.
   * @throws TypeError / RangeError when `context` is not a valid key context; CacheClosedError
   *   after `close()`.
   * @example
   * ```ts
   * keys.retire({ organization_id: 'org_1' }); // the next encryption for org_1 gets a new key
   * keys.retire();                             // ... for every context
   * ```
   */
  retire(context?: KeyContext): number {
    if (this.#closed) throw new CacheClosedError();
    if (context !== undefined) validateKeyContext(context);
    this.#store.now();
    const n = this.#store.retireEnc(context);
    this.#fetch.retireEnc(context);
    this.#retiredOnRequest += n;
    return n;
  }

  /**
   * The counters, and the number of keys held and calls in flight now.
   * @returns A snapshot (a new object each call).
   * @example
   * ```ts
   * const { hits, misses, remoteCalls } = keys.stats();
   * ```
   */
  stats(): KeyCacheStats {
    const store = this.#store;
    const fetch = this.#fetch;
    return {
      partition: this.#o.partition,
      hits: this.#hits,
      misses: this.#misses,
      coalesced: fetch.coalesced,
      remoteCalls: fetch.remoteCalls,
      refreshes: fetch.refreshes,
      uncached: this.#uncached,
      evictions: store.evictions,
      expirations: store.expirations,
      retired: this.#retired,
      retiredOnRequest: this.#retiredOnRequest,
      staleServes: fetch.staleServes,
      size: store.lists.size,
      inFlight: fetch.inFlight,
    };
  }

  /** The pass-through of {@link CachedKeyProvider.rekeyDataKey}. */
  #rekey(
    provider: KeyProvider,
    encryptedKeys: Uint8Array,
    context: KeyContext,
    options: KeyRequestOptions | undefined,
  ): Promise<Uint8Array> {
    try {
      if (this.#closed) throw new CacheClosedError();
      abytes(encryptedKeys, undefined, 'encryptedKeys');
      if (encryptedKeys.length === 0) throw new RangeError('encryptedKeys must not be empty, got 0 bytes');
      validateKeyContext(context);
      const signal = options === undefined ? undefined : signalOf(options, 'rekeyDataKey options');
      if (signal?.aborted === true) return Promise.reject(signal.reason);
      return Promise.resolve(provider.rekeyDataKey!(encryptedKeys, context, options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Drops and zeroes every cached key now (for example after a key was revoked). Calls in flight
   * go on for the callers waiting on them, but their keys are not cached; later calls start new
   * provider calls. Counters are kept.
   * @example
   * ```ts
   * keys.clear();
   * ```
   */
  clear(): void {
    this.#store.clear();
    this.#fetch.forget();
  }

  /**
   * Closes the cache: zeroes every key, aborts the provider calls in flight (their waiters get
   * {@link CacheClosedError}), and rejects every later call. Nothing of the cache runs after the
   * returned promise settles (it waits for the aborted calls to settle; a provider that ignores
   * its AbortSignal delays it). Idempotent.
   * @returns A promise that resolves when no provider call of this cache is in flight.
   * @example
   * ```ts
   * await keys.close();
   * ```
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.clear();
    }
    await this.#fetch.close();
  }
}

/**
 * Wraps a {@link KeyProvider} in a cache of unwrapped data keys.
 *
 * - Bounded: `maxAge` (required), LRU `capacity`, and per key `maxMessages`/`maxBytes` counted
 *   from each `createDataKey` call's declared `usage`. An entry exactly at a limit is still
 *   served; one past it never is; a single request over a limit gets a fresh, uncached key.
 * - Keyed: the decrypt side by the exact wrapped-key bytes, the encrypt side by the key context
 *   in any key order. A key created for encryption also serves decryption of its own blob.
 * - Coalesced: concurrent misses for one key share one provider call; a failure reaches the
 *   callers waiting on it and is never cached.
 * - Safe: callers get read-only `SharedDataKey`s; evicted, expired and cleared keys are
 *   zeroed; the one expiry timer (default clock only) is unref'd and never keeps a process alive.
 *
 * @param provider - The provider to wrap (a `VaultClient`, a `MemoryKeyProvider`, another cache).
 * @param options - {@link KeyCacheOptions}; `maxAge` (ms) is required.
 * @returns A KeyProvider with `stats()`, `retire()`, `clear()` and `close()` (and `rekeyDataKey`
 *   and `keyBlobHeaders` when the provider has them).
 * @throws TypeError when the provider is not a KeyProvider, `maxAge` is missing, an option is
 *   unknown or of the wrong type; RangeError when an option is out of range.
 * @example
 * ```ts
 * import { Envelope } from '@vault-envelope/core';
 * import { cachedKeyProvider } from '@vault-envelope/cache';
 *
 * const keys = cachedKeyProvider(vault, { maxAge: 5 * 60_000, maxMessages: 2 ** 20 });
 * const envelope = new Envelope({ keys });
 * // ...
 * await keys.close();
 * ```
 */
export function cachedKeyProvider(provider: KeyProvider, options: KeyCacheOptions): CachedKeyProvider {
  return new CachedKeyProvider(provider, options);
}
