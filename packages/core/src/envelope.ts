/**
 * {@link Envelope}: envelope encryption with AES-256-GCM under data keys from a
 * {@link KeyProvider}, writing the WorkOS format A and reading A, legacy and B.
 *
 * One `createDataKey` call per encryption and one `decryptDataKey` call per decryption (a batch:
 * one per distinct context or wrapped key); whether a key is reused is the provider's decision,
 * which is what `@vault-envelope/cache` is for.
 * @module
 */
import { aobject, astringOrBytes, isBytes } from './_assert.js';
import { encodeBase64, fromUtf8, utf8 } from './_bytes.js';
import { type AeadBackend, type BackendChoice, type PreparedKey, selectBackend } from './aead.js';
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

/** Plaintext bytes, and whether we made them (and so must zero them). */
function plaintextBytes(plaintext: unknown): { bytes: Uint8Array; owned: boolean } {
  astringOrBytes(plaintext, 'plaintext');
  const owned = typeof plaintext === 'string';
  const bytes = owned ? utf8(plaintext as string) : (plaintext as Uint8Array);
  if (bytes.length > MAX_PLAINTEXT_LENGTH) {
    throw new RangeError(`plaintext is longer than the GCM limit of ${MAX_PLAINTEXT_LENGTH} bytes`);
  }
  return { bytes, owned };
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** Key material checked out for use: the prepared handle, and how to give it back. */
interface KeyLease {
  prepared: PreparedKey;
  encryptedKeysLength: number;
  writeEncryptedKeys(out: Uint8Array, offset: number): void;
  release(): void;
}

const noop = (): void => {};

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

  /** Checks out prepared key material for `dk`: shared keys keep theirs, owned keys are zeroed after. */
  #lease(dk: DataKey): KeyLease {
    if (dk instanceof SharedDataKey) {
      return {
        prepared: dk.prepared(this.#backend, this.#prepare),
        encryptedKeysLength: dk.encryptedKeysLength,
        writeEncryptedKeys: (out, offset) => dk.copyEncryptedKeysInto(out, offset),
        release: noop,
      };
    }
    try {
      checkDataKey(dk);
    } catch (cause) {
      throw new KeyProviderError('the key provider returned a malformed data key', { cause });
    }
    // A plain DataKey belongs to us (the KeyProvider contract): use it, then zero it. Read `key`
    // once, since a provider may return a fresh copy on every read.
    const key = dk.key;
    let prepared: PreparedKey;
    try {
      prepared = this.#backend.prepare(key);
    } finally {
      key.fill(0);
    }
    const k = dk.encryptedKeys;
    return {
      prepared,
      encryptedKeysLength: k.length,
      writeEncryptedKeys: (out, offset) => out.set(k, offset),
      release: () => prepared.destroy(),
    };
  }

  /** Fetches a key and leases it, asking again when a shared key was destroyed in between. */
  async #acquire(fetch: () => Promise<DataKey>): Promise<KeyLease> {
    for (let attempt = 0; ; attempt++) {
      const dk = await fetch();
      try {
        return this.#lease(dk);
      } catch (e) {
        if (!(e instanceof KeyDestroyedError) || attempt >= DESTROYED_RETRIES) throw e;
      }
    }
  }

  /** Lays out one format A message under a leased key. */
  #seal(lease: KeyLease, plaintext: Uint8Array, aad: Uint8Array | undefined): Uint8Array {
    const kLen = lease.encryptedKeysLength;
    const header = headerLengthA(kLen);
    const out = new Uint8Array(header + plaintext.length);
    this.#backend.fillIv(out, 0);
    const kAt = writeLeb128u32(kLen, out, IV_LENGTH + TAG_LENGTH);
    lease.writeEncryptedKeys(out, kAt);
    this.#backend.encrypt(lease.prepared, out.subarray(0, IV_LENGTH), plaintext, aad, out, header, IV_LENGTH);
    return out;
  }

  #open(lease: KeyLease, parts: CiphertextParts, aad: Uint8Array | undefined): Uint8Array {
    return this.#backend.decrypt(lease.prepared, parts.iv, parts.ciphertext, parts.tag, aad);
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
  async encrypt(plaintext: string | Uint8Array, options: EncryptOptions): Promise<string> {
    return encodeBase64(await this.encryptToBytes(plaintext, options));
  }

  /**
   * Encrypts into format A, raw bytes: the same layout as {@link Envelope.encrypt} without the
   * base64, for binary columns (BLOB, bytea).
   * @param plaintext - A string (encoded as UTF-8) or bytes.
   * @param options - `context` (required), `aad`, `signal`.
   * @returns The binary message.
   * @throws TypeError / RangeError on bad arguments; the key provider's errors unchanged.
   */
  async encryptToBytes(plaintext: string | Uint8Array, options: EncryptOptions): Promise<Uint8Array> {
    aobject(options, 'encrypt options');
    const context = validateKeyContext(options.context);
    const aad = toAad(options.aad);
    const { bytes, owned } = plaintextBytes(plaintext);
    try {
      const opts = keyOptions(options.signal, { messages: 1, bytes: bytes.length });
      const lease = await this.#acquire(() => this.#keys.createDataKey(context, opts));
      try {
        return this.#seal(lease, bytes, aad);
      } finally {
        lease.release();
      }
    } finally {
      if (owned) bytes.fill(0);
    }
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
  async decrypt(ciphertext: string | Uint8Array, options: DecryptOptions = {}): Promise<Uint8Array> {
    aobject(options, 'decrypt options');
    const aad = toAad(options.aad);
    const parts = parseCiphertext(ciphertextBytes(ciphertext), options.format);
    const keyOpts = decryptKeyOptions(options.signal);
    const lease = await this.#acquire(() => this.#keys.decryptDataKey(parts.encryptedKeys, keyOpts));
    try {
      return this.#open(lease, parts, aad);
    } finally {
      lease.release();
    }
  }

  /**
   * Decrypts a message whose plaintext is UTF-8 text.
   * @param ciphertext - Base64 text or raw bytes.
   * @param options - As for {@link Envelope.decrypt}.
   * @returns The plaintext string.
   * @throws FormatError also when the plaintext is not valid UTF-8 (use `decrypt` for binary data).
   */
  async decryptToString(ciphertext: string | Uint8Array, options: DecryptOptions = {}): Promise<string> {
    const bytes = await this.decrypt(ciphertext, options);
    try {
      return fromUtf8(bytes);
    } catch {
      throw new FormatError('the plaintext is not valid UTF-8; use decrypt() for binary data');
    } finally {
      bytes.fill(0);
    }
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
                results[index] = { ok: true, value: this.#seal(lease, g.pts[j]!, g.aads[j]) };
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
          g = { encryptedKeys: parts.encryptedKeys, indexes: [], parts: [], aads: [] };
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
              results[index] = { ok: true, value: this.#open(lease, g.parts[j]!, g.aads[j]) };
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
        return { ok: true, value: fromUtf8(r.value) };
      } catch {
        return {
          ok: false,
          error: new FormatError('the plaintext is not valid UTF-8; use decrypt() for binary data'),
        };
      } finally {
        r.value.fill(0);
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
