/**
 * The key hierarchy of the server: master key → one key-encryption key (KEK) per key-context
 * entry → data keys. A KEK is created on first use of its entry (insert-or-get, so two processes
 * on one file agree on it), stored wrapped under the master key, and kept unwrapped in memory
 * after first use, so issuing and unwrapping data keys does no disk I/O on the hot path. An empty context `{}` uses one environment-wide default KEK (the
 * reserved entry `"" = ""`, which no real context can name: entry names must be non-empty).
 *
 * A data key is wrapped once under each KEK of its context (see `_blob.ts`); unwrapping tries the
 * copies in order and takes the first that opens.
 * @module
 */
import {
  canonicalContext,
  type DataKey,
  type KeyContext,
  type KeyProvider,
  KeyProviderError,
  makeDataKey,
  type PreparedKey,
  validateKeyContext,
} from '@vault-envelope/core';
import { copyAad, encodeBlob, parseBlob, WRAPPED_LENGTH } from './_blob.js';
import { open, prepareKey, random, sealInto, utf8, uuid } from './_crypto.js';
import type { Db } from './_db.js';

/** An unwrapped KEK in memory. */
interface Kek {
  id: string;
  entry: string;
  key: PreparedKey;
}

/** A data key as the key routes hand it out. The caller owns `key` and zeroes it. */
export interface IssuedKey {
  id: string;
  key: Uint8Array;
  encryptedKeys: Uint8Array;
}

/** How many unwrapped KEKs stay in memory; the oldest is zeroed and dropped past this. */
const KEK_CACHE_SIZE = 10_000;

/**
 * The in-memory key of one context entry: JSON of the pair, so that no two entries share it
 * (joining them with a separator would let `{"a\0b": "c"}` and `{"a": "b\0c"}` meet, and which
 * KEK a context got would depend on what the process had seen before).
 */
function entryKey(name: string, value: string): string {
  return JSON.stringify([name, value]);
}

/**
 * The AAD binding a wrapped KEK to its id and entry. Kept as first written, so that existing
 * data directories open: the id is unique per row and the entry is stored next to it in two
 * columns, and names and values can no longer hold a NUL (the text rules of the routes), so the
 * separator is unambiguous for every KEK created since.
 */
function kekAad(id: string, name: string, value: string): Uint8Array {
  return utf8(`kek\0${id}\0${name}\0${value}`);
}

/**
 * Whether `master` is the key the stored KEKs were wrapped under: true when one of the first few
 * opens (one damaged row does not condemn a right key), false when none does, `undefined` when
 * there are no KEKs to tell by.
 * @param db - The open database.
 * @param master - The prepared master key.
 * @returns The verdict.
 */
export function masterOpensKeks(db: Db, master: PreparedKey): boolean | undefined {
  const rows = db.prepare('SELECT id, entry_name, entry_value, wrapped FROM keks LIMIT 8').all() as {
    id: string;
    entry_name: string;
    entry_value: string;
    wrapped: Uint8Array;
  }[];
  if (rows.length === 0) return undefined;
  for (const r of rows) {
    try {
      open(master, r.wrapped, kekAad(r.id, r.entry_name, r.entry_value)).fill(0);
      return true;
    } catch {
      // Not under this key (or this row is damaged): try the next.
    }
  }
  return false;
}

/** The entries of a context whose KEKs wrap its data keys, in canonical (sorted) order. */
function contextEntries(context: KeyContext): [string, string][] {
  const entries = JSON.parse(canonicalContext(context)) as [string, string][];
  return entries.length === 0 ? [['', '']] : entries;
}

/**
 * Issues and unwraps data keys. Also a {@link KeyProvider}, so that an `Envelope` can encrypt
 * stored object values under it.
 */
export class Keyring implements KeyProvider {
  readonly #master: PreparedKey;
  readonly #byEntry = new Map<string, Kek>();
  readonly #byId = new Map<string, Kek>();
  readonly #insert;
  readonly #selectByEntry;
  readonly #selectById;
  readonly #now: () => number;

