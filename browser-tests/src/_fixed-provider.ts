/**
 * A KeyProvider that knows one data key and its wrapped blob: how the WorkOS vectors and the
 * cross-runtime ciphertext are decrypted without a Vault.
 * @module
 */
import { type DataKey, type KeyContext, type KeyProvider, makeDataKey } from '@vault-envelope/core';

/**
 * One fixed data key. `decryptDataKey` accepts only the exact blob it was given.
 * @example
 * ```ts
 * const keys = new FixedKeyProvider(key, blob);
 * await new Envelope({ keys }).decryptToString(ciphertext);
 * ```
 */
export class FixedKeyProvider implements KeyProvider {
  readonly #key: Uint8Array;
  readonly #blob: Uint8Array;

  /**
   * @param key - The 32-byte data key (copied).
   * @param blob - Its wrapped form, as the ciphertext carries it (copied).
   */
  constructor(key: Uint8Array, blob: Uint8Array) {
    this.#key = key.slice();
    this.#blob = blob.slice();
  }

  /**
   * @param context - Recorded on the returned key.
   * @returns A fresh copy of the fixed key.
   */
  async createDataKey(context: KeyContext): Promise<DataKey> {
    return makeDataKey({ id: 'fixed', key: this.#key.slice(), encryptedKeys: this.#blob.slice(), context });
  }

  /**
   * @param encryptedKeys - Must equal the fixed blob.
   * @returns A fresh copy of the fixed key.
   * @throws Error when the blob is another one.
   */
  async decryptDataKey(encryptedKeys: Uint8Array): Promise<DataKey> {
    const same =
      encryptedKeys.length === this.#blob.length && encryptedKeys.every((b, i) => b === this.#blob[i]);
    if (!same) throw new Error('unknown key blob');
    return makeDataKey({
      id: 'fixed',
      key: this.#key.slice(),
      encryptedKeys: this.#blob.slice(),
      context: {},
    });
  }
}
