/**
 * {@link Envelope}: envelope encryption with AES-256-GCM under data keys from a
 * {@link KeyProvider}, writing the WorkOS format A and reading A, legacy and B.
 *
 * One `createDataKey` call per encryption and one `decryptDataKey` call per decryption (a batch:
 * one per distinct context or wrapped key); whether a key is reused is the provider's decision,
 * which is what `@vault-envelope/cache` is for.
 * @module
 */

import { encodeBase64, fromUtf8, utf8, utf8Into, utf8Length } from './_bytes.js';
import { type AeadBackend, type BackendChoice, type PreparedKey, selectBackend } from './aead.js';
import { aobject, astringOrBytes, copyBytes, isBytes } from './assert.js';
import { FormatError, KeyDestroyedError, KeyProviderError } from './errors.js';
import {
  type CiphertextFormat,
  type CiphertextParts,
  ciphertextBytes,
  headerLengthA,
  IV_LENGTH,
  MAX_PLAINTEXT_LENGTH,
  parseCiphertext,
  TAG_LENGTH,
} from './format.js';
import {
  type CreateDataKeyOptions,
  canonicalContext,
  checkDataKey,
  type DataKey,
  type KeyContext,
  type KeyProvider,
  type KeyRequestOptions,
  SharedDataKey,
  validateKeyContext,
} from './keys.js';
import { writeLeb128u32 } from './leb128.js';

/** Associated data: a UTF-8 string or bytes. None and empty are the same to AES-GCM. */
export type Aad = string | Uint8Array;

/** Options of {@link Envelope}. */
export interface EnvelopeOptions {
  /** Where data keys come from: a `VaultClient`, a `cachedKeyProvider(...)`, a `MemoryKeyProvider`. */
  keys: KeyProvider;
  /**
   * The AES-GCM implementation.
   * @default 'auto' (node:crypto where the runtime has it, else @noble/ciphers)
   */
  backend?: BackendChoice;
}

/** Options of {@link Envelope.encrypt}. */
export interface EncryptOptions {
  /** The key context the data key is created under. */
  context: KeyContext;
  /** Associated data the ciphertext is bound to; decryption must present the same. */
  aad?: Aad;
  /** Aborts the key request. */
  signal?: AbortSignal;
}

/** Options of {@link Envelope.decrypt}. */
export interface DecryptOptions {
  /** The associated data given at encryption. */
  aad?: Aad;
  /** Force a layout instead of detecting it. */
  format?: CiphertextFormat;
  /** Aborts the key request. */
  signal?: AbortSignal;
}

/** The outcome of one item of a batch call. */
export type BatchResult<T> = { ok: true; value: T } | { ok: false; error: Error };

/** One item of {@link Envelope.encryptMany}. */
export interface EncryptItem {
  plaintext: string | Uint8Array;
  context: KeyContext;
  aad?: Aad;
}

/** One item of {@link Envelope.decryptMany}. */
export interface DecryptItem {
  ciphertext: string | Uint8Array;
  aad?: Aad;
  format?: CiphertextFormat;
}

/** Options of the field helpers. */
export interface FieldOptions<K extends string> {
  /** Names of the fields to encrypt or decrypt. `null` and `undefined` values are left as they are. */
  fields: readonly K[];
  /** The record's identity (a primary key): bound into each field's AAD. */
  id: string | number | bigint;
  /**
   * A name for the record's kind (a table, a collection), also bound into the AAD so that a value
   * can not move between tables that share ids.
   */
  namespace?: string;
  /** Overrides the AAD of a field. @default {@link fieldAad}(id, field, namespace) */
  aad?: (field: K, id: string) => Aad;
  /** Aborts the key request. */
  signal?: AbortSignal;
}

/** The values of the named fields become strings (ciphertext or plaintext). */
export type WithStringFields<T, K extends keyof T> = Omit<T, K> & {
  [P in K]: string | Extract<T[P], null | undefined>;
};

/**
 * The default AAD of a record field: JSON of `[namespace?, id, field]`, e.g. `["users","42","ssn"]`.
 * Unambiguous for any id and field (JSON escapes every separator), and stable, so other code can
 * compute it.
 * @param id - The record id.
 * @param field - The field name.
 * @param namespace - The record kind, if any.
 * @returns The AAD string.
 * @example
 * ```ts
 * fieldAad(42, 'ssn', 'users'); // '["users","42","ssn"]'
 * ```
 */
