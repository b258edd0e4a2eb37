/**
 * The `web` backend: AES-256-GCM on WebCrypto (`crypto.subtle`), for browsers and edge runtimes,
 * where there is no `node:crypto` and @noble/ciphers in JavaScript is 10 to 20 times slower.
 *
 * WebCrypto is asynchronous, so this backend has both sides of the {@link AeadBackend} interface:
 * the synchronous `encrypt`/`decrypt` (@noble/ciphers, as the portable backend: any caller of the
 * synchronous interface gets the same bytes) and `encryptAsync`/`decryptAsync` (WebCrypto), which
 * the Envelope uses for every message of at least {@link WEB_ASYNC_FROM} bytes.
 *
 * The CryptoKey is imported once per prepared key (`prepareAsync`), so a data key the cache
 * shares is imported once for all its messages. A CryptoKey can not be zeroed, as OpenSSL's copy
 * on Node can not: `destroy` zeroes our copy of the key bytes and drops the CryptoKey.
 *
 * Inputs are read when the call is made, never later: WebCrypto copies its `BufferSource`
 * arguments (data, IV, additional data) before it returns its promise (WebCrypto, "normalize an
 * algorithm" and step 2 of `encrypt()`/`decrypt()`: "get a copy of the bytes held by"), and this
 * backend adds no `await` before that call, so a caller may zero or reuse them as soon as the
 * call returns.
 * @module
 */
import { checkIv, KEY_LENGTH, KeyCopy, PortableBackend } from './_gcm.js';
import type { PreparedKey } from './aead.js';
import { abytes } from './assert.js';
import { DecryptionError } from './errors.js';
import { TAG_LENGTH } from './format.js';

/**
 * Messages of at least this many bytes (plaintext when encrypting, ciphertext when decrypting) go
 * through WebCrypto: measured in headless Chromium 156 (2 cores), WebCrypto awaited one call at a
 * time took 5 to 7 us from 0 to 256 bytes where @noble/ciphers took 20 to 45 us, and stayed ahead
 * at every size up to 1 MiB (1.6 ms against 27 ms). There is no size at which noble wins there,
 * so the crossover is 0: every message.
 */
export const WEB_ASYNC_FROM = 0;

/** The part of `SubtleCrypto` we use, typed here so that core needs no DOM types. */
interface Subtle {
  importKey(
    format: 'raw',
    key: Uint8Array,
    algorithm: { name: 'AES-GCM' },
    extractable: false,
    usages: ('encrypt' | 'decrypt')[],
  ): Promise<object>;
  encrypt(algorithm: GcmParams, key: object, data: Uint8Array): Promise<ArrayBuffer>;
  decrypt(algorithm: GcmParams, key: object, data: Uint8Array): Promise<ArrayBuffer>;
}

/** The tag length is WebCrypto's default, 128 bits. */
interface GcmParams {
  name: 'AES-GCM';
  iv: Uint8Array;
  additionalData?: Uint8Array;
}

/** `crypto.subtle`, where the runtime has it (browsers in a secure context, workers, edge runtimes). */
export function webSubtle(): Subtle | undefined {
  const s = (globalThis as { crypto?: { subtle?: Partial<Subtle> } }).crypto?.subtle;
  return typeof s?.importKey === 'function' ? (s as Subtle) : undefined;
}

/** The prepared key of the web backend: the key bytes (for noble) and, once imported, a CryptoKey. */
class WebKey extends KeyCopy {
  cryptoKey: object | undefined;
  importing: Promise<void> | undefined;
  destroyed = false;

  override destroy(): void {
    this.destroyed = true;
    this.cryptoKey = undefined;
    super.destroy();
  }
}

/** AES-GCM parameters (Chromium refuses an `additionalData` member that is `undefined`). */
function params(iv: Uint8Array, aad: Uint8Array | undefined): GcmParams {
  return aad === undefined ? { name: 'AES-GCM', iv } : { name: 'AES-GCM', iv, additionalData: aad };
}

function notReady(): TypeError {
  return new TypeError('prepared key must be ready (prepareAsync settled) and alive, got one that is not');
}

function ready(key: PreparedKey): object {
  const ck = (key as WebKey).cryptoKey;
  if (ck === undefined) throw notReady();
  return ck;
}

/** The web backend on WebCrypto; its synchronous interface is the portable backend's (noble). */
export class WebBackend extends PortableBackend {
  override readonly name: string = 'web';
  readonly asyncFrom: number = WEB_ASYNC_FROM;
  readonly #subtle: Subtle;

  /** @param subtle - The runtime's `crypto.subtle`. */
  constructor(subtle: Subtle) {
    super();
    this.#subtle = subtle;
  }

  override prepare(key: Uint8Array): PreparedKey {
    abytes(key, KEY_LENGTH, 'data key');
    return new WebKey(key);
  }

  prepareAsync(key: PreparedKey): Promise<void> | undefined {
    const k = key as WebKey;
    // Ready, or destroyed (then encryptAsync and decryptAsync refuse it).
    if (k.cryptoKey !== undefined || k.destroyed) return undefined;
    k.importing ??= this.#subtle
      .importKey('raw', k.key, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt'])
      .then((ck) => {
        if (!k.destroyed) k.cryptoKey = ck;
      });
    return k.importing;
  }

  encryptAsync(
    key: PreparedKey,
    iv: Uint8Array,
    plaintext: Uint8Array,
    aad: Uint8Array | undefined,
    out: Uint8Array,
    ctOffset: number,
    tagOffset: number,
  ): Promise<void> {
    checkIv(iv);
    const n = plaintext.length;
    // WebCrypto copies the plaintext, the IV and the AAD before this call returns.
    return this.#subtle.encrypt(params(iv, aad), ready(key), plaintext).then((sealed) => {
      const s = new Uint8Array(sealed);
      out.set(s.subarray(0, n), ctOffset);
      out.set(s.subarray(n), tagOffset);
    });
  }

  decryptAsync(
    key: PreparedKey,
    iv: Uint8Array,
    ciphertext: Uint8Array,
    tag: Uint8Array,
    aad: Uint8Array | undefined,
  ): Promise<Uint8Array> {
    checkIv(iv);
    if (tag.length !== TAG_LENGTH) return Promise.reject(new DecryptionError());
    const ck = ready(key);
    // WebCrypto wants CT ‖ TAG in one buffer; format A stores the tag before the ciphertext.
    const joined = new Uint8Array(ciphertext.length + TAG_LENGTH);
    joined.set(ciphertext, 0);
    joined.set(tag, ciphertext.length);
    // WebCrypto checks the tag before it releases any plaintext: a failure is an OperationError.
    return this.#subtle.decrypt(params(iv, aad), ck, joined).then(
      (plain) => new Uint8Array(plain),
      (cause: unknown) => {
        throw new DecryptionError({ cause });
      },
    );
  }
}
