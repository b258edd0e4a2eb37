/**
 * {@link cachedKeyProvider}: a {@link KeyProvider} that remembers unwrapped data keys, bounded in
 * time (`maxAge`), space (LRU `capacity`) and use (`maxMessages`/`maxBytes` per key, NIST SP
 * 800-38D §8.3), with one provider call per key however many callers ask at once.
 *
 * Design (see docs/caching.md):
 * - Hits return the same {@link SharedDataKey} (read-only, copies out) through a promise kept on
 *   the entry, so a hit creates no promise and awaits nothing (a decrypt hit allocates nothing;
 *   an encrypt hit only the array of `Object.keys`).
 * - Expiry: every call first drops the entries past their deadline (the deadline list is sorted,
 *   so this looks at its head only). With the default clock, one unref'd timer also fires at the
 *   earliest deadline, so that an idle cache zeroes its expired keys on time; it never keeps a
 *   process alive, and `close()` clears it. With an injected clock there is no timer (the cache
 *   can not know how that clock relates to timers): expiry happens on the next call.
 * - A miss starts one {@link Flight}; later misses for the same key join it. A caller's abort
 *   ends that caller's wait only; the call goes on (so that a burst of callers timing out can not
 *   keep a slow key service from ever filling the cache) and is aborted only by `close()`.
 * @module
 */
import {
  type CreateDataKeyOptions,
  type DataKey,
  isBytes,
  type KeyContext,
  type KeyProvider,
  KeyProviderError,
  type KeyRequestOptions,
  SharedDataKey,
  validateKeyContext,
} from '@vault-envelope/core';
import { BlobMap } from './_blob-map.js';
import { ContextMap } from './_context-map.js';
import { Entry, EntryLists } from './_entry.js';
import { abortable, Flight, type Outcome, ownedCopy } from './_flight.js';
import { type ResolvedOptions, resolveOptions } from './_options.js';
import { CacheClosedError } from './errors.js';
import type { KeyCacheOptions, KeyCacheStats } from './options.js';

