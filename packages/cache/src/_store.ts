/**
 * The keys a cache holds. Each {@link Entry} is indexed twice (by key context for encryption, by
 * the exact wrapped-key bytes for decryption) and ordered twice (least recently used first, for
 * capacity; soonest deadline first, for expiry, so that a sweep looks at the list head only).
 *
 * Expiry: every call reads the clock through {@link KeyStore.now}, which first drops the entries
 * past their deadline. With the default clock, one unref'd timer also fires at the earliest
 * deadline, so that an idle cache zeroes its expired keys on time; it never keeps a process
 * alive, and `clear()` clears it. With an injected clock there is no timer (the store can not
 * know how that clock relates to timers): expiry happens on the next call.
 *
 * A key leaves the store only through eviction, expiry, `clear()` or {@link KeyStore.drop}, and
 * each of them zeroes it, through the destroy function {@link SharedDataKey.create} gave the
 * cache: no caller holding a shared key can destroy it for the others.
 * @module
 */
import type { KeyContext, SharedDataKey, SharedDataKeyHandle } from '@vault-envelope/core';
import { BlobMap } from './_blob-map.js';
import { ContextMap } from './_context-map.js';
import { Entry, EntryLists } from './_entry.js';
import type { ResolvedOptions } from './_options.js';

/** setTimeout's largest delay (2^31-1 ms); a longer one fires at once. */
const MAX_TIMER_DELAY = 2 ** 31 - 1;

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

/** The cached entries of one cache, their indexes, their orders and the expiry timer. */
export class KeyStore {
  /** Encrypt side: the entry serving each key context (read on every encrypt hit). */
  readonly enc: ContextMap<Entry> = new ContextMap<Entry>();
  /** Decrypt side: every entry, by its blob (read on every decrypt hit). */
  readonly dec: BlobMap<Entry> = new BlobMap<Entry>();
  /** The LRU and deadline orders. */
  readonly lists: EntryLists = new EntryLists();
  /** Bumped by `clear()`: a key fetched before it is not cached. */
  generation = 0;
  /** Entries evicted because the store was at capacity. */
  evictions = 0;
  /** Entries removed because they passed their deadline. */
  expirations = 0;
  readonly #o: ResolvedOptions;
  readonly #clock: () => number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The deadline the timer is set for. */
  #timerAt = Number.POSITIVE_INFINITY;

  /** @param options - The cache's resolved options (capacity, lifetimes, clock, timer use). */
  constructor(options: ResolvedOptions) {
    this.#o = options;
    this.#clock = options.clock;
  }

  /**
   * Reads the clock, first dropping the entries past their deadline (a look at the list head).
   * @returns The current time.
   */
  now(): number {
    const now = this.#clock();
    const head = this.lists.ageHead;
    if (head !== undefined && now > head.deadline) this.#sweep(now);
    return now;
  }

  /**
   * Stops `e` serving encryption; it keeps serving decryption of its blob until it expires.
   * @param e - The entry.
   */
  retire(e: Entry): void {
    if (e.encContext === undefined) return;
    this.enc.deleteIf(e.encContext, e);
    e.encContext = undefined;
  }

  /**
   * Retires the encryption key of `context` (all of them with no argument): the next
   * `createDataKey` for it fetches a new key. The entries keep serving decryption of their blobs.
   * @param context - The key context, or `undefined` for every context.
   * @returns How many keys were retired.
   */
  retireEnc(context: KeyContext | undefined): number {
    if (context !== undefined) {
      const e = this.enc.get(context);
      if (e === undefined) return 0;
      this.retire(e);
      return 1;
    }
    let n = 0;
    for (let e = this.lists.lruHead; e !== undefined; e = e.lruNext) {
      if (e.encContext === undefined) continue;
      e.encContext = undefined;
      n++;
    }
    this.enc.clear();
    return n;
  }

  /**
   * Removes `e` and zeroes its key: for an entry whose key was found destroyed (which the cache
   * itself never leaves in the store), so that it is never served again.
   * @param e - An entry of this store.
   */
  drop(e: Entry): void {
    if (this.dec.get(e.blob) === e) this.#remove(e);
  }

