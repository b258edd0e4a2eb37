/**
 * The WorkOS Vault ciphertext layouts (see docs/format.md). We write format A and read A, the
 * legacy 32-byte-IV variant of A, and format B:
 *
 * ```
 * A:      IV[12] ‖ TAG[16] ‖ LEB128u32(len K) ‖ K ‖ CT
 * legacy: IV[32] ‖ TAG[16] ‖ LEB128u32(len K) ‖ K ‖ CT
 * B:      LEB128u32(len K) ‖ K ‖ NONCE[12] ‖ CT ‖ TAG[16]
 * ```
 *
 * K is the encrypted data-key blob; CT the AES-GCM ciphertext without its tag. No layout has a
 * version byte: key blobs start with a known header (`WOS.EKM.` for WorkOS Vault; see the
 * key-blob module for the others), which tells where K starts. Every length is checked here,
 * before a key is looked up, so a malformed message never reaches the key service.
 *
 * The same headers make {@link isCiphertext} strict: a value counts as a ciphertext only when it
 * parses in a layout AND its K starts with a known header (or is the .NET SDK's base64 text of
 * such a blob), which random text does with a probability below 2^-48 per layout.
 * @module
 */

import { decodePublicBase64 } from './_bytes.js';
import { checkHeaders, KeyBlobHeaders, TEXT, UNKNOWN } from './_key-blob.js';
import { abytes, aobject, aoptions, astringOrBytes, copyBytes, isBytes, kindOf } from './assert.js';
import { FormatError } from './errors.js';
import { SharedDataKey } from './keys.js';
import { leb128Error, leb128Length, scanLeb128u32, writeLeb128u32 } from './leb128.js';

export { MIN_KEY_BLOB_HEADER_LENGTH } from './_key-blob.js';

/** A ciphertext layout: `'A'` (written), `'legacy'` (A with a 32-byte IV) or `'B'`. */
export type CiphertextFormat = 'A' | 'legacy' | 'B';

/** IV length of formats A and B (96 bits, NIST SP 800-38D §8.2.2). */
export const IV_LENGTH = 12;
/** IV length of the legacy layout written by early Node and Go SDKs. */
export const LEGACY_IV_LENGTH = 32;
/** GCM tag length: always the full 128 bits. */
export const TAG_LENGTH = 16;
/** NIST SP 800-38D §5.2.1.1: one GCM invocation encrypts at most 2^39-256 bits = 2^36-32 bytes. */
export const MAX_PLAINTEXT_LENGTH: number = 2 ** 36 - 32;

/** A parsed message. Every field is a view into the input bytes (no copies). */
export interface CiphertextParts {
  /** The layout the message was read as. */
  format: CiphertextFormat;
  /** The GCM IV: 12 bytes, or 32 for `legacy`. */
  iv: Uint8Array;
  /** The 16-byte GCM tag. */
  tag: Uint8Array;
  /** The encrypted data-key blob K, opaque, to be unwrapped by the key service. */
  encryptedKeys: Uint8Array;
  /** The GCM ciphertext without the tag; as long as the plaintext. */
  ciphertext: Uint8Array;
}

/** What {@link inspect} tells about a message without decrypting it. Fields are copies. */
export interface CiphertextInfo {
  /** The layout the message was read as. */
  format: CiphertextFormat;
  /** The GCM IV. */
  iv: Uint8Array;
  /** The GCM tag. */
  tag: Uint8Array;
  /** The encrypted data-key blob. */
  encryptedKeys: Uint8Array;
  /** True when the key blob carries the `WOS.EKM.` prefix of real WorkOS Vault keys. */
  workosKeyBlob: boolean;
  /**
   * The known header the key blob starts with, one character per byte (`'WOS.EKM.'`,
   * `'VES.EKM.v1\u0000'`, `'VE.MEM.v1\u0000'` or a declared one); `undefined` when none does,
   * and then {@link isCiphertext} is false for this message.
   */
  keyBlobHeader: string | undefined;
  /**
   * How K is stored: `'binary'` (every SDK but .NET), or `'base64-text'` (the .NET SDK's variant:
   * the UTF-8 bytes of the blob's base64 text; `encryptedKeys` is then the decoded blob).
   */
  keyBlobEncoding: 'binary' | 'base64-text';
  /** Length of the ciphertext, which is the plaintext's length. */
  ciphertextLength: number;
}

/** Where each layout's LEB128 length of the key blob starts. */
function lebOffset(format: CiphertextFormat): number {
  return format === 'A' ? IV_LENGTH + TAG_LENGTH : format === 'legacy' ? LEGACY_IV_LENGTH + TAG_LENGTH : 0;
}

