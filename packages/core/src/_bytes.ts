/**
 * Byte and text codecs used on the hot path: strict standard base64 (RFC 4648 §4, with `=`
 * padding, canonical padding bits) and UTF-8. On Node the `#node` helpers (Buffer-based, and only
 * in the Node build) do the heavy lifting; elsewhere the runtime's own `Uint8Array` base64
 * (ES2026) where it has it, else `atob`/`btoa` with the checks that make them strict, each held
 * to the same rules.
 * @module
 */
import { node } from '#node';
import { FormatError } from './errors.js';

/**
 * From this many bytes on, {@link fromUtf8} checks for ASCII first on Node (one vectorised pass)
 * and builds the string as Latin-1: measured at 16 KiB, 1.1 us against 1.9 us for the fatal
 * TextDecoder, and at 1 MiB 0.3 ms against 0.9 ms; below about 4 KiB the extra call costs more
 * than it saves.
 */
const ASCII_FROM = 4096;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * The runtime's own base64 (`Uint8Array.prototype.toBase64`, `Uint8Array.fromBase64`: ES2026,
 * in Chromium from 140 and in recent V8 runtimes such as workerd), used where there is no
 * `Buffer`: a 1 MiB message takes about 1 ms there, against 10 or more in JavaScript.
 */
interface NativeToBase64 {
  toBase64(): string;
}
type NativeFromBase64 = (
  text: string,
  options: { alphabet: 'base64'; lastChunkHandling: 'strict' },
) => Uint8Array;

const nativeToBase64: boolean =
  typeof (Uint8Array.prototype as Partial<NativeToBase64>).toBase64 === 'function';
const nativeFromBase64: NativeFromBase64 | undefined = (() => {
  const f = (Uint8Array as unknown as { fromBase64?: unknown }).fromBase64;
  return typeof f === 'function' ? (f.bind(Uint8Array) as NativeFromBase64) : undefined;
})();

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Encodes bytes as standard base64 with padding.
 * @param bytes - Any bytes.
 * @returns The base64 text.
 * @example
 * ```ts
 * encodeBase64(new Uint8Array([0x68, 0x69])); // 'aGk='
 * ```
 */
