/**
 * The {@link Sealer}: everything an Envelope does with a data key once the provider has returned
 * it. It leases the key (prepares it, or takes the state a {@link SharedDataKey} keeps prepared,
 * and gives it back: a plain DataKey is ours to zero, a shared one is not), asks the provider
 * again when a shared key was destroyed between lookup and use, and seals and opens messages:
 * format A is laid out in place through the one header writer of the format module, with the
 * backend writing IV, ciphertext and tag straight into the message.
 *
 * A string plaintext is encoded straight into the ciphertext's slot of the message and encrypted
 * in place by the built-in backends (they read it all before they write the ciphertext over it),
 * so the UTF-8 bytes never exist anywhere else and are gone once the call returns.
 *
 * Decryption with a cached key ({@link Sealer.openCached}) is one synchronous stretch: the base64
 * is decoded into a scratch buffer, the key blob is lent to the provider's `cachedDataKey` in a
 * buffer of its own that holds nothing but the blob, and the message is opened before anything
 * else can run.
 *
 * No `await` here: the single-message methods and the batches call these synchronous steps around
 * their own one provider call, so the hot path keeps at most one `await` and no closure per call.
 * @module
 */
import { allocUnfilled, DecodeScratch, utf8Into } from './_bytes.js';
import type { KeyBlobHeaders } from './_key-blob.js';
import { afitsInText, aunchanged, TEXT_CHECK_FROM } from './_request.js';
import { type AeadBackend, decryptRaw, isBuiltinBackend, type PreparedKey } from './aead.js';
import { KeyDestroyedError } from './errors.js';
import {
  type CiphertextFormat,
  type CiphertextParts,
  ciphertextBytes,
  headerLengthA,
  IV_LENGTH,
  parseWith,
  writeHeaderA,
} from './format.js';
import { checkDataKey, type DataKey, type KeyProvider, SharedDataKey, sharedPrepared } from './keys.js';

/**
 * Messages up to this many bytes are laid out in scratch buffers that each Sealer keeps, instead
 * of fresh allocations: for the base64 methods, the binary message before it is encoded and the
 * decoded message before it is opened; for a custom backend, the UTF-8 bytes of a string
 * plaintext (zeroed right after use). Each is filled and consumed within one synchronous
 * stretch, so no other call can see it. 32 KiB holds a 16 KiB field with its header.
 */
export const SCRATCH_SIZE: number = 32 * 1024;

/**
 * The message scratch of the base64 methods grows, on demand, to the largest message they have
 * sealed, up to this many bytes (the memory is kept for the Sealer's life). A fresh buffer per
 * large message costs more than its encryption: at 1 MiB, writing into fresh memory took 0.43 ms
 * (page faults) against 0.07 ms into memory used before, measured on Node 20.
 */
export const MAX_MESSAGE_SCRATCH: number = 2 * 1024 * 1024;

/** A provider with the synchronous lookup of a cached key. */
export type CachedLookup = Required<Pick<KeyProvider, 'cachedDataKey'>>;

/** How many times a key destroyed between lookup and use is looked up again. */
const DESTROYED_RETRIES = 3;

/** Key material checked out for a batch group: the prepared handle, and how to give it back. */
export interface KeyLease {
  readonly prepared: PreparedKey;
  readonly dataKey: DataKey;
  release(): void;
}

/** Leases data keys and seals and opens messages on one backend. */
export class Sealer {
  readonly backend: AeadBackend;
  /** The backend is ours: it writes every byte of its output and may encrypt in place. */
  readonly #builtin: boolean;
  #plaintextScratch: Uint8Array | undefined;
  #messageScratch: Uint8Array | undefined;
  #decodeScratch: DecodeScratch | undefined;
  /** The buffer a key blob is lent in, exactly as long as the last blob lent. */
  #blobScratch: Uint8Array | undefined;
  /** {@link Sealer.openCached} is running (a provider's lookup may call back into the Envelope). */
  #opening = false;

  constructor(backend: AeadBackend) {
    this.backend = backend;
    this.#builtin = isBuiltinBackend(backend);
  }

