/**
 * Batches: many items, one key request per group of items that share a key, results in input
 * order, and one item's failure confined to that item (a key-service failure to its group).
 *
 * {@link runBatch} is the one shape both directions share: check each item and group it, lease
 * each group's key, seal or open each item under it, give the key back, and let the direction
 * clean up after every item (encryption zeroes the plaintext bytes it made). {@link sealBatch}
 * groups by canonical key context and asks `createDataKey` once per group with the group's total
 * usage; {@link openBatch} groups by the exact wrapped key and asks `decryptDataKey` once per
 * group. Batches are not the hot path: clarity over the last closure.
 * @module
 */
import { encodeBase64 } from './_bytes.js';
import { plainBytes } from './_gcm.js';
import type { KeyBlobHeaders } from './_key-blob.js';
import {
  aplaintextFitsInText,
  keyOptions,
  type PlaintextBytes,
  plaintextBytes,
  requestAad,
  signalOptions,
} from './_request.js';
import { DESTROYED_RETRIES, isAlive, type KeyLease, type Sealer } from './_sealer.js';
import { aobject, kindOf } from './assert.js';
import { KeyDestroyedError } from './errors.js';
import { type CiphertextFormat, type CiphertextParts, ciphertextBytes, parseWith } from './format.js';
import { canonicalContext, type KeyContext, type KeyProvider, validateKeyContext } from './keys.js';
import type { BatchResult } from './types.js';

/** What the Envelope's options decide about a batch. */
export interface BatchPolicy {
  /** An item without a tenant fails (the field helpers, which bind the tenant themselves, pass false). */
  requireTenant: boolean;
  /** The key-blob headers known for layout detection and the .NET variant. */
  headers: KeyBlobHeaders;
  /**
   * How messages name part `part` of item `index` (default `items[index].part`): the field
   * helpers name the field instead, since their callers never passed an array of items.
   */
  itemTitle?: (index: number, part: 'plaintext' | 'ciphertext' | 'aad' | 'tenant' | 'context') => string;
}

function titler(
  policy: BatchPolicy,
): (index: number, part: 'plaintext' | 'ciphertext' | 'aad' | 'tenant' | 'context') => string {
  return policy.itemTitle ?? ((i, part) => `items[${i}].${part}`);
}