export function encodeBase64(bytes: Uint8Array): string {
  if (node !== undefined) return node.encodeBase64(bytes);
  if (nativeToBase64) return (bytes as Uint8Array & NativeToBase64).toBase64();
  // btoa takes a binary string; built in chunks, since an argument list has a length limit.
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * Decodes strict standard base64: length a multiple of 4, only the standard alphabet, at most two
 * `=` at the end, and zero padding bits (so that every byte string has exactly one encoding).
 * The result is in memory of its own, safe for secrets (it can be zeroed, and its `.buffer`
 * holds nothing else).
 * @param text - The base64 text.
 * @param title - What the text is, for the error message.
 * @returns The decoded bytes.
 * @throws FormatError when the text is not strict standard base64.
 * @example
 * ```ts
 * decodeBase64('aGk='); // Uint8Array [0x68, 0x69]
 * decodeBase64('aGl=');  // throws FormatError: non-zero padding bits
 * ```
 */
export function decodeBase64(text: string, title = 'ciphertext'): Uint8Array {
  return decodeStrict(text, title, false);
}

/**
 * {@link decodeBase64} for public bytes only (a ciphertext): on Node the result may be a view into
 * Node's shared Buffer pool, which saves an allocation per decrypt on the hot path. Never use it
 * for secrets: the pool's memory is shared with unrelated allocations and is not ours to zero.
 * @internal
 */
export function decodePublicBase64(text: string, title = 'ciphertext'): Uint8Array {
  return decodeStrict(text, title, true);
}

/**
 * A new buffer of `n` bytes for a message the caller overwrites entirely before anyone reads it
 * (the sealer, with the built-in backends). On Node, from 16 KiB, it is not zero-filled
 * (`Buffer.allocUnsafeSlow`: memory of its own, never a slice of the shared pool); elsewhere a
 * plain `Uint8Array`.
 * @internal
 */
export function allocUnfilled(n: number): Uint8Array {
  return node === undefined ? new Uint8Array(n) : node.allocUnfilled(n);
}

/** How many `=` end the text (0, 1 or 2); the text is a multiple of 4 long. */
function padding(text: string): number {
  const len = text.length;
  return len === 0 ? 0 : text.charCodeAt(len - 1) !== 61 ? 0 : text.charCodeAt(len - 2) === 61 ? 2 : 1;
}

function decodeStrict(text: string, title: string, pooled: boolean): Uint8Array {
  if (text.length % 4 !== 0)
    throw new FormatError(`${title} is not valid base64: length is not a multiple of 4`);
  if (node !== undefined) return node.decodeBase64(text, title, pooled);
  return nativeFromBase64 === undefined
    ? decodeBase64Portable(text, title)
    : decodeNative(nativeFromBase64, text, title);
}

/**
 * Strict base64 through the runtime's `Uint8Array.fromBase64`: the standard alphabet only, and
 * `lastChunkHandling: 'strict'` refuses a missing `=`, a stray one and non-zero padding bits. It
 * skips ASCII whitespace, which the length check catches: a skipped character makes the output
 * shorter than the text implies.
 * @throws FormatError when the text is not strict standard base64.
 */
function decodeNative(fromBase64: NativeFromBase64, text: string, title: string): Uint8Array {
  let out: Uint8Array;
  try {
    out = fromBase64(text, { alphabet: 'base64', lastChunkHandling: 'strict' });
  } catch {
    throw new FormatError(`${title} is not valid standard base64`);
  }
  if (out.length !== (text.length / 4) * 3 - padding(text)) {
    throw new FormatError(`${title} is not valid standard base64`);
  }
  return out;
}

/**
 * The strict decoder used where neither `Buffer` nor `Uint8Array.fromBase64` exists, on `atob`
 * (exported for the tests, which check that the paths accept and reject exactly the same
 * inputs). `atob` refuses a character outside the alphabet and a stray `=`; it skips ASCII
 * whitespace, which the length check catches, and ignores the padding bits, checked here.
 * @internal
 */
export function decodeBase64Portable(text: string, title = 'ciphertext'): Uint8Array {
  if (text.length % 4 !== 0)
    throw new FormatError(`${title} is not valid base64: length is not a multiple of 4`);
  const pad = padding(text);
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    throw new FormatError(`${title} is not valid standard base64`);
  }
  const bits = pad === 0 ? 0 : ALPHABET.indexOf(text[text.length - 1 - pad]!) & (pad === 1 ? 3 : 15);
  if (binary.length !== (text.length / 4) * 3 - pad || bits !== 0) {
    throw new FormatError(`${title} is not valid standard base64`);
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/**
 * The longest string this runtime can make, in UTF-16 code units, where the runtime tells it:
 * Node, and the runtimes that provide its `buffer` module, give `buffer.constants.MAX_STRING_LENGTH`
 * (2^29-24 on 64-bit V8: about 512 MiB of text, so a format A message above about 384 MiB can
 * not be returned as base64). Found once, at run time, with `process.getBuiltinModule` (never a
 * static import); `undefined` elsewhere (browsers, edge runtimes), where no check is made.
 * @returns The limit, or `undefined` when the runtime does not say.
 */
export function maxStringLength(): number | undefined {
  return node?.maxStringLength();
}

/** Length of the padded standard base64 encoding of `n` bytes. */
export function base64Length(n: number): number {
  return Math.ceil(n / 3) * 4;
}

/** Encodes a string as UTF-8 (lone surrogates become U+FFFD, as in every WHATWG encoder). */
export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/**
 * Encodes `text` as UTF-8 into `out` (lone surrogates become U+FFFD, as in {@link utf8}).
 * @returns The number of bytes written; less than the encoding's length when `out` is too small.
 */
export function utf8Into(text: string, out: Uint8Array): number {
  return utf8Encoder.encodeInto(text, out).written;
}

/** Length in bytes of the UTF-8 encoding of `text`. */
export function utf8Length(text: string): number {
  return node !== undefined ? node.utf8Length(text) : utf8LengthPortable(text);
}

/** The scratch {@link utf8LengthPortable} encodes into, and how many UTF-16 units it takes at a time. */
const LENGTH_SCRATCH = 16 * 1024;
const LENGTH_STEP = LENGTH_SCRATCH / 4;
let lengthScratch: Uint8Array | undefined;

/**
 * {@link utf8Length} where there is no `Buffer`: the text is encoded 4,096 UTF-16 units at a time
 * (at most 12 KiB of UTF-8) into a small scratch buffer of ours, zeroed before returning.
 * `encode(text).length` would make a whole copy of the plaintext only to measure it, left for the
 * collector unzeroed, and is several times slower on large text. Each slice is taken once (a
 * browser may copy the string it is given, so the rest of the text is never passed again), and
 * never between the two halves of a surrogate pair; a lone surrogate counts as U+FFFD (3 bytes),
 * as `encode` makes it. Exported for the tests, which compare it with `encode`.
 * @internal
 */
export function utf8LengthPortable(text: string): number {
  lengthScratch ??= new Uint8Array(LENGTH_SCRATCH);
  const buf = lengthScratch;
  const n = text.length;
  let total = 0;
  let high = 0;
  try {
    for (let i = 0; i < n; ) {
      let end = Math.min(i + LENGTH_STEP, n);
      if (end < n) {
        const c = text.charCodeAt(end - 1);
        if (c >= 0xd800 && c <= 0xdbff) end--;
      }
      const written = utf8Encoder.encodeInto(end - i === n ? text : text.slice(i, end), buf).written;
      total += written;
      if (written > high) high = written;
      i = end;
    }
  } finally {
    buf.fill(0, 0, high);
  }
  return total;
}

/**
 * Decodes UTF-8, rejecting malformed input rather than replacing it.
 * @throws TypeError when the bytes are not valid UTF-8.
 */
export function fromUtf8(bytes: Uint8Array): string {
  if (node !== undefined && bytes.length >= ASCII_FROM) {
    const text = node.asciiText(bytes);
    if (text !== undefined) return text;
  }
  return utf8Decoder.decode(bytes);
}

/** Bytes as lowercase hex. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += (bytes[i]! < 16 ? '0' : '') + bytes[i]!.toString(16);
  return s;
}
