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
 *
 * Decryption asks a provider's synchronous `cachedDataKey` first, on Node (the Node build's
 * opener): a cache hit then decrypts before the call returns, with no promise awaited. With the
 * web backend (WebCrypto) every message is sealed and opened asynchronously, through the
 * sealer's `sealAsync`/`openAsync`, with the inputs fixed before the extra `await`.
 *
 * Over 400 lines: most of it is the JSDoc and examples of the public methods.
 * @module
 */

import { type BatchPolicy, openBatch, sealBatch } from './_batch.js';
import { encodeBase64 } from './_bytes.js';
import { arecords, type FieldRuntime, planDecrypt, planEncrypt } from './_field-plan.js';
import { decryptRecords, encryptRecords, only } from './_fields.js';
import { plainBytes } from './_gcm.js';
import { base64TextKeys, checkHeaders, KeyBlobHeaders } from './_key-blob.js';
import { type RekeyItem, type RekeyOptions, rekeyMessage, rekeyMessages } from './_rekey.js';
import { encryptRequest, messageText, requestAad, signalOptions, textOf } from './_request.js';
import { type CachedLookup, Sealer } from './_sealer.js';
import { selectBackend } from './aead.js';
import { aboolean, aobject, aoptions, asignal, kindOf } from './assert.js';
import type {
  DecryptedFields,
  DecryptFieldList,
  DecryptFieldsManyOptions,
  DecryptFieldsOptions,
  EncryptedFields,
  EncryptFieldList,
  EncryptFieldsManyOptions,
  EncryptFieldsOptions,
  FieldName,
  OnlyFields,
} from './fields.js';
import { ciphertextBytes, parseWith, recognise } from './format.js';
import type { KeyContext, KeyProvider, KeyRequestOptions } from './keys.js';
import type {
  BatchResult,
  DecryptItem,
  DecryptOptions,
  EncryptItem,
  EncryptOptions,
  EnvelopeOptions,
  EnvelopeStats,
} from './types.js';

const ENVELOPE_OPTIONS: ReadonlySet<string> = new Set([
  'keys',
  'backend',
  'requireTenant',
  'keyBlobHeaders',
  'keyBlobEncoding',
]);

const identity = <T>(x: T): T => x;

/** The options of a call that passes none (one object for all of them: no allocation per call). */
const NO_OPTIONS: DecryptOptions = Object.freeze({});

