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
 * On Node, decryption with a cached key is one synchronous stretch ({@link Sealer.opener}, from
 * the Node build's `#cached` module): no promise, no copy of the key blob for the provider.
 *
 * For a backend with an asynchronous side (WebCrypto) there are `ready`, `sealAsync` and
 * `openAsync`: the key is made ready, the inputs checked again, then handed to the backend with no
 * `await` in between, and nothing that crosses an `await` lives in a scratch buffer.
 *
 * A shared key's owner (its cache) may destroy it at any `await`, and the prepared state with it
 * (the key bytes of the fast and portable backends zeroed, the CryptoKey dropped): whoever holds a
 * prepared key across an `await` checks {@link Sealer.aliveOrRetry} after it, in the synchronous
 * stretch that hands the key to the backend, and asks the provider again when it was destroyed.
 *
 * The single-message methods and the batches call these steps around their own one provider
 * call, so the hot path keeps at most one `await` and no closure per call.
 * @module
 */
import { createOpener } from '#cached';
import { allocUnfilled, utf8Into } from './_bytes.js';
import type { Opener } from './_no-cached.js';
import { afitsInText, aintact, aunchanged, TEXT_CHECK_FROM } from './_request.js';
import { type AeadBackend, decryptRaw, isBuiltinBackend, type PreparedKey } from './aead.js';
import { KeyDestroyedError } from './errors.js';
import { type CiphertextParts, headerLengthA, IV_LENGTH, writeHeaderA } from './format.js';
import { checkDataKey, type DataKey, type KeyProvider, SharedDataKey, sharedPrepared } from './keys.js';

/**
 * Messages up to this many bytes are laid out in scratch buffers that each Sealer keeps, instead
 * of fresh allocations: for the base64 methods, the binary message before it is encoded, and on
 * Node the decoded message before it is opened. Each is filled and consumed within one
 * synchronous stretch, so no other call can see it. 32 KiB holds a 16 KiB field with its header.
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
export const DESTROYED_RETRIES = 3;

/** Key material checked out for a batch group: the prepared handle, and how to give it back. */
export interface KeyLease {
  readonly prepared: PreparedKey;
  readonly dataKey: DataKey;
  /** Which attempt got it (0 for the first fetch): a lease taken again goes on from there. */
  readonly attempt: number;
  release(): void;
}

/**
 * Whether `dk` may still be used: anything but a shared key that was destroyed (which zeroes its
 * prepared state). Checked after the last `await` before a backend reads the prepared key.
 */
export function isAlive(dk: DataKey): boolean {
  return !(dk instanceof SharedDataKey && dk.destroyed);
}

/** Leases data keys and seals and opens messages on one backend. */
export class Sealer {
  readonly backend: AeadBackend;
  /** The backend is ours: it writes every byte of its output and may encrypt in place. */
  readonly #builtin: boolean;
  #messageScratch: Uint8Array | undefined;
  /** Decrypts with a key the provider has at hand, right now: in the Node build only. */
  readonly opener: Opener | undefined;

  constructor(backend: AeadBackend) {
    this.backend = backend;
    this.#builtin = isBuiltinBackend(backend);
    this.opener = createOpener?.(this);
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
   * between. The caller must call `release()` on the lease, and check {@link isAlive} on its key
   * after its own `await` of it (a lease taken again starts at the next attempt: `first`, so that all of them
   * stay within the retry limit).
   */
  async lease(fetch: () => Promise<DataKey>, first = 0): Promise<KeyLease> {
    for (let attempt = first; ; attempt++) {
      const dataKey = await fetch();
      const prepared = this.preparedOrRetry(dataKey, attempt);
      if (prepared === undefined) continue;
      const release = () => this.release(dataKey, prepared);
      // A backend with an asynchronous side gets its key ready once for the whole group.
      try {
        if (this.backend.asyncFrom !== undefined) await this.ready(dataKey, prepared);
        if (this.aliveOrRetry(dataKey, attempt)) {
          return { prepared, dataKey, attempt, release };
        }
      } catch (e) {
        release();
        throw e;
      }
      release();
    }
  }

  /** Whether a message of `length` bytes goes through the backend's asynchronous methods. */
  isAsync(length: number): boolean {
    const from = this.backend.asyncFrom;
    return from !== undefined && length >= from;
  }

  /**
   * Gets `prepared` ready for the backend's asynchronous methods (WebCrypto imports the key). A
   * failure for a shared key destroyed meanwhile is no error: {@link Sealer.aliveOrRetry}, which
   * the caller checks after this `await`, decides.
   * @throws What the backend throws, for a key that is alive.
   */
  async ready(dk: DataKey, prepared: PreparedKey): Promise<void> {
    try {
      await this.backend.prepareAsync?.(prepared);
    } catch (e) {
      if (!(dk instanceof SharedDataKey && dk.destroyed)) throw e;
    }
  }

  /**
   * Whether `dk` may still be used: called after the last `await` before the backend reads the
   * prepared key, in the same synchronous stretch (a shared key destroyed at an `await` has its
   * prepared state zeroed: a fast or portable key would encrypt under zeros, a web key has no
   * CryptoKey any more).
   * @returns `false` when a shared key was destroyed and the caller may ask the provider again
   *   (`attempt` below the retry limit).
   * @throws KeyDestroyedError when it was destroyed and no attempt is left.
   */
  aliveOrRetry(dk: DataKey, attempt: number): boolean {
    if (isAlive(dk)) return true;
    if (attempt < DESTROYED_RETRIES) return false;
    throw new KeyDestroyedError();
  }

  /**
   * {@link Sealer.seal} through the backend's `encryptAsync`, once {@link Sealer.ready} settled
   * and {@link Sealer.aliveOrRetry} said yes, with no `await` before the backend has read its
   * inputs: the byte plaintext's length is checked again here, a string is encoded into the message's ciphertext slot, handed over
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
    const out = this.#layout(dk, plaintext, length, text, false);
    const ctAt = out.length - length;
    const iv = out.subarray(0, IV_LENGTH);
    const encryptAsync = this.backend.encryptAsync!.bind(this.backend);
    if (typeof plaintext !== 'string') {
      await encryptAsync(prepared, iv, plaintext, aad, out, ctAt, IV_LENGTH);
      return out;
    }
    const slot = out.subarray(ctAt);
    let sealed: Promise<void>;
    try {
      if (utf8Into(plaintext, slot) !== length) throw new Error('UTF-8 length changed while encrypting');
      sealed = encryptAsync(prepared, iv, slot, aad, out, ctAt, IV_LENGTH);
    } finally {
      // The backend has read it; the ciphertext is written over the zeros when it settles.
      slot.fill(0);
    }
    await sealed;
    return out;
  }

  /**
   * {@link Sealer.open} through the backend's `decryptAsync` (after {@link Sealer.ready} and
   * {@link Sealer.aliveOrRetry}).
   * @returns The plaintext bytes (the caller's).
   * @throws DecryptionError when authentication fails.
   */
  openAsync(prepared: PreparedKey, parts: CiphertextParts, aad: Uint8Array | undefined): Promise<Uint8Array> {
    aintact(parts);
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
    const out = this.#layout(dk, plaintext, length, text, true);
    const ctAt = out.length - length;
    const iv = out.subarray(0, IV_LENGTH);
    const backend = this.backend;
    if (typeof plaintext !== 'string') {
      backend.encrypt(prepared, iv, plaintext, aad, out, ctAt, IV_LENGTH);
      return out;
    }
    // The built-in backends encrypt in place: the UTF-8 bytes go into the ciphertext's slot, and
    // the ciphertext over them. A custom backend gets them in a buffer of their own.
    const inPlace = this.#builtin;
    const pt = inPlace ? out.subarray(ctAt) : new Uint8Array(length);
    let sealed = false;
    try {
      // The length was taken from the same string, so the encoding fills `pt` exactly.
      if (utf8Into(plaintext, pt) !== length) throw new Error('UTF-8 length changed while encrypting');
      backend.encrypt(prepared, iv, pt, aad, out, ctAt, IV_LENGTH);
      sealed = true;
    } finally {
      if (!inPlace || !sealed) pt.fill(0);
    }
    return out;
  }

  /**
   * The message for `dk` and a plaintext of `length` bytes, with the IV and `LEB128(len K) ‖ K`
   * written and the tag and ciphertext slots left to the backend (the ciphertext starts at
   * `length` bytes before the end). With `text` and `scratch`, in the message scratch buffer.
   * @throws As {@link Sealer.seal}.
   */
  #layout(
    dk: DataKey,
    plaintext: string | Uint8Array,
    length: number,
    text: boolean,
    scratch: boolean,
  ): Uint8Array {
    // A byte plaintext is not copied at call time: check it survived the key request unchanged.
    if (typeof plaintext !== 'string' && plaintext.length !== length) aunchanged(plaintext, length);
    // A shared key's blob is copied into the message by the header writer, without a copy of its own.
    const keyBlob = dk instanceof SharedDataKey ? dk : dk.encryptedKeys;
    const total =
      headerLengthA(keyBlob instanceof SharedDataKey ? keyBlob.encryptedKeysLength : keyBlob.length) + length;
    // Checked before the key request from the plaintext's length alone; here with the key blob.
    if (text && total >= TEXT_CHECK_FROM) afitsInText(total, 'encrypt output', 'encryptToBytes');
    let out: Uint8Array;
    if (scratch && text && total <= MAX_MESSAGE_SCRATCH) {
      let s = this.#messageScratch;
      if (s === undefined || s.length < total) {
        s = total <= SCRATCH_SIZE ? new Uint8Array(SCRATCH_SIZE) : allocUnfilled(total);
        this.#messageScratch = s;
      }
      out = s.subarray(0, total);
    } else {
      // With a built-in backend every byte is written (IV, header, ciphertext, tag) before the
      // message is returned, so it needs no zero-filled memory.
      out = this.#builtin ? allocUnfilled(total) : new Uint8Array(total);
    }
    // Slots: the IV at 0 (from the backend's pool), the tag right after it, then the header.
    this.backend.fillIv(out, 0);
    writeHeaderA(out, keyBlob);
    return out;
  }

  /**
   * Opens one parsed message under a prepared key.
   * @returns The plaintext bytes (the caller's; a `Buffer` from the fast backend: give a caller
   *   `plainBytes` of it).
   * @throws DecryptionError when authentication fails.
   */
  open(prepared: PreparedKey, parts: CiphertextParts, aad: Uint8Array | undefined): Uint8Array {
    aintact(parts);
    return decryptRaw(this.backend, prepared, parts.iv, parts.ciphertext, parts.tag, aad);
  }
}
