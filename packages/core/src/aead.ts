/**
 * AES-256-GCM (NIST SP 800-38D) behind one small interface, with two implementations that give
 * identical bytes for the same key, IV, AAD and plaintext:
 *
 * - `portable`: @noble/ciphers `gcm`, pure JavaScript, runs in every runtime.
 * - `fast`: OpenSSL through `node:crypto`, loaded at run time with `process.getBuiltinModule`
 *   (never a static import, so bundles for browsers and edge runtimes stay free of Node).
 *
 * Both take the 12-byte IV of formats A and B and the 32-byte IV of the legacy layout (GCM hashes
 * an IV that is not 96 bits long into the initial counter, §7.1 step 2), and always a 16-byte tag.
 *
 * ## IVs from a pool
 * Each backend draws IVs from a pooled buffer of CSPRNG output (4 KiB, 341 IVs) instead of one
 * CSPRNG call per IV, which halves the cost of a small encryption on Node. This is as safe as one
 * call per IV: the pool is filled by the same CSPRNG, every IV is a disjoint 12-byte slice of its
 * output, no slice is handed out twice (the offset only grows and the whole pool is refilled
 * before it wraps), and IVs are public values, so holding future ones in memory reveals nothing a
 * ciphertext would not. The one new hazard, a pool copied into two processes (a VM or V8 snapshot
 * taken after first use), is handled by refilling when the process id changes. The uniqueness
 * bound is that of random 96-bit IVs: at most 2^32 messages per data key (§8.3).
 * @module
 */
import { gcm } from '@noble/ciphers/aes.js';
import { abytes, copyBytes, kindOf } from './assert.js';
import { DecryptionError } from './errors.js';
import { IV_LENGTH, LEGACY_IV_LENGTH, TAG_LENGTH } from './format.js';

/** A key prepared for repeated use by one backend. It owns a copy of the key; `destroy` zeroes it. */
export interface PreparedKey {
  /** Zeroes what the handle owns. Using the handle afterwards is an error. */
  destroy(): void;
}

/** One AES-256-GCM implementation. */
export interface AeadBackend {
  /** `'fast'` or `'portable'` for the built-in backends. */
  readonly name: string;
  /**
   * Copies `key` (32 bytes) into a handle for repeated use; the caller may zero `key` afterwards.
   * @throws RangeError when the key is not 32 bytes.
   */
  prepare(key: Uint8Array): PreparedKey;
  /**
   * Encrypts `plaintext`, writing the ciphertext at `out[ctOffset..]` and the tag at
   * `out[tagOffset..tagOffset+16]`.
   */
  encrypt(
    key: PreparedKey,
    iv: Uint8Array,
    plaintext: Uint8Array,
    aad: Uint8Array | undefined,
    out: Uint8Array,
    ctOffset: number,
    tagOffset: number,
  ): void;
  /**
   * Authenticates and decrypts. Releases no byte of plaintext unless the tag verifies.
   * @throws DecryptionError when authentication fails.
   */
  decrypt(
    key: PreparedKey,
    iv: Uint8Array,
    ciphertext: Uint8Array,
    tag: Uint8Array,
    aad: Uint8Array | undefined,
  ): Uint8Array;
  /** Writes a fresh random 12-byte IV into `out` at `offset`. */
  fillIv(out: Uint8Array, offset: number): void;
}

/** Which backend an Envelope uses: `'auto'` picks `fast` where `node:crypto` exists. */
export type BackendChoice = 'auto' | 'fast' | 'portable' | AeadBackend;

const KEY_LENGTH = 32;
const POOL_SIZE = 341 * IV_LENGTH;

function checkIv(iv: Uint8Array): void {
  if (iv.length !== IV_LENGTH && iv.length !== LEGACY_IV_LENGTH) {
    throw new RangeError(`iv must be ${IV_LENGTH} or ${LEGACY_IV_LENGTH} bytes, got ${iv.length}`);
  }
}

/** Hands out disjoint 12-byte slices of CSPRNG output (see the module comment for why this is safe). */
class IvPool {
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

function webRandom(b: Uint8Array): void {
  // getRandomValues fills at most 65536 bytes a call; the pool is smaller.
  globalThis.crypto.getRandomValues(b);
}

/**
 * The prepared key of both built-in backends: a copy of the key bytes that `destroy` zeroes. Not a
 * `KeyObject` on Node: OpenSSL expands the key on every cipher either way (measured: no faster),
 * and bytes we own can be zeroed, a KeyObject's memory cannot. noble has no prepared form to keep.
 */
class KeyCopy implements PreparedKey {
  readonly key: Uint8Array;
  constructor(key: Uint8Array) {
    this.key = copyBytes(key);
  }
  destroy(): void {
    this.key.fill(0);
  }
}

/** The portable backend on @noble/ciphers. */
class PortableBackend implements AeadBackend {
  readonly name = 'portable';
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
    checkIv(iv);
    const sealed = gcm((key as KeyCopy).key, iv, aad).encrypt(plaintext);
    const n = plaintext.length;
    out.set(sealed.subarray(0, n), ctOffset);
    out.set(sealed.subarray(n), tagOffset);
  }

  decrypt(
    key: PreparedKey,
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
      return gcm((key as KeyCopy).key, iv, aad).decrypt(joined);
    } catch (cause) {
      throw new DecryptionError({ cause });
    } finally {
      joined.fill(0);
    }
  }

  fillIv(out: Uint8Array, offset: number): void {
    this.#ivs.next(out, offset);
  }
}

