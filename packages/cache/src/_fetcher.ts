/**
 * The provider calls of a cache. A miss starts one {@link Flight}; later misses for the same key
 * join it (on the encrypt side only while their declared usage still fits under the limits). A
 * caller's abort ends that caller's wait only; the call goes on (so that a burst of callers
 * timing out can not keep a slow key service from ever filling the cache) and is aborted only by
 * `close()`.
 *
 * When a call settles, its key is checked and adopted into the {@link KeyStore}, or handed out
 * uncached (the cache was cleared meanwhile, or the call outlived `maxAge`); a failure reaches
 * the callers waiting now and is never cached. With `staleIfError`, a transient failure of a
 * decrypt call is answered with the expired key the store still keeps for that blob.
 * @module
 */
import {
  type CreateDataKeyOptions,
  type DataKey,
  type KeyContext,
  type KeyProvider,
  KeyProviderError,
  type KeyRequestOptions,
  SharedDataKey,
  type SharedDataKeyHandle,
} from '@vault-envelope/core';
import { BlobMap } from './_blob-map.js';
import { ContextMap } from './_context-map.js';
import { abortable, Flight, type Outcome, ownedCopy } from './_flight.js';
import type { ResolvedOptions } from './_options.js';
import type { KeyStore } from './_store.js';
import { CacheClosedError } from './errors.js';

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

/** Whether `#adopt` gave an outcome (not cached, or failed) rather than a key to cache. */
function isOutcome(v: SharedDataKeyHandle | Outcome): v is Outcome {
  return (v as Partial<Outcome>).ok !== undefined;
}

const EMPTY = new Uint8Array(0);

/** Starts, joins and settles the provider calls of one cache. */
export class KeyFetcher {
  /** Encrypt-side calls in flight, by context. */
  readonly pendingEnc: ContextMap<Flight> = new ContextMap<Flight>();
  /** Decrypt-side calls in flight, by blob. */
  readonly pendingDec: BlobMap<Flight> = new BlobMap<Flight>();
  /** Misses that joined a call in flight. */
  coalesced = 0;
  /** Calls made to the provider. */
  remoteCalls = 0;
  /** Background refresh-ahead calls among them. */
  refreshes = 0;
  /** Decrypt calls answered with an expired key after a transient failure. */
  staleServes = 0;
  readonly #provider: KeyProvider;
  readonly #o: ResolvedOptions;
  readonly #store: KeyStore;
  /** Every call in flight, including those `clear()` forgot. */
  readonly #flights = new Set<Flight>();
  #closed = false;

  /**
   * @param provider - The provider the cache wraps.
   * @param options - The cache's resolved options.
   * @param store - Where settled keys are cached.
   */
  constructor(provider: KeyProvider, options: ResolvedOptions, store: KeyStore) {
    this.#provider = provider;
    this.#o = options;
    this.#store = store;
  }

  /** Provider calls in flight now. */
  get inFlight(): number {
    return this.#flights.size;
  }

