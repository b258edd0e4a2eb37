/**
 * AES-256-GCM (NIST SP 800-38D) behind one small interface, with three implementations that give
 * identical bytes for the same key, IV, AAD and plaintext:
 *
 * - `portable`: @noble/ciphers `gcm`, pure JavaScript, runs in every runtime.
 * - `fast`: OpenSSL through `node:crypto`, loaded at run time with `process.getBuiltinModule`
 *   (never a static import, so bundles for browsers and edge runtimes stay free of Node).
 * - `web`: WebCrypto (`crypto.subtle`) for browsers and edge runtimes, asynchronous (see the web
 *   backend module); its synchronous interface is noble's.
 *
 * `'auto'` picks `fast` where `node:crypto` exists, else `web` where `crypto.subtle` does (a
 * browser page served over https or from localhost, a Worker), else `portable`.
 *
 * All take the 12-byte IV of formats A and B and the 32-byte IV of the legacy layout (GCM hashes
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

import { createFastBackend } from '#fast';
import type { FastBackend } from './_fast.js';
import { PortableBackend } from './_gcm.js';
import { WebBackend, webSubtle } from './_web.js';
import { kindOf } from './assert.js';

/** A key prepared for repeated use by one backend. It owns a copy of the key; `destroy` zeroes it. */
export interface PreparedKey {
  /** Zeroes what the handle owns. Using the handle afterwards is an error. */
  destroy(): void;
}

/**
 * One AES-256-GCM implementation. The synchronous `encrypt`/`decrypt` are required; a backend
 * that is faster asynchronously (WebCrypto) adds `asyncFrom`, `prepareAsync`, `encryptAsync` and
 * `decryptAsync`, and the Envelope then awaits those for messages of `asyncFrom` bytes or more.
 */
export interface AeadBackend {
  /** `'fast'`, `'portable'` or `'web'` for the built-in backends. */
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
  /**
   * Optional, with the three methods below: messages of at least this many bytes (plaintext
   * when encrypting, ciphertext when decrypting) go through `encryptAsync`/`decryptAsync`.
   */
  readonly asyncFrom?: number;
  /**
   * Optional: finishes preparing `key` for the asynchronous methods (WebCrypto's `importKey`);
   * `undefined` when it is ready. The Envelope awaits it, then checks its inputs again, then
   * calls `encryptAsync`/`decryptAsync` with no `await` in between.
   */
  prepareAsync?(key: PreparedKey): Promise<void> | undefined;
  /**
   * Optional: {@link AeadBackend.encrypt}, asynchronously. Reads `key`, `iv`, `plaintext` and
   * `aad` before it returns (the caller may zero or reuse them then, and a shared key may be
   * destroyed then, which zeroes its prepared state): an implementation that awaits before using
   * the key may find it zeroed. Writes `out` when it settles.
   */
  encryptAsync?(
    key: PreparedKey,
    iv: Uint8Array,
    plaintext: Uint8Array,
    aad: Uint8Array | undefined,
    out: Uint8Array,
    ctOffset: number,
    tagOffset: number,
  ): Promise<void>;
  /**
   * Optional: {@link AeadBackend.decrypt}, asynchronously. Reads its inputs, `key` included,
   * before it returns (as for `encryptAsync`); rejects with DecryptionError when authentication
   * fails, and releases no plaintext then.
   */
  decryptAsync?(
    key: PreparedKey,
    iv: Uint8Array,
    ciphertext: Uint8Array,
    tag: Uint8Array,
    aad: Uint8Array | undefined,
  ): Promise<Uint8Array>;
}

/**
 * Which backend an Envelope uses: `'auto'` picks `fast` where `node:crypto` exists, else `web`
 * where `crypto.subtle` does, else `portable`.
 */
export type BackendChoice = 'auto' | 'fast' | 'portable' | 'web' | AeadBackend;