  /**
   * @param db - The open database (its `keks` table).
   * @param master - The prepared master key; the keyring destroys it on {@link Keyring.close}.
   * @param now - Clock of the KEKs' creation times.
   */
  constructor(db: Db, master: PreparedKey, now: () => number = Date.now) {
    this.#master = master;
    this.#now = now;
    // Insert-or-get: another server process on the same file may create the entry's KEK between
    // our look-up and our insert; then ours is dropped and theirs is read back.
    this.#insert = db.prepare(
      'INSERT INTO keks (id, entry_name, entry_value, wrapped, created_at) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT (entry_name, entry_value) DO NOTHING',
    );
    this.#selectByEntry = db.prepare('SELECT id, wrapped FROM keks WHERE entry_name = ? AND entry_value = ?');
    this.#selectById = db.prepare('SELECT entry_name, entry_value, wrapped FROM keks WHERE id = ?');
  }

  #remember(kek: Kek): Kek {
    if (this.#byId.size >= KEK_CACHE_SIZE) {
      const oldest = this.#byId.values().next().value as Kek;
      this.#byId.delete(oldest.id);
      this.#byEntry.delete(oldest.entry);
      oldest.key.destroy();
    }
    this.#byId.set(kek.id, kek);
    this.#byEntry.set(kek.entry, kek);
    return kek;
  }

  #unwrapKek(id: string, name: string, value: string, wrapped: Uint8Array): Kek {
    const raw = open(this.#master, wrapped, kekAad(id, name, value));
    try {
      return this.#remember({ id, entry: entryKey(name, value), key: prepareKey(raw) });
    } finally {
      raw.fill(0);
    }
  }

  #stored(name: string, value: string): Kek | undefined {
    const row = this.#selectByEntry.get(name, value) as { id: string; wrapped: Uint8Array } | undefined;
    return row === undefined ? undefined : this.#unwrapKek(row.id, name, value, row.wrapped);
  }

  /** The KEK of one context entry, created on first use. */
  #kekFor(name: string, value: string): Kek {
    const cached = this.#byEntry.get(entryKey(name, value));
    if (cached !== undefined) return cached;
    const stored = this.#stored(name, value);
    if (stored !== undefined) return stored;
    const id = `kek_${uuid()}`;
    const raw = random(32);
    try {
      const wrapped = new Uint8Array(WRAPPED_LENGTH);
      sealInto(this.#master, raw, kekAad(id, name, value), wrapped, 0);
      const { changes } = this.#insert.run(id, name, value, wrapped, new Date(this.#now()).toISOString());
      if (changes === 1) return this.#remember({ id, entry: entryKey(name, value), key: prepareKey(raw) });
    } finally {
      raw.fill(0);
    }
    // Another writer won: use its KEK, as every later look-up will.
    const winner = this.#stored(name, value);
    if (winner === undefined) throw new Error('a key-encryption key was neither inserted nor found');
    return winner;
  }

  /** The KEK with this id, if it exists and opens under the master key. */
  #kekById(id: string): Kek | undefined {
    const cached = this.#byId.get(id);
    if (cached !== undefined) return cached;
    const row = this.#selectById.get(id) as
      | { entry_name: string; entry_value: string; wrapped: Uint8Array }
      | undefined;
    if (row === undefined) return undefined;
    try {
      return this.#unwrapKek(id, row.entry_name, row.entry_value, row.wrapped);
    } catch {
      return undefined;
    }
  }

  #wrap(id: string, key: Uint8Array, context: KeyContext): Uint8Array {
    const keks = contextEntries(context).map(([name, value]) => this.#kekFor(name, value));
    return encodeBlob(
      id,
      keks.map((k) => k.id),
      (i, out, offset) => sealInto(keks[i]!.key, key, copyAad(id, keks[i]!.id), out, offset),
    );
  }

  /**
   * Creates a data key for `context` (already validated).
   * @returns The key; the caller owns `key` and zeroes it when done.
   */
  issue(context: KeyContext): IssuedKey {
    const id = uuid();
    const key = random(32);
    try {
      return { id, key, encryptedKeys: this.#wrap(id, key, context) };
    } catch (e) {
      key.fill(0);
      throw e;
    }
  }

  /**
   * Unwraps a blob with the first copy whose KEK opens it.
   * @returns The data key, or `undefined` for a foreign, malformed or tampered blob. Never throws.
   */
  unwrap(encryptedKeys: Uint8Array): { id: string; key: Uint8Array } | undefined {
    const blob = parseBlob(encryptedKeys);
    if (blob === undefined) return undefined;
    for (const copy of blob.copies) {
      const kek = this.#kekById(copy.kekId);
      if (kek === undefined) continue;
      try {
        return { id: blob.id, key: open(kek.key, copy.wrapped, copyAad(blob.id, copy.kekId)) };
      } catch {
        // A tampered copy: try the next one.
      }
    }
    return undefined;
  }

  /**
   * Rewraps the data key of `encryptedKeys` under the KEKs of `context` (validated). The key and
   * its id are unchanged; only the wrapping is new.
   * @returns The rewrapped key, or `undefined` when the blob does not unwrap.
   */
  rewrap(encryptedKeys: Uint8Array, context: KeyContext): IssuedKey | undefined {
    const dk = this.unwrap(encryptedKeys);
    if (dk === undefined) return undefined;
    try {
      return { id: dk.id, key: dk.key, encryptedKeys: this.#wrap(dk.id, dk.key, context) };
    } catch (e) {
      dk.key.fill(0);
      throw e;
    }
  }

  /** KeyProvider: a data key for `context`. */
  async createDataKey(context: KeyContext): Promise<DataKey> {
    validateKeyContext(context);
    const k = this.issue(context);
    return makeDataKey({ ...k, context });
  }

  /**
   * KeyProvider: unwraps a blob this keyring issued.
   * @throws KeyProviderError (from core) when the blob does not unwrap: the stored value's key
   *   material is damaged, or its key-encryption key is gone or no longer opens.
   */
  async decryptDataKey(encryptedKeys: Uint8Array): Promise<DataKey> {
    const k = this.unwrap(encryptedKeys);
    if (k === undefined) throw new KeyProviderError('the stored key blob does not unwrap');
    return makeDataKey({ id: k.id, key: k.key, encryptedKeys });
  }

  /** Zeroes every KEK in memory and the master key. */
  close(): void {
    for (const kek of this.#byId.values()) kek.key.destroy();
    this.#byId.clear();
    this.#byEntry.clear();
    this.#master.destroy();
  }
}
