/**
 * {@link MemoryKeyProvider}: a {@link KeyProvider} with a key-encryption key held in memory.
 * For tests, examples and benchmarks only: the KEK lives in the process, so it protects nothing
 * against anyone who can read that memory, and it is gone when the process ends.
 * @module
 */

import { fromUtf8, toHex, utf8 } from './_bytes.js';
import { portableBackend } from './aead.js';
import { aobject, copyBytes } from './assert.js';
import { KeyProviderError } from './errors.js';
import { IV_LENGTH, TAG_LENGTH } from './format.js';
import {
  type CreateDataKeyOptions,
  canonicalContext,
  type DataKey,
  type KeyContext,
  type KeyProvider,
  type KeyRequestOptions,
  makeDataKey,
  validateKeyContext,
} from './keys.js';
import { decodeLeb128u32, leb128Length, writeLeb128u32 } from './leb128.js';

const MAGIC = /* @__PURE__ */ utf8('VE.MEM.v1\0');

/** Counters of a {@link MemoryKeyProvider}. */
export interface MemoryKeyProviderStats {
  /** `createDataKey` calls. */
  created: number;
  /** `decryptDataKey` calls. */
  decrypted: number;
  /** `rekeyDataKey` calls. */
  rekeyed: number;
}

/**
 * A KeyProvider whose key-encryption key lives in this process's memory. **For tests and
 * examples only**; production keys come from WorkOS Vault (`VaultClient`).
 *
 * Key blobs are `VE.MEM.v1\0 ‖ LEB128(len ctx) ‖ ctx JSON ‖ IV ‖ TAG ‖ wrapped key`, with the
 * context authenticated as AAD, so a blob from another provider or a modified blob is rejected.
 *
 * @example
 * ```ts
 * const keys = new MemoryKeyProvider();
 * const envelope = new Envelope({ keys });
 * ```
 */
export class MemoryKeyProvider implements KeyProvider {
  readonly #kek;
  readonly #backend = portableBackend();
  #created = 0;
  #decrypted = 0;
  #rekeyed = 0;

  /**
   * @param options - `kek`: a 32-byte key-encryption key (default: random). Copied.
   */
  constructor(options: { kek?: Uint8Array } = {}) {
    aobject(options, 'MemoryKeyProvider options');
    const kek = options.kek ?? globalThis.crypto.getRandomValues(new Uint8Array(32));
    this.#kek = this.#backend.prepare(kek);
  }

  /**
   * The header every key blob of this provider starts with, `VE.MEM.v1\0` (for `isCiphertext`;
   * the Envelope knows it anyway). Fresh copies on every read.
   * @example
   * ```ts
   * new MemoryKeyProvider().keyBlobHeaders; // [Uint8Array(10) 'VE.MEM.v1\0']
   * ```
   */
  get keyBlobHeaders(): readonly Uint8Array[] {
    return [MAGIC.slice()];
  }

  /**
   * How many keys were created and unwrapped.
   * @returns The counters, a snapshot.
   * @example
   * ```ts
   * keys.stats(); // { created: 1, decrypted: 0, rekeyed: 0 }
   * ```
   */
  stats(): MemoryKeyProviderStats {
    return { created: this.#created, decrypted: this.#decrypted, rekeyed: this.#rekeyed };
  }

  /**
   * Creates a random data key and wraps it under the in-memory KEK, bound to `context`.
   * @param context - The key context.
   * @param options - `signal` (an aborted signal rejects); `usage` is ignored.
   * @returns A data key the caller owns.
   * @throws TypeError / RangeError on a malformed context; the signal's reason when aborted.
   * @example
   * ```ts
   * const dk = await keys.createDataKey({ organization_id: 'org_1' });
   * ```
   */
  async createDataKey(context: KeyContext, options: CreateDataKeyOptions = {}): Promise<DataKey> {
    options.signal?.throwIfAborted();
    validateKeyContext(context);
    this.#created++;
    const key = globalThis.crypto.getRandomValues(new Uint8Array(32));
    const { blob, id } = this.#wrap(key, context);
    return makeDataKey({ id, key, encryptedKeys: blob, context: { ...context } });
  }

  /** Wraps `key` under the KEK, bound to `context`: the blob and the key's id. */
  #wrap(key: Uint8Array, context: KeyContext): { blob: Uint8Array; id: string } {
    const ctx = utf8(canonicalContext(context));
    const head = MAGIC.length + leb128Length(ctx.length) + ctx.length;
    const blob = new Uint8Array(head + IV_LENGTH + TAG_LENGTH + 32);
    blob.set(MAGIC, 0);
    const at = writeLeb128u32(ctx.length, blob, MAGIC.length);
    blob.set(ctx, at);
    this.#backend.fillIv(blob, head);
    const iv = blob.subarray(head, head + IV_LENGTH);
    this.#backend.encrypt(this.#kek, iv, key, ctx, blob, head + IV_LENGTH + TAG_LENGTH, head + IV_LENGTH);
    return { blob, id: `mem_${toHex(iv)}` };
  }