function kind(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

/** Checks a call's options object and returns its signal, if any. */
function signalOf(options: KeyRequestOptions | undefined, method: string): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${method} options must be an object, got ${kind(options)}`);
  }
  const signal: unknown = options.signal;
  if (signal === undefined) return undefined;
  if (typeof signal !== 'object' || signal === null || typeof (signal as AbortSignal).aborted !== 'boolean') {
    throw new TypeError(`signal must be an AbortSignal, got ${kind(signal)}`);
  }
  return signal as AbortSignal;
}

function count(value: unknown, title: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TypeError(`${title} must be an integer, got ${kind(value)}`);
  }
  if (value < 0) throw new RangeError(`${title} must not be negative, got ${value}`);
  return value;
}

/** Calls the provider, turning a synchronous throw or a non-promise into a promise. */
function call<T>(f: () => Promise<T>): Promise<T> {
  try {
    return Promise.resolve(f());
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Zeroes the key of a data key a provider returned that we will not use (best effort). */
function discard(dk: unknown): void {
  const key = (dk as { key?: unknown } | null)?.key;
  if (key instanceof Uint8Array) key.fill(0);
}

/** Compares two shared keys' bytes in time independent of where they differ; zeroes the copies. */
function sameKey(a: SharedDataKey, b: SharedDataKey): boolean {
  const x = a.key;
  const y = b.key;
  let diff = x.length ^ y.length;
  for (let i = 0; i < x.length && i < y.length; i++) diff |= x[i]! ^ y[i]!;
  x.fill(0);
  y.fill(0);
  return diff === 0;
}

/** Whether a shared key's bytes are all zero (a random key is, with probability 2^-256). */
function isZero(shared: SharedDataKey): boolean {
  const k = shared.key;
  let acc = 0;
  for (let i = 0; i < k.length; i++) acc |= k[i]!;
  k.fill(0);
  return acc === 0;
}

const EMPTY = new Uint8Array(0);

/** setTimeout's largest delay (2^31-1 ms); a longer one fires at once. */
const MAX_TIMER_DELAY = 2 ** 31 - 1;

/**
 * A caching {@link KeyProvider}: build it with {@link cachedKeyProvider}.
 *
 * Keys it returns from the cache are {@link SharedDataKey}s: the same object on every hit,
 * read-only (`key` is a fresh copy on every read), zeroed by the cache when evicted, expired,
 * cleared or closed. Keys it could not cache (usage over a limit) are plain {@link DataKey}s that
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
  readonly #provider: KeyProvider;
  readonly #o: ResolvedOptions;
  readonly #clock: () => number;
  readonly #enc = new ContextMap<Entry>();
  readonly #dec = new BlobMap<Entry>();
  readonly #pendingEnc = new ContextMap<Flight>();
  readonly #pendingDec = new BlobMap<Flight>();
  readonly #flights = new Set<Flight>();
  readonly #lists = new EntryLists();
  #generation = 0;
  #closed = false;
  /** Whether the expiry timer is used (only with the default clock). */
  readonly #timed: boolean;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The deadline the timer is set for. */
  #timerAt = Number.POSITIVE_INFINITY;
  #hits = 0;
  #misses = 0;
  #coalesced = 0;
  #remoteCalls = 0;
  #refreshes = 0;
  #uncached = 0;
  #evictions = 0;
  #expirations = 0;
  #retired = 0;
  #staleServes = 0;

  /**
   * @param provider - The KeyProvider to wrap.
   * @param options - See {@link KeyCacheOptions}; `maxAge` is required.
   * @throws TypeError / RangeError on an invalid provider or option.
   */
  constructor(provider: KeyProvider, options: KeyCacheOptions) {
    if (
      typeof provider !== 'object' ||
      provider === null ||
      typeof provider.createDataKey !== 'function' ||
      typeof provider.decryptDataKey !== 'function'
    ) {
      throw new TypeError(
        'cachedKeyProvider: provider must be a KeyProvider (createDataKey and decryptDataKey)',
      );
    }
    this.#provider = provider;
    this.#o = resolveOptions(options);
    this.#clock = this.#o.clock;
    this.#timed = options.clock === undefined && typeof setTimeout === 'function';
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
   * @returns A {@link SharedDataKey} owned by the cache, or, when `usage` alone is over a limit, a
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
      const now = this.#now();
      const signal = signalOf(options, 'createDataKey');
      if (signal?.aborted === true) return Promise.reject(signal.reason);
      let messages = 1;
      let bytes = 0;
      let sized = false;
      if (options !== undefined) {
        const usage = options.usage;
        if (usage !== undefined) {
          if (typeof usage !== 'object' || usage === null) {
            throw new TypeError(`usage must be an object, got ${kind(usage)}`);
          }
          messages = count(usage.messages, 'usage.messages');
          bytes = count(usage.bytes, 'usage.bytes');
          // Without maxBytes, bytes are not limited and so not counted (a cache in front declares
          // Number.MAX_SAFE_INTEGER when it has no bound either).
          if (!this.#o.bytesBounded) bytes = 0;
          sized = true;
        }
      }
      if (typeof context !== 'object' || context === null) {
        throw new TypeError(`key context must be an object, got ${kind(context)}`);
      }
      const o = this.#o;
      if (messages > o.maxMessages || bytes > o.maxBytes || (!sized && o.bytesBounded)) {
        // A request over a limit on its own (or of unknown size when maxBytes is set) gets a
        // fresh key that is never cached or shared, and leaves the cached key alone.
        this.#misses++;
        this.#uncached++;
        this.#remoteCalls++;
        return call(() => this.#provider.createDataKey(context, options));
      }
      const e = this.#enc.get(context);
      if (e !== undefined) {
        if (now <= e.encExpires) {
          // Limits are checked on every hit; an entry exactly at a limit is still served.
          if (e.messages + messages <= o.maxMessages && e.bytes + bytes <= o.maxBytes) {
            e.messages += messages;
            e.bytes += bytes;
            this.#lists.touch(e);
            this.#hits++;
            if (now >= e.encRefreshAt && this.#pendingEnc.get(e.encContext!) === undefined) {
              this.#startEnc(e.encContext!, now, true);
            }
            return e.resolved;
          }
          this.#retired++;
        }
        this.#retire(e);
      }
      return this.#missEnc(context, messages, bytes, signal, now);
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
   * @returns A {@link SharedDataKey} owned by the cache (or an uncached DataKey the caller owns).
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
      if (!isBytes(encryptedKeys)) {
        throw new TypeError(`encryptedKeys must be a Uint8Array, got ${kind(encryptedKeys)}`);
      }
      if (encryptedKeys.length === 0) throw new RangeError('encryptedKeys must not be empty');
      const now = this.#now();
      const signal = signalOf(options, 'decryptDataKey');
      if (signal?.aborted === true) return Promise.reject(signal.reason);
      const e = this.#dec.get(encryptedKeys);
      if (e !== undefined && now <= e.expires) {
        this.#lists.touch(e);
        this.#hits++;
        if (now >= e.refreshAt && this.#pendingDec.get(e.blob) === undefined) {
          this.#startDec(e.blob, now, true);
        }
        return e.resolved;
      }
      this.#misses++;
      const pending = this.#pendingDec.get(encryptedKeys);
      if (pending !== undefined) {
        this.#coalesced++;
        return this.#wait(pending, signal);
      }
      return this.#wait(this.#startDec(new Uint8Array(encryptedKeys), now, false), signal);
    } catch (error) {
      return Promise.reject(error);
    }
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
    return {
      partition: this.#o.partition,
      hits: this.#hits,
      misses: this.#misses,
      coalesced: this.#coalesced,
      remoteCalls: this.#remoteCalls,
      refreshes: this.#refreshes,
      uncached: this.#uncached,
      evictions: this.#evictions,
      expirations: this.#expirations,
      retired: this.#retired,
      staleServes: this.#staleServes,
      size: this.#lists.size,
      inFlight: this.#flights.size,
    };
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
    this.#generation++;
    for (let e = this.#lists.lruHead; e !== undefined; ) {
      const next = e.lruNext;
      e.lruPrev = e.lruNext = e.agePrev = e.ageNext = e.nextSame = undefined;
      e.encContext = undefined;
      e.shared.destroy();
      e = next;
    }
    this.#lists.clear();
    this.#enc.clear();
    this.#dec.clear();
    this.#pendingEnc.clear();
    this.#pendingDec.clear();
    this.#disarm();
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
      for (const f of this.#flights) f.controller.abort(new CacheClosedError());
    }
    await Promise.all([...this.#flights].map((f) => f.promise));
  }

  // --- internals -------------------------------------------------------------------------------

  /** Reads the clock, first dropping the entries past their deadline (a look at the list head). */
  #now(): number {
    const now = this.#clock();
    const head = this.#lists.ageHead;
    if (head !== undefined && now > head.deadline) this.#sweep(now);
    return now;
  }

  /** Drops (and zeroes) every entry whose deadline has passed. */
  #sweep(now: number): void {
    for (let e = this.#lists.ageHead; e !== undefined && now > e.deadline; e = this.#lists.ageHead) {
      this.#remove(e);
      this.#expirations++;
    }
    this.#arm();
  }

  /** Sets the expiry timer for the earliest deadline, if it is not set for it already. */
  #arm(): void {
    if (!this.#timed) return;
    const head = this.#lists.ageHead;
    if (head === undefined) {
      this.#disarm();
      return;
    }
    if (this.#timer !== undefined && this.#timerAt <= head.deadline) return;
    this.#disarm();
    // +1: the deadline itself is still a valid instant. Capped: longer delays overflow to 0.
    const delay = Math.min(Math.max(0, head.deadline - this.#clock()) + 1, MAX_TIMER_DELAY);
    this.#timerAt = head.deadline;
    const timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Number.POSITIVE_INFINITY;
      this.#sweep(this.#clock());
    }, delay);
    (timer as { unref?: () => void }).unref?.();
    this.#timer = timer;
  }

  #disarm(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  /** Stops `e` serving encryption; it keeps serving decryption of its blob until it expires. */
  #retire(e: Entry): void {
    if (e.encContext === undefined) return;
    this.#enc.deleteIf(e.encContext, e);
    e.encContext = undefined;
  }

  /** Removes `e` from every index and zeroes its key. */
  #remove(e: Entry): void {
    this.#dec.delete(e);
    this.#retire(e);
    this.#lists.remove(e);
    e.shared.destroy();
  }

  /** Adds a new entry, replacing one with the same blob, then evicts down to capacity. */
  #insert(e: Entry): void {
    const old = this.#dec.get(e.blob);
    if (old !== undefined) this.#remove(old);
    this.#dec.set(e);
    this.#lists.add(e);
    while (this.#lists.size > this.#o.capacity) {
      this.#remove(this.#lists.lruHead!);
      this.#evictions++;
    }
    this.#arm();
  }

  #missEnc(
    context: KeyContext,
    messages: number,
    bytes: number,
    signal: AbortSignal | undefined,
    now: number,
  ): Promise<DataKey> {
    this.#misses++;
    const o = this.#o;
    validateKeyContext(context);
    const pending = this.#pendingEnc.get(context);
    if (
      pending !== undefined &&
      pending.messages + messages <= o.maxMessages &&
      pending.bytes + bytes <= o.maxBytes
    ) {
      this.#coalesced++;
      pending.messages += messages;
      pending.bytes += bytes;
      return this.#wait(pending, signal);
    }
    const f = this.#startEnc(Object.freeze({ ...context }), now, false);
    f.messages = messages;
    f.bytes = bytes;
    return this.#wait(f, signal);
  }

  #startEnc(context: KeyContext, now: number, background: boolean): Flight {
    const f = new Flight(now, this.#generation, EMPTY);
    this.#pendingEnc.set(context, f);
    this.#flights.add(f);
    this.#remoteCalls++;
    if (background) this.#refreshes++;
    // Declare the most this cache may encrypt under the key, so that a cache behind this one
    // counts it correctly.
    const opts: CreateDataKeyOptions = {
      signal: f.controller.signal,
      usage: { messages: this.#o.maxMessages, bytes: this.#o.maxBytes },
    };
    f.promise = call(() => this.#provider.createDataKey(context, opts)).then(
      (dk) => this.#settleEnc(f, context, dk),
      (error: unknown) => this.#fail(f, error, () => this.#pendingEnc.deleteIf(context, f)),
    );
    return f;
  }

  #startDec(blob: Uint8Array, now: number, background: boolean): Flight {
    const f = new Flight(now, this.#generation, blob);
    this.#pendingDec.set(f);
    this.#flights.add(f);
    this.#remoteCalls++;
    if (background) this.#refreshes++;
    const opts: KeyRequestOptions = { signal: f.controller.signal };
    f.promise = call(() => this.#provider.decryptDataKey(new Uint8Array(blob), opts)).then(
      (dk) => this.#settleDec(f, dk),
      (error: unknown) => this.#fail(f, error, () => this.#pendingDec.delete(f)),
    );
    return f;
  }

  #fail(f: Flight, error: unknown, unregister: () => void): Outcome {
    this.#flights.delete(f);
    unregister();
    // A failure is handed to the callers waiting now and never cached.
    return { ok: false, error: this.#closed ? new CacheClosedError() : error };
  }

  /** Takes ownership of a provider's key: the shared key to cache, or the outcome when it is not cached. */
  #adopt(f: Flight, dk: DataKey): SharedDataKey | Outcome {
    if (this.#closed) {
      discard(dk);
      return { ok: false, error: new CacheClosedError() };
    }
    let shared: SharedDataKey;
    try {
      shared = new SharedDataKey(dk);
    } catch (cause) {
      discard(dk);
      return {
        ok: false,
        error: new KeyProviderError('the key provider returned a malformed data key', { cause }),
      };
    }
    if (isZero(shared)) {
      // A provider that hands one DataKey object to two callers gives the second a key the first
      // owner already zeroed; caching it would encrypt under a known key.
      shared.destroy();
      return { ok: false, error: new KeyProviderError('the key provider returned an all-zero data key') };
    }
    // Keys fetched before a clear() are not cached, and neither are keys already past their
    // deadline (a provider call slower than maxAge): the waiters get copies.
    if (f.generation !== this.#generation || this.#clock() > f.started + this.#o.maxAge) {
      return this.#uncachedOutcome(f, shared);
    }
    return shared;
  }

  #uncachedOutcome(f: Flight, shared: SharedDataKey): Outcome {
    if (f.waiters === 0) shared.destroy();
    return { ok: true, uncached: shared };
  }

  #newEntry(shared: SharedDataKey, blob: Uint8Array, started: number): Entry {
    const e = new Entry(shared, blob);
    const o = this.#o;
    e.stamp(started, o.maxAge, o.staleIfError, o.refreshAhead);
    return e;
  }

  #settleEnc(f: Flight, context: KeyContext, dk: DataKey): Outcome {
    this.#flights.delete(f);
    this.#pendingEnc.deleteIf(context, f);
    const shared = this.#adopt(f, dk);
    if (!(shared instanceof SharedDataKey)) return shared;
    const e = this.#newEntry(shared, shared.encryptedKeys, f.started);
    e.messages = f.messages;
    e.bytes = f.bytes;
    const old = this.#enc.get(context);
    if (old !== undefined) this.#retire(old);
    this.#insert(e);
    e.encContext = context;
    this.#enc.set(context, e);
    return { ok: true, entry: e };
  }

  #settleDec(f: Flight, dk: DataKey): Outcome {
    this.#flights.delete(f);
    this.#pendingDec.delete(f);
    const shared = this.#adopt(f, dk);
    if (!(shared instanceof SharedDataKey)) return shared;
    const old = this.#dec.get(f.blob);
    if (old !== undefined && sameKey(old.shared, shared)) {
      // The provider confirmed the key again: keep the shared object (and the cipher state
      // prepared on it) and restart its decryption clock. Encryption keeps its original lifetime,
      // so a key is never used to encrypt longer than maxAge after it was created.
      shared.destroy();
      const o = this.#o;
      old.renew(Math.max(old.created, f.started), o.maxAge, o.staleIfError, o.refreshAhead);
      this.#lists.reorder(old);
      this.#lists.touch(old);
      this.#arm();
      return { ok: true, entry: old };
    }
    const e = this.#newEntry(shared, f.blob, f.started);
    this.#insert(e);
    return { ok: true, entry: e };
  }

  /** Joins `f`; the caller's signal ends only its own wait. */
  #wait(f: Flight, signal: AbortSignal | undefined): Promise<DataKey> {
    f.waiters++;
    const p = f.promise.then((o) => this.#deliver(f, o));
    return signal === undefined ? p : abortable(p, signal);
  }

  #deliver(f: Flight, o: Outcome): DataKey {
    f.waiters--;
    if (!o.ok) {
      if (
        this.#o.staleIfError > 0 &&
        f.blob.length > 0 &&
        !this.#closed &&
        this.#o.isTransientError(o.error)
      ) {
        const e = this.#dec.get(f.blob);
        if (e !== undefined && this.#clock() <= e.deadline) {
          this.#staleServes++;
          return e.shared;
        }
      }
      throw o.error;
    }
    if (o.entry !== undefined) return o.entry.shared;
    const copy = ownedCopy(o.uncached);
    if (f.waiters === 0) o.uncached.destroy();
    return copy;
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
 * - Safe: callers get read-only {@link SharedDataKey}s; evicted, expired and cleared keys are
 *   zeroed; the one expiry timer (default clock only) is unref'd and never keeps a process alive.
 *
 * @param provider - The provider to wrap (a `VaultClient`, a `MemoryKeyProvider`, another cache).
 * @param options - {@link KeyCacheOptions}; `maxAge` (ms) is required.
 * @returns A KeyProvider with `stats()`, `clear()` and `close()`.
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