/** One direction of a batch, as {@link runBatch} drives it. */
interface BatchWork<T, R> {
  /**
   * Checks item `index`; returns what to keep of it and the id of the key request it shares.
   * Throws to fail that item alone.
   */
  plan(item: unknown, index: number): { group: string; entry: T };
  /**
   * Fetches and leases the key of a group, from its entries (in input order; never empty);
   * `attempt` counts the fetches made for it so far (see {@link Sealer.lease}).
   */
  lease(entries: readonly T[], attempt: number): Promise<KeyLease>;
  /**
   * Seals or opens one entry under the leased key (a promise for the backend's asynchronous
   * side). Throws or rejects to fail that item alone.
   */
  run(lease: KeyLease, entry: T): R | Promise<R>;
  /** Runs for every planned entry once its group is done, whatever happened. */
  settle?(entry: T): void;
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/**
 * Checks the arguments every batch method takes.
 * @throws TypeError when `items` is not an array or `options` not an object.
 */
function checkBatch(items: unknown, options: unknown): asserts items is readonly unknown[] {
  if (!Array.isArray(items)) throw new TypeError(`items must be an array, got ${kindOf(items)}`);
  aobject(options, 'batch options');
}

/** The entries of one group and the input positions they came from. */
interface Group<T> {
  indexes: number[];
  entries: T[];
}

/** Groups the items, runs every group concurrently, and returns one result per item. */
async function runBatch<T, R>(items: readonly unknown[], work: BatchWork<T, R>): Promise<BatchResult<R>[]> {
  const results: BatchResult<R>[] = new Array(items.length);
  const groups = new Map<string, Group<T>>();
  for (let i = 0; i < items.length; i++) {
    let planned: { group: string; entry: T };
    try {
      planned = work.plan(items[i], i);
    } catch (error) {
      results[i] = { ok: false, error: asError(error) };
      continue;
    }
    let g = groups.get(planned.group);
    if (g === undefined) {
      g = { indexes: [], entries: [] };
      groups.set(planned.group, g);
    }
    g.indexes.push(i);
    g.entries.push(planned.entry);
  }
  await Promise.all([...groups.values()].map((g) => runGroup(g, work, results)));
  return results;
}

async function runGroup<T, R>(g: Group<T>, work: BatchWork<T, R>, results: BatchResult<R>[]): Promise<void> {
  try {
    let lease: KeyLease;
    try {
      lease = await work.lease(g.entries, 0);
      // The key's owner may have destroyed it at that `await`, prepared state and all (a fast or
      // portable key zeroed): checked in the synchronous stretch that runs the items below, and
      // asked for again if so, within the same retry limit.
      while (!isAlive(lease.dataKey)) {
        lease.release();
        if (lease.attempt >= DESTROYED_RETRIES) throw new KeyDestroyedError();
        lease = await work.lease(g.entries, lease.attempt + 1);
      }
    } catch (error) {
      const e = asError(error);
      for (const i of g.indexes) results[i] = { ok: false, error: e };
      return;
    }
    try {
      // Items for a backend's asynchronous side run concurrently; the key is given back once
      // every one of them has settled.
      const pending: Promise<void>[] = [];
      for (let j = 0; j < g.entries.length; j++) {
        const index = g.indexes[j]!;
        try {
          const value = work.run(lease, g.entries[j]!);
          if (value instanceof Promise) {
            pending.push(
              value.then(
                (v: R) => {
                  results[index] = { ok: true, value: v };
                },
                (error: unknown) => {
                  results[index] = { ok: false, error: asError(error) };
                },
              ),
            );
          } else results[index] = { ok: true, value };
        } catch (error) {
          results[index] = { ok: false, error: asError(error) };
        }
      }
      if (pending.length > 0) await Promise.all(pending);
    } finally {
      lease.release();
    }
  } finally {
    if (work.settle !== undefined) for (const entry of g.entries) work.settle(entry);
  }
}

/** What an encryption batch keeps of an item. */
interface SealEntry extends PlaintextBytes {
  context: KeyContext;
  aad: Uint8Array | undefined;
}

/**
 * Encrypts a batch into format A messages: one `createDataKey` per distinct key context, with the
 * group's total usage.
 * @param text - The messages will be returned as base64: an item too large for the runtime's
 *   longest string fails alone, before its group's key is asked for.
 * @throws TypeError (as a rejection) when `items` is not an array or `options` not an object.
 */
export async function sealBatch(
  sealer: Sealer,
  keys: Pick<KeyProvider, 'createDataKey'>,
  items: unknown,
  options: { signal?: AbortSignal },
  policy: BatchPolicy,
  text = false,
): Promise<BatchResult<Uint8Array>[]> {
  checkBatch(items, options);
  const signal = options.signal;
  const title = titler(policy);
  return runBatch<SealEntry, Uint8Array>(items, {
    plan(item, i) {
      const it = aobject(item, `items[${i}]`);
      const context = validateKeyContext(it.context, title(i, 'context'));
      const aad = requestAad(it.aad, it.tenant, policy.requireTenant, title(i, 'aad'), title(i, 'tenant'));
      const { bytes, length, owned } = plaintextBytes(it.plaintext, title(i, 'plaintext'));
      if (text) aplaintextFitsInText(length, `items[${i}] output`, 'encryptManyToBytes');
      return { group: canonicalContext(context), entry: { context, aad, bytes, length, owned } };
    },
    lease(entries, attempt) {
      let bytes = 0;
      for (const e of entries) bytes += e.length;
      const opts = keyOptions(signal, { messages: entries.length, bytes });
      // The first item's context stands for the group: they are equal up to key order.
      return sealer.lease(() => keys.createDataKey(entries[0]!.context, opts), attempt);
    },
    run: (lease, e) =>
      sealer.isAsync(e.length)
        ? sealer.sealAsync(lease.dataKey, lease.prepared, e.bytes, e.length, e.aad, false)
        : sealer.seal(lease.dataKey, lease.prepared, e.bytes, e.length, e.aad, false),
    settle(e) {
      if (e.owned) e.bytes.fill(0);
    },
  });
}

/** What a decryption batch keeps of an item. */
interface OpenEntry {
  parts: CiphertextParts;
  aad: Uint8Array | undefined;
}

/**
 * Decrypts a batch: one `decryptDataKey` per distinct wrapped key; a malformed or unauthentic item
 * fails alone.
 * @throws TypeError (as a rejection) when `items` is not an array or `options` not an object.
 */
export async function openBatch(
  sealer: Sealer,
  keys: Pick<KeyProvider, 'decryptDataKey'>,
  items: unknown,
  options: { signal?: AbortSignal },
  policy: BatchPolicy,
): Promise<BatchResult<Uint8Array>[]> {
  checkBatch(items, options);
  const keyOpts = signalOptions(options.signal);
  const title = titler(policy);
  return runBatch<OpenEntry, Uint8Array>(items, {
    plan(item, i) {
      const it = aobject(item, `items[${i}]`);
      const aad = requestAad(it.aad, it.tenant, policy.requireTenant, title(i, 'aad'), title(i, 'tenant'));
      const bytes = ciphertextBytes(it.ciphertext as string | Uint8Array, title(i, 'ciphertext'));
      const parts = parseWith(bytes, it.format as CiphertextFormat | undefined, policy.headers);
      return { group: encodeBase64(parts.encryptedKeys), entry: { parts, aad } };
    },
    // The provider gets the key blob in memory of its own, not a view into a decoded message
    // (which for base64 input lives in Node's shared Buffer pool); for the .NET variant, the
    // decoded blob.
    lease: (entries, attempt) =>
      sealer.lease(
        () => keys.decryptDataKey(policy.headers.providerBlob(entries[0]!.parts.encryptedKeys), keyOpts),
        attempt,
      ),
    run: (lease, e) =>
      sealer.isAsync(e.parts.ciphertext.length)
        ? sealer.openAsync(lease.prepared, e.parts, e.aad)
        : plainBytes(sealer.open(lease.prepared, e.parts, e.aad)),
  });
}