  /**
   * Unwraps a key blob this provider (or one with the same KEK) created.
   * @param encryptedKeys - The blob, as taken from a ciphertext.
   * @param options - `signal` (an aborted signal rejects).
   * @returns The data key, which the caller owns.
   * @throws KeyProviderError when the blob is not a MemoryKeyProvider blob or does not unwrap
   *   under this KEK (another provider's, or modified); the signal's reason when aborted.
   * @example
   * ```ts
   * const dk = await keys.decryptDataKey(inspect(ct).encryptedKeys);
   * ```
   */
  async decryptDataKey(encryptedKeys: Uint8Array, options: KeyRequestOptions = {}): Promise<DataKey> {
    options.signal?.throwIfAborted();
    this.#decrypted++;
    const { key, id, context } = this.#unwrap(encryptedKeys);
    return makeDataKey({ id, key, encryptedKeys: copyBytes(encryptedKeys), context });
  }

  /**
   * Re-wraps the data key inside a blob this provider (or one with the same KEK) created under
   * `context`, as Vault's rekey does: the key bytes stay the same, the new blob is bound to the
   * new context.
   * @param encryptedKeys - The current blob.
   * @param context - The key context to wrap the key under.
   * @param options - `signal` (an aborted signal rejects).
   * @returns The new blob.
   * @throws KeyProviderError when the blob does not unwrap under this KEK; TypeError /
   *   RangeError on a malformed context; the signal's reason when aborted.
   * @example
   * ```ts
   * const blob = await keys.rekeyDataKey(inspect(ct).encryptedKeys, { organization_id: 'org_2' });
   * ```
   */
  async rekeyDataKey(
    encryptedKeys: Uint8Array,
    context: KeyContext,
    options: KeyRequestOptions = {},
  ): Promise<Uint8Array> {
    options.signal?.throwIfAborted();
    validateKeyContext(context);
    this.#rekeyed++;
    const { key } = this.#unwrap(encryptedKeys);
    try {
      return this.#wrap(key, context).blob;
    } finally {
      key.fill(0);
    }
  }

  /** Unwraps a blob: the key (ours to hand over or zero), its id and its context. */
  #unwrap(encryptedKeys: Uint8Array): { key: Uint8Array; id: string; context: KeyContext } {
    const b = encryptedKeys;
    let ok = b.length > MAGIC.length;
    for (let i = 0; ok && i < MAGIC.length; i++) ok = b[i] === MAGIC[i];
    if (!ok) throw new KeyProviderError('not a MemoryKeyProvider key blob');
    try {
      const { value: ctxLen, length } = decodeLeb128u32(b, MAGIC.length);
      const ctxAt = MAGIC.length + length;
      const head = ctxAt + ctxLen;
      if (b.length !== head + IV_LENGTH + TAG_LENGTH + 32) throw new Error('length');
      const ctx = b.subarray(ctxAt, head);
      const iv = b.subarray(head, head + IV_LENGTH);
      const tag = b.subarray(head + IV_LENGTH, head + IV_LENGTH + TAG_LENGTH);
      const key = this.#backend.decrypt(this.#kek, iv, b.subarray(head + IV_LENGTH + TAG_LENGTH), tag, ctx);
      const context = Object.fromEntries(JSON.parse(fromUtf8(ctx)) as [string, string][]);
      return { key, id: `mem_${toHex(iv)}`, context };
    } catch (cause) {
      throw new KeyProviderError('MemoryKeyProvider could not unwrap this key blob', { cause });
    }
  }
}
