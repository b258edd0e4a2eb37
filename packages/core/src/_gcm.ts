/**
 * The parts the built-in AES-256-GCM backends share, and the portable backend itself: the pooled IVs, the prepared key (a copy of
 * the key bytes that `destroy` zeroes), the IV length check and AES-GCM on @noble/ciphers (the
 * portable backend, and the synchronous side of the WebCrypto one). Why the IVs come from a pool
 * and why that is safe: see the AEAD module.
 * @module
 */
import { gcm } from '@noble/ciphers/aes.js';
import type { AeadBackend, PreparedKey } from './aead.js';
import { abytes, copyBytes } from './assert.js';
import { DecryptionError } from './errors.js';
import { IV_LENGTH, LEGACY_IV_LENGTH, TAG_LENGTH } from './format.js';

/** AES-256: 32 key bytes. */
export const KEY_LENGTH = 32;
const POOL_SIZE = 341 * IV_LENGTH;

/** The IV of formats A and B (12 bytes) or of the legacy layout (32). @throws RangeError otherwise. */
export function checkIv(iv: Uint8Array): void {
  if (iv.length !== IV_LENGTH && iv.length !== LEGACY_IV_LENGTH) {
    throw new RangeError(`iv must be ${IV_LENGTH} or ${LEGACY_IV_LENGTH} bytes, got ${iv.length}`);
  }
}

/** Hands out disjoint 12-byte slices of CSPRNG output (see the module comment for why this is safe). */
export class IvPool {
  readonly #fill: (b: Uint8Array) => void;
  readonly #pool = new Uint8Array(POOL_SIZE);
  #offset = POOL_SIZE;
  #pid: number | undefined;

  constructor(fill: (b: Uint8Array) => void) {
    this.#fill = fill;
  }

  next(out: Uint8Array, offset: number): void {
    const pid = currentPid();
    if (this.#offset === POOL_SIZE || pid !== this.#pid) {
      this.#fill(this.#pool);
      this.#offset = 0;
      this.#pid = pid;
    }
    const o = this.#offset;
    const p = this.#pool;
    for (let i = 0; i < IV_LENGTH; i++) out[offset + i] = p[o + i]!;
    this.#offset = o + IV_LENGTH;
  }
}

function currentPid(): number | undefined {
  return (globalThis as { process?: { pid?: number } }).process?.pid;
}

/** Fills `b` from the Web Crypto CSPRNG. */
export function webRandom(b: Uint8Array): void {
  // getRandomValues fills at most 65536 bytes a call; the pool is smaller.
  globalThis.crypto.getRandomValues(b);
}

/**
 * The prepared key of both built-in backends: a copy of the key bytes that `destroy` zeroes. Not a
 * `KeyObject` on Node: OpenSSL expands the key on every cipher either way (measured: no faster),
 * and bytes we own can be zeroed, a KeyObject's memory cannot. noble has no prepared form to keep.
 */
export class KeyCopy implements PreparedKey {
  readonly key: Uint8Array;
  constructor(key: Uint8Array) {
    this.key = copyBytes(key);
  }
  destroy(): void {
    this.key.fill(0);
  }
}

/**
 * Encrypts with @noble/ciphers, writing the ciphertext at `out[ctOffset..]` and the tag at
 * `out[tagOffset..]`. `plaintext` may be `out`'s own ciphertext slot: noble reads it all first.
 */
export function nobleEncrypt(
  key: Uint8Array,
  iv: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array | undefined,
  out: Uint8Array,
  ctOffset: number,
  tagOffset: number,
): void {
  checkIv(iv);
  // Called as hand-written code calls it (no third argument without AAD): one call shape for V8.
  const sealed = (aad === undefined ? gcm(key, iv) : gcm(key, iv, aad)).encrypt(plaintext);
  const n = plaintext.length;
  out.set(sealed.subarray(0, n), ctOffset);
  out.set(sealed.subarray(n), tagOffset);
}

/**
 * Authenticates and decrypts with @noble/ciphers.
 * @throws DecryptionError when the tag does not verify.
 */
export function nobleDecrypt(
  key: Uint8Array,
  iv: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
  aad: Uint8Array | undefined,
): Uint8Array {
  checkIv(iv);
  if (tag.length !== TAG_LENGTH) throw new DecryptionError();
  // noble wants CT ‖ TAG in one buffer; format A stores the tag before the ciphertext.
  const joined = new Uint8Array(ciphertext.length + TAG_LENGTH);
  joined.set(ciphertext, 0);
  joined.set(tag, ciphertext.length);
  try {
    // noble checks the tag (in constant time) before it runs CTR, so no plaintext exists on failure.
    return (aad === undefined ? gcm(key, iv) : gcm(key, iv, aad)).decrypt(joined);
  } catch (cause) {
    throw new DecryptionError({ cause });
  } finally {
    joined.fill(0);
  }
}

/**
 * `bytes` as a plain `Uint8Array` (a `Buffer` is one too, but its `slice` shares memory where a
 * Uint8Array's copies): what every byte result of ours is.
 * @internal
 */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The portable backend on @noble/ciphers. */
export class PortableBackend implements AeadBackend {
  readonly name: string = 'portable';
  readonly #ivs = new IvPool(webRandom);

  prepare(key: Uint8Array): PreparedKey {
    abytes(key, KEY_LENGTH, 'data key');
    return new KeyCopy(key);
  }

  encrypt(
    key: PreparedKey,
    iv: Uint8Array,
    plaintext: Uint8Array,
    aad: Uint8Array | undefined,
    out: Uint8Array,
    ctOffset: number,
    tagOffset: number,
  ): void {
    nobleEncrypt((key as KeyCopy).key, iv, plaintext, aad, out, ctOffset, tagOffset);
  }

  decrypt(
    key: PreparedKey,
    iv: Uint8Array,
    ciphertext: Uint8Array,
    tag: Uint8Array,
    aad: Uint8Array | undefined,
  ): Uint8Array {
    return nobleDecrypt((key as KeyCopy).key, iv, ciphertext, tag, aad);
  }

  fillIv(out: Uint8Array, offset: number): void {
    this.#ivs.next(out, offset);
  }
}
