/**
 * Blind-index root keys: what `vault-envelope index-key create` stores as a Vault object (the
 * standard base64 of 32 random bytes; the client's `loadIndexKey` reads it back), and the same
 * text read from a file (`--index-key-file`).
 * @module
 */
import { decodeBase64 } from '@vault-envelope/core';

/** Bytes of a blind-index root key. */
export const INDEX_KEY_BYTES = 32;

/**
 * Decodes a stored root key: exactly 32 bytes of strict standard base64.
 * @throws TypeError otherwise (the message never holds the text).
 */
export function decodeIndexKey(text: string, title: string): Uint8Array {
  let key: Uint8Array;
  try {
    key = decodeBase64(text.trim(), title);
  } catch {
    throw new TypeError(`${title} must be the standard base64 of ${INDEX_KEY_BYTES} bytes`);
  }
  if (key.length !== INDEX_KEY_BYTES) {
    key.fill(0);
    throw new TypeError(
      `${title} must be the standard base64 of ${INDEX_KEY_BYTES} bytes, got ${key.length} bytes`,
    );
  }
  return key;
}

/** A new random root key, as the value to store: the caller zeroes `key`. */
export function newIndexKey(): { key: Uint8Array; value: string } {
  const key = globalThis.crypto.getRandomValues(new Uint8Array(INDEX_KEY_BYTES));
  return { key, value: Buffer.from(key).toString('base64') };
}
