/**
 * The `#cached` subpath import outside Node: no synchronous cached-key decryption. Browsers and
 * edge runtimes decrypt on WebCrypto, which is asynchronous anyway (and with the portable backend
 * every message takes the awaited path), so the scratch buffers and the lent blob of the Node
 * hot path stay out of their bundles. The interface both builds share is declared here.
 * @module
 */
import type { KeyBlobHeaders } from './_key-blob.js';
import type { CachedLookup, Sealer } from './_sealer.js';
import type { CiphertextFormat } from './format.js';

/** Decrypts a message right now when the provider has its key at hand (see the Node build). */
export interface Opener {
  /**
   * @returns The plaintext bytes, or `undefined` when the message must take the awaited path.
   * @throws FormatError, DecryptionError, KeyProviderError; what `cachedDataKey` throws.
   */
  open(
    ciphertext: string | Uint8Array,
    format: CiphertextFormat | undefined,
    headers: KeyBlobHeaders,
    aad: Uint8Array | undefined,
    keys: CachedLookup,
  ): Uint8Array | undefined;
}

/** No synchronous cached-key decryption outside the Node build. */
export const createOpener: ((sealer: Sealer) => Opener) | undefined = undefined;
