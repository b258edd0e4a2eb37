/**
 * The `#node` subpath import in the Node build: the helpers that make the hot path fast on Node,
 * on its `Buffer` (found on `globalThis`, never imported) and its `buffer` module (found with
 * `process.getBuiltinModule`, never a static import). `undefined` in a runtime that takes the
 * `node` condition without having `Buffer`. Every helper keeps the rules of the portable code it
 * stands in for: strict base64, memory of its own unless the caller asked for the pool.
 * @module
 */
import type { NodeHelpers } from './_no-node.js';
import { FormatError } from './errors.js';

/** The part of Node's `Buffer` we use, typed here so that core needs no Node types. */
interface NodeBufferLike {
  from(value: string, encoding: 'base64'): Uint8Array;
  from(
    buffer: ArrayBufferLike,
    byteOffset: number,
    length: number,
  ): Uint8Array & {
    toString(encoding: string): string;
    write(text: string, offset: number, length: number, encoding: 'base64'): number;
  };
  byteLength(value: string, encoding: 'utf8'): number;
  allocUnsafeSlow(size: number): Uint8Array;
  compare(a: Uint8Array, b: Uint8Array): number;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * From this many bytes on, the native comparison beats a JavaScript loop (a 110-byte blob: 69 ns
 * against about 200 ns, measured on Node 20).
 */
const NATIVE_COMPARE_FROM = 48;

/**
 * Below 16 KiB a zero-filled `Uint8Array` costs next to nothing; above, `allocUnsafeSlow` wins
 * (1 MiB: 3 us against 0.28 ms, measured).
 */
const UNFILLED_FROM = 16 * 1024;

function builtin(id: string): unknown {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  if (typeof proc?.getBuiltinModule !== 'function') return undefined;
  try {
    return proc.getBuiltinModule(id);
  } catch {
    return undefined;
  }
}

/** How many `=` end the text (0, 1 or 2). */
function padding(text: string): number {
  const len = text.length;
  return len === 0 ? 0 : text.charCodeAt(len - 1) !== 61 ? 0 : text.charCodeAt(len - 2) === 61 ? 2 : 1;
}

/**
 * A UTF-16 code unit above U+00FF. Buffer's decoder reads only the low byte of each one (U+0141
 * as 'A', U+012B as '+'), so such a text would decode as if it were another. A one-byte string
 * can not match this class, which V8 knows without scanning it: about 15 ns at any length.
 */
const WIDE = /[\u0100-\uffff]/;

/**
 * The checks that make Buffer's lenient base64 decoder strict. It skips whitespace and foreign
 * characters, stops at a stray '=', takes the URL-safe alphabet, ignores padding bits and reads
 * a character above U+00FF as its low byte: a skipped or stray character makes the output shorter
 * than the text implies, and the URL-safe characters, the padding bits and the wide characters
 * are checked directly.
 * @throws FormatError when the text is not strict standard base64.
 */
function check(text: string, title: string, pad: number, written: number): void {
  const len = text.length;
  if (
    written !== (len / 4) * 3 - pad ||
    text.indexOf('-') !== -1 ||
    text.indexOf('_') !== -1 ||
    WIDE.test(text)
  ) {
    throw new FormatError(`${title} is not valid standard base64`);
  }
  if (pad !== 0) {
    const v = ALPHABET.indexOf(text[len - 1 - pad]!);
    if (v < 0 || (v & (pad === 1 ? 3 : 15)) !== 0)
      throw new FormatError(`${title} is not valid standard base64`);
  }
}

function helpers(B: NodeBufferLike): NodeHelpers {
  const isAscii = (builtin('node:buffer') as { isAscii?: unknown } | undefined)?.isAscii;
  const ascii = typeof isAscii === 'function' ? (isAscii as (b: Uint8Array) => boolean) : undefined;
  let stringLimit: number | null | undefined;
  return {
    encodeBase64: (bytes) => B.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64'),
    decodeBase64(text, title, pooled) {
      const pad = padding(text);
      const expected = (text.length / 4) * 3 - pad;
      let out: Uint8Array;
      let written: number;
      if (pooled) {
        const b = B.from(text, 'base64');
        out = new Uint8Array(b.buffer, b.byteOffset, b.length);
        written = b.length;
      } else {
        // Memory of our own: `Buffer.from(text, 'base64')` would hand out a slice of Node's
        // shared 8 KiB pool, whose `.buffer` exposes unrelated data and outlives our zeroing.
        out = new Uint8Array(expected);
        written = expected === 0 ? 0 : B.from(out.buffer, 0, expected).write(text, 0, expected, 'base64');
      }
      check(text, title, pad, written);
      return out;
    },
    decoderInto(into) {
      const view = B.from(into.buffer, into.byteOffset, into.length);
      return (text, title) => {
        const pad = padding(text);
        const expected = (text.length / 4) * 3 - pad;
        if (expected > into.length) return -1;
        check(text, title, pad, expected === 0 ? 0 : view.write(text, 0, expected, 'base64'));
        return expected;
      };
    },
    utf8Length: (text) => B.byteLength(text, 'utf8'),
    // ASCII is its own Latin-1, and V8 builds a one-byte string from Latin-1 with a copy.
    asciiText: (bytes) =>
      ascii?.(bytes) === true
        ? B.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1')
        : undefined,
    allocUnfilled(n) {
      if (n < UNFILLED_FROM) return new Uint8Array(n);
      const b = B.allocUnsafeSlow(n);
      return new Uint8Array(b.buffer, b.byteOffset, n);
    },
    maxStringLength() {
      if (stringLimit === undefined) {
        const n = (builtin('node:buffer') as { constants?: { MAX_STRING_LENGTH?: unknown } } | undefined)
          ?.constants?.MAX_STRING_LENGTH;
        stringLimit = typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : null;
      }
      return stringLimit ?? undefined;
    },
    equal(a, b) {
      const n = a.length;
      if (n !== b.length) return false;
      if (n >= NATIVE_COMPARE_FROM) return B.compare(a, b) === 0;
      for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
      return true;
    },
  };
}

const NodeBuffer = (globalThis as { Buffer?: NodeBufferLike }).Buffer;

/** The Node helpers, where the runtime has `Buffer`. */
export const node: NodeHelpers | undefined = NodeBuffer === undefined ? undefined : helpers(NodeBuffer);
