/**
 * The {@link Sealer}: everything an Envelope does with a data key once the provider has returned
 * it. It leases the key (prepares it, or takes the state a {@link SharedDataKey} keeps prepared,
 * and gives it back: a plain DataKey is ours to zero, a shared one is not), asks the provider
 * again when a shared key was destroyed between lookup and use, and seals and opens messages:
 * format A is laid out in place through the one header writer of the format module, with the
 * backend writing IV, ciphertext and tag straight into the message.
 *
 * No `await` here: the single-message methods and the batches call these synchronous steps around
 * their own one provider call, so the hot path keeps one `await` and no closure per call.
 * @module
 */
import { utf8Into } from './_bytes.js';
import { afitsInText, aunchanged, TEXT_CHECK_FROM } from './_request.js';
import type { AeadBackend, PreparedKey } from './aead.js';
import { KeyDestroyedError } from './errors.js';
import { type CiphertextParts, headerLengthA, IV_LENGTH, writeHeaderA } from './format.js';
import { checkDataKey, type DataKey, SharedDataKey, sharedPrepared } from './keys.js';

/**
 * Plaintexts and messages up to this many bytes are laid out in scratch buffers that each Sealer
 * keeps, instead of fresh allocations: the UTF-8 bytes of a string plaintext (zeroed right after
 * use) and, for the base64 methods, the binary message before it is encoded. Both are filled and
 * consumed within one synchronous stretch, so no other call can see them.
 */
export const SCRATCH_SIZE: number = 16 * 1024;

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
  #plaintextScratch: Uint8Array | undefined;
  #messageScratch: Uint8Array | undefined;

  constructor(backend: AeadBackend) {
    this.backend = backend;
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
      if (prepared !== undefined) {
        return { prepared, dataKey, release: () => this.release(dataKey, prepared) };
      }
    }
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
    if (text && total <= SCRATCH_SIZE) {
      this.#messageScratch ??= new Uint8Array(SCRATCH_SIZE);
      out = this.#messageScratch.subarray(0, total);
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
   * @returns The plaintext bytes (the caller's).
   * @throws DecryptionError when authentication fails.
   */
  open(prepared: PreparedKey, parts: CiphertextParts, aad: Uint8Array | undefined): Uint8Array {
    return this.backend.decrypt(prepared, parts.iv, parts.ciphertext, parts.tag, aad);
  }
}
