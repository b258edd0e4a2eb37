/**
 * Small cryptographic building blocks of the server: AES-256-GCM sealing of short secrets (key
 * wrapping) on `@vault-envelope/core`'s fast backend, random bytes and ids, SHA-256, keys derived
 * from the master key (HKDF-SHA256, RFC 5869) and HMAC-SHA256 under them, and the MD5 of etags;
 * the one module that imports `node:crypto`. The sealed layout is `IV[12] ‖ TAG[16] ‖ CT`, the
 * order of the header of WorkOS ciphertext format A, with the caller's AAD bound in.
 * @module
 */
import {
  createHash,
  createHmac,
  createSecretKey,
  hkdfSync,
  type KeyObject,
  randomBytes,
  randomUUID,
} from 'node:crypto';
import { IV_LENGTH, type PreparedKey, selectBackend, TAG_LENGTH } from '@vault-envelope/core';

const backend = selectBackend('fast');

/** Overhead of {@link seal}: IV and tag. */
export const SEAL_OVERHEAD: number = IV_LENGTH + TAG_LENGTH;

/** Prepares a 32-byte key for {@link seal} and {@link open}; the caller may zero `key` afterwards. */
export function prepareKey(key: Uint8Array): PreparedKey {
  return backend.prepare(key);
}

/** Encrypts `plaintext` under `key` with a fresh random IV: `IV ‖ TAG ‖ CT`. */
export function seal(key: PreparedKey, plaintext: Uint8Array, aad: Uint8Array | undefined): Uint8Array {
  const out = new Uint8Array(SEAL_OVERHEAD + plaintext.length);
  sealInto(key, plaintext, aad, out, 0);
  return out;
}

/** {@link seal} into `out` at `offset` (which must have room for `SEAL_OVERHEAD + plaintext.length`). */
export function sealInto(
  key: PreparedKey,
  plaintext: Uint8Array,
  aad: Uint8Array | undefined,
  out: Uint8Array,
  offset: number,
): void {
  backend.fillIv(out, offset);
  const iv = out.subarray(offset, offset + IV_LENGTH);
  backend.encrypt(key, iv, plaintext, aad, out, offset + SEAL_OVERHEAD, offset + IV_LENGTH);
}

/**
 * Opens `IV ‖ TAG ‖ CT` (a view into a larger buffer is fine).
 * @throws DecryptionError (from core) when the key, the AAD or any byte is wrong.
 */
export function open(key: PreparedKey, sealed: Uint8Array, aad: Uint8Array | undefined): Uint8Array {
  if (sealed.length < SEAL_OVERHEAD) throw new RangeError('sealed data is too short');
  return openParts(
    key,
    {
      iv: sealed.subarray(0, IV_LENGTH),
      tag: sealed.subarray(IV_LENGTH, SEAL_OVERHEAD),
      ciphertext: sealed.subarray(SEAL_OVERHEAD),
    },
    aad,
  );
}

/**
 * Opens a message given as separate parts (as `parseCiphertext` of core returns them).
 * @throws DecryptionError (from core) when authentication fails.
 */
export function openParts(
  key: PreparedKey,
  parts: { iv: Uint8Array; tag: Uint8Array; ciphertext: Uint8Array },
  aad: Uint8Array | undefined,
): Uint8Array {
  return backend.decrypt(key, parts.iv, parts.ciphertext, parts.tag, aad);
}

/** `n` bytes from the CSPRNG, as a plain Uint8Array. */
export function random(n: number): Uint8Array {
  const b = randomBytes(n);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** A random UUID (v4), the id format of the real Vault API. */
export function uuid(): string {
  return randomUUID();
}

/** A random token of `n` bytes in base64url, for request ids and development keys. */
export function token(n: number): string {
  return randomBytes(n).toString('base64url');
}

/** SHA-256 of the inputs joined, as raw bytes. */
export function sha256(...parts: (string | Uint8Array)[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

/**
 * A key for one purpose, derived from the master key with HKDF-SHA256 (RFC 5869; no salt, the
 * purpose as `info`), so that no two uses share key material and none reveals the master key.
 * @param master - The 32-byte master key.
 * @param purpose - What the key is for, e.g. `'idempotency'`.
 * @returns 32 bytes the caller owns (and zeroes).
 */
export function deriveKey(master: Uint8Array, purpose: string): Uint8Array {
  return new Uint8Array(
    hkdfSync('sha256', master, new Uint8Array(0), `vault-envelope-server ${purpose} v1`, 32),
  );
}

/**
 * A MAC key held by OpenSSL (a copy; the caller may zero `key` afterwards).
 * @param key - The key bytes.
 * @returns The key object.
 */
export function macKey(key: Uint8Array): KeyObject {
  return createSecretKey(key);
}

/** HMAC-SHA256 of `text` under `key`, in hex. */
export function hmacHex(key: KeyObject, text: string): string {
  return createHmac('sha256', key).update(text).digest('hex');
}

/**
 * MD5 of `bytes` in hex: the `etag` of an object version, in the form the Vault API gives it.
 * Not a security function (nothing here relies on MD5 resisting collisions); it hashes the stored
 * ciphertext, never a plaintext.
 */
export function md5Hex(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

const encoder = new TextEncoder();

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}