export function fieldAad(id: string | number | bigint, field: string, namespace?: string): string {
  const idStr = String(id);
  return JSON.stringify(namespace === undefined ? [idStr, field] : [namespace, idStr, field]);
}

function toAad(aad: unknown): Uint8Array | undefined {
  if (aad === undefined) return undefined;
  if (typeof aad === 'string') return aad.length === 0 ? undefined : utf8(aad);
  if (isBytes(aad)) return aad;
  throw new TypeError(`aad must be a string or a Uint8Array, got ${aad === null ? 'null' : typeof aad}`);
}

function keyOptions(
  signal: AbortSignal | undefined,
  usage?: { messages: number; bytes: number },
): CreateDataKeyOptions {
  const o: CreateDataKeyOptions = {};
  if (signal !== undefined) o.signal = signal;
  if (usage !== undefined) o.usage = usage;
  return o;
}

function decryptKeyOptions(signal: AbortSignal | undefined): KeyRequestOptions {
  return signal === undefined ? {} : { signal };
}

/** The UTF-8 length of a plaintext, checked against the GCM limit, without encoding it. */
function plaintextLength(plaintext: unknown): number {
  astringOrBytes(plaintext, 'plaintext');
  const n = typeof plaintext === 'string' ? utf8Length(plaintext) : (plaintext as Uint8Array).length;
  if (n > MAX_PLAINTEXT_LENGTH) {
    throw new RangeError(`plaintext is longer than the GCM limit of ${MAX_PLAINTEXT_LENGTH} bytes`);
  }
  return n;
}

/** Plaintext bytes, and whether we made them (and so must zero them). */
function plaintextBytes(plaintext: unknown): { bytes: Uint8Array; owned: boolean } {
  plaintextLength(plaintext);
  const owned = typeof plaintext === 'string';
  return { bytes: owned ? utf8(plaintext as string) : (plaintext as Uint8Array), owned };
}

/** A checked single-message encryption request. */
interface EncryptRequest {
  context: KeyContext;
  aad: Uint8Array | undefined;
  length: number;
  keyOptions: CreateDataKeyOptions;
}

function encryptRequest(plaintext: unknown, options: EncryptOptions): EncryptRequest {
  aobject(options, 'encrypt options');
  const context = validateKeyContext(options.context);
  const aad = toAad(options.aad);
  const length = plaintextLength(plaintext);
  return { context, aad, length, keyOptions: keyOptions(options.signal, { messages: 1, bytes: length }) };
}

const identity = <T>(x: T): T => x;

/** UTF-8 plaintext bytes to a string; the bytes are zeroed either way. */
function textOf(bytes: Uint8Array): string {
  try {
    return fromUtf8(bytes);
  } catch {
    throw new FormatError('the plaintext is not valid UTF-8; use decrypt() for binary data');
  } finally {
    bytes.fill(0);
  }
}

/**
 * Plaintexts and messages up to this many bytes are laid out in scratch buffers that each
 * Envelope keeps, instead of fresh allocations: the UTF-8 bytes of a string plaintext (zeroed
 * right after use) and, for the base64 methods, the binary message before it is encoded. Both
 * are filled and consumed within one synchronous stretch, so no other call can see them.
 */
const SCRATCH_SIZE = 16 * 1024;

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** Key material checked out for a batch: the prepared handle, and how to give it back. */
interface KeyLease {
  prepared: PreparedKey;
  dataKey: DataKey;
  release(): void;
}

/** How many times a key destroyed between lookup and use is looked up again. */
const DESTROYED_RETRIES = 3;

/**
 * Envelope encryption with AES-256-GCM under data keys from a {@link KeyProvider}.
 *
 * Writes the WorkOS format A (`IV ‖ TAG ‖ LEB128(len K) ‖ K ‖ CT`, base64), so every official
 * WorkOS SDK can decrypt what it writes, and reads format A, the legacy 32-byte-IV layout and
 * format B. Failed decryption is always the same {@link DecryptionError}; malformed input is a
 * {@link FormatError} raised before any key lookup.
 *
 * @example
 * ```ts
 * import { Envelope, MemoryKeyProvider } from '@vault-envelope/core';
 *
 * const envelope = new Envelope({ keys: new MemoryKeyProvider() });
 * const ct = await envelope.encrypt('123-45-6789', { context: { organization_id: 'org_1' }, aad: 'users/42/ssn' });
 * const ssn = await envelope.decryptToString(ct, { aad: 'users/42/ssn' });
 * ```
 */