  /**
   * The prepared key for `dk`. A {@link SharedDataKey} keeps its prepared state (per backend,
   * prepared from a copy of its bytes); a plain DataKey belongs to us (the KeyProvider contract):
   * its bytes are checked (32, not all zero), zeroed here, and the handle must be given back with
   * {@link Sealer.release}.
   * @throws KeyDestroyedError when a shared key was destroyed; KeyProviderError on a malformed or
   *   all-zero key.
   */
  prepared(dk: DataKey): PreparedKey {
    if (dk instanceof SharedDataKey) return sharedPrepared(dk, this.backend);
    // The key is read once (a provider may return a fresh copy on every read), checked, and the
    // bytes checked are the bytes prepared.
    const { key } = checkDataKey(dk);
    try {
      return this.backend.prepare(key);
    } finally {
      key.fill(0);
    }
  }

  /** Gives a prepared key back: destroys the handle of a plain DataKey, keeps a shared key's. */
  release(dk: DataKey, prepared: PreparedKey): void {
    if (!(dk instanceof SharedDataKey)) prepared.destroy();
  }

  /**
   * {@link Sealer.prepared}, or `undefined` when a shared key was destroyed between lookup and use
   * and the caller may ask the provider again (`attempt` below the retry limit).
   */
  preparedOrRetry(dk: DataKey, attempt: number): PreparedKey | undefined {
    try {
      return this.prepared(dk);
    } catch (e) {
      if (e instanceof KeyDestroyedError && attempt < DESTROYED_RETRIES) return undefined;
      throw e;
    }
  }

  /**
   * Fetches a key and leases it (batches), asking again when a shared key was destroyed in
   * between. The caller must call `release()` on the lease.
   */
  async lease(fetch: () => Promise<DataKey>): Promise<KeyLease> {
    for (let attempt = 0; ; attempt++) {
      const dataKey = await fetch();
      const prepared = this.preparedOrRetry(dataKey, attempt);
      if (prepared === undefined) continue;
      // A backend with an asynchronous side gets its key ready once for the whole group.
      if (this.backend.asyncFrom !== undefined) {
        let ok: boolean;
        try {
          ok = await this.readyOrRetry(dataKey, prepared, attempt);
        } catch (e) {
          this.release(dataKey, prepared);
          throw e;
        }
        if (!ok) {
          this.release(dataKey, prepared);
          continue;
        }
      }
      return { prepared, dataKey, release: () => this.release(dataKey, prepared) };
    }
  }

  /** Whether a message of `length` bytes goes through the backend's asynchronous methods. */
  isAsync(length: number): boolean {
    const from = this.backend.asyncFrom;
    return from !== undefined && length >= from;
  }

  /**
   * Gets `prepared` ready for the backend's asynchronous methods (WebCrypto imports the key),
   * then checks that the key it was prepared from is still alive.
   * @returns `false` when a shared key was destroyed meanwhile and the caller may ask the
   *   provider again (`attempt` below the retry limit).
   * @throws KeyDestroyedError when it was destroyed and no attempt is left; what the backend throws.
   */
  async readyOrRetry(dk: DataKey, prepared: PreparedKey, attempt: number): Promise<boolean> {
    const wait = this.backend.prepareAsync?.(prepared);
    try {
      if (wait !== undefined) await wait;
    } catch (e) {
      if (!(dk instanceof SharedDataKey && dk.destroyed)) throw e;
    }
    if (dk instanceof SharedDataKey && dk.destroyed) {
      if (attempt < DESTROYED_RETRIES) return false;
      throw new KeyDestroyedError();
    }
    return true;
  }

