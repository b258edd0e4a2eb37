/**
 * Test helpers for the strict base64 paths: a model of strict standard base64 (RFC 4648 §4,
 * `=` padding, zero padding bits) written from the RFC with no codec of the runtime, the texts
 * that tell the paths apart, and `Uint8Array.fromBase64` written from its specification (ES2026,
 * the TC39 proposal-arraybuffer-base64 `FromBase64` algorithm) for Node 20, which lacks it.
 * @module
 */
import fc from 'fast-check';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * Strict standard base64 by the RFC: the bytes, or `undefined` for any text that is not the one
 * canonical encoding of some bytes.
 */
export function strictBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0) return undefined;
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const body = text.slice(0, text.length - pad);
  const values: number[] = [];
  for (const c of body) {
    const v = ALPHABET.indexOf(c);
    if (v < 0 || c.length !== 1) return undefined;
    values.push(v);
  }
  // Every 4 characters are 3 bytes; a final group of 2 or 3 characters is 1 or 2 bytes whose
  // unused low bits must be zero (RFC 4648 §3.5: canonical encoding).
  const out: number[] = [];
  for (let i = 0; i < values.length; i += 4) {
    const g = values.slice(i, i + 4);
    const bits = g.reduce((acc, v) => acc * 64 + v, 0) * 64 ** (4 - g.length);
    const bytes = [(bits >> 16) & 0xff, (bits >> 8) & 0xff, bits & 0xff];
    const n = g.length === 4 ? 3 : g.length - 1;
    if (n < 1) return undefined;
    if (bytes.slice(n).some((b) => b !== 0)) return undefined;
    out.push(...bytes.slice(0, n));
  }
  return new Uint8Array(out);
}

/**
 * Characters that tell lenient decoders from strict ones: the alphabet's edges, `=`, the URL-safe
 * pair, ASCII whitespace and controls, Latin-1, and UTF-16 code units above U+00FF whose low byte
 * is a base64 character or `=` (a decoder that reads only the low byte sees `A`, `+`, `/`, `0`,
 * `=`), a lone surrogate and a fullwidth letter.
 */
export const trickyChars: fc.Arbitrary<string> = fc.constantFrom(
  ...'ABCDQRSTabcgwz0189+/=-_ \t\n\r\f\v\u0000.\u00e9\u00c1\u00ff'.split(''),
  '\u0141', // Ł: low byte 0x41 'A'
  '\u012b', // ī: low byte 0x2b '+'
  '\u012f', // į: low byte 0x2f '/'
  '\u0130', // İ: low byte 0x30 '0'
  '\u013d', // Ľ: low byte 0x3d '='
  '\u0161', // š: low byte 0x61 'a'
  '\ud841', // a lone surrogate, low byte 0x41
  '\uff21', // Ａ (fullwidth A), low byte 0x21
);

/**
 * Texts for the paths to agree on: random texts of tricky characters, valid encodings, and valid
 * encodings with one character replaced by a tricky one.
 */
export const base64Texts: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: trickyChars, maxLength: 24 }),
  fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b).toString('base64')),
  fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 20 }), fc.nat(), trickyChars).map(([b, i, c]) => {
    const t = Buffer.from(b).toString('base64');
    const at = i % t.length;
    return t.slice(0, at) + c + t.slice(at + 1);
  }),
);

const WHITESPACE = new Set([0x09, 0x0a, 0x0c, 0x0d, 0x20]);

function skipWhitespace(s: string, i: number): number {
  while (i < s.length && WHITESPACE.has(s.charCodeAt(i))) i++;
  return i;
}

/** DecodeBase64Chunk of the specification (standard alphabet), with its extra-bits check. */
function decodeChunk(chunk: string, throwOnExtraBits: boolean): number[] {
  const len = chunk.length;
  const full = chunk + 'A'.repeat(4 - len);
  const n = [...full].reduce((acc, c) => acc * 64 + ALPHABET.indexOf(c), 0);
  const bytes = [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  if (len === 4) return bytes;
  if (throwOnExtraBits && bytes[len - 1] !== 0) throw new SyntaxError('extra bits');
  return bytes.slice(0, len - 1);
}

/**
 * `Uint8Array.fromBase64(string, { alphabet: 'base64', lastChunkHandling })` by the
 * specification's FromBase64 (maxLength unbounded), for 'strict' and 'loose'.
 * @throws SyntaxError where the specification throws one.
 */
export function fromBase64Spec(
  string: string,
  options: { alphabet?: 'base64'; lastChunkHandling?: 'strict' | 'loose' } = {},
): Uint8Array {
  if (typeof string !== 'string') throw new TypeError('fromBase64 needs a string');
  if ((options.alphabet ?? 'base64') !== 'base64') throw new TypeError('only the base64 alphabet here');
  const strict = (options.lastChunkHandling ?? 'loose') === 'strict';
  const bytes: number[] = [];
  let chunk = '';
  let index = 0;
  const length = string.length;
  for (;;) {
    index = skipWhitespace(string, index);
    if (index === length) {
      if (chunk.length > 0) {
        if (strict || chunk.length === 1) throw new SyntaxError('incomplete chunk');
        bytes.push(...decodeChunk(chunk, false));
      }
      return new Uint8Array(bytes);
    }
    const char = string[index]!;
    index++;
    if (char === '=') {
      if (chunk.length < 2) throw new SyntaxError('misplaced padding');
      index = skipWhitespace(string, index);
      if (chunk.length === 2) {
        if (index === length) throw new SyntaxError('missing padding');
        if (string[index] === '=') index = skipWhitespace(string, index + 1);
      }
      if (index < length) throw new SyntaxError('text after padding');
      bytes.push(...decodeChunk(chunk, strict));
      return new Uint8Array(bytes);
    }
    if (ALPHABET.indexOf(char) < 0) throw new SyntaxError('not a base64 character');
    chunk += char;
    if (chunk.length === 4) {
      bytes.push(...decodeChunk(chunk, false));
      chunk = '';
    }
  }
}
