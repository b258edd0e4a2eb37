/**
 * {@link loadIndexKey}: a blind-index root key kept in Vault as an object, loaded at start-up.
 *
 * A blind index needs a key of its own, which must survive restarts and be the same on every
 * instance, and must not sit in the database beside the index it protects. Vault's object store
 * fits: the object's value is the standard base64 of 32 random bytes (what
 * `vault-envelope index-key create` writes), under a name such as `blind-index/users.email`.
 * Anything else is refused rather than used: a value of another length, the URL-safe alphabet,
 * whitespace or a newline, and 32 zero bytes (a placeholder, not a key), so that a wrong object
 * can never silently become an index key.
 * @module
 */
import { decodeBase64 } from '@vault-envelope/core';
import { objectName } from './_args.js';
import type { VaultClient } from './client.js';
import { InvalidValueError } from './errors.js';
import type { CallOptions } from './types.js';

/** Bytes of a blind-index root key. */
const INDEX_KEY_LENGTH = 32;
/** Characters of its standard base64 (with one `=` of padding). */
const INDEX_KEY_BASE64_LENGTH = 44;

/**
 * Reads a blind-index root key stored as a Vault object: its value must be exactly the standard
 * base64 of 32 bytes, not all zero.
 * @param vault - The client (only its `readObjectByName` is used).
 * @param name - The object's name, e.g. `blind-index/users.email`.
 * @param options - `signal`.
 * @returns The 32 key bytes, in memory of their own: zero them when done (`key.fill(0)`).
 * @throws TypeError for a name that is not an object name; `NotFoundError` when there is no
 *   such object; {@link InvalidValueError} when its value is not such a key (the message says
 *   how, never the value); other `VaultError`s as `readObjectByName`.
 * @example
 * ```ts
 * const rootKey = await loadIndexKey(vault, 'blind-index/users.email');
 * const emailIndex = new BlindIndex({ key: rootKey, name: 'users.email' });
 * ```
 */
export async function loadIndexKey(
  vault: Pick<VaultClient, 'readObjectByName'>,
  name: string,
  options?: CallOptions,
): Promise<Uint8Array> {
  const n = objectName(name);
  const object = await vault.readObjectByName(n, options);
  const value = object.value;
  const details = { method: 'GET', path: `/vault/v1/kv/name/${encodeURIComponent(n)}`, status: 200 };
  if (value.length !== INDEX_KEY_BASE64_LENGTH) {
    throw new InvalidValueError(
      `must be the standard base64 of ${INDEX_KEY_LENGTH} bytes (${INDEX_KEY_BASE64_LENGTH} characters), got ${value.length} characters`,
      details,
    );
  }
  let key: Uint8Array;
  try {
    key = decodeBase64(value, 'index key');
  } catch {
    throw new InvalidValueError(
      `must be the standard base64 of ${INDEX_KEY_LENGTH} bytes, got ${INDEX_KEY_BASE64_LENGTH} characters that are not`,
      details,
    );
  }
  let zero = 0;
  for (const b of key) zero |= b;
  if (key.length !== INDEX_KEY_LENGTH || zero === 0) {
    key.fill(0);
    throw new InvalidValueError(
      key.length !== INDEX_KEY_LENGTH
        ? `must be the standard base64 of ${INDEX_KEY_LENGTH} bytes, got ${key.length} bytes`
        : `must be a key, got ${INDEX_KEY_LENGTH} zero bytes`,
      details,
    );
  }
  return key;
}