  /**
   * Calls the provider for a key that is never cached or shared (a request over a limit).
   * @param context - The key context.
   * @param options - The caller's options, passed on unchanged.
   * @returns The provider's key, owned by the caller.
   */
  direct(context: KeyContext, options: CreateDataKeyOptions | undefined): Promise<DataKey> {
    this.remoteCalls++;
    return call(() => this.#provider.createDataKey(context, options));
  }

  /**
   * An encrypt miss: joins the call in flight for `context` when the usage fits, else starts one.
   * @param context - A valid key context (the caller's object; a frozen copy is kept).
   * @param messages - Messages this caller declares.
   * @param bytes - Bytes this caller declares (0 when bytes are not counted).
   * @param signal - Ends this caller's wait only.
   * @param now - The current time.
   * @returns The key.
   */
  create(
    context: KeyContext,
    messages: number,
    bytes: number,
    signal: AbortSignal | undefined,
    now: number,
  ): Promise<DataKey> {
    const o = this.#o;
    const pending = this.pendingEnc.get(context);
    if (
      pending !== undefined &&
      pending.messages + messages <= o.maxMessages &&
      pending.bytes + bytes <= o.maxBytes
    ) {
      this.coalesced++;
      pending.messages += messages;
      pending.bytes += bytes;
      return this.#wait(pending, signal);
    }
    const f = this.#startEnc(Object.freeze({ ...context }), now, false);
    f.messages = messages;
    f.bytes = bytes;
    return this.#wait(f, signal);
  }

  /**
   * A decrypt miss: joins the call in flight for `blob`, else starts one.
   * @param blob - The caller's blob (copied when a call starts).
   * @param signal - Ends this caller's wait only.
   * @param now - The current time.
   * @returns The key.
   */
  decrypt(blob: Uint8Array, signal: AbortSignal | undefined, now: number): Promise<DataKey> {
    const pending = this.pendingDec.get(blob);
    if (pending !== undefined) {
      this.coalesced++;
      return this.#wait(pending, signal);
    }
    return this.#wait(this.#startDec(new Uint8Array(blob), now, false), signal);
  }

  /**
   * Starts a background refresh of the encrypt key of `context`, unless one is in flight.
   * @param context - The context, as the entry keeps it (frozen).
   * @param now - The current time.
   */
  refreshEnc(context: KeyContext, now: number): void {
    if (this.pendingEnc.get(context) === undefined) this.#startEnc(context, now, true);
  }

  /**
   * Starts a background refresh of the decrypt key of `blob`, unless one is in flight.
   * @param blob - The blob, as the entry keeps it.
   * @param now - The current time.
   */
  refreshDec(blob: Uint8Array, now: number): void {
    if (this.pendingDec.get(blob) === undefined) this.#startDec(blob, now, true);
  }

  /**
   * Retires the encrypt-side calls in flight for `context` (all with no argument): they go on for
   * their waiters, their keys are cached for decryption only, and later misses start new calls.
   * @param context - The key context, or `undefined` for every context.
   */
  retireEnc(context: KeyContext | undefined): void {
    if (context !== undefined) {
      const f = this.pendingEnc.get(context);
      if (f === undefined) return;
      f.retired = true;
      this.pendingEnc.deleteIf(context, f);
      return;
    }
    for (const f of this.#flights) if (f.blob.length === 0) f.retired = true;
    this.pendingEnc.clear();
  }

  /** Forgets the calls in flight: they go on for their waiters, later misses start new ones. */
  forget(): void {
    this.pendingEnc.clear();
    this.pendingDec.clear();
  }

  /**
   * Aborts every call in flight (their waiters get {@link CacheClosedError}) and waits for them.
   * @returns A promise that resolves when no call is in flight.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      for (const f of this.#flights) f.controller.abort(new CacheClosedError());
    }
    await Promise.all([...this.#flights].map((f) => f.promise));
  }

  #startEnc(context: KeyContext, now: number, background: boolean): Flight {
    const f = new Flight(now, this.#store.generation, EMPTY);
    this.pendingEnc.set(context, f);
    this.#flights.add(f);
    this.remoteCalls++;
    if (background) this.refreshes++;
    // Declare the most this cache may encrypt under the key, so that a cache behind this one
    // counts it correctly.
    const opts: CreateDataKeyOptions = {
      signal: f.controller.signal,
      usage: { messages: this.#o.maxMessages, bytes: this.#o.maxBytes },
    };
    f.promise = call(() => this.#provider.createDataKey(context, opts)).then(
      (dk) => this.#settleEnc(f, context, dk),
      (error: unknown) => this.#fail(f, error, () => this.pendingEnc.deleteIf(context, f)),
    );
    return f;
  }

  #startDec(blob: Uint8Array, now: number, background: boolean): Flight {
    const f = new Flight(now, this.#store.generation, blob);
    this.pendingDec.set(f);
    this.#flights.add(f);
    this.remoteCalls++;
    if (background) this.refreshes++;
    const opts: KeyRequestOptions = { signal: f.controller.signal };
    f.promise = call(() => this.#provider.decryptDataKey(new Uint8Array(blob), opts)).then(
      (dk) => this.#settleDec(f, dk),
      (error: unknown) => this.#fail(f, error, () => this.pendingDec.delete(f)),
    );
    return f;
  }

  #fail(f: Flight, error: unknown, unregister: () => void): Outcome {
    this.#flights.delete(f);
    unregister();
    // A failure is handed to the callers waiting now and never cached.
    return { ok: false, error: this.#closed ? new CacheClosedError() : error };
  }

  /**
   * Takes ownership of a provider's key: the shared key (and its destroy function) to cache, or
   * the outcome when it is not cached.
   */
  #adopt(f: Flight, dk: DataKey): SharedDataKeyHandle | Outcome {
    if (this.#closed) {
      discard(dk);
      return { ok: false, error: new CacheClosedError() };
    }
    let key: SharedDataKeyHandle;
    try {
      // Refuses a malformed key and an all-zero one (a provider that hands one DataKey object to
      // two callers gives the second a key the first owner already zeroed; caching it would
      // encrypt under a known key), with a KeyProviderError.
      key = SharedDataKey.create(dk);
    } catch (error) {
      discard(dk);
      return {
        ok: false,
        error: KeyProviderError.is(error)
          ? error
          : new KeyProviderError('the key provider returned a malformed data key', { cause: error }),
      };
    }
    // Keys fetched before a clear() are not cached, and neither are keys already past their
    // deadline (a provider call slower than maxAge): the waiters get copies.
    if (f.generation !== this.#store.generation || this.#o.clock() > f.started + this.#o.maxAge) {
      if (f.waiters === 0) key.destroy();
      return { ok: true, uncached: key };
    }
    return key;
  }

  #settleEnc(f: Flight, context: KeyContext, dk: DataKey): Outcome {
    this.#flights.delete(f);
    this.pendingEnc.deleteIf(context, f);
    const key = this.#adopt(f, dk);
    if (isOutcome(key)) return key;
    const store = this.#store;
    // Retired while in flight: the waiters get it, later encryptions a new key.
    if (f.retired) return { ok: true, entry: store.addDec(key, key.shared.encryptedKeys, f.started) };
    return { ok: true, entry: store.addEnc(key, context, f.started, f.messages, f.bytes) };
  }

  #settleDec(f: Flight, dk: DataKey): Outcome {
    this.#flights.delete(f);
    this.pendingDec.delete(f);
    const key = this.#adopt(f, dk);
    if (isOutcome(key)) return key;
    return { ok: true, entry: this.#store.addDec(key, f.blob, f.started) };
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
        const e = this.#store.dec.get(f.blob);
        if (e !== undefined && this.#o.clock() <= e.deadline && !e.shared.destroyed) {
          this.staleServes++;
          return e.shared;
        }
      }
      throw o.error;
    }
    if (o.entry !== undefined) return o.entry.shared;
    const copy = ownedCopy(o.uncached.shared);
    if (f.waiters === 0) o.uncached.destroy();
    return copy;
  }
}
