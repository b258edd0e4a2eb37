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
 *
 * Per tenant: {@link BlindIndex.forTenant} derives a key per tenant (HKDF-SHA256, salt
 * `vault-envelope/blind-index/tenant/v1`, info = the tenant), so the same email in two tenants
 * gives unrelated index values and one tenant's index tells nothing about another's.
 *
 * Versions, for moving to a new index key: the version lives in the value (`"v2:" + hex`; a
 * value without a prefix is version 0), so a column can hold both while it is reindexed, and a
 * lookup matches any of the candidates ({@link blindIndexCandidates}).
 * @module
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { aname } from './_aad.js';
import { toHex, utf8 } from './_bytes.js';
import { abytes, afunction, aint, aoptions, astring, astringOrBytes, copyBytes, kindOf } from './assert.js';

const SALT = /* @__PURE__ */ utf8('vault-envelope/blind-index/v1');
const TENANT_SALT = /* @__PURE__ */ utf8('vault-envelope/blind-index/tenant/v1');
/** The highest index version: versions are small counters, kept within a 31-bit integer. */
const MAX_VERSION = 2 ** 31 - 1;

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
  /**
   * The index's version, 1 or more, for rotation to a new index key: {@link BlindIndex.compute}
   * then returns `"v<version>:" + hex`. Without it, plain hex (read as version 0).
   */
  version?: number;
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
  /** The version written into each value (`"v<n>:"`), or 0 for plain hex. */
  readonly version: number;
  /** The tenant this index is keyed for ({@link BlindIndex.forTenant}), if any. */
  readonly tenant: string | undefined;
  readonly #key: Uint8Array;
  readonly #normalize: ((value: string) => string) | undefined;
  readonly #prefix: string;
  #destroyed = false;

  /**
   * @param options - `key`, and optionally `name`, `bits`, `normalize`, `version`.
   * @throws TypeError / RangeError on a short key, bad bits or version, a non-function
   *   normalizer, an empty name or an unknown option.
   */
  constructor(options: BlindIndexOptions) {
    if (options === undefined) throw new TypeError('BlindIndex options must be an object, got undefined');
    aoptions(options, 'BlindIndex options', ['key', 'name', 'bits', 'normalize', 'version']);
    const key = abytes(options.key, undefined, 'blind index key');
    if (key.length < 32) throw new RangeError(`blind index key must be at least 32 bytes, got ${key.length}`);
    this.bits = aint(options.bits ?? 64, 1, 256, 'bits');
    this.#normalize =
      options.normalize === undefined
        ? undefined
        : afunction<(value: string) => string>(options.normalize, 'normalize');
    this.version = options.version === undefined ? 0 : aint(options.version, 1, MAX_VERSION, 'version');
    this.#prefix = this.version === 0 ? '' : `v${this.version}:`;
    this.tenant = undefined;
    if (options.name !== undefined) {
      astring(options.name, 'name', 1);
      this.#key = hkdf(sha256, key, SALT, utf8(options.name), 32);
    } else {
      this.#key = copyBytes(key);
    }
  }

  /**
   * A blind index of the same column for one tenant: its key is HKDF-SHA256(this index's key,
   * salt `vault-envelope/blind-index/tenant/v1`, info = UTF-8 of `tenant`), with the same bits,
   * normalizer and version. The same value in two tenants gives unrelated index values, so an
   * index column tells nothing across tenants (which values two tenants share, how many rows of
   * one tenant share a value with another's). Use it in multi-tenant tables; look up with the
   * request's tenant, as for the field helpers.
   * @param tenant - The tenant (text, 1 to 500 code units), e.g. the organization id.
   * @returns A new BlindIndex; destroy it when done, as this one.
   * @throws TypeError / RangeError on a bad tenant; TypeError on an index that is already per
   *   tenant, or destroyed.
   * @example
   * ```ts
   * const orgEmail = emailIndex.forTenant(session.orgId);
   * db.prepare('SELECT * FROM users WHERE email_idx = ?').all(orgEmail.compute(email));
   * ```
   */
  forTenant(tenant: string): BlindIndex {
    if (this.#destroyed) throw new TypeError('this BlindIndex was destroyed');
    if (this.tenant !== undefined) throw new TypeError('this BlindIndex is already keyed for a tenant');
    const t = aname(tenant, 'tenant');
    const key = hkdf(sha256, this.#key, TENANT_SALT, utf8(t), 32);
    const options: BlindIndexOptions = { key, bits: this.bits };
    if (this.#normalize !== undefined) options.normalize = this.#normalize;
    if (this.version !== 0) options.version = this.version;
    const index = new BlindIndex(options);
    key.fill(0);
    (index as { tenant: string | undefined }).tenant = t;
    return index;
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
   * The truncated MAC of `value` as lowercase hex, ready for an indexed text column; with a
   * `version`, prefixed `"v<version>:"`.
   * @param value - A string (normalized, then UTF-8) or bytes.
   * @returns ceil(bits/8)*2 hex digits, after the version prefix if any.
   * @throws As {@link BlindIndex.computeBytes}.
   * @example
   * ```ts
   * db.prepare('SELECT * FROM users WHERE email_idx = ?').get(emailIndex.compute(email));
   * ```
   */
  compute(value: string | Uint8Array): string {
    return this.#prefix + toHex(this.computeBytes(value));
  }

  /** Zeroes the index key. */
  destroy(): void {
    this.#destroyed = true;
    this.#key.fill(0);
  }
}

/**
 * The values an equality lookup must match while a column is reindexed from one index key to
 * another: `value` under each index, in the order given, without repeats. Query with all of
 * them (`WHERE email_idx IN (?, ?)`) until every row carries the new index's value.
 * @param indexes - The indexes in use, newest first (e.g. `[v2, v1]`).
 * @param value - The value searched for.
 * @returns One index value per distinct result.
 * @throws TypeError when `indexes` is not a non-empty array of BlindIndex; as
 *   {@link BlindIndex.compute} otherwise.
 * @example
 * ```ts
 * const candidates = blindIndexCandidates([emailIdxV2, emailIdxV1], email);
 * db.prepare(`SELECT * FROM users WHERE email_idx IN (${candidates.map(() => '?').join(', ')})`).all(...candidates);
 * ```
 */
export function blindIndexCandidates(indexes: readonly BlindIndex[], value: string | Uint8Array): string[] {
  if (!Array.isArray(indexes) || indexes.length === 0) {
    throw new TypeError(`indexes must be a non-empty array of BlindIndex, got ${kindOf(indexes)}`);
  }
  const out: string[] = [];
  indexes.forEach((index: unknown, i) => {
    if (!(index instanceof BlindIndex))
      throw new TypeError(`indexes[${i}] must be a BlindIndex, got ${kindOf(index)}`);
    const v = index.compute(value);
    if (!out.includes(v)) out.push(v);
  });
  return out;
}

const VERSIONED = /^v([1-9][0-9]{0,9}):[0-9a-f]+$/;
const PLAIN = /^[0-9a-f]+$/;

/**
 * The version of a stored blind-index value: `n` for `"v<n>:" + hex`, 0 for plain hex (what an
 * index without `version` writes).
 * @param stored - A value {@link BlindIndex.compute} returned.
 * @returns Its version.
 * @throws TypeError when it is not a string; RangeError when it is neither form.
 * @example
 * ```ts
 * blindIndexVersion('v2:9f86d081884c7d65'); // 2
 * blindIndexVersion('9f86d081884c7d65');    // 0
 * ```
 */
export function blindIndexVersion(stored: string): number {
  astring(stored, 'blind index value');
  const m = VERSIONED.exec(stored);
  if (m !== null) {
    const v = Number(m[1]);
    if (v <= MAX_VERSION) return v;
  } else if (PLAIN.test(stored)) return 0;
  throw new RangeError(
    'blind index value must be lowercase hex, optionally prefixed "v<version>:", got another string',
  );
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