/**
 * Envelope encryption with AES-256-GCM under data keys from a {@link KeyProvider}.
 *
 * Writes the WorkOS format A (`IV ‖ TAG ‖ LEB128(len K) ‖ K ‖ CT`, base64), which the official
 * Node, Python, Ruby, PHP and Kotlin SDKs read (`keyBlobEncoding: 'base64-text'` writes the .NET
 * SDK's variant instead), and reads format A, its .NET variant, the legacy 32-byte-IV layout and
 * format B. Failed decryption is always the same {@link DecryptionError}; malformed input is a
 * {@link FormatError} raised before any key lookup.
 *
 * With `requireTenant: true`, every call must name its `tenant`, which is bound into the AAD so
 * that a value moved to another tenant's row fails to decrypt.
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
  /** Where data keys for encryption come from: `#keys`, or its .NET-variant view. */
  readonly #createKeys: Pick<KeyProvider, 'createDataKey'>;
  readonly #sealer: Sealer;
  /** The provider, when it has `cachedDataKey` (read once, like its headers). */
  readonly #cachedKeys: CachedLookup | undefined;
  readonly #requireTenant: boolean;
  readonly #headers: KeyBlobHeaders;
  readonly #policy: BatchPolicy;
  readonly #fields: FieldRuntime;
  #plaintextServed = 0;

  /**
   * @param options - `keys` (required), `backend` (default `'auto'`), `requireTenant` (default
   *   false), `keyBlobHeaders`, `keyBlobEncoding` (default `'binary'`).
   * @throws TypeError when `keys` is not a KeyProvider, the backend is unknown or unavailable, an
   *   option is unknown or of the wrong type; RangeError on a key-blob header under 6 bytes.
   */
  constructor(options: EnvelopeOptions) {
    if (options === undefined) throw new TypeError('Envelope options must be an object, got undefined');
    aoptions(options, 'Envelope options', ENVELOPE_OPTIONS);
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
    this.#cachedKeys =
      typeof (keys as KeyProvider).cachedDataKey === 'function' ? (keys as CachedLookup) : undefined;
    this.#requireTenant =
      options.requireTenant === undefined ? false : aboolean(options.requireTenant, 'requireTenant');
    // Headers are read once: a provider's set is fixed for its life.
    const declared = (keys as KeyProvider).keyBlobHeaders;
    const extra = [
      ...(declared === undefined ? [] : checkHeaders(declared, 'Envelope options.keys.keyBlobHeaders')),
      ...(options.keyBlobHeaders === undefined
        ? []
        : checkHeaders(options.keyBlobHeaders, 'Envelope options.keyBlobHeaders')),
    ];
    this.#headers = KeyBlobHeaders.builtin.with(extra);
    const encoding = options.keyBlobEncoding ?? 'binary';
    if (encoding !== 'binary' && encoding !== 'base64-text') {
      throw new TypeError(
        `keyBlobEncoding must be 'binary' or 'base64-text', got ${typeof encoding === 'string' ? 'another string' : kindOf(encoding)}`,
      );
    }
    this.#createKeys = encoding === 'base64-text' ? base64TextKeys(this.#keys) : this.#keys;
    this.#policy = { requireTenant: this.#requireTenant, headers: this.#headers };
    this.#fields = {
      sealer: this.#sealer,
      createKeys: this.#createKeys,
      keys: this.#keys,
      headers: this.#headers,
      requireTenant: this.#requireTenant,
      plaintextServed: () => {
        this.#plaintextServed++;
      },
    };
  }

  /** The name of the AES-GCM backend in use (`'fast'`, `'portable'` or `'web'`). */
  get backend(): string {
    return this.#sealer.backend.name;
  }

  // The single-message methods are the hot path: one `await` (the provider call) each, no
  // closures per call, no intermediate copy of a string plaintext. The public methods return the
  // private async method's promise as it is, which costs no extra turn of the microtask queue.

  /**
   * Encrypts one message and hands it to `finish` before anything else can run. With `text`,
   * `finish` returns base64: the message is built in the sealer's scratch buffer, and its size is
   * checked against the runtime's string limit before the key is asked for.
   */
  async #encryptOne<T>(
    plaintext: string | Uint8Array,
    options: EncryptOptions,
    text: boolean,
    finish: (message: Uint8Array) => T,
  ): Promise<T> {
    const r = encryptRequest(plaintext, options, this.#requireTenant, text);
    const sealer = this.#sealer;
    for (let attempt = 0; ; attempt++) {
      const dk = await this.#createKeys.createDataKey(r.context, r.keyOptions);
      const prepared = sealer.preparedOrRetry(dk, attempt);
      if (prepared === undefined) continue;
      try {
        if (sealer.isAsync(r.length)) {
          await sealer.ready(dk, prepared);
          // After the await, in the stretch that hands the key to the backend: destroyed meanwhile?
          if (!sealer.aliveOrRetry(dk, attempt)) continue;
          return finish(await sealer.sealAsync(dk, prepared, plaintext, r.length, r.aad, text));
        }
        return finish(sealer.seal(dk, prepared, plaintext, r.length, r.aad, text));
      } finally {
        sealer.release(dk, prepared);
      }
    }
  }

  /**
   * Decrypts one message and hands the plaintext to `finish`. With a key the provider has at hand
   * (`cachedDataKey`) it all happens now and no promise is awaited; else the message goes the
   * way of {@link Envelope.#decryptAwaited}. A throw is the returned promise's rejection.
   */
  #decryptOne<T>(
    ciphertext: string | Uint8Array,
    options: DecryptOptions,
    finish: (plaintext: Uint8Array) => T,
  ): Promise<T> {
    try {
      aobject(options, 'decrypt options');
      const aad = requestAad(options.aad, options.tenant, this.#requireTenant);
      const signal = asignal(options.signal, 'decrypt options.signal');
      const cached = this.#cachedKeys;
      // An aborted call goes to decryptDataKey, which rejects it as before.
      const lookup = cached !== undefined && (signal === undefined || !signal.aborted);
      // On Node, with a key at hand, it all happens now; a backend that is asynchronous for every
      // message (WebCrypto) never decrypts right now.
      const opener = this.#sealer.opener;
      const now = lookup && opener !== undefined && this.#sealer.backend.asyncFrom !== 0;
      if (now) {
        const bytes = opener!.open(ciphertext, options.format, this.#headers, aad, cached!);
        if (bytes !== undefined) return Promise.resolve(finish(bytes));
      }
      return this.#decryptAwaited(ciphertext, options, aad, lookup && !now ? cached : undefined, finish);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** {@link Envelope.#decryptOne} through the provider's `decryptDataKey`. */
  async #decryptAwaited<T>(
    ciphertext: string | Uint8Array,
    options: DecryptOptions,
    aad: Uint8Array | undefined,
    cached: CachedLookup | undefined,
    finish: (plaintext: Uint8Array) => T,
  ): Promise<T> {
    const headers = this.#headers;
    const parts = parseWith(ciphertextBytes(ciphertext), options.format, headers);
    const keyOpts = signalOptions(options.signal);
    // The provider gets the key blob in memory of its own: `parts` are views into the decoded
    // message, which for base64 input lives in Node's shared Buffer pool (see ciphertextBytes),
    // and a view's `.buffer` would show the provider everything around it. A blob stored as
    // base64 text (the .NET SDK's variant) is given decoded, as the key service issued it.
    const blob = headers.providerBlob(parts.encryptedKeys);
    const sealer = this.#sealer;
    const async = sealer.isAsync(parts.ciphertext.length);
    for (let attempt = 0; ; attempt++) {
      // The blob is a copy of our own, made for this call: lending it to the lookup is safe.
      const hit = attempt === 0 ? cached?.cachedDataKey(blob) : undefined;
      const dk = hit ?? (await this.#keys.decryptDataKey(blob, keyOpts));
      const prepared = sealer.preparedOrRetry(dk, attempt);
      if (prepared === undefined) continue;
      let bytes: Uint8Array;
      try {
        if (async) {
          await sealer.ready(dk, prepared);
          if (!sealer.aliveOrRetry(dk, attempt)) continue;
          bytes = await sealer.openAsync(prepared, parts, aad);
        } else bytes = sealer.open(prepared, parts, aad);
      } finally {
        sealer.release(dk, prepared);
      }
      return finish(bytes);
    }
  }

  /**
   * Encrypts into format A, base64.
   * @param plaintext - A string (encoded as UTF-8) or bytes; at most 2^36-32 bytes.
   * @param options - `context` (required), `aad`, `tenant`, `signal`.
   * @returns The base64 ciphertext, decryptable by any WorkOS SDK that reads format A (given the
   *   same AAD; with a `tenant`, the tenant-bound AAD described in the format guide).
   * @throws TypeError / RangeError on bad arguments; RangeError, before any key request, when
   *   the base64 text would be longer than the runtime's longest string (about 384 MiB of
   *   plaintext on Node: use {@link Envelope.encryptToBytes}); the key provider's errors unchanged.
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
   * @param options - `context` (required), `aad`, `tenant`, `signal`.
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
   * @param options - `aad` and `tenant` (as given at encryption), `format` (force a layout), `signal`.
   * @returns The plaintext bytes (the caller owns them; zero them when done).
   * @throws FormatError when the message is malformed (no key lookup is made);
   *   DecryptionError when authentication fails (a wrong AAD or tenant included); TypeError /
   *   RangeError on a bad AAD or tenant, or none when the Envelope has `requireTenant`; the key
   *   provider's errors unchanged.
   * @example
   * ```ts
   * const bytes = await envelope.decrypt(ct, { aad: 'users/42/ssn' });
   * ```
   */
  decrypt(ciphertext: string | Uint8Array, options: DecryptOptions = NO_OPTIONS): Promise<Uint8Array> {
    return this.#decryptOne(ciphertext, options, plainBytes);
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
  decryptToString(ciphertext: string | Uint8Array, options: DecryptOptions = NO_OPTIONS): Promise<string> {
    return this.#decryptOne(ciphertext, options, textOf);
  }

  /**
   * Encrypts many values: one `createDataKey` per distinct key context (with the group's total
   * usage), results in input order, and one item's failure does not affect the others.
   * @param items - `{ plaintext, context, aad? }` each.
   * @param options - `signal`.
   * @returns One {@link BatchResult} per item, with the base64 ciphertext (an item too large to
   *   return as a string in this runtime fails alone, with a RangeError naming
   *   `encryptManyToBytes`, before its key is asked for).
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
    const bytes = await sealBatch(this.#sealer, this.#createKeys, items, options, this.#policy, true);
    return bytes.map((r, i) => {
      if (!r.ok) return r;
      try {
        return { ok: true, value: messageText(r.value, `items[${i}] output`, 'encryptManyToBytes') };
      } catch (error) {
        return { ok: false, error: error as Error };
      }
    });
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
    return sealBatch(this.#sealer, this.#createKeys, items, options, this.#policy);
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
    return openBatch(this.#sealer, this.#keys, items, options, this.#policy);
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
    return rekeyMessage(this.#keys, this.#headers, ciphertext, context, options) as Promise<T>;
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
    return rekeyMessages(this.#keys, this.#headers, items, options) as Promise<BatchResult<T>[]>;
  }

  /**
   * Encrypts the listed fields of a record under one data key (one `createDataKey` call), each
   * bound by its AAD to the tenant, the namespace, the record id and the field name, so that a
   * value moved to another tenant, table, row or column fails to decrypt.
   *
   * Fails closed: a listed field the record lacks is a TypeError (unless it is in `optional`),
   * and so is a value that is neither a string (text fields) nor a Uint8Array (bytes fields); a
   * present `null` or `undefined` stays as it is. Each listed field is read exactly once; the
   * result is a new plain object built from those values and the record's other own enumerable
   * properties. The record is not modified.
   * @param record - An object (a plain row or a class instance; not a promise, not an array).
   * @param options - `fields`, `id`, `context`, and `tenant`, `namespace`, `optional`, `signal`.
   * @returns A copy of the record whose listed fields hold base64 ciphertexts.
   * @throws TypeError / RangeError on a bad record, option, id or field value (the message names
   *   the field, never its value); the key provider's errors unchanged.
   * @example
   * ```ts
   * const row = await envelope.encryptFields(user, {
   *   fields: ['ssn', 'dob'], id: user.id, tenant: 'org_1', namespace: 'users', context: { organization_id: 'org_1' },
   * });
   * ```
   */
  encryptFields<T extends object, const S extends EncryptFieldList<T>>(
    record: T,
    options: EncryptFieldsOptions<S> & { fields: OnlyFields<S, FieldName<T>> },
  ): Promise<EncryptedFields<T, S>> {
    return this.#encryptFields([record], options, false).then(only) as Promise<EncryptedFields<T, S>>;
  }

  /**
   * Decrypts the listed fields of a record written by {@link Envelope.encryptFields}, given the
   * same `id`, `tenant` and `namespace`: text fields to strings, bytes fields to Uint8Array.
   *
   * Fails closed: a listed field the record lacks is a TypeError (unless in `optional`), and a
   * value that is not a ciphertext ({@link Envelope.isCiphertext}) is a FormatError, unless
   * `allowPlaintext` (the migration read mode) serves it as it is and counts it. The tenant must
   * be the request's authenticated tenant, never a column of the row being read.
   * @param record - The stored row; not modified.
   * @param options - `fields`, `id`, and `tenant`, `namespace`, `optional`, `legacyAad`,
   *   `allowPlaintext`, `onPlaintext`, `signal`.
   * @returns A copy with the listed fields decrypted.
   * @throws DecryptionError (with `field`) when a value was moved from another tenant, table,
   *   row or column, or tampered with; FormatError (with `field`) when a value is not a
   *   ciphertext; TypeError / RangeError on bad arguments; the key provider's errors unchanged.
   * @example
   * ```ts
   * const user = await envelope.decryptFields(row, { fields: ['ssn', 'dob'], id: row.id, tenant: session.orgId, namespace: 'users' });
   * ```
   */
  decryptFields<T extends object, const S extends DecryptFieldList<T>>(
    record: T,
    options: DecryptFieldsOptions<S> & { fields: OnlyFields<S, FieldName<T>> },
  ): Promise<DecryptedFields<T, S>> {
    return this.#decryptFields([record], options, false).then(only) as Promise<DecryptedFields<T, S>>;
  }

  /**
   * {@link Envelope.encryptFields} for many records in one batch: one `createDataKey` per
   * distinct key context (with the group's total usage), however many records share it, where a
   * loop of `encryptFields` makes one per record. The same AAD (version 1) as `encryptFields`,
   * so a value written here decrypts with `decryptFields` and back.
   *
   * Each record is checked as `encryptFields` checks one (fails closed, each listed field read
   * once) and fails alone: the results are in input order, `{ ok: true, value }` with the
   * encrypted copy or `{ ok: false, error }` with the error `encryptFields` would have thrown for
   * that record, and a failed record has no partial result.
   * @param records - The records (plain rows or class instances; not promises, not arrays).
   * @param options - `fields`, `id` (the id property's name, or `(record, index) => id`),
   *   `context` (one, or `(record, index) => context`), and `tenant` (one per call: the
   *   authenticated caller's, never taken from the rows), `namespace`, `optional`, `signal`.
   * @returns One {@link BatchResult} per record, with a copy whose listed fields hold base64
   *   ciphertexts.
   * @throws TypeError / RangeError (as a rejection) when `records` is not an array or an option
   *   is bad (a bad record is a failed result instead); the signal's reason when it is aborted.
   * @example
   * ```ts
   * const results = await envelope.encryptFieldsMany(users, {
   *   fields: ['ssn', 'dob'], id: 'id', tenant: 'org_1', namespace: 'users', context: { organization_id: 'org_1' },
   * });
   * for (const r of results) if (r.ok) insert.run(r.value); else log.warn(r.error.message);
   * ```
   */
  encryptFieldsMany<T extends object, const S extends EncryptFieldList<T>>(
    records: readonly T[],
    options: EncryptFieldsManyOptions<T, S> & { fields: OnlyFields<S, FieldName<T>> },
  ): Promise<BatchResult<EncryptedFields<T, S>>[]> {
    return this.#encryptFields(records, options, true) as Promise<BatchResult<EncryptedFields<T, S>>[]>;
  }

  /**
   * {@link Envelope.decryptFields} for many records in one batch: one key lookup per distinct
   * wrapped key, however many records share it, where a loop of `decryptFields` asks once per
   * record. Reads what `encryptFields`, `encryptFieldsMany` and the ORM integrations write.
   *
   * Each record is checked as `decryptFields` checks one and fails alone: the results are in
   * input order, `{ ok: true, value }` or `{ ok: false, error }` with the error `decryptFields`
   * would have thrown for that record (a moved value, a value that is not a ciphertext), and the
   * plaintext bytes decrypted for a failed record are zeroed. The tenant is one per call and
   * must be the request's authenticated tenant, never a column of the rows being read.
   * @param records - The stored rows; not modified.
   * @param options - `fields`, `id` (the id property's name, or `(record, index) => id`), and
   *   `tenant`, `namespace`, `optional`, `legacyAad`, `allowPlaintext`, `onPlaintext`, `signal`.
   * @returns One {@link BatchResult} per record, with a copy whose listed fields are decrypted.
   * @throws TypeError / RangeError (as a rejection) when `records` is not an array or an option
   *   is bad (a bad record is a failed result instead); the signal's reason when it is aborted.
   * @example
   * ```ts
   * const page = await envelope.decryptFieldsMany(rows, { fields: ['ssn', 'dob'], id: 'id', tenant: session.orgId, namespace: 'users' });
   * const users = page.flatMap((r) => (r.ok ? [r.value] : []));
   * ```
   */
  decryptFieldsMany<T extends object, const S extends DecryptFieldList<T>>(
    records: readonly T[],
    options: DecryptFieldsManyOptions<T, S> & { fields: OnlyFields<S, FieldName<T>> },
  ): Promise<BatchResult<DecryptedFields<T, S>>[]> {
    return this.#decryptFields(records, options, true) as Promise<BatchResult<DecryptedFields<T, S>>[]>;
  }

  /** The field helpers, for one record (`many` false: the options' `id`) or many. */
  async #encryptFields(
    records: readonly unknown[],
    options: unknown,
    many: boolean,
  ): Promise<BatchResult<Record<PropertyKey, unknown>>[]> {
    const list = many ? arecords(records) : records;
    const { plan, contextOf } = planEncrypt(this.#fields, options, many);
    return encryptRecords(this.#fields, plan, contextOf, list);
  }

  async #decryptFields(
    records: readonly unknown[],
    options: unknown,
    many: boolean,
  ): Promise<BatchResult<Record<PropertyKey, unknown>>[]> {
    const list = many ? arecords(records) : records;
    const { plan, mode } = planDecrypt(this.#fields, options, many);
    return decryptRecords(this.#fields, plan, mode, list);
  }

  /**
   * Whether `value` is a ciphertext this Envelope recognises: it parses strictly and its key blob
   * starts with a known header (the built-in ones, those its key provider declares and those of
   * its `keyBlobHeaders` option), in binary or as the .NET SDK's base64 text. No key lookup.
   * @param value - Anything: base64 text or the binary message.
   * @returns true when it is recognised as a ciphertext.
   * @example
   * ```ts
   * const already = envelope.isCiphertext(row.ssn); // skip it in a backfill
   * ```
   */
  isCiphertext(value: unknown): boolean {
    return recognise(value, this.#headers);
  }

  /**
   * This Envelope's counters.
   * @returns A snapshot: `plaintextServed`, the values the field helpers served as plaintext in
   *   the migration read mode (`allowPlaintext`).
   * @example
   * ```ts
   * if (envelope.stats().plaintextServed > 0) metrics.gauge('fields.plaintext_served', envelope.stats().plaintextServed);
   * ```
   */
  stats(): EnvelopeStats {
    return { plaintextServed: this.#plaintextServed };
  }
}