export class Envelope {
  readonly #keys: KeyProvider;
  readonly #backend: AeadBackend;
  readonly #prepare: (key: Uint8Array) => PreparedKey;
  #plaintextScratch: Uint8Array | undefined;
  #messageScratch: Uint8Array | undefined;

  /**
   * @param options - `keys` (required), `backend` (default `'auto'`).
   * @throws TypeError when `keys` is not a KeyProvider or the backend is unknown or unavailable.
   */
  constructor(options: EnvelopeOptions) {
    aobject(options, 'Envelope options');
    const keys = options.keys;
    if (
      typeof keys !== 'object' ||
      keys === null ||
      typeof keys.createDataKey !== 'function' ||
      typeof keys.decryptDataKey !== 'function'
    ) {
      throw new TypeError('Envelope options.keys must be a KeyProvider (createDataKey and decryptDataKey)');
    }
    this.#keys = keys;
    this.#backend = selectBackend(options.backend ?? 'auto');
    const backend = this.#backend;
    this.#prepare = (key) => backend.prepare(key);
  }

  /** The name of the AES-GCM backend in use (`'fast'` or `'portable'`). */
  get backend(): string {
    return this.#backend.name;
  }

  /**
   * The prepared key for `dk`. A {@link SharedDataKey} keeps its prepared state; a plain DataKey
   * belongs to us (the KeyProvider contract): its bytes are zeroed here and the handle must be
   * destroyed after use ({@link Envelope.#release}).
   * @throws KeyDestroyedError when a shared key was destroyed; KeyProviderError on a malformed key.
   */
  #prepared(dk: DataKey): PreparedKey {
    if (dk instanceof SharedDataKey) return dk.prepared(this.#backend, this.#prepare);
    try {
      checkDataKey(dk);
    } catch (cause) {
      throw new KeyProviderError('the key provider returned a malformed data key', { cause });
    }
    // Read `key` once, since a provider may return a fresh copy on every read.
    const key = dk.key;
    try {
      return this.#backend.prepare(key);
    } finally {
      key.fill(0);
    }
  }