let portable: PortableBackend | undefined;
let fast: AeadBackend | null | undefined;
let web: WebBackend | null | undefined;

/**
 * Decrypts as `backend.decrypt` does; the built-in fast backend may return a `Buffer` (see
 * `plainBytes`).
 * @internal
 */
export function decryptRaw(
  backend: AeadBackend,
  key: PreparedKey,
  iv: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
  aad: Uint8Array | undefined,
): Uint8Array {
  return backend === fast
    ? (backend as FastBackend).decryptRaw(key, iv, ciphertext, tag, aad)
    : backend.decrypt(key, iv, ciphertext, tag, aad);
}

/**
 * Whether `backend` is one of ours: it writes every byte of the ciphertext and the tag, and it
 * reads the whole plaintext before it writes the ciphertext, so a plaintext in the ciphertext's
 * own slot may be encrypted in place.
 * @internal
 */
export function isBuiltinBackend(backend: AeadBackend): boolean {
  return backend === fast || backend === portable || backend === web;
}

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
  if (fast === undefined) fast = createFastBackend() ?? null;
  return fast ?? undefined;
}

/**
 * The web backend (WebCrypto, with @noble/ciphers for its synchronous interface), or `undefined`
 * when the runtime has no `crypto.subtle` (a page served over plain http from another host than
 * localhost, some embedded runtimes).
 * @returns The backend, or `undefined`.
 * @example
 * ```ts
 * new Envelope({ keys, backend: webBackend() ?? portableBackend() });
 * ```
 */
export function webBackend(): AeadBackend | undefined {
  if (web === undefined) {
    const subtle = webSubtle();
    web = subtle === undefined ? null : new WebBackend(subtle);
  }
  return web ?? undefined;
}

function needs(b: AeadBackend | undefined, name: string, what: string): AeadBackend {
  if (b === undefined)
    throw new TypeError(`backend '${name}' needs ${what}, which this runtime does not provide`);
  return b;
}

/**
 * Resolves a backend choice.
 * @param choice - `'auto'` (default): fast where available, else web, else portable; `'fast'`,
 *   `'portable'`, `'web'`, or a custom {@link AeadBackend}.
 * @returns The backend.
 * @throws TypeError when `'fast'` is asked for in a runtime without `node:crypto`, `'web'` in one
 *   without `crypto.subtle`, the choice is unknown, or a custom backend with `asyncFrom` lacks
 *   `encryptAsync` or `decryptAsync` or has an `asyncFrom` that is not an integer of at least 0.
 * @example
 * ```ts
 * selectBackend('portable').name; // 'portable'
 * ```
 */
export function selectBackend(choice: BackendChoice = 'auto'): AeadBackend {
  if (choice === 'auto') return fastBackend() ?? webBackend() ?? portableBackend();
  if (choice === 'portable') return portableBackend();
  if (choice === 'fast') return needs(fastBackend(), choice, 'node:crypto');
  if (choice === 'web') return needs(webBackend(), choice, 'crypto.subtle');
  if (
    typeof choice === 'object' &&
    choice !== null &&
    typeof choice.encrypt === 'function' &&
    typeof choice.decrypt === 'function' &&
    typeof choice.prepare === 'function' &&
    typeof choice.fillIv === 'function'
  ) {
    const from = choice.asyncFrom;
    if (
      from !== undefined &&
      (!Number.isSafeInteger(from) ||
        from < 0 ||
        typeof choice.encryptAsync !== 'function' ||
        typeof choice.decryptAsync !== 'function')
    ) {
      throw new TypeError(
        'backend with asyncFrom must have an integer asyncFrom >= 0, encryptAsync and decryptAsync, got an object without',
      );
    }
    return choice;
  }
  const got = typeof choice === 'string' ? 'another string' : kindOf(choice);
  throw new TypeError(`backend must be 'auto', 'fast', 'portable', 'web' or an AeadBackend, got ${got}`);
}