  /**
   * Caches a key fetched for encryption under `context`, replacing the one that served it.
   * @param shared - The key and its destroy function, owned by the store from now on.
   * @param context - The (frozen) context it serves.
   * @param started - When it was requested from the provider: its age counts from there.
   * @param messages - Messages already reserved under it by the callers that waited for it.
   * @param bytes - Bytes already reserved under it.
   * @returns The new entry.
   */
  addEnc(
    shared: SharedDataKeyHandle,
    context: KeyContext,
    started: number,
    messages: number,
    bytes: number,
  ): Entry {
    const e = this.#newEntry(shared, shared.shared.encryptedKeys, started);
    e.messages = messages;
    e.bytes = bytes;
    const old = this.enc.get(context);
    if (old !== undefined) this.retire(old);
    this.#insert(e);
    e.encContext = context;
    this.enc.set(context, e);
    return e;
  }

  /**
   * Caches a key fetched for decryption of `blob`. When the store holds the same key for that
   * blob already, the provider confirmed it again: the existing entry (and the cipher state
   * prepared on its shared key) is kept and its decryption lifetime restarted. Its encryption
   * lifetime is not, so that a key never encrypts longer than `maxAge` after it was created.
   * @param shared - The key and its destroy function, owned by the store from now on (destroyed
   *   when it is a confirmation).
   * @param blob - Our copy of the blob it unwraps.
   * @param started - When it was requested from the provider.
   * @returns The entry that now serves `blob`.
   */
  addDec(shared: SharedDataKeyHandle, blob: Uint8Array, started: number): Entry {
    const old = this.dec.get(blob);
    if (old !== undefined && !old.shared.destroyed && sameKey(old.shared, shared.shared)) {
      shared.destroy();
      const o = this.#o;
      old.renew(Math.max(old.created, started), o.maxAge, o.staleIfError, o.refreshAhead);
      this.lists.reorder(old);
      this.lists.touch(old);
      this.#arm();
      return old;
    }
    const e = this.#newEntry(shared, blob, started);
    this.#insert(e);
    return e;
  }

  /** Drops and zeroes every entry, and stops the timer. Keys fetched meanwhile are not cached. */
  clear(): void {
    this.generation++;
    for (let e = this.lists.lruHead; e !== undefined; ) {
      const next = e.lruNext;
      e.lruPrev = e.lruNext = e.agePrev = e.ageNext = e.nextSame = undefined;
      e.encContext = undefined;
      e.destroy();
      e = next;
    }
    this.lists.clear();
    this.enc.clear();
    this.dec.clear();
    this.#disarm();
  }

  #newEntry(shared: SharedDataKeyHandle, blob: Uint8Array, started: number): Entry {
    const e = new Entry(shared, blob);
    const o = this.#o;
    e.stamp(started, o.maxAge, o.staleIfError, o.refreshAhead);
    return e;
  }

  /** Adds a new entry, replacing one with the same blob, then evicts down to capacity. */
  #insert(e: Entry): void {
    const old = this.dec.get(e.blob);
    if (old !== undefined) this.#remove(old);
    this.dec.set(e);
    this.lists.add(e);
    while (this.lists.size > this.#o.capacity) {
      this.#remove(this.lists.lruHead!);
      this.evictions++;
    }
    this.#arm();
  }

  /** Removes `e` from every index and zeroes its key. */
  #remove(e: Entry): void {
    this.dec.delete(e);
    this.retire(e);
    this.lists.remove(e);
    e.destroy();
  }

  /** Drops (and zeroes) every entry whose deadline has passed. */
  #sweep(now: number): void {
    for (let e = this.lists.ageHead; e !== undefined && now > e.deadline; e = this.lists.ageHead) {
      this.#remove(e);
      this.expirations++;
    }
    this.#arm();
  }

  /** Sets the expiry timer for the earliest deadline, if it is not set for it already. */
  #arm(): void {
    if (!this.#o.timed) return;
    const head = this.lists.ageHead;
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
}
