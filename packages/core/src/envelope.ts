/**
 * {@link Envelope}: envelope encryption with AES-256-GCM under data keys from a
 * {@link KeyProvider}, writing the WorkOS format A and reading A, legacy and B.
 *
 * One `createDataKey` call per encryption and one `decryptDataKey` call per decryption (a batch:
 * one per distinct context or wrapped key); whether a key is reused is the provider's decision,
 * which is what `@vault-envelope/cache` is for.
 *
 * This module is the class and its single-message hot path. The steps around the key live in
 * the sealer (leasing, sealing, opening), argument shaping in the request module, batch
 * grouping in the batch module and the record-field helpers in the fields module.
 * @module
 */

import { openBatch, sealBatch } from './_batch.js';
import { encodeBase64 } from './_bytes.js';
import { type RekeyItem, type RekeyOptions, rekeyMessage, rekeyMessages } from './_rekey.js';
import { encryptRequest, signalOptions, textOf, toAad } from './_request.js';
import { Sealer } from './_sealer.js';
import { selectBackend } from './aead.js';
import { aobject, copyBytes, kindOf } from './assert.js';
import { decryptFields, encryptFields, type FieldOptions, type WithStringFields } from './fields.js';
import { ciphertextBytes, parseCiphertext } from './format.js';
import type { KeyContext, KeyProvider, KeyRequestOptions } from './keys.js';
import type {
  BatchResult,
  DecryptItem,
  DecryptOptions,
  EncryptItem,
  EncryptOptions,
  EnvelopeOptions,
} from './types.js';

