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
import type { KeyBlobHeaders } from './_key-blob.js';
import type { Opener } from './_no-cached.js';
import { type CachedLookup, SCRATCH_SIZE, type Sealer } from './_sealer.js';
import { FormatError } from './errors.js';
import { type CiphertextFormat, ciphertextBytes, parseWith } from './format.js';

class CachedOpener implements Opener {
  readonly #sealer: Sealer;
  /** Decodes strict base64 into the scratch buffer (made on first use), or `undefined` without Node. */
  #decode: ((text: string, title: string) => Uint8Array | undefined) | undefined;
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
    if (this.#opening) return undefined;
    this.#opening = true;
    try {
      const sealer = this.#sealer;
      let bytes: Uint8Array | undefined;
      if (typeof ciphertext === 'string') {
        if (ciphertext.length % 4 !== 0)
          throw new FormatError('ciphertext is not valid base64: length is not a multiple of 4');
        this.#decode ??= node?.decoderInto(new Uint8Array(SCRATCH_SIZE));
        bytes = this.#decode?.(ciphertext, 'ciphertext');
      }
      // A longer message is decoded as on the other path (it may be a slice of Node's pool).
      const parts = parseWith(bytes ?? ciphertextBytes(ciphertext), format, headers);
      // A message for the backend's asynchronous side takes the awaited path (it crosses an await).
      if (sealer.isAsync(parts.ciphertext.length)) return undefined;
      const dk = keys.cachedDataKey(headers.textBlob(parts.encryptedKeys) ?? this.#lend(parts.encryptedKeys));
      if (dk === undefined) return undefined;
      const prepared = sealer.preparedOrRetry(dk, 0);
      if (prepared === undefined) return undefined;
      try {
        return sealer.open(prepared, parts, aad);
      } finally {
        sealer.release(dk, prepared);
      }
    } finally {
      this.#opening = false;
    }
  }

  /** `k` copied into the blob buffer, which is made again when the length changes. */
  #lend(k: Uint8Array): Uint8Array {
    let b = this.#blob;
    if (b === undefined || b.length !== k.length) {
      b = new Uint8Array(k.length);
      this.#blob = b;
    }
    b.set(k);
    return b;
  }
}

/**
 * The opener of a sealer: its own scratch buffers, used by one Envelope.
 * @param sealer - The Envelope's sealer.
 * @returns The opener.
 */
export const createOpener: ((sealer: Sealer) => Opener) | undefined = (sealer) => new CachedOpener(sealer);
