/**
 * Options and counters of {@link cachedKeyProvider}: the public types. Validation lives in
 * `_options.ts`.
 * @module
 */

/** Options of {@link cachedKeyProvider}. Invalid values throw `TypeError`/`RangeError` at construction. */
export interface KeyCacheOptions {
  /**
   * How long a data key may be served from the cache, in milliseconds, counted from the moment
   * the key was requested from the provider. Required: a cache must never hold a key forever.
   * A key exactly `maxAge` old is still served; one a millisecond older never is. This bounds how
   * long a revoked key (or a revoked permission to unwrap it) keeps working in this process.
   * @example 5 * 60_000
   */
  maxAge: number;
  /**
   * Most data keys held at once (encrypt and decrypt side together); the least recently used
   * is evicted and zeroed first.
   * @default 1000
   */
  capacity?: number;
  /**
   * Most messages encrypted under one cached data key, counted from the `usage` each
   * `createDataKey` call declares (one message when none is declared). At most 2^32, the NIST SP
   * 800-38D §8.3 bound for random 96-bit IVs; the default keeps the IV collision probability
   * near 2^-57.
   * @default 2 ** 20
   */
  maxMessages?: number;
  /**
   * Most plaintext bytes encrypted under one cached data key. When set, a `createDataKey` call
   * that declares no `usage` can not be counted and gets a fresh key that is not cached. When not
   * set, bytes are neither limited nor counted.
   * @default unbounded
   */
  maxBytes?: number;
  /**
   * A name for the keys of this cache. Every `cachedKeyProvider` owns its store, so two instances
   * never share a key whatever their partitions; the partition names the store in `stats()` and
   * is there so that deployments can state the tenant a cache belongs to.
   * @default ''
   */
  partition?: string;
  /**
   * Milliseconds before expiry from which a cache hit starts one background refresh of that key,
   * while callers keep getting the current key. Must be less than `maxAge`.
   * @default undefined (no refresh: the first call after expiry waits for the provider)
   */
  refreshAhead?: number;
  /**
   * Opt-in: for this many milliseconds past `maxAge`, when the provider fails with a transient
   * error (see `isTransientError`), `decryptDataKey` serves the expired key instead of failing.
   * Never applies to `createDataKey`. Extends the revocation window by the same amount.
   * @default undefined (off)
   */
  staleIfError?: number;
  /**
   * Decides which provider errors count as transient for `staleIfError`.
   * @default isTransientError (network errors and 5xx statuses)
   */
  isTransientError?: (error: unknown) => boolean;
  /**
   * The time source, in milliseconds. Inject a fake one in tests. With the default clock an
   * unref'd timer zeroes expired keys at their deadline even when no call comes; with an injected
   * clock expired keys are zeroed on the next call (or `clear()`/`close()`).
   * @default () => performance.now() (monotonic, so wall-clock jumps neither expire nor extend keys)
   */
  clock?: () => number;
}

/** Counters of a {@link CachedKeyProvider}. `remoteCalls === misses - coalesced + refreshes` always holds. */
export interface KeyCacheStats {
  /** The cache's partition. */
  partition: string;
  /** Calls answered from the cache. */
  hits: number;
  /** Calls that found no usable key (they started a fetch, joined one, or were not cacheable). */
  misses: number;
  /** Misses that joined a fetch already in flight instead of starting one. */
  coalesced: number;
  /** Calls made to the wrapped provider (misses that fetched, and refreshes). */
  remoteCalls: number;
  /** Background refresh-ahead fetches started. */
  refreshes: number;
  /** Misses that got a fresh key that was not cached (usage over a limit, or unknown size). */
  uncached: number;
  /** Keys evicted (and zeroed) because the cache was at capacity. */
  evictions: number;
  /** Keys removed (and zeroed) because they passed `maxAge` (plus `staleIfError`). */
  expirations: number;
  /** Keys retired from encryption because the next request would pass `maxMessages`/`maxBytes`. */
  retired: number;
  /** Keys retired from encryption by `retire()` (they still serve decryption). */
  retiredOnRequest: number;
  /** Decrypt calls answered with an expired key because the provider failed transiently. */
  staleServes: number;
  /** Keys held now. */
  size: number;
  /** Provider calls in flight now. */
  inFlight: number;
}