/**
 * The length of the key blob of `format` in `bytes`, after every length check of the layout, or
 * why the message is not well formed in it. No exception and no allocation on success, because
 * detection probes layouts that mostly do not match.
 */
function keyBlobLength(bytes: Uint8Array, format: CiphertextFormat): number | string {
  const len = bytes.length;
  const lebAt = lebOffset(format);
  // Format B keeps its nonce and tag after the blob; A and legacy keep theirs before the length.
  const after = format === 'B' ? IV_LENGTH + TAG_LENGTH : 0;
  if (len < lebAt + 2 + after) return `too short for format ${format} (${len} bytes)`;
  const n = scanLeb128u32(bytes, lebAt);
  if (n < 0) return leb128Error(n);
  if (n === 0) return 'empty encrypted key blob';
  if (lebAt + leb128Length(n) + n + after > len) return 'encrypted key blob length exceeds the message';
  return n;
}

/** Parses one layout; returns an error message instead of throwing so that detection can go on. */
function parseLayout(bytes: Uint8Array, format: CiphertextFormat): CiphertextParts | string {
  const n = keyBlobLength(bytes, format);
  if (typeof n === 'string') return n;
  const lebAt = lebOffset(format);
  const kStart = lebAt + leb128Length(n);
  const kEnd = kStart + n;
  const len = bytes.length;
  if (format === 'B') {
    return {
      format,
      encryptedKeys: bytes.subarray(kStart, kEnd),
      iv: bytes.subarray(kEnd, kEnd + IV_LENGTH),
      ciphertext: bytes.subarray(kEnd + IV_LENGTH, len - TAG_LENGTH),
      tag: bytes.subarray(len - TAG_LENGTH, len),
    };
  }
  const ivLen = lebAt - TAG_LENGTH;
  return {
    format,
    iv: bytes.subarray(0, ivLen),
    tag: bytes.subarray(ivLen, lebAt),
    encryptedKeys: bytes.subarray(kStart, kEnd),
    ciphertext: bytes.subarray(kEnd, len),
  };
}

/** Whether `bytes` read as `format` would have a key blob that starts with a known header. */
function knownBlobIn(bytes: Uint8Array, format: CiphertextFormat, headers: KeyBlobHeaders): boolean {
  const n = keyBlobLength(bytes, format);
  if (typeof n === 'string') return false;
  const kStart = lebOffset(format) + leb128Length(n);
  return headers.matchAt(bytes, kStart, kStart + n) !== UNKNOWN;
}

function checkFormat(format: unknown): asserts format is CiphertextFormat | undefined {
  if (format !== undefined && format !== 'A' && format !== 'legacy' && format !== 'B') {
    const got = typeof format === 'string' ? 'another string' : kindOf(format);
    throw new TypeError(`format must be 'A', 'legacy' or 'B', got ${got}`);
  }
}

/**
 * {@link parseCiphertext} with a given set of known headers (the Envelope's: the built-in ones,
 * its provider's and its options').
 * @internal
 */
export function parseWith(
  bytes: Uint8Array,
  format: CiphertextFormat | undefined,
  headers: KeyBlobHeaders,
): CiphertextParts {
  checkFormat(format);
  if (format !== undefined) {
    const p = parseLayout(bytes, format);
    if (typeof p === 'string') throw new FormatError(`malformed ciphertext: ${p}`);
    return p;
  }
  const a = parseLayout(bytes, 'A');
  if (typeof a !== 'string' && headers.match(a.encryptedKeys) !== UNKNOWN) return a;
  for (const f of ['legacy', 'B'] as const) {
    if (!knownBlobIn(bytes, f, headers)) continue;
    const p = parseLayout(bytes, f);
    if (typeof p !== 'string') return p;
  }
  if (typeof a === 'string') throw new FormatError(`malformed ciphertext: ${a}`);
  return a;
}

/**
 * Splits a binary message into its parts, checking every length.
 *
 * Without `format`, the first layout whose key blob starts with a known header wins (A, then
 * legacy, then B; the headers are those {@link isCiphertext} knows by default, in binary or in
 * the .NET SDK's base64-text form); when none does, the message is read as format A.
 * @param bytes - The decoded message.
 * @param format - Force a layout instead of detecting it.
 * @returns Views into `bytes`.
 * @throws FormatError when the message is not well formed in the chosen layout; TypeError on an
 *   unknown `format`.
 * @example
 * ```ts
 * const { format, encryptedKeys, ciphertext } = parseCiphertext(decodeBase64(ct));
 * ```
 */