/** The part of `node:crypto` the fast backend uses, typed here so that core needs no Node types. */
interface NodeCipher {
  setAAD(aad: Uint8Array): unknown;
  update(data: Uint8Array): Uint8Array;
  final(): Uint8Array;
  getAuthTag(): Uint8Array;
  setAuthTag(tag: Uint8Array): unknown;
}
interface NodeCrypto {
  createCipheriv(alg: string, key: Uint8Array, iv: Uint8Array, opts?: { authTagLength: number }): NodeCipher;
  createDecipheriv(
    alg: string,
    key: Uint8Array,
    iv: Uint8Array,
    opts?: { authTagLength: number },
  ): NodeCipher;
  randomFillSync(b: Uint8Array): Uint8Array;
}

function loadNodeCrypto(): NodeCrypto | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  if (typeof proc?.getBuiltinModule !== 'function') return undefined;
  try {
    return proc.getBuiltinModule('node:crypto') as NodeCrypto | undefined;
  } catch {
    return undefined;
  }
}

const TAG_OPTS = { authTagLength: TAG_LENGTH } as const;

/** The fast backend on `node:crypto` (OpenSSL, AES-NI where the CPU has it). */
class FastBackend implements AeadBackend {
  readonly name = 'fast';
  readonly #crypto: NodeCrypto;
  readonly #ivs: IvPool;

  constructor(nodeCrypto: NodeCrypto) {
    this.#crypto = nodeCrypto;
    this.#ivs = new IvPool((b) => nodeCrypto.randomFillSync(b));
  }

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
    checkIv(iv);
    const c = this.#crypto.createCipheriv('aes-256-gcm', (key as KeyCopy).key, iv, TAG_OPTS);
    if (aad !== undefined && aad.length > 0) c.setAAD(aad);
    const ct = c.update(plaintext);
    out.set(ct, ctOffset);
    const rest = c.final();
    if (rest.length !== 0) out.set(rest, ctOffset + ct.length);
    out.set(c.getAuthTag(), tagOffset);
  }

  decrypt(
    key: PreparedKey,
    iv: Uint8Array,
    ciphertext: Uint8Array,
    tag: Uint8Array,
    aad: Uint8Array | undefined,
  ): Uint8Array {
    checkIv(iv);
    // Without authTagLength OpenSSL would accept a truncated tag; ours is always 16 bytes.
    if (tag.length !== TAG_LENGTH) throw new DecryptionError();
    const d = this.#crypto.createDecipheriv('aes-256-gcm', (key as KeyCopy).key, iv, TAG_OPTS);
    if (aad !== undefined && aad.length > 0) d.setAAD(aad);
    d.setAuthTag(tag);
    // OpenSSL decrypts before it verifies: the bytes from update() are unauthenticated until
    // final() succeeds, and are zeroed, never returned, when it throws.
    const pt = d.update(ciphertext);
    try {
      d.final();
    } catch (cause) {
      pt.fill(0);
      throw new DecryptionError({ cause });
    }
    return pt.constructor === Uint8Array ? pt : new Uint8Array(pt.buffer, pt.byteOffset, pt.byteLength);
  }

  fillIv(out: Uint8Array, offset: number): void {
    this.#ivs.next(out, offset);
  }
}

let portable: PortableBackend | undefined;
let fast: FastBackend | null | undefined;

/**
 * The portable backend (@noble/ciphers), available in every runtime.
 * @returns The backend, one instance per copy of this package.
 * @example
 * ```ts
 * new Envelope({ keys, backend: portableBackend() });
 * ```
 */
export function portableBackend(): AeadBackend {
  portable ??= new PortableBackend();
  return portable;
}

/**
 * The fast backend (`node:crypto`), or `undefined` when the runtime has no `node:crypto`
 * (browsers, edge runtimes, Node before 20.16).
 * @returns The backend, or `undefined`.
 * @example
 * ```ts
 * const backend = fastBackend() ?? portableBackend();
 * ```
 */
export function fastBackend(): AeadBackend | undefined {
  if (fast === undefined) {
    const nodeCrypto = loadNodeCrypto();
    fast = nodeCrypto === undefined ? null : new FastBackend(nodeCrypto);
  }
  return fast ?? undefined;
}

/**
 * Resolves a backend choice.
 * @param choice - `'auto'` (default): fast where available, else portable; `'fast'`, `'portable'`,
 *   or a custom {@link AeadBackend}.
 * @returns The backend.
 * @throws TypeError when `'fast'` is asked for in a runtime without `node:crypto`, or the choice is unknown.
 * @example
 * ```ts
 * selectBackend('portable').name; // 'portable'
 * ```
 */
export function selectBackend(choice: BackendChoice = 'auto'): AeadBackend {
  if (choice === 'auto') return fastBackend() ?? portableBackend();
  if (choice === 'portable') return portableBackend();
  if (choice === 'fast') {
    const b = fastBackend();
    if (b === undefined)
      throw new TypeError("backend 'fast' needs node:crypto, which this runtime does not provide");
    return b;
  }
  if (
    typeof choice === 'object' &&
    choice !== null &&
    typeof choice.encrypt === 'function' &&
    typeof choice.decrypt === 'function' &&
    typeof choice.prepare === 'function' &&
    typeof choice.fillIv === 'function'
  ) {
    return choice;
  }
  const got = typeof choice === 'string' ? 'another string' : kindOf(choice);
  throw new TypeError(`backend must be 'auto', 'fast', 'portable' or an AeadBackend, got ${got}`);
}
