/**
 * Unsigned LEB128 for 32-bit lengths, as the WorkOS ciphertext formats use it to prefix the
 * encrypted key blob: 7 bits a byte, least significant group first, high bit set on every byte
 * but the last. Decoding is strict: at most 5 bytes, value at most 2^32-1, no truncation, and the
 * minimal encoding only (a non-minimal one such as `80 00` for 0 would give one message two
 * byte strings).
 * @module
 */
import { aint } from './assert.js';
import { FormatError } from './errors.js';

/** Largest value a LEB128u32 holds: 2^32 - 1. */
export const LEB128_U32_MAX = 0xffff_ffff;

/**
 * Number of bytes the LEB128 encoding of `value` takes (1 to 5).
 * @param value - An integer in [0, 2^32-1].
 * @returns The encoded length.
 * @internal
 */
export function leb128Length(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x20_0000 ? 3 : value < 0x1000_0000 ? 4 : 5;
}

/**
 * Writes the LEB128u32 encoding of `value` into `out` at `offset`.
 * @param value - An integer in [0, 2^32-1].
 * @param out - Destination buffer with room for {@link leb128Length}(value) bytes.
 * @param offset - Where to write.
 * @returns The offset just past the encoding.
 * @internal
 */
export function writeLeb128u32(value: number, out: Uint8Array, offset: number): number {
  let v = value;
  let o = offset;
  while (v >= 0x80) {
    out[o++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  out[o++] = v;
  return o;
}

/**
 * Encodes an unsigned 32-bit integer as LEB128.
 * @param value - An integer in [0, 2^32-1].
 * @returns 1 to 5 bytes.
 * @throws TypeError if `value` is not an integer; RangeError if it is out of range.
 * @example
 * ```ts
 * encodeLeb128u32(300); // Uint8Array [0xac, 0x02]
 * ```
 */
export function encodeLeb128u32(value: number): Uint8Array {
  aint(value, 0, LEB128_U32_MAX, 'LEB128 value');
  const out = new Uint8Array(leb128Length(value));
  writeLeb128u32(value, out, 0);
  return out;
}

/** Why a LEB128u32 did not decode, indexed by the negative code {@link scanLeb128u32} returns. */
const LEB128_ERRORS: Readonly<Record<number, string>> = {
  [-1]: 'truncated LEB128 length',
  [-2]: 'LEB128 length exceeds 32 bits',
  [-3]: 'non-minimal LEB128 length',
};

/**
 * The one strict LEB128u32 reader, without exceptions (format detection probes layouts that
 * mostly do not match, and an exception per probe costs microseconds): the value, or -1 when
 * truncated, -2 when longer than 5 bytes or above 2^32-1, -3 when not minimal. The encoding's
 * length is `leb128Length(value)`, since only minimal encodings are accepted.
 * @internal
 */
export function scanLeb128u32(bytes: Uint8Array, offset: number): number {
  const first = bytes[offset];
  // One byte: every key blob shorter than 128 bytes.
  if (first !== undefined && first < 0x80) return first;
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 5; i++) {
    const b = bytes[offset + i];
    if (b === undefined) return -1;
    // The fifth byte carries bits 28..31 only; anything above 0x0f overflows 32 bits or continues.
    if (i === 4 && b > 0x0f) return -2;
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return b === 0 && i > 0 ? -3 : value;
    scale *= 128;
  }
  /* c8 ignore next: the fifth-byte check above makes this unreachable */
  return -2;
}

/**
 * The message of a negative {@link scanLeb128u32} result.
 * @internal
 */
export function leb128Error(code: number): string {
  return LEB128_ERRORS[code] ?? 'malformed LEB128 length';
}

/**
 * Decodes one strict LEB128u32 from `bytes` at `offset`.
 * @param bytes - The input.
 * @param offset - Where the encoding starts.
 * @returns The value and the number of bytes it took.
 * @throws FormatError when the encoding is truncated, longer than 5 bytes, above 2^32-1 or not minimal.
 * @example
 * ```ts
 * decodeLeb128u32(new Uint8Array([0xac, 0x02]), 0); // { value: 300, length: 2 }
 * ```
 */
export function decodeLeb128u32(bytes: Uint8Array, offset: number): { value: number; length: number } {
  const value = scanLeb128u32(bytes, offset);
  if (value < 0) throw new FormatError(leb128Error(value));
  return { value, length: leb128Length(value) };
}