  #release(dk: DataKey, prepared: PreparedKey): void {
    if (!(dk instanceof SharedDataKey)) prepared.destroy();
  }

  /**
   * {@link Envelope.#prepared}, or `undefined` when a shared key was destroyed between lookup and
   * use and the caller may ask the provider again (`attempt` below {@link DESTROYED_RETRIES}).
   */
  #preparedOrRetry(dk: DataKey, attempt: number): PreparedKey | undefined {
    try {
      return this.#prepared(dk);
    } catch (e) {
      if (e instanceof KeyDestroyedError && attempt < DESTROYED_RETRIES) return undefined;
      throw e;
    }
  }

  /** Fetches a key and leases it (batches), asking again when a shared key was destroyed in between. */
  async #acquire(fetch: () => Promise<DataKey>): Promise<KeyLease> {
    for (let attempt = 0; ; attempt++) {
      const dataKey = await fetch();
      const prepared = this.#preparedOrRetry(dataKey, attempt);
      if (prepared !== undefined)
        return { prepared, dataKey, release: () => this.#release(dataKey, prepared) };
    }
  }

  /**
   * Lays out one format A message under a prepared key: `IV ‖ TAG ‖ LEB128(len K) ‖ K ‖ CT`,
   * written in place (the backend writes CT and TAG straight into the message).
   * @param length - The plaintext's UTF-8 length (from {@link plaintextLength}).
   * @param scratch - Build the message in the Envelope's scratch buffer (the caller encodes it
   *   before anything else can run); else in a new buffer the caller may keep.
   */
  #seal(
    dk: DataKey,
    prepared: PreparedKey,
    plaintext: string | Uint8Array,
    length: number,
    aad: Uint8Array | undefined,
    scratch: boolean,
  ): Uint8Array {
    const shared = dk instanceof SharedDataKey ? dk : undefined;
    const blob = shared === undefined ? dk.encryptedKeys : undefined;
    const kLen = shared !== undefined ? shared.encryptedKeysLength : blob!.length;
    const header = headerLengthA(kLen);
    const total = header + length;
    let out: Uint8Array;
    if (scratch && total <= SCRATCH_SIZE) {
      this.#messageScratch ??= new Uint8Array(SCRATCH_SIZE);
      out = this.#messageScratch.subarray(0, total);
    } else out = new Uint8Array(total);
    const backend = this.#backend;
    backend.fillIv(out, 0);
    const kAt = writeLeb128u32(kLen, out, IV_LENGTH + TAG_LENGTH);
    if (shared !== undefined) shared.copyEncryptedKeysInto(out, kAt);
    else out.set(blob!, kAt);
    const iv = out.subarray(0, IV_LENGTH);
    if (typeof plaintext !== 'string') {
      backend.encrypt(prepared, iv, plaintext, aad, out, header, IV_LENGTH);
      return out;
    }
    let pt: Uint8Array;
    if (length <= SCRATCH_SIZE) {
      this.#plaintextScratch ??= new Uint8Array(SCRATCH_SIZE);
      pt = this.#plaintextScratch.subarray(0, length);
    } else pt = new Uint8Array(length);
    try {
      // The length was taken from the same string, so the encoding fills `pt` exactly.
      if (utf8Into(plaintext, pt) !== length) throw new Error('UTF-8 length changed while encrypting');
      backend.encrypt(prepared, iv, pt, aad, out, header, IV_LENGTH);
    } finally {
      pt.fill(0);
    }
    return out;
  }

  #open(prepared: PreparedKey, parts: CiphertextParts, aad: Uint8Array | undefined): Uint8Array {
    return this.#backend.decrypt(prepared, parts.iv, parts.ciphertext, parts.tag, aad);
  }

  // The single-message methods are the hot path: one `await` (the provider call) each, no
  // closures per call, no intermediate copy of a string plaintext. The public methods return the
  // private async method's promise as it is, which costs no extra turn of the microtask queue.

  /** Encrypts one message and hands it to `finish` before anything else can run (see `scratch`). */
  async #encryptOne<T>(
    plaintext: string | Uint8Array,
    options: EncryptOptions,
    scratch: boolean,
    finish: (message: Uint8Array) => T,
  ): Promise<T> {
    const r = encryptRequest(plaintext, options);
    for (let attempt = 0; ; attempt++) {
      const dk = await this.#keys.createDataKey(r.context, r.keyOptions);
      const prepared = this.#preparedOrRetry(dk, attempt);
      if (prepared === undefined) continue;
      try {
        return finish(this.#seal(dk, prepared, plaintext, r.length, r.aad, scratch));
      } finally {
        this.#release(dk, prepared);
      }
    }
  }

  /** Decrypts one message and hands the plaintext to `finish`. */
  async #decryptOne<T>(
    ciphertext: string | Uint8Array,
    options: DecryptOptions,
    finish: (plaintext: Uint8Array) => T,
  ): Promise<T> {
    aobject(options, 'decrypt options');
    const aad = toAad(options.aad);
    const parts = parseCiphertext(ciphertextBytes(ciphertext), options.format);
    const keyOpts = decryptKeyOptions(options.signal);
    // The provider gets the key blob in memory of its own: `parts` are views into the decoded
    // message, which for base64 input lives in Node's shared Buffer pool (see ciphertextBytes),
    // and a view's `.buffer` would show the provider everything around it.
    const blob = copyBytes(parts.encryptedKeys);
    for (let attempt = 0; ; attempt++) {
      const dk = await this.#keys.decryptDataKey(blob, keyOpts);
      const prepared = this.#preparedOrRetry(dk, attempt);
      if (prepared === undefined) continue;
      let bytes: Uint8Array;
      try {
        bytes = this.#open(prepared, parts, aad);
      } finally {
        this.#release(dk, prepared);
      }
      return finish(bytes);
    }
  }

  /**
   * Encrypts into format A, base64.
   * @param plaintext - A string (encoded as UTF-8) or bytes; at most 2^36-32 bytes.
   * @param options - `context` (required), `aad`, `signal`.
   * @returns The base64 ciphertext, decryptable by any WorkOS SDK that reads format A.
   * @throws TypeError / RangeError on bad arguments; the key provider's errors unchanged.
   * @example
   * ```ts
   * const ct = await envelope.encrypt('4111 1111 1111 1111', { context: { organization_id: 'org_1' } });
   * ```
   */
  encrypt(plaintext: string | Uint8Array, options: EncryptOptions): Promise<string> {
    // The message is built in the scratch buffer and encoded before #encryptOne returns.
    return this.#encryptOne(plaintext, options, true, encodeBase64);
  }

  /**
   * Encrypts into format A, raw bytes: the same layout as {@link Envelope.encrypt} without the
   * base64, for binary columns (BLOB, bytea).
   * @param plaintext - A string (encoded as UTF-8) or bytes.
   * @param options - `context` (required), `aad`, `signal`.
   * @returns The binary message.
   * @throws TypeError / RangeError on bad arguments; the key provider's errors unchanged.
   */
  encryptToBytes(plaintext: string | Uint8Array, options: EncryptOptions): Promise<Uint8Array> {
    return this.#encryptOne(plaintext, options, false, identity);
  }

  /**
   * Decrypts a message in format A, legacy or B.
   * @param ciphertext - Base64 text or the raw bytes of the same layout.
   * @param options - `aad` (as given at encryption), `format` (force a layout), `signal`.
   * @returns The plaintext bytes (the caller owns them; zero them when done).
   * @throws FormatError when the message is malformed (no key lookup is made);
   *   DecryptionError when authentication fails; the key provider's errors unchanged.
   * @example
   * ```ts
   * const bytes = await envelope.decrypt(ct, { aad: 'users/42/ssn' });
   * ```
   */
  decrypt(ciphertext: string | Uint8Array, options: DecryptOptions = {}): Promise<Uint8Array> {
    return this.#decryptOne(ciphertext, options, identity);
  }

  /**
   * Decrypts a message whose plaintext is UTF-8 text.
   * @param ciphertext - Base64 text or raw bytes.
   * @param options - As for {@link Envelope.decrypt}.
   * @returns The plaintext string.
   * @throws FormatError also when the plaintext is not valid UTF-8 (use `decrypt` for binary data).
   */
  decryptToString(ciphertext: string | Uint8Array, options: DecryptOptions = {}): Promise<string> {
    return this.#decryptOne(ciphertext, options, textOf);
  }

  /**
   * Encrypts many values: one `createDataKey` per distinct key context (with the group's total
   * usage), results in input order, and one item's failure does not affect the others.
   * @param items - `{ plaintext, context, aad? }` each.
   * @param options - `signal`.
   * @returns One {@link BatchResult} per item, with the base64 ciphertext.
   * @example
   * ```ts
   * const results = await envelope.encryptMany(rows.map((r) => ({ plaintext: r.ssn, context: ctx })));
   * ```
   */
  async encryptMany(
    items: readonly EncryptItem[],
    options: KeyRequestOptions = {},
  ): Promise<BatchResult<string>[]> {
    const bytes = await this.encryptManyToBytes(items, options);
    return bytes.map((r) => (r.ok ? { ok: true, value: encodeBase64(r.value) } : r));
  }

  /** {@link Envelope.encryptMany} with raw-byte results. */
  async encryptManyToBytes(
    items: readonly EncryptItem[],
    options: KeyRequestOptions = {},
  ): Promise<BatchResult<Uint8Array>[]> {
    if (!Array.isArray(items)) throw new TypeError('items must be an array');
    aobject(options, 'batch options');
    const results: BatchResult<Uint8Array>[] = new Array(items.length);
    const groups = new Map<
      string,
      {
        context: KeyContext;
        indexes: number[];
        pts: Uint8Array[];
        aads: (Uint8Array | undefined)[];
        owned: boolean[];
        bytes: number;
      }
    >();
    items.forEach((item, i) => {
      try {
        aobject(item, `items[${i}]`);
        const context = validateKeyContext(item.context, `items[${i}].context`);
        const aad = toAad(item.aad);
        const { bytes, owned } = plaintextBytes(item.plaintext);
        const id = canonicalContext(context);
        let g = groups.get(id);
        if (g === undefined) {
          g = { context, indexes: [], pts: [], aads: [], owned: [], bytes: 0 };
          groups.set(id, g);
        }
        g.indexes.push(i);
        g.pts.push(bytes);
        g.aads.push(aad);
        g.owned.push(owned);
        g.bytes += bytes.length;
      } catch (error) {
        results[i] = { ok: false, error: asError(error) };
      }
    });
    await Promise.all(
      [...groups.values()].map(async (g) => {
        try {
          const opts = keyOptions(options.signal, { messages: g.indexes.length, bytes: g.bytes });
          let lease: KeyLease;
          try {
            lease = await this.#acquire(() => this.#keys.createDataKey(g.context, opts));
          } catch (error) {
            for (const i of g.indexes) results[i] = { ok: false, error: asError(error) };
            return;
          }
          try {
            g.indexes.forEach((index, j) => {
              try {
                results[index] = {
                  ok: true,
                  value: this.#seal(
                    lease.dataKey,
                    lease.prepared,
                    g.pts[j]!,
                    g.pts[j]!.length,
                    g.aads[j],
                    false,
                  ),
                };
              } catch (error) {
                results[index] = { ok: false, error: asError(error) };
              }
            });
          } finally {
            lease.release();
          }
        } finally {
          g.pts.forEach((pt, j) => {
            if (g.owned[j]) pt.fill(0);
          });
        }
      }),
    );
    return results;
  }

  /**
   * Decrypts many messages: one `decryptDataKey` per distinct wrapped key, results in input
   * order; a malformed or unauthentic item fails alone.
   * @param items - `{ ciphertext, aad?, format? }` each.
   * @param options - `signal`.
   * @returns One {@link BatchResult} per item, with the plaintext bytes.
   */
  async decryptMany(
    items: readonly DecryptItem[],
    options: KeyRequestOptions = {},
  ): Promise<BatchResult<Uint8Array>[]> {
    if (!Array.isArray(items)) throw new TypeError('items must be an array');
    aobject(options, 'batch options');
    const results: BatchResult<Uint8Array>[] = new Array(items.length);
    const groups = new Map<
      string,
      {
        encryptedKeys: Uint8Array;
        indexes: number[];
        parts: CiphertextParts[];
        aads: (Uint8Array | undefined)[];
      }
    >();
    items.forEach((item, i) => {
      try {
        aobject(item, `items[${i}]`);
        const aad = toAad(item.aad);
        const parts = parseCiphertext(ciphertextBytes(item.ciphertext), item.format);
        const id = encodeBase64(parts.encryptedKeys);
        let g = groups.get(id);
        if (g === undefined) {
          g = { encryptedKeys: copyBytes(parts.encryptedKeys), indexes: [], parts: [], aads: [] };
          groups.set(id, g);
        }
        g.indexes.push(i);
        g.parts.push(parts);
        g.aads.push(aad);
      } catch (error) {
        results[i] = { ok: false, error: asError(error) };
      }
    });
    const keyOpts = decryptKeyOptions(options.signal);
    await Promise.all(
      [...groups.values()].map(async (g) => {
        let lease: KeyLease;
        try {
          lease = await this.#acquire(() => this.#keys.decryptDataKey(g.encryptedKeys, keyOpts));
        } catch (error) {
          for (const i of g.indexes) results[i] = { ok: false, error: asError(error) };
          return;
        }
        try {
          g.indexes.forEach((index, j) => {
            try {
              results[index] = { ok: true, value: this.#open(lease.prepared, g.parts[j]!, g.aads[j]) };
            } catch (error) {
              results[index] = { ok: false, error: asError(error) };
            }
          });
        } finally {
          lease.release();
        }
      }),
    );
    return results;
  }

  /** {@link Envelope.decryptMany} with string results (UTF-8); invalid UTF-8 fails that item. */
  async decryptManyToString(
    items: readonly DecryptItem[],
    options: KeyRequestOptions = {},
  ): Promise<BatchResult<string>[]> {
    const results = await this.decryptMany(items, options);
    return results.map((r) => {
      if (!r.ok) return r;
      try {
        return { ok: true, value: textOf(r.value) };
      } catch (error) {
        return { ok: false, error: asError(error) };
      }
    });
  }

  /**
   * Encrypts the named fields of a record under one data key (one `createDataKey` call), each
   * bound by AAD to the record id and the field name, so a ciphertext copied to another row or
   * column fails to decrypt. Other fields, and `null`/`undefined` values, are copied unchanged.
   * @param record - The record; not modified.
   * @param options - `fields`, `id`, `context`, and optionally `namespace`, `aad`, `signal`.
   * @returns A copy of the record with the named fields replaced by base64 ciphertexts.
   * @throws TypeError when a named field is neither a string nor bytes; the first error otherwise.
   * @example
   * ```ts
   * const row = await envelope.encryptFields(user, { fields: ['ssn', 'dob'], id: user.id, namespace: 'users', context });
   * ```
   */
  async encryptFields<T extends object, K extends keyof T & string>(
    record: T,
    options: FieldOptions<K> & { context: KeyContext },
  ): Promise<WithStringFields<T, K>> {
    aobject(record, 'record');
    const { names, id } = checkFieldOptions(options);
    const src = record as Record<string, unknown>;
    const present = names.filter((f) => src[f] !== null && src[f] !== undefined);
    const items: EncryptItem[] = present.map((field) => {
      const value = src[field];
      if (typeof value !== 'string' && !isBytes(value)) {
        throw new TypeError(`field "${field}" must be a string or a Uint8Array to be encrypted`);
      }
      return { plaintext: value, context: options.context, aad: fieldAadFor(options, field, id) };
    });
    const results = await this.encryptMany(items, keyOptions(options.signal));
    const out: Record<string, unknown> = { ...src };
    results.forEach((r, j) => {
      if (!r.ok) throw r.error;
      out[present[j]!] = r.value;
    });
    return out as WithStringFields<T, K>;
  }

  /**
   * Decrypts the named fields of a record written by {@link Envelope.encryptFields}, with the same
   * `id`, `namespace` and `aad` options.
   * @param record - The record with ciphertext fields; not modified.
   * @param options - `fields`, `id`, and optionally `namespace`, `aad`, `signal`.
   * @returns A copy with the named fields decrypted to strings.
   * @throws DecryptionError when a field was moved from another record or column, or tampered with.
   */
  async decryptFields<T extends object, K extends keyof T & string>(
    record: T,
    options: FieldOptions<K>,
  ): Promise<WithStringFields<T, K>> {
    aobject(record, 'record');
    const { names, id } = checkFieldOptions(options);
    const src = record as Record<string, unknown>;
    const present = names.filter((f) => src[f] !== null && src[f] !== undefined);
    const items: DecryptItem[] = present.map((field) => {
      const value = src[field];
      if (typeof value !== 'string' && !isBytes(value)) {
        throw new TypeError(`field "${field}" must be a ciphertext string or Uint8Array`);
      }
      return { ciphertext: value, aad: fieldAadFor(options, field, id) };
    });
    const results = await this.decryptManyToString(items, keyOptions(options.signal));
    const out: Record<string, unknown> = { ...src };
    results.forEach((r, j) => {
      if (!r.ok) throw r.error;
      out[present[j]!] = r.value;
    });
    return out as WithStringFields<T, K>;
  }
}

function checkFieldOptions<K extends string>(options: FieldOptions<K>): { names: readonly K[]; id: string } {
  aobject(options, 'field options');
  if (!Array.isArray(options.fields) || options.fields.some((f) => typeof f !== 'string')) {
    throw new TypeError('fields must be an array of field names');
  }
  const t = typeof options.id;
  if (t !== 'string' && t !== 'number' && t !== 'bigint') {
    throw new TypeError('id must be a string, number or bigint: the AAD binds each field to it');
  }
  if (options.namespace !== undefined && typeof options.namespace !== 'string') {
    throw new TypeError('namespace must be a string');
  }
  if (options.aad !== undefined && typeof options.aad !== 'function')
    throw new TypeError('aad must be a function');
  return { names: options.fields, id: String(options.id) };
}

function fieldAadFor<K extends string>(options: FieldOptions<K>, field: K, id: string): Aad {
  return options.aad !== undefined ? options.aad(field, id) : fieldAad(id, field, options.namespace);
}
