/**
 * Key-blob headers: the fixed bytes every key blob of a key service starts with, which is what
 * lets a decoder tell where the blob K sits in a layout without a version byte, and what makes
 * `isCiphertext` strict (random text passes only if a known header lands exactly where K starts).
 *
 * Known everywhere: WorkOS Vault's `WOS.EKM.`, the local server's `VES.EKM.v1\0` and the memory
 * provider's `VE.MEM.v1\0`. A provider declares its own (`KeyProvider.keyBlobHeaders`), as may
 * the Envelope's options: at least {@link MIN_KEY_BLOB_HEADER_LENGTH} bytes each, so that one
 * declared header lets a random message through with a probability of at most 2^-48 per layout.
 *
 * The .NET SDK stores K as the UTF-8 bytes of the blob's base64 text, and turns it back into
 * text before it asks Vault. That variant is recognised by the base64 text of a known header at
 * the start of K (then all of K must be strict base64 whose decoding starts with the header), and
 * {@link KeyBlobHeaders.providerBlob} hands the key service the decoded blob.
 * @module
 */
import { decodeBase64, encodeBase64, fromUtf8, utf8 } from './_bytes.js';
import { abytes, copyBytes, isBytes, kindOf } from './assert.js';
import { KeyDestroyedError, KeyProviderError } from './errors.js';
import { type DataKey, type KeyProvider, makeDataKey } from './keys.js';

/**
 * The shortest key-blob header a provider or the Envelope options may declare, in bytes.
 */
export const MIN_KEY_BLOB_HEADER_LENGTH = 6;

/** K does not start with a known header. */
export const UNKNOWN = 0;
/** K starts with a known header. */
export const BINARY = 1;
/** K is the base64 text of a blob that starts with a known header (the .NET SDK's variant). */
export const TEXT = 2;
/** How a key blob matched: {@link UNKNOWN}, {@link BINARY} or {@link TEXT}. */
export type BlobMatch = typeof UNKNOWN | typeof BINARY | typeof TEXT;

function startsWith(bytes: Uint8Array, offset: number, prefix: Uint8Array): boolean {
  if (bytes.length - offset < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[offset + i] !== prefix[i]) return false;
  return true;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && startsWith(a, 0, b);
}

/**
 * Checks a list of declared headers.
 * @param value - An array of Uint8Array, each at least 6 bytes.
 * @param title - What it is, for messages.
 * @returns Copies of the headers.
 * @throws TypeError when it is not an array of Uint8Array; RangeError on a header that is too short.
 */
export function checkHeaders(value: unknown, title: string): Uint8Array[] {
  if (!Array.isArray(value))
    throw new TypeError(`${title} must be an array of Uint8Array, got ${kindOf(value)}`);
  return value.map((h: unknown, i) => {
    const b = abytes(h, undefined, `${title}[${i}]`);
    if (b.length < MIN_KEY_BLOB_HEADER_LENGTH) {
      throw new RangeError(
        `${title}[${i}] must be at least ${MIN_KEY_BLOB_HEADER_LENGTH} bytes, got ${b.length}`,
      );
    }
    return copyBytes(b);
  });
}

/** The ASCII bytes of base64(`blob`): how the .NET SDK stores a key blob in a message. */
export function textKeyBlob(blob: Uint8Array): Uint8Array {
  return utf8(encodeBase64(blob));
}

/** K decoded as strict base64 text, or `undefined` when it is not. The result is ours. */
function decodeText(k: Uint8Array): Uint8Array | undefined {
  for (let i = 0; i < k.length; i++) if (k[i]! > 0x7f) return undefined;
  try {
    return decodeBase64(fromUtf8(k), 'key blob');
  } catch {
    return undefined;
  }
}

/** A set of known headers, each with the base64 text its .NET form starts with. */
export class KeyBlobHeaders {
  /** The built-in headers alone. */
  static readonly builtin: KeyBlobHeaders = /* @__PURE__ */ new KeyBlobHeaders([]);

  readonly #headers: Uint8Array[];
  /** The headers beyond the built-in ones. */
  readonly #extra: Uint8Array[];
  /**
   * Per header, the base64 text of its first 3·⌊n/3⌋ bytes: the part of the text form that does
   * not depend on what follows the header (8 characters or more for a 6-byte header).
   */
  readonly #textPrefixes: Uint8Array[];

  /** @param extra - Checked headers ({@link checkHeaders}) added to the built-in ones. */
  constructor(extra: readonly Uint8Array[]) {
    const all: Uint8Array[] = [
      utf8('WOS.EKM.'), // WorkOS Vault
      utf8('VES.EKM.v1\0'), // the local server (@vault-envelope/server)
      utf8('VE.MEM.v1\0'), // MemoryKeyProvider
    ];
    const builtin = all.length;
    for (const h of extra) if (!all.some((k) => sameBytes(k, h))) all.push(copyBytes(h));
    this.#headers = all;
    this.#extra = all.slice(builtin);
    this.#textPrefixes = all.map((h) => textKeyBlob(h.subarray(0, h.length - (h.length % 3))));
  }