export function parseCiphertext(bytes: Uint8Array, format?: CiphertextFormat): CiphertextParts {
  return parseWith(bytes, format, KeyBlobHeaders.builtin);
}

/**
 * Decodes a message given as base64 text or raw bytes into bytes.
 * @param title - What the message is, for the TypeError.
 * @throws FormatError on invalid base64; TypeError on another type.
 * @internal
 */
export function ciphertextBytes(ciphertext: string | Uint8Array, title = 'ciphertext'): Uint8Array {
  astringOrBytes(ciphertext, title);
  // A ciphertext is public: its decoded bytes may live in a shared pool (see decodePublicBase64).
  return typeof ciphertext === 'string' ? decodePublicBase64(ciphertext) : ciphertext;
}

/** Options of {@link isCiphertext} and {@link inspect}. */
export interface KeyBlobHeaderOptions {
  /**
   * Key-blob headers to know besides the built-in ones (`WOS.EKM.`, `VES.EKM.v1\0`,
   * `VE.MEM.v1\0`): at least 6 bytes each.
   */
  keyBlobHeaders?: readonly Uint8Array[];
}

function headersOf(options: KeyBlobHeaderOptions | undefined, title: string): KeyBlobHeaders {
  if (options === undefined || options.keyBlobHeaders === undefined) return KeyBlobHeaders.builtin;
  return KeyBlobHeaders.builtin.with(checkHeaders(options.keyBlobHeaders, `${title}.keyBlobHeaders`));
}

/**
 * Whether `value` is a ciphertext: it parses strictly (strict base64 for text, every length of a
 * layout) AND its key blob starts with a known key-blob header, in binary or as the .NET SDK's
 * base64 text. Known: `WOS.EKM.` (WorkOS Vault), `VES.EKM.v1\0` (the local server),
 * `VE.MEM.v1\0` (the `MemoryKeyProvider`) and the `keyBlobHeaders` given. Random text passes
 * with a probability below 2^-48 per layout; a plaintext (an email, a token, a base64 image)
 * practically never does. No key is looked up and nothing is decrypted, so `true` says "this is
 * shaped as our ciphertext", not "this decrypts": decryption still authenticates it.
 *
 * {@link Envelope.isCiphertext} adds the headers its key provider declares.
 * @param value - Anything; a string is read as base64, a Uint8Array as the binary message.
 * @param options - `keyBlobHeaders`: more headers to know (at least 6 bytes each).
 * @returns true when the value is recognised as a ciphertext.
 * @throws TypeError / RangeError on malformed options (never because of `value`).
 * @example
 * ```ts
 * isCiphertext(row.ssn) ? await envelope.decryptToString(row.ssn) : row.ssn;
 * isCiphertext('alice@example.com'); // false
 * ```
 */
export function isCiphertext(value: unknown, options?: KeyBlobHeaderOptions): boolean {
  if (options !== undefined) aoptions(options, 'isCiphertext options', ['keyBlobHeaders']);
  return recognise(value, headersOf(options, 'isCiphertext options'));
}

/**
 * {@link isCiphertext} against a given set of headers.
 * @internal
 */
export function recognise(value: unknown, headers: KeyBlobHeaders): boolean {
  return recognisedBytes(value, headers) !== undefined;
}

/**
 * {@link recognise}, returning the message's bytes (decoded once, for a caller that decrypts it
 * next) when it is a ciphertext, else undefined.
 * @internal
 */
export function recognisedBytes(value: unknown, headers: KeyBlobHeaders): Uint8Array | undefined {
  let bytes: Uint8Array;
  if (typeof value === 'string') {
    // Most plaintext fails here, before a FormatError is built for it (strict base64 is a
    // multiple of 4 long): the migration engine and the ORM writes ask this of every value.
    if (value.length % 4 !== 0) return undefined;
    try {
      bytes = decodePublicBase64(value);
    } catch {
      return undefined;
    }
  } else if (isBytes(value)) bytes = value;
  else return undefined;
  return knownBlobIn(bytes, 'A', headers) ||
    knownBlobIn(bytes, 'legacy', headers) ||
    knownBlobIn(bytes, 'B', headers)
    ? bytes
    : undefined;
}

/**
 * Reads the layout of a message without decrypting it and without any key lookup.
 * @param ciphertext - Base64 text (as `Envelope.encrypt` returns) or raw bytes.
 * @param options - `format` forces a layout instead of detecting it; `keyBlobHeaders` adds
 *   headers to know (as for {@link isCiphertext}).
 * @returns The format, IV, tag, key blob (copies; for the .NET variant, the decoded blob), which
 *   known header the blob starts with, how it is stored, and the ciphertext length.
 * @throws FormatError when the message is malformed; TypeError / RangeError on bad options.
 * @example
 * ```ts
 * const info = inspect(ciphertext);
 * console.log(info.format, info.keyBlobHeader, info.ciphertextLength, info.encryptedKeys.length);
 * ```
 */
