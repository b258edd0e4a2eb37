/**
 * A provider call in flight, shared by every caller that asks for the same key meanwhile, and
 * the per-caller wait that an AbortSignal can end without ending the call.
 * @module
 */
import { type DataKey, makeDataKey, SharedDataKey, type SharedDataKeyHandle } from '@vault-envelope/core';
import type { BlobKeyed } from './_blob-map.js';
import type { Entry } from './_entry.js';

/** How a flight ended. It never rejects: errors are values, so that no rejection goes unhandled. */
export type Outcome =
  | { ok: true; entry: Entry }
  /** A key that was not cached (the cache was cleared meanwhile): each waiter gets its own copy. */
  | { ok: true; entry?: undefined; uncached: SharedDataKeyHandle }
  | { ok: false; error: unknown };

/** One provider call and its waiters. */
export class Flight implements BlobKeyed<Flight> {
  /** Aborted only by `close()`: a caller's abort never ends a call others may be waiting for. */
  readonly controller: AbortController = new AbortController();
  /** When the call started: the key's age counts from here. */
  readonly started: number;
  /** The cache generation at the start; a `clear()` since means the result is not cached. */
  readonly generation: number;
  /** Decrypt side: the blob asked for (our copy). Encrypt side: empty. */
  readonly blob: Uint8Array;
  nextSame: Flight | undefined = undefined;
  /**
   * Encrypt side: `retire()` ran while the call was in flight, so its key serves decryption only
   * (the callers waiting now still get it).
   */
  retired = false;
  /** Usage reserved by the callers waiting (encrypt side). */
  messages = 0;
  bytes = 0;
  /** Callers that joined and have not yet been given the outcome. */
  waiters = 0;
  promise!: Promise<Outcome>;

  constructor(started: number, generation: number, blob: Uint8Array) {
    this.started = started;
    this.generation = generation;
    this.blob = blob;
  }
}

/** A caller's own copy of an uncached key (the caller owns it and may zero it). */
export function ownedCopy(shared: SharedDataKey): DataKey {
  return makeDataKey({
    id: shared.id,
    key: shared.key,
    encryptedKeys: shared.encryptedKeys,
    context: shared.context,
  });
}

/**
 * Waits for `p`, or rejects with `signal.reason` as soon as `signal` aborts. The shared call goes
 * on; if it later yields a key this caller owned (not a shared one), that key is zeroed.
 */
export function abortable(p: Promise<DataKey>, signal: AbortSignal): Promise<DataKey> {
  return new Promise<DataKey>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (dk) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted && !(dk instanceof SharedDataKey)) dk.key.fill(0);
        else resolve(dk);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
