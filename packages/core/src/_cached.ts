/**
 * The `#cached` subpath import in the Node build: decryption with a key the provider has at
 * hand (`KeyProvider.cachedDataKey`) in one synchronous stretch. The base64 is decoded into a
 * scratch buffer (a message of at most the sealer's scratch size), the message parsed (every
 * length checked before the lookup), the key blob lent to the provider in a buffer of its own
 * that holds nothing but the blob, and the message opened before anything else can run: no
 * promise is awaited and nothing is allocated for the blob.
 *
 * The provider sees the blob only: its `.buffer` is exactly the blob, never the decoded message
 * or Node's shared pool; the next call overwrites it, so a provider must not keep it. For the
 * .NET variant it is the decoded blob, in fresh memory. A lookup that calls back into the same
 * Envelope gets the awaited path for that inner call, never these buffers.
 * @module
 */
import { node } from '#node';
import { BINARY, type KeyBlobHeaders } from './_key-blob.js';
import type { Opener } from './_no-cached.js';
import { type CachedLookup, SCRATCH_SIZE, type Sealer } from './_sealer.js';
import { decryptRaw } from './aead.js';
import { FormatError } from './errors.js';
import { type CiphertextFormat, ciphertextBytes, IV_LENGTH, parseWith, TAG_LENGTH } from './format.js';
import type { DataKey } from './keys.js';

/** {@link CachedOpener}'s fast lane did not apply: the general path decides. */
const NOT_A: unique symbol = Symbol('not format A');

class CachedOpener implements Opener {
  readonly #sealer: Sealer;
  /** The scratch buffer base64 is decoded into, and its decoder (made on first use). */
  #scratch: Uint8Array | undefined;
  #decode: ((text: string, title: string) => number) | undefined;
  /** Views of the scratch's IV and tag, made once with it (a view costs about 35 ns to make). */
  #iv: Uint8Array | undefined;
  #tag: Uint8Array | undefined;
  /** The buffer a key blob is lent in, exactly as long as the last blob lent. */
  #blob: Uint8Array | undefined;
  /** `open` is running (a provider's lookup may call back into the Envelope). */
  #opening = false;

  constructor(sealer: Sealer) {
    this.#sealer = sealer;
  }

  open(
    ciphertext: string | Uint8Array,
    format: CiphertextFormat | undefined,
    headers: KeyBlobHeaders,
    aad: Uint8Array | undefined,
    keys: CachedLookup,
  ): Uint8Array | undefined {
    if (this.#opening || node === undefined) return undefined;
    this.#opening = true;
    try {
      let bytes: Uint8Array | undefined;
      if (typeof ciphertext === 'string') {
        if (ciphertext.length % 4 !== 0)
          throw new FormatError('ciphertext is not valid base64: length is not a multiple of 4');
        if (this.#decode === undefined) {
          const scratch = new Uint8Array(SCRATCH_SIZE);
          this.#scratch = scratch;
          this.#iv = scratch.subarray(0, IV_LENGTH);
          this.#tag = scratch.subarray(IV_LENGTH, IV_LENGTH + TAG_LENGTH);
          this.#decode = node.decoderInto(scratch);
        }
        const s = this.#scratch!;
        const len = this.#decode(ciphertext, 'ciphertext');
        if (len >= 0 && format === undefined) {
          const plain = this.#openA(s, len, headers, aad, keys);
          if (plain !== NOT_A) return plain;
        }
        if (len >= 0) bytes = s.subarray(0, len);
      }
      // A longer message is decoded as on the other path (it may be a slice of Node's pool).
      const parts = parseWith(bytes ?? ciphertextBytes(ciphertext), format, headers);
      // A message for the backend's asynchronous side takes the awaited path (it crosses an await).
      if (this.#sealer.isAsync(parts.ciphertext.length)) return undefined;
      const k = parts.encryptedKeys;
      const blob = headers.textBlob(k) ?? this.#lend(k, 0, k.length);
      return this.#openWith(keys.cachedDataKey(blob), parts.iv, parts.ciphertext, parts.tag, aad);
    } finally {
      this.#opening = false;
    }
  }

  /**
   * The common case without the general parser: format A, detected, with a key blob of fewer
   * than 16384 bytes that starts with a binary known header, in the first `len` bytes of `s`.
   * What `parseWith` would read as exactly that layout is opened here, with the same views;
   * anything else is {@link NOT_A}, and the general path decides (and raises its FormatError).
   */
  #openA(
    s: Uint8Array,
    len: number,
    headers: KeyBlobHeaders,
    aad: Uint8Array | undefined,
    keys: CachedLookup,
  ): Uint8Array | undefined | typeof NOT_A {
    const lebAt = IV_LENGTH + TAG_LENGTH;
    if (len < lebAt + 2) return NOT_A;
    // The one- and two-byte minimal LEB128 lengths, read within `len` (the scratch holds older
    // bytes beyond it).
    const b0 = s[lebAt]!;
    let n: number;
    let kAt: number;
    if (b0 < 0x80) {
      n = b0;
      kAt = lebAt + 1;
    } else {
      const b1 = s[lebAt + 1]!;
      if (b1 === 0 || b1 >= 0x80) return NOT_A;
      n = (b0 & 0x7f) | (b1 << 7);
      kAt = lebAt + 2;
    }
    const kEnd = kAt + n;
    if (n === 0 || kEnd > len || headers.matchAt(s, kAt, kEnd) !== BINARY) return NOT_A;
    if (this.#sealer.isAsync(len - kEnd)) return undefined;
    const dk = keys.cachedDataKey(this.#lend(s, kAt, kEnd));
    return this.#openWith(dk, this.#iv!, s.subarray(kEnd, len), this.#tag!, aad);
  }

  /** Opens under the key the provider answered, or `undefined` for a miss or a destroyed key. */
  #openWith(
    dk: DataKey | undefined,
    iv: Uint8Array,
    ct: Uint8Array,
    tag: Uint8Array,
    aad: Uint8Array | undefined,
  ): Uint8Array | undefined {
    if (dk === undefined) return undefined;
    const sealer = this.#sealer;
    const prepared = sealer.preparedOrRetry(dk, 0);
    if (prepared === undefined) return undefined;
    try {
      return decryptRaw(sealer.backend, prepared, iv, ct, tag, aad);
    } finally {
      sealer.release(dk, prepared);
    }
  }

  /** `src[start, end)` copied into the blob buffer, which is made again when the length changes. */
  #lend(src: Uint8Array, start: number, end: number): Uint8Array {
    let b = this.#blob;
    const n = end - start;
    if (b === undefined || b.length !== n) {
      b = new Uint8Array(n);
      this.#blob = b;
    }
    b.set(start === 0 && end === src.length ? src : src.subarray(start, end));
    return b;
  }
}

/**
 * The opener of a sealer: its own scratch buffers, used by one Envelope.
 * @param sealer - The Envelope's sealer.
 * @returns The opener.
 */
export const createOpener: ((sealer: Sealer) => Opener) | undefined = (sealer) => new CachedOpener(sealer);