export function inspect(
  ciphertext: string | Uint8Array,
  options: { format?: CiphertextFormat } & KeyBlobHeaderOptions = {},
): CiphertextInfo {
  aoptions(options, 'inspect options', ['format', 'keyBlobHeaders']);
  const headers = headersOf(options, 'inspect options');
  const p = parseWith(ciphertextBytes(ciphertext), options.format, headers);
  const match = headers.match(p.encryptedKeys);
  const blob = match === TEXT ? headers.providerBlob(p.encryptedKeys) : copyBytes(p.encryptedKeys);
  const header = headers.header(p.encryptedKeys);
  return {
    format: p.format,
    iv: copyBytes(p.iv),
    tag: copyBytes(p.tag),
    encryptedKeys: blob,
    workosKeyBlob: blob.length >= 8 && String.fromCharCode(...blob.subarray(0, 8)) === 'WOS.EKM.',
    keyBlobHeader: header === undefined ? undefined : String.fromCharCode(...header),
    keyBlobEncoding: match === TEXT ? 'base64-text' : 'binary',
    ciphertextLength: p.ciphertext.length,
  };
}

/**
 * Length of the format A header for a key blob of `keyBlobLength` bytes: IV, tag, LEB128 and K.
 * @internal
 */
export function headerLengthA(keyBlobLength: number): number {
  return IV_LENGTH + TAG_LENGTH + leb128Length(keyBlobLength) + keyBlobLength;
}

/**
 * The one writer of the format A layout `IV ‖ TAG ‖ LEB128(len K) ‖ K ‖ CT`: writes
 * `LEB128(len K) ‖ K` after the IV slot (`[0, 12)`) and the tag slot (`[12, 28)`) and returns
 * where CT starts. The caller fills the slots and CT: the Envelope has the backend write the IV,
 * CT and tag straight into the message (no intermediate copy), {@link serializeFormatA} copies
 * given parts in.
 * @param out - The message, at least {@link headerLengthA}(len K) bytes.
 * @param keyBlob - K, as bytes or held by a {@link SharedDataKey} (copied in without a copy of
 *   its own).
 * @returns The offset of CT, which is {@link headerLengthA}(len K).
 * @internal
 */
export function writeHeaderA(out: Uint8Array, keyBlob: Uint8Array | SharedDataKey): number {
  const lebAt = IV_LENGTH + TAG_LENGTH;
  if (keyBlob instanceof SharedDataKey) {
    const n = keyBlob.encryptedKeysLength;
    const kAt = writeLeb128u32(n, out, lebAt);
    keyBlob.copyEncryptedKeysInto(out, kAt);
    return kAt + n;
  }
  const kAt = writeLeb128u32(keyBlob.length, out, lebAt);
  out.set(keyBlob, kAt);
  return kAt + keyBlob.length;
}

/**
 * Lays out a format A message from its parts (for tools and the local server; the Envelope
 * writes the same bytes in place, through the same header writer, without the copies).
 * @param parts - A 12-byte IV, a 16-byte tag, a non-empty key blob and the ciphertext (without
 *   its tag).
 * @returns The binary message, `IV ‖ TAG ‖ LEB128(len K) ‖ K ‖ CT`.
 * @throws TypeError when a part is not bytes; RangeError on a wrong IV or tag length or an empty
 *   key blob.
 * @example
 * ```ts
 * const message = serializeFormatA({ iv, tag, encryptedKeys, ciphertext });
 * parseCiphertext(message).format; // 'A'
 * ```
 */
export function serializeFormatA(parts: {
  iv: Uint8Array;
  tag: Uint8Array;
  encryptedKeys: Uint8Array;
  ciphertext: Uint8Array;
}): Uint8Array {
  aobject(parts, 'format A parts');
  const iv = abytes(parts.iv, IV_LENGTH, 'iv');
  const tag = abytes(parts.tag, TAG_LENGTH, 'tag');
  const k = abytes(parts.encryptedKeys, undefined, 'encryptedKeys');
  if (k.length === 0) throw new RangeError('encryptedKeys must not be empty');
  const ct = abytes(parts.ciphertext, undefined, 'ciphertext');
  const out = new Uint8Array(headerLengthA(k.length) + ct.length);
  out.set(iv, 0);
  out.set(tag, IV_LENGTH);
  out.set(ct, writeHeaderA(out, k));
  return out;
}
