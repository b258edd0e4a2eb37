/**
 * Byte and text codecs used on the hot path: strict standard base64 (RFC 4648 §4, with `=`
 * padding, canonical padding bits) and UTF-8. Node's `Buffer` is used when the runtime has it
 * (found on `globalThis`, never imported); elsewhere a table-driven codec does the same work.
 * @module
 */
import { FormatError } from './errors.js';

/** The part of Node's `Buffer` we use, typed here so that core needs no Node types. */
interface NodeBufferLike {
  from(value: string, encoding: 'base64' | 'utf8'): Uint8Array & { toString(encoding: string): string };
  from(
    buffer: ArrayBufferLike,
    byteOffset: number,
    length: number,
  ): Uint8Array & {
    toString(encoding: string, start?: number, end?: number): string;
    write(text: string, offset: number, length: number, encoding: 'base64'): number;
  };
  byteLength(value: string, encoding: 'utf8'): number;
}

const NodeBuffer: NodeBufferLike | undefined = (globalThis as { Buffer?: NodeBufferLike }).Buffer;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = /* @__PURE__ */ (() => {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < 64; i++) t[ALPHABET.charCodeAt(i)] = i;
  return t;
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
  if (NodeBuffer !== undefined)
    return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64');
  let out = '';
  const n = bytes.length;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[v >>> 18]! + ALPHABET[(v >>> 12) & 63]! + ALPHABET[(v >>> 6) & 63]! + ALPHABET[v & 63]!;
  }
  if (i < n) {
    const two = i + 1 < n;
    const v = (bytes[i]! << 16) | (two ? bytes[i + 1]! << 8 : 0);
    out += ALPHABET[v >>> 18]! + ALPHABET[(v >>> 12) & 63]! + (two ? ALPHABET[(v >>> 6) & 63]! : '=') + '=';
  }
  return out;
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

function decodeStrict(text: string, title: string, pooled: boolean): Uint8Array {
  if (text.length % 4 !== 0)
    throw new FormatError(`${title} is not valid base64: length is not a multiple of 4`);
  if (NodeBuffer === undefined) return decodeBase64Portable(text, title);
  // Buffer's decoder is lenient: it skips whitespace and foreign characters, stops at a stray
  // '=', takes the URL-safe alphabet and ignores padding bits. The checks below close each gap:
  // a skipped or stray character makes the output shorter than the text implies, and the
  // URL-safe characters and the padding bits are checked directly.
  const len = text.length;
  const pad = len === 0 ? 0 : text.charCodeAt(len - 1) !== 61 ? 0 : text.charCodeAt(len - 2) === 61 ? 2 : 1;
  const expected = (len / 4) * 3 - pad;
  let out: Uint8Array;
  let written: number;
  if (pooled) {
    const b = NodeBuffer.from(text, 'base64');
    out = new Uint8Array(b.buffer, b.byteOffset, b.length);
    written = b.length;
  } else {
    // Memory of our own: `Buffer.from(text, 'base64')` would hand out a slice of Node's shared
    // 8 KiB pool, whose `.buffer` exposes unrelated data and outlives our zeroing.
    out = new Uint8Array(expected);
    written =
      expected === 0 ? 0 : NodeBuffer.from(out.buffer, 0, expected).write(text, 0, expected, 'base64');
  }
  if (written !== expected || text.indexOf('-') !== -1 || text.indexOf('_') !== -1) {
    throw new FormatError(`${title} is not valid standard base64`);
  }
  if (pad !== 0) {
    const last = text.charCodeAt(len - 1 - pad);
    const v = last < 128 ? DECODE[last]! : -1;
    if (v < 0 || (v & (pad === 1 ? 3 : 15)) !== 0)
      throw new FormatError(`${title} is not valid standard base64`);
  }
  return out;
}

/**
 * The table-driven strict decoder used where `Buffer` is missing (exported for the tests, which
 * check that both paths accept and reject exactly the same inputs).
 * @internal
 */
export function decodeBase64Portable(text: string, title = 'ciphertext'): Uint8Array {
  if (text.length % 4 !== 0)
    throw new FormatError(`${title} is not valid base64: length is not a multiple of 4`);
  const len = text.length;
  let pad = 0;
  if (len > 0 && text.charCodeAt(len - 1) === 61) pad = text.charCodeAt(len - 2) === 61 ? 2 : 1;
  const out = new Uint8Array((len / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < len; i += 4) {
    const last = i + 4 === len;
    const a = sextet(text, i);
    const b = sextet(text, i + 1);
    if (last && pad === 2) {
      if ((b & 15) !== 0) throw new FormatError(`${title} is not valid standard base64`);
      out[o++] = (a << 2) | (b >> 4);
    } else if (last && pad === 1) {
      const c = sextet(text, i + 2);
      if ((c & 3) !== 0) throw new FormatError(`${title} is not valid standard base64`);
      out[o++] = (a << 2) | (b >> 4);
      out[o++] = ((b & 15) << 4) | (c >> 2);
    } else {
      const v = (a << 18) | (b << 12) | (sextet(text, i + 2) << 6) | sextet(text, i + 3);
      out[o++] = v >>> 16;
      out[o++] = (v >>> 8) & 255;
      out[o++] = v & 255;
    }
  }
  return out;
}

function sextet(text: string, i: number): number {
  const c = text.charCodeAt(i);
  const v = c < 128 ? DECODE[c]! : -1;
  if (v < 0) throw new FormatError('base64 text has a character outside the standard alphabet');
  return v;
}

/** `maxStringLength()` once known: a number, or `null` when the runtime does not say. */
let stringLimit: number | null | undefined;

/**
 * The longest string this runtime can make, in UTF-16 code units, where the runtime tells it:
 * Node, and the runtimes that provide its `buffer` module, give `buffer.constants.MAX_STRING_LENGTH`
 * (2^29-24 on 64-bit V8: about 512 MiB of text, so a format A message above about 384 MiB can
 * not be returned as base64). Found once, at run time, with `process.getBuiltinModule` (never a
 * static import); `undefined` elsewhere (browsers, edge runtimes), where no check is made.
 * @returns The limit, or `undefined` when the runtime does not say.
 */
export function maxStringLength(): number | undefined {
  if (stringLimit === undefined) {
    stringLimit = null;
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    if (typeof proc?.getBuiltinModule === 'function') {
      try {
        const buffer = proc.getBuiltinModule('node:buffer') as
          | { constants?: { MAX_STRING_LENGTH?: unknown } }
          | undefined;
        const n = buffer?.constants?.MAX_STRING_LENGTH;
        if (typeof n === 'number' && Number.isSafeInteger(n) && n > 0) stringLimit = n;
      } catch {
        // No buffer module: no limit we can know.
      }
    }
  }
  return stringLimit ?? undefined;
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
  if (NodeBuffer !== undefined) return NodeBuffer.byteLength(text, 'utf8');
  return utf8Encoder.encode(text).length;
}

/**
 * Decodes UTF-8, rejecting malformed input rather than replacing it.
 * @throws TypeError when the bytes are not valid UTF-8.
 */
export function fromUtf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

/** Bytes as lowercase hex. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += (bytes[i]! < 16 ? '0' : '') + bytes[i]!.toString(16);
  return s;
}