const identity = <T>(x: T): T => x;

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
  readonly #sealer: Sealer;

  /**
   * @param options - `keys` (required), `backend` (default `'auto'`).
   * @throws TypeError when `keys` is not a KeyProvider or the backend is unknown or unavailable.
   */
  constructor(options: EnvelopeOptions) {
    aobject(options, 'Envelope options');
    const keys: unknown = options.keys;
    if (
      typeof keys !== 'object' ||
      keys === null ||
      typeof (keys as KeyProvider).createDataKey !== 'function' ||
      typeof (keys as KeyProvider).decryptDataKey !== 'function'
    ) {
      throw new TypeError(
        `Envelope options.keys must be a KeyProvider (createDataKey and decryptDataKey), got ${kindOf(keys)}`,
      );
    }
    this.#keys = keys as KeyProvider;
    this.#sealer = new Sealer(selectBackend(options.backend ?? 'auto'));
  }

  /** The name of the AES-GCM backend in use (`'fast'` or `'portable'`). */
  get backend(): string {
    return this.#sealer.backend.name;
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
    const sealer = this.#sealer;
    for (let attempt = 0; ; attempt++) {
      const dk = await this.#keys.createDataKey(r.context, r.keyOptions);
      const prepared = sealer.preparedOrRetry(dk, attempt);
      if (prepared === undefined) continue;
      try {
        return finish(sealer.seal(dk, prepared, plaintext, r.length, r.aad, scratch));
      } finally {
        sealer.release(dk, prepared);
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
    const keyOpts = signalOptions(options.signal);
    // The provider gets the key blob in memory of its own: `parts` are views into the decoded
    // message, which for base64 input lives in Node's shared Buffer pool (see ciphertextBytes),
    // and a view's `.buffer` would show the provider everything around it.
    const blob = copyBytes(parts.encryptedKeys);
    const sealer = this.#sealer;
    for (let attempt = 0; ; attempt++) {
      const dk = await this.#keys.decryptDataKey(blob, keyOpts);
      const prepared = sealer.preparedOrRetry(dk, attempt);
      if (prepared === undefined) continue;
      let bytes: Uint8Array;
      try {
        bytes = sealer.open(prepared, parts, aad);
      } finally {
        sealer.release(dk, prepared);
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
   * @example
   * ```ts
   * const bytes = await envelope.encryptToBytes(pdf, { context: { organization_id: 'org_1' } });
   * ```
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
   * @example
   * ```ts
   * const ssn = await envelope.decryptToString(ct, { aad: 'users/42/ssn' });
   * ```
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
   * @throws TypeError when `items` is not an array or `options` not an object (a bad item is a
   *   failed result instead).
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

  /**
   * {@link Envelope.encryptMany} with raw-byte results.
   * @param items - `{ plaintext, context, aad? }` each.
   * @param options - `signal`.
   * @returns One {@link BatchResult} per item, with the binary message.
   * @throws TypeError when `items` is not an array or `options` not an object.
   * @example
   * ```ts
   * const results = await envelope.encryptManyToBytes(files.map((f) => ({ plaintext: f, context: ctx })));
   * ```
   */
  encryptManyToBytes(
    items: readonly EncryptItem[],
    options: KeyRequestOptions = {},
  ): Promise<BatchResult<Uint8Array>[]> {
    return sealBatch(this.#sealer, this.#keys, items, options);
  }

  /**
   * Decrypts many messages: one `decryptDataKey` per distinct wrapped key, results in input
   * order; a malformed or unauthentic item fails alone.
   * @param items - `{ ciphertext, aad?, format? }` each.
   * @param options - `signal`.
   * @returns One {@link BatchResult} per item, with the plaintext bytes.
   * @throws TypeError when `items` is not an array or `options` not an object.
   * @example
   * ```ts
   * const results = await envelope.decryptMany(rows.map((r) => ({ ciphertext: r.blob })));
   * ```
   */
  decryptMany(
    items: readonly DecryptItem[],
    options: KeyRequestOptions = {},
  ): Promise<BatchResult<Uint8Array>[]> {
    return openBatch(this.#sealer, this.#keys, items, options);
  }

  /**
   * {@link Envelope.decryptMany} with string results (UTF-8); invalid UTF-8 fails that item.
   * @param items - `{ ciphertext, aad?, format? }` each.
   * @param options - `signal`.
   * @returns One {@link BatchResult} per item, with the plaintext string.
   * @throws TypeError when `items` is not an array or `options` not an object.
   * @example
   * ```ts
   * const notes = await envelope.decryptManyToString(rows.map((r) => ({ ciphertext: r.note })));
   * ```
   */
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
        return { ok: false, error: error as Error };
      }
    });
  }

  /**
   * Moves a message to a new key context without re-encrypting it: the key service re-wraps its
   * data key under `context` (one `rekeyDataKey` call) and the new key blob replaces the old one;
   * the IV, tag and ciphertext are unchanged, so the same AAD still decrypts it. The message
   * keeps its layout (A, legacy or B) and its form (base64 text or bytes).
   * @param ciphertext - Base64 text or raw bytes.
   * @param context - The new key context.
   * @param options - `format` (force a layout), `signal`.
   * @returns The rekeyed message, in the form it was given.
   * @throws TypeError when the key provider has no `rekeyDataKey` or an argument is malformed;
   *   FormatError when the message is malformed (no key-service call is made); the provider's
   *   errors unchanged.
   * @example
   * ```ts
   * const moved = await envelope.rekey(row.ssn, { organization_id: 'org_1', region: 'eu' });
   * ```
   */
  rekey<T extends string | Uint8Array>(
    ciphertext: T,
    context: KeyContext,
    options: RekeyOptions = {},
  ): Promise<T> {
    return rekeyMessage(this.#keys, ciphertext, context, options) as Promise<T>;
  }

  /**
   * {@link Envelope.rekey} for many messages: one `rekeyDataKey` call per distinct pair of key
   * blob and new context (messages that share a data key share the call), results in input
   * order; a malformed item fails alone, a failed call fails the items of its pair.
   * @param items - `{ ciphertext, context, format? }` each.
   * @param options - `signal`.
   * @returns One {@link BatchResult} per item, with the message in the form it was given.
   * @throws TypeError when the key provider has no `rekeyDataKey`, `items` is not an array or
   *   `options` not an object.
   * @example
   * ```ts
   * const results = await envelope.rekeyMany(rows.map((r) => ({ ciphertext: r.ssn, context: newContext })));
   * ```
   */
  rekeyMany<T extends string | Uint8Array>(
    items: readonly RekeyItem<T>[],
    options: KeyRequestOptions = {},
  ): Promise<BatchResult<T>[]> {
    return rekeyMessages(this.#keys, items, options) as Promise<BatchResult<T>[]>;
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
  encryptFields<T extends object, K extends keyof T & string>(
    record: T,
    options: FieldOptions<K> & { context: KeyContext },
  ): Promise<WithStringFields<T, K>> {
    return encryptFields(this, record, options);
  }

  /**
   * Decrypts the named fields of a record written by {@link Envelope.encryptFields}, with the same
   * `id`, `namespace` and `aad` options.
   * @param record - The record with ciphertext fields; not modified.
   * @param options - `fields`, `id`, and optionally `namespace`, `aad`, `signal`.
   * @returns A copy with the named fields decrypted to strings.
   * @throws DecryptionError when a field was moved from another record or column, or tampered with.
   * @example
   * ```ts
   * const user = await envelope.decryptFields(row, { fields: ['ssn', 'dob'], id: row.id, namespace: 'users' });
   * ```
   */
  decryptFields<T extends object, K extends keyof T & string>(
    record: T,
    options: FieldOptions<K>,
  ): Promise<WithStringFields<T, K>> {
    return decryptFields(this, record, options);
  }
}
