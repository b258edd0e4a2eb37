/**
 * Blind indexes: a keyed, truncated HMAC-SHA256 (RFC 2104, FIPS 198-1) of a value, stored next to
 * its ciphertext so that equality lookups work on an encrypted column
 * (`WHERE email_idx = ?`) without decrypting anything.
 *
 * Each index has its own key, so that equal values in two columns do not produce equal index
 * values. Give each index its own 32-byte key, or one root key and a distinct `name` per index:
 * the index key is then derived with HKDF-SHA256 (RFC 5869), info = the name.
 *
 * Truncation is a deliberate trade-off: fewer bits mean more false positives on lookup (filter
 * them by decrypting the candidates) and less for an attacker with the database to learn from.
 * With `bits` = b and n distinct values, expect about n / 2^b false matches per lookup.
 * @module
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex, utf8 } from './_bytes.js';
import { abytes, aint, aobject, astringOrBytes, copyBytes } from './assert.js';

const SALT = /* @__PURE__ */ utf8('vault-envelope/blind-index/v1');

/** Options of {@link BlindIndex}. */
export interface BlindIndexOptions {
  /** The index key (at least 32 bytes), or a root key when `name` is given. Copied; zero yours. */
  key: Uint8Array;
  /** When given, the index key is HKDF-SHA256(key, salt, info = name): one root key, many indexes. */
  name?: string;
  /**
   * Bits of the HMAC to keep, 1 to 256.
   * @default 64
   */
  bits?: number;
  /** Applied to string values before hashing (e.g. `(s) => s.trim().toLowerCase()` for emails). */
  normalize?: (value: string) => string;
}

/**
 * A blind index over one column.
 *
 * @example
 * ```ts
 * const emailIdx = new BlindIndex({ key: rootKey, name: 'users.email', bits: 64, normalize: (s) => s.trim().toLowerCase() });
 * db.prepare('SELECT * FROM users WHERE email_idx = ?').get(emailIdx.compute('Ada@example.com'));
 * ```
 */
export class BlindIndex {
  /** Bits kept of each HMAC. */
  readonly bits: number;
  readonly #key: Uint8Array;
  readonly #normalize: ((value: string) => string) | undefined;
  #destroyed = false;

  /**
   * @param options - `key`, and optionally `name`, `bits`, `normalize`.
   * @throws TypeError / RangeError on a short key, bad bits or a non-function normalizer.
   */
  constructor(options: BlindIndexOptions) {
    aobject(options, 'BlindIndex options');
    const key = abytes(options.key, undefined, 'blind index key');
    if (key.length < 32) throw new RangeError(`blind index key must be at least 32 bytes, got ${key.length}`);
    this.bits = aint(options.bits ?? 64, 1, 256, 'bits');
    if (options.normalize !== undefined && typeof options.normalize !== 'function') {
      throw new TypeError('normalize must be a function');
    }
    this.#normalize = options.normalize;
    if (options.name !== undefined) {
      if (typeof options.name !== 'string' || options.name.length === 0) {
        throw new TypeError('name must be a non-empty string');
      }
      this.#key = hkdf(sha256, key, SALT, utf8(options.name), 32);
    } else {
      this.#key = copyBytes(key);
    }
  }

  /**
   * The truncated MAC of `value` as bytes: ceil(bits/8) bytes, unused low bits of the last byte zero.
   * @param value - A string (normalized, then UTF-8) or bytes.
   * @returns The index bytes.
   * @throws TypeError on another type, when `normalize` returns a non-string, or after `destroy()`.
   * @example
   * ```ts
   * emailIndex.computeBytes('ada@example.com'); // 8 bytes at the default 64 bits
   * ```
   */
  computeBytes(value: string | Uint8Array): Uint8Array {
    if (this.#destroyed) throw new TypeError('this BlindIndex was destroyed');
    astringOrBytes(value, 'value');
    let msg: Uint8Array;
    if (typeof value === 'string') {
      const normalized = this.#normalize === undefined ? value : this.#normalize(value);
      if (typeof normalized !== 'string') throw new TypeError('normalize must return a string');
      msg = utf8(normalized);
    } else {
      msg = value;
    }
    const mac = hmac(sha256, this.#key, msg);
    if (typeof value === 'string') msg.fill(0);
    const out = truncateBits(mac, this.bits);
    mac.fill(0);
    return out;
  }

  /**
   * The truncated MAC of `value` as lowercase hex, ready for an indexed text column.
   * @param value - A string (normalized, then UTF-8) or bytes.
   * @returns ceil(bits/8)*2 hex digits.
   * @throws As {@link BlindIndex.computeBytes}.
   * @example
   * ```ts
   * db.prepare('SELECT * FROM users WHERE email_idx = ?').get(emailIndex.compute(email));
   * ```
   */
  compute(value: string | Uint8Array): string {
    return toHex(this.computeBytes(value));
  }

  /** Zeroes the index key. */
  destroy(): void {
    this.#destroyed = true;
    this.#key.fill(0);
  }
}

/**
 * Keeps the first `bits` bits of `mac` (big-endian bit order, as RFC 2104 §5 truncation).
 * @internal
 */
function truncateBits(mac: Uint8Array, bits: number): Uint8Array {
  const out = mac.slice(0, Math.ceil(bits / 8));
  const rem = bits % 8;
  if (rem !== 0) out[out.length - 1]! &= (0xff << (8 - rem)) & 0xff;
  return out;
}
