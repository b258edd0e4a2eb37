/**
 * Argument checks for the public edge. Each helper takes a title and returns the checked value,
 * so a call site reads `const key = abytes(input, 32, 'data key')`. A wrong type is a
 * `TypeError`, a wrong size or range a `RangeError`; neither ever quotes the value (it may be a
 * secret), only its type or length.
 * @module
 */

/**
 * True for a `Uint8Array`, including a Node `Buffer` and one from another realm (an iframe, a
 * `vm` context), where `instanceof` fails.
 * @param value - Anything.
 * @returns Whether it is a Uint8Array.
 * @example
 * ```ts
 * isBytes(new Uint8Array(2)); // true
 * isBytes([1, 2]);            // false
 * ```
 */
export function isBytes(value: unknown): value is Uint8Array {
  return (
    value instanceof Uint8Array ||
    (ArrayBuffer.isView(value) && value.constructor !== undefined && value.constructor.name === 'Uint8Array')
  );
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  return typeof value;
}

/** Checks that `value` is a `Uint8Array`, of exactly `length` bytes when a length is given. */
export function abytes(value: unknown, length: number | undefined, title: string): Uint8Array {
  if (!isBytes(value)) throw new TypeError(`${title} must be a Uint8Array, got ${describe(value)}`);
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`${title} must be ${length} bytes, got ${value.length}`);
  }
  return value;
}

/** Checks that `value` is a string. */
export function astring(value: unknown, title: string): string {
  if (typeof value !== 'string') throw new TypeError(`${title} must be a string, got ${describe(value)}`);
  return value;
}

/** Checks that `value` is a string or a `Uint8Array`. */
export function astringOrBytes(value: unknown, title: string): string | Uint8Array {
  if (typeof value === 'string' || isBytes(value)) return value;
  throw new TypeError(`${title} must be a string or a Uint8Array, got ${describe(value)}`);
}

/** Checks that `value` is an integer in `[min, max]`. */
export function aint(value: unknown, min: number, max: number, title: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${title} must be an integer, got ${describe(value)}`);
  }
  if (value < min || value > max) throw new RangeError(`${title} must be in [${min}, ${max}], got ${value}`);
  return value;
}

/** Checks that `value` is a plain object (not null, not an array). */
export function aobject(value: unknown, title: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || isBytes(value)) {
    throw new TypeError(`${title} must be an object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

/**
 * A copy of `bytes` in fresh memory, as a plain `Uint8Array`. Not `bytes.slice()`: on a Node
 * `Buffer`, `slice` returns a view of the same memory, so zeroing the "copy" would zero the
 * original (and the reverse).
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}
