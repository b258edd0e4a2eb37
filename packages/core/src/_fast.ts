/**
 * The `fast` backend: AES-256-GCM on OpenSSL through `node:crypto` (AES-NI where the CPU has it),
 * loaded at run time with `process.getBuiltinModule`, never a static import. Only the Node build
 * of the package reaches this module (through `#fast`), so browser bundles leave it out.
 * @module
 */
import { checkIv, IvPool, KEY_LENGTH, KeyCopy, plainBytes } from './_gcm.js';
import type { AeadBackend, PreparedKey } from './aead.js';
import { abytes } from './assert.js';
import { DecryptionError } from './errors.js';
import { TAG_LENGTH } from './format.js';

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
export class FastBackend implements AeadBackend {
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
    return plainBytes(this.decryptRaw(key, iv, ciphertext, tag, aad));
  }

  /**
   * {@link FastBackend.decrypt} without the last step: the plaintext as `node:crypto` returns it,
   * a `Buffer` of its own memory, which the Envelope turns into text without another view.
   * @internal
   */
  decryptRaw(
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
    return pt;
  }

  fillIv(out: Uint8Array, offset: number): void {
    this.#ivs.next(out, offset);
  }
}

/**
 * The fast backend, or `undefined` when the runtime has no `node:crypto` (Node before 20.16, or a
 * runtime that takes the `node` condition without being Node).
 * @returns A new backend on the runtime's `node:crypto`.
 */
export function createFastBackend(): AeadBackend | undefined {
  const nodeCrypto = loadNodeCrypto();
  return nodeCrypto === undefined ? undefined : new FastBackend(nodeCrypto);
}