  /** This set and `extra` (already checked). */
  with(extra: readonly Uint8Array[]): KeyBlobHeaders {
    return extra.length === 0 ? this : new KeyBlobHeaders([...this.#extra, ...extra]);
  }

  /**
   * How `k` matches: binary (starts with a header), text (the .NET variant) or not at all.
   * Cheap for a binary blob and for a mismatch: byte comparisons, no allocation.
   */
  match(k: Uint8Array): BlobMatch {
    return this.matchAt(k, 0, k.length);
  }

  /** {@link KeyBlobHeaders.match} of `bytes[start, end)`, without a view unless it may be text. */
  matchAt(bytes: Uint8Array, start: number, end: number): BlobMatch {
    const hs = this.#headers;
    const n = end - start;
    for (let i = 0; i < hs.length; i++) {
      if (hs[i]!.length <= n && startsWith(bytes, start, hs[i]!)) return BINARY;
    }
    const ps = this.#textPrefixes;
    for (let i = 0; i < ps.length; i++) {
      if (ps[i]!.length <= n && startsWith(bytes, start, ps[i]!)) {
        return this.#textHeader(bytes.subarray(start, end)) === undefined ? UNKNOWN : TEXT;
      }
    }
    return UNKNOWN;
  }

  /** The header `k` starts with, or that its decoded text starts with; `undefined` when none. */
  header(k: Uint8Array): Uint8Array | undefined {
    for (const h of this.#headers) if (startsWith(k, 0, h)) return h;
    return this.#textHeader(k);
  }

  #textHeader(k: Uint8Array): Uint8Array | undefined {
    const ps = this.#textPrefixes;
    for (let i = 0; i < ps.length; i++) {
      if (!startsWith(k, 0, ps[i]!)) continue;
      const blob = decodeText(k);
      if (blob === undefined) return undefined;
      const h = this.#headers[i]!;
      const ok = startsWith(blob, 0, h);
      blob.fill(0);
      if (ok) return h;
    }
    return undefined;
  }

  /**
   * The blob to give the key service, in memory of its own: the decoded blob for the .NET
   * variant, else a copy of `k` (which is a view into a message that may live in a shared pool).
   */
  providerBlob(k: Uint8Array): Uint8Array {
    return this.textBlob(k) ?? copyBytes(k);
  }

  /**
   * The decoded blob, in memory of its own, when `k` is the .NET variant (the base64 text of a
   * blob that starts with a known header); `undefined` when `k` is to be given as it is.
   */
  textBlob(k: Uint8Array): Uint8Array | undefined {
    const ps = this.#textPrefixes;
    for (let i = 0; i < ps.length; i++) {
      if (!startsWith(k, 0, ps[i]!)) continue;
      // A binary blob that happens to start like a header's text stays as it is.
      if (this.#headers.some((h) => startsWith(k, 0, h))) return undefined;
      const blob = decodeText(k);
      if (blob !== undefined && startsWith(blob, 0, this.#headers[i]!)) return blob;
      return undefined;
    }
    return undefined;
  }
}

/** How many times a shared key destroyed before we could read it is asked for again. */
const DESTROYED_RETRIES = 3;

/**
 * `keys` with `createDataKey` answering in the .NET SDK's variant: `encryptedKeys` is the ASCII
 * of the blob's base64 text, so that the format A message the Envelope lays out around it is the
 * one the .NET SDK reads (it turns K back into text and sends that to Vault). The key bytes are
 * handed on as the caller's to zero: a plain DataKey's own (ours by the KeyProvider contract), a
 * shared key's fresh copy. Decryption does not go through here: the Envelope decodes the text
 * itself ({@link KeyBlobHeaders.providerBlob}).
 */
export function base64TextKeys(keys: KeyProvider): Pick<KeyProvider, 'createDataKey'> {
  return {
    async createDataKey(context, options) {
      for (let attempt = 0; ; attempt++) {
        const dk: DataKey = await keys.createDataKey(context, options);
        let key: Uint8Array;
        try {
          key = dk.key;
        } catch (e) {
          if (KeyDestroyedError.is(e) && attempt < DESTROYED_RETRIES) continue;
          throw e;
        }
        try {
          return makeDataKey({
            id: dk.id,
            key,
            encryptedKeys: textKeyBlob(dk.encryptedKeys),
            context: dk.context,
          });
        } catch (cause) {
          if (isBytes(key)) key.fill(0);
          throw new KeyProviderError('the key provider returned a malformed data key', { cause });
        }
      }
    },
  };
}