  /**
   * {@link Sealer.seal} through the backend's `encryptAsync`, once {@link Sealer.readyOrRetry}
   * said yes, with no `await` before the backend has read its inputs: the byte plaintext's length
   * is checked again here, a string is encoded into the message's ciphertext slot, handed over
   * and zeroed as soon as the backend has read it. The message is in memory of its own (never a
   * scratch buffer: it is written after an `await`).
   * @throws As {@link Sealer.seal}; what the backend rejects with.
   */
  async sealAsync(
    dk: DataKey,
    prepared: PreparedKey,
    plaintext: string | Uint8Array,
    length: number,
    aad: Uint8Array | undefined,
    text: boolean,
  ): Promise<Uint8Array> {
    if (typeof plaintext !== 'string' && plaintext.length !== length) aunchanged(plaintext, length);
    const keyBlob = dk instanceof SharedDataKey ? dk : dk.encryptedKeys;
    const kLen = keyBlob instanceof SharedDataKey ? keyBlob.encryptedKeysLength : keyBlob.length;
    const total = headerLengthA(kLen) + length;
    if (text && total >= TEXT_CHECK_FROM) afitsInText(total, 'encrypt output', 'encryptToBytes');
    const out = this.#builtin ? allocUnfilled(total) : new Uint8Array(total);
    const backend = this.backend;
    backend.fillIv(out, 0);
    const ctAt = writeHeaderA(out, keyBlob);
    const iv = out.subarray(0, IV_LENGTH);
    let sealed: Promise<void>;
    if (typeof plaintext !== 'string') {
      sealed = backend.encryptAsync!(prepared, iv, plaintext, aad, out, ctAt, IV_LENGTH);
    } else {
      const slot = out.subarray(ctAt, total);
      try {
        if (utf8Into(plaintext, slot) !== length) throw new Error('UTF-8 length changed while encrypting');
        sealed = backend.encryptAsync!(prepared, iv, slot, aad, out, ctAt, IV_LENGTH);
      } finally {
        // The backend has read it; the ciphertext is written over the zeros when it settles.
        slot.fill(0);
      }
    }
    await sealed;
    return out;
  }

  /**
   * {@link Sealer.open} through the backend's `decryptAsync` (after {@link Sealer.readyOrRetry}).
   * @returns The plaintext bytes (the caller's).
   * @throws DecryptionError when authentication fails.
   */
  openAsync(prepared: PreparedKey, parts: CiphertextParts, aad: Uint8Array | undefined): Promise<Uint8Array> {
    return this.backend.decryptAsync!(prepared, parts.iv, parts.ciphertext, parts.tag, aad);
  }

  /**
   * Seals one format A message under a prepared key, in place: the header writer lays out the
   * length and key blob, the backend writes the IV, the ciphertext and the tag into their slots.
   * @param length - The plaintext's UTF-8 length, taken at call time (checked by the caller);
   *   byte plaintext that no longer has it is refused (TypeError when detached, else RangeError).
   * @param text - The caller returns the message as base64 (`encrypt`): it is checked against the
   *   runtime's string limit before anything is sealed, and built in the scratch buffer (the
   *   caller encodes it before anything else can run); else it is built in a new buffer the
   *   caller may keep.
   * @throws RangeError when `text` and the base64 would be longer than the runtime's longest
   *   string; as {@link aunchanged} when a byte plaintext changed since the call.
   */
  seal(
    dk: DataKey,
    prepared: PreparedKey,
    plaintext: string | Uint8Array,
    length: number,
    aad: Uint8Array | undefined,
    text: boolean,
  ): Uint8Array {
    // A byte plaintext is not copied at call time: check it survived the key request unchanged.
    if (typeof plaintext !== 'string' && plaintext.length !== length) aunchanged(plaintext, length);
    let keyBlob: Uint8Array | SharedDataKey;
    let kLen: number;
    if (dk instanceof SharedDataKey) {
      // Its blob is copied into the message by the header writer, without a copy of its own.
      keyBlob = dk;
      kLen = dk.encryptedKeysLength;
    } else {
      keyBlob = dk.encryptedKeys;
      kLen = keyBlob.length;
    }
    const total = headerLengthA(kLen) + length;
    let out: Uint8Array;
    // Checked before the key request from the plaintext's length alone; here with the key blob.
    if (text && total >= TEXT_CHECK_FROM) afitsInText(total, 'encrypt output', 'encryptToBytes');
    if (text && total <= MAX_MESSAGE_SCRATCH) {
      let scratch = this.#messageScratch;
      if (scratch === undefined || scratch.length < total) {
        scratch = total <= SCRATCH_SIZE ? new Uint8Array(SCRATCH_SIZE) : allocUnfilled(total);
        this.#messageScratch = scratch;
      }
      out = scratch.subarray(0, total);
    } else if (this.#builtin) {
      // Every byte is written below (IV, header, ciphertext, tag) before the message is returned.
      out = allocUnfilled(total);
    } else out = new Uint8Array(total);
    // Slots: the IV at 0 (from the backend's pool), the tag right after it at IV_LENGTH, CT at ctAt.
    const backend = this.backend;
    backend.fillIv(out, 0);
    const ctAt = writeHeaderA(out, keyBlob);
    const iv = out.subarray(0, IV_LENGTH);
    if (typeof plaintext !== 'string') {
      backend.encrypt(prepared, iv, plaintext, aad, out, ctAt, IV_LENGTH);
      return out;
    }
    if (this.#builtin) {
      // In place: the UTF-8 bytes go into the ciphertext's slot, and the ciphertext over them.
      const slot = out.subarray(ctAt, total);
      try {
        // The length was taken from the same string, so the encoding fills the slot exactly.
        if (utf8Into(plaintext, slot) !== length) throw new Error('UTF-8 length changed while encrypting');
        backend.encrypt(prepared, iv, slot, aad, out, ctAt, IV_LENGTH);
      } catch (e) {
        slot.fill(0);
        throw e;
      }
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
      backend.encrypt(prepared, iv, pt, aad, out, ctAt, IV_LENGTH);
    } finally {
      pt.fill(0);
    }
    return out;
  }

