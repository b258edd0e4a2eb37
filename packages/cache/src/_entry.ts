/**
 * A cached data key and the two intrusive lists that order the cache: least recently used
 * first (for capacity eviction) and soonest deadline first (for expiry, so a sweep only looks at
 * the head).
 * @module
 */
import type { KeyContext, SharedDataKey, SharedDataKeyHandle } from '@vault-envelope/core';
import type { BlobKeyed } from './_blob-map.js';

/** One cached data key. */
export class Entry implements BlobKeyed<Entry> {
  /** The key callers get: frozen, copies out, not destroyable through itself. */
  readonly shared: SharedDataKey;
  /** Zeroes `shared`: the cache's own capability, never handed to a caller. Idempotent. */
  readonly destroy: () => void;
  /** An already-resolved promise of `shared`, returned on every hit (no allocation per hit). */
  readonly resolved: Promise<SharedDataKey>;
  /** Our copy of the wrapped key: the decrypt-side key. */
  readonly blob: Uint8Array;
  nextSame: Entry | undefined = undefined;
  /** The context the key serves encryption for; undefined once retired from encryption. */
  encContext: KeyContext | undefined = undefined;
  /** When the key was last requested from (or confirmed by) the provider. */
  created = 0;
  /** Last instant it may be served for decryption: `created + maxAge`. */
  expires = 0;
  /** Last instant it is kept (as a stale fallback): `expires + staleIfError`. */
  deadline = 0;
  /** From this instant a decrypt hit starts a background refresh (Infinity when off). */
  refreshAt: number = Number.POSITIVE_INFINITY;
  /**
   * Last instant it may be served for encryption: `maxAge` after the first request, never
   * extended (a confirmation by `decryptDataKey` renews decryption only).
   */
  encExpires = 0;
  /** From this instant an encrypt hit starts a background refresh (Infinity when off). */
  encRefreshAt: number = Number.POSITIVE_INFINITY;
  /** Messages and bytes counted against the encryption limits. */
  messages = 0;
  bytes = 0;
  lruPrev: Entry | undefined = undefined;
  lruNext: Entry | undefined = undefined;
  agePrev: Entry | undefined = undefined;
  ageNext: Entry | undefined = undefined;

  constructor(key: SharedDataKeyHandle, blob: Uint8Array) {
    this.shared = key.shared;
    this.destroy = key.destroy;
    this.resolved = Promise.resolve(key.shared);
    this.blob = blob;
  }

  /** Sets both lifetimes from `created`, the moment the key was requested. */
  stamp(created: number, maxAge: number, staleIfError: number, refreshAhead: number): void {
    this.renew(created, maxAge, staleIfError, refreshAhead);
    this.encExpires = this.expires;
    this.encRefreshAt = this.refreshAt;
  }

  /** Restarts the decryption lifetime from `created` (the provider confirmed the key again). */
  renew(created: number, maxAge: number, staleIfError: number, refreshAhead: number): void {
    this.created = created;
    this.expires = created + maxAge;
    this.deadline = this.expires + staleIfError;
    this.refreshAt = refreshAhead > 0 ? this.expires - refreshAhead : Number.POSITIVE_INFINITY;
  }
}

/** The LRU and deadline orders of the cached entries. */
export class EntryLists {
  size = 0;
  lruHead: Entry | undefined = undefined;
  lruTail: Entry | undefined = undefined;
  ageHead: Entry | undefined = undefined;
  ageTail: Entry | undefined = undefined;

  /** Adds a new entry as the most recently used, in deadline order. */
  add(e: Entry): void {
    this.size++;
    this.#lruAppend(e);
    this.#ageInsert(e);
  }

  /** Marks `e` as the most recently used. */
  touch(e: Entry): void {
    if (e === this.lruTail) return;
    this.#lruUnlink(e);
    this.#lruAppend(e);
  }

  /** Moves `e` to its place after its deadline changed. */
  reorder(e: Entry): void {
    this.#ageUnlink(e);
    this.#ageInsert(e);
  }

  /** Unlinks `e` from both lists. */
  remove(e: Entry): void {
    this.size--;
    this.#lruUnlink(e);
    this.#ageUnlink(e);
  }

  /** Forgets every entry (the caller destroys them). */
  clear(): void {
    this.size = 0;
    this.lruHead = this.lruTail = this.ageHead = this.ageTail = undefined;
  }

  #lruAppend(e: Entry): void {
    e.lruPrev = this.lruTail;
    e.lruNext = undefined;
    if (this.lruTail === undefined) this.lruHead = e;
    else this.lruTail.lruNext = e;
    this.lruTail = e;
  }

  #lruUnlink(e: Entry): void {
    if (e.lruPrev === undefined) this.lruHead = e.lruNext;
    else e.lruPrev.lruNext = e.lruNext;
    if (e.lruNext === undefined) this.lruTail = e.lruPrev;
    else e.lruNext.lruPrev = e.lruPrev;
    e.lruPrev = e.lruNext = undefined;
  }

  /** Inserts by deadline, scanning from the tail: entries mostly arrive in deadline order. */
  #ageInsert(e: Entry): void {
    let p = this.ageTail;
    while (p !== undefined && p.deadline > e.deadline) p = p.agePrev;
    e.agePrev = p;
    e.ageNext = p === undefined ? this.ageHead : p.ageNext;
    if (e.ageNext === undefined) this.ageTail = e;
    else e.ageNext.agePrev = e;
    if (p === undefined) this.ageHead = e;
    else p.ageNext = e;
  }

  #ageUnlink(e: Entry): void {
    if (e.agePrev === undefined) this.ageHead = e.ageNext;
    else e.agePrev.ageNext = e.ageNext;
    if (e.ageNext === undefined) this.ageTail = e.agePrev;
    else e.ageNext.agePrev = e.agePrev;
    e.agePrev = e.ageNext = undefined;
  }
}