  /**
   * Opens one parsed message under a prepared key.
   * @returns The plaintext bytes (the caller's; a `Buffer` from the fast backend: give a caller
   *   `plainBytes` of it).
   * @throws DecryptionError when authentication fails.
   */
  open(prepared: PreparedKey, parts: CiphertextParts, aad: Uint8Array | undefined): Uint8Array {
    return decryptRaw(this.backend, prepared, parts.iv, parts.ciphertext, parts.tag, aad);
  }

  /**
   * Decrypts one message when the provider has its key at hand, in one synchronous stretch: the
   * base64 is decoded into the scratch buffer (a message of at most {@link SCRATCH_SIZE} bytes),
   * the message is parsed (every length checked before the lookup), the key blob is lent to
   * `keys.cachedDataKey` and the message opened under the key it returns.
   *
   * The provider sees the blob only: a buffer of its own (its `.buffer` is exactly the blob, never
   * the decoded message or Node's shared pool), which the next call overwrites, so a provider must
   * not keep it. For the .NET variant it is the decoded blob, in fresh memory.
   * @returns The plaintext bytes (the caller's), or `undefined` when the provider does not have
   *   the key (or it was destroyed meanwhile): the caller then takes the path through
   *   `decryptDataKey`, and decodes and parses again.
   * @throws FormatError when the message is malformed (no lookup is made); DecryptionError when
   *   authentication fails; KeyProviderError on a malformed key; what `cachedDataKey` throws.
   */
  openCached(
    ciphertext: string | Uint8Array,
    format: CiphertextFormat | undefined,
    headers: KeyBlobHeaders,
    aad: Uint8Array | undefined,
    keys: CachedLookup,
  ): Uint8Array | undefined {
    // A lookup that calls back into this Envelope gets the plain path, not our scratch buffers.
    if (this.#opening) return undefined;
    this.#opening = true;
    try {
      let bytes: Uint8Array;
      if (typeof ciphertext === 'string') {
        this.#decodeScratch ??= new DecodeScratch(SCRATCH_SIZE);
        // A longer message is decoded as on the other path (it may be a slice of Node's pool).
        bytes = this.#decodeScratch.decode(ciphertext, 'ciphertext') ?? ciphertextBytes(ciphertext);
      } else bytes = ciphertextBytes(ciphertext);
      const parts = parseWith(bytes, format, headers);
      // A message for the backend's asynchronous side takes the awaited path (it crosses an await).
      if (this.isAsync(parts.ciphertext.length)) return undefined;
      const dk = keys.cachedDataKey(headers.textBlob(parts.encryptedKeys) ?? this.#lend(parts.encryptedKeys));
      if (dk === undefined) return undefined;
      const prepared = this.preparedOrRetry(dk, 0);
      if (prepared === undefined) return undefined;
      try {
        return this.open(prepared, parts, aad);
      } finally {
        this.release(dk, prepared);
      }
    } finally {
      this.#opening = false;
    }
  }

  /** `k` copied into the blob scratch, which is made again when the length changes. */
  #lend(k: Uint8Array): Uint8Array {
    let b = this.#blobScratch;
    if (b === undefined || b.length !== k.length) {
      b = new Uint8Array(k.length);
      this.#blobScratch = b;
    }
    b.set(k);
    return b;
  }
}
