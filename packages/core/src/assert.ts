/**
 * Argument checks for the public edge, shared by every `@vault-envelope` package (remote, cache
 * and server import them from here, so one input gets one message wherever it is checked).
 *
 * Each helper takes a title and returns the checked value, so a call site reads
 * `const key = abytes(input, 32, 'data key')`. A wrong type is a `TypeError`, a wrong size or
 * range a `RangeError`. Every message has one shape, `<title> must be <what>, got <kind>`,
 * where `<kind>` is the type of what was passed ({@link kindOf}) or, for a size or a numeric
 * option, a number (a length, a count, milliseconds). A message never quotes a string or the
 * contents of bytes or an object: they may be secrets.
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

/**
 * What a value is, for an error message, without its contents: `'null'`, `'undefined'`,
 * `'array'`, `'Promise'` (any thenable), the class of a typed array (`'Uint8Array'`,
 * `'Buffer'`), `'NaN'`, `'Infinity'` or `'-Infinity'` for those numbers, else `typeof`.
 * @param value - Anything.
 * @returns A short description that never contains the value itself.
 * @example
 * ```ts
 * kindOf(null);              // 'null'
 * kindOf(Promise.resolve()); // 'Promise'
 * kindOf('secret');          // 'string'
 * ```
 */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (ArrayBuffer.isView(value)) return value.constructor?.name ?? 'typed array';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
    return 'number';
  }
  if ((typeof value === 'object' || typeof value === 'function') && isThenable(value)) return 'Promise';
  return typeof value;
}

function isThenable(value: object): boolean {
  try {
    return typeof (value as { then?: unknown }).then === 'function';
  } catch {
    // A getter or proxy that throws on `then` is not something we can read safely either.
    return false;
  }
}

/**
 * Checks that `value` is a `Uint8Array`, of exactly `length` bytes when a length is given.
 * @param value - The value.
 * @param length - The required length, or `undefined` for any.
 * @param title - Its name, for messages.
 * @returns The value.
 * @throws TypeError when it is not a Uint8Array; RangeError when its length differs.
 * @example
 * ```ts
 * abytes(new Uint8Array(32), 32, 'data key');
 * ```
 */
export function abytes(value: unknown, length: number | undefined, title: string): Uint8Array {
  if (!isBytes(value)) throw new TypeError(`${title} must be a Uint8Array, got ${kindOf(value)}`);
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`${title} must be ${length} bytes, got ${value.length}`);
  }
  return value;
}

/**
 * Checks that `value` is a string of `min` to `max` UTF-16 code units.
 * @param value - The value.
 * @param title - Its name, for messages.
 * @param min - Shortest allowed. @default 0
 * @param max - Longest allowed. @default unbounded
 * @returns The value.
 * @throws TypeError when it is not a string; RangeError when it is too short or too long (the
 *   message gives its length, never its text).
 * @example
 * ```ts
 * astring(name, 'object name', 1, 1024);
 * ```
 */
export function astring(
  value: unknown,
  title: string,
  min: number = 0,
  max: number = Number.POSITIVE_INFINITY,
): string {
  if (typeof value !== 'string') throw new TypeError(`${title} must be a string, got ${kindOf(value)}`);
  if (value.length < min) {
    throw new RangeError(
      min === 1
        ? `${title} must not be empty, got an empty string`
        : `${title} must be at least ${min} characters, got ${value.length}`,
    );
  }
  if (value.length > max) {
    throw new RangeError(`${title} must be at most ${max} characters, got ${value.length}`);
  }
  return value;
}

// C0 controls (U+0000-U+001F), DEL (U+007F), and a surrogate that is not part of a pair.
const NOT_TEXT =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  /[\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Whether `value` is well-formed text by the rules every name that is bound into a key or an
 * AAD follows (key-context names and values, tenants, namespaces, field names, string ids):
 * well-formed Unicode (no lone surrogate, which UTF-8 can not encode and which two different
 * strings would share once replaced by U+FFFD) and no C0 control character (U+0000 to U+001F)
 * or DEL (U+007F), so that a NUL or a newline can never act as a separator.
 * @param value - A string.
 * @returns True when it follows the rules.
 * @example
 * ```ts
 * isText('org_1');        // true
 * isText('a\u0000b');     // false
 * isText('a\udc00b');     // false: a lone surrogate
 * ```
 */
export function isText(value: string): boolean {
  return !NOT_TEXT.test(value);
}

/**
 * Checks that `value` is a string of `min` to `max` UTF-16 code units that follows the
 * {@link isText} rules.
 * @param value - The value.
 * @param title - Its name, for messages.
 * @param min - Shortest allowed. @default 0
 * @param max - Longest allowed. @default unbounded
 * @returns The value.
 * @throws TypeError when it is not a string, or holds a control character or a lone surrogate
 *   (not text by these rules; the message gives the position, never the text); RangeError when
 *   it is too short or too long.
 * @example
 * ```ts
 * atext(tenant, 'tenant', 1, 500);
 * ```
 */
export function atext(
  value: unknown,
  title: string,
  min: number = 0,
  max: number = Number.POSITIVE_INFINITY,
): string {
  const s = astring(value, title, min, max);
  const bad = NOT_TEXT.exec(s);
  if (bad !== null) {
    const c = s.charCodeAt(bad.index);
    const what = c >= 0xd800 && c <= 0xdfff ? 'a lone surrogate' : 'a control character';
    throw new TypeError(
      `${title} must be well-formed text without control characters, got ${what} at index ${bad.index}`,
    );
  }
  return s;
}

/**
 * Checks that `value` is a string or a `Uint8Array`.
 * @param value - The value.
 * @param title - Its name, for messages.
 * @returns The value.
 * @throws TypeError otherwise.
 * @example
 * ```ts
 * astringOrBytes(plaintext, 'plaintext');
 * ```
 */
export function astringOrBytes(value: unknown, title: string): string | Uint8Array {
  if (typeof value === 'string' || isBytes(value)) return value;
  throw new TypeError(`${title} must be a string or a Uint8Array, got ${kindOf(value)}`);
}

/**
 * Checks that `value` is an integer in `[min, max]`.
 * @param value - The value.
 * @param min - Lowest allowed.
 * @param max - Highest allowed.
 * @param title - Its name, for messages.
 * @returns The value.
 * @throws TypeError when it is not an integer (`1.5`, `NaN`, a string); RangeError when it is
 *   out of range.
 * @example
 * ```ts
 * aint(options.capacity, 1, 2 ** 31 - 1, 'capacity');
 * ```
 */
export function aint(value: unknown, min: number, max: number, title: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    const kind = kindOf(value);
    throw new TypeError(`${title} must be an integer, got ${kind === 'number' ? 'a fraction' : kind}`);
  }
  if (value < min || value > max) throw new RangeError(`${title} must be in [${min}, ${max}], got ${value}`);
  return value;
}

/**
 * Checks a duration in milliseconds: a finite number, at least `min` (or above it with
 * `exclusive`), below `max` when given.
 * @param value - The value.
 * @param title - Its name, for messages.
 * @param options - `min` (default 0), `exclusive` (the minimum itself is refused: use it for
 *   "greater than 0"), `max` (exclusive upper bound; default unbounded).
 * @returns The value.
 * @throws TypeError when it is not a number or is NaN; RangeError when out of range or infinite.
 * @example
 * ```ts
 * aduration(5_000, 'timeout');                     // 5000
 * aduration(0, 'maxAge', { exclusive: true });    // RangeError
 * ```
 */
export function aduration(
  value: unknown,
  title: string,
  options: { min?: number; exclusive?: boolean; max?: number } = {},
): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`${title} must be a number of milliseconds, got ${kindOf(value)}`);
  }
  const min = options.min ?? 0;
  const max = options.max ?? Number.POSITIVE_INFINITY;
  const low = options.exclusive === true ? !(value > min) : !(value >= min);
  if (low || !Number.isFinite(value) || !(value < max)) {
    const bound = options.exclusive === true ? `greater than ${min}` : `at least ${min}`;
    const upper = max === Number.POSITIVE_INFINITY ? '' : ` and less than ${max}`;
    throw new RangeError(`${title} must be a finite number of milliseconds ${bound}${upper}, got ${value}`);
  }
  return value;
}

/**
 * Checks that `value` is an object (not null, not an array, not bytes, not a promise).
 * @param value - The value.
 * @param title - Its name, for messages.
 * @returns The value.
 * @throws TypeError otherwise; a promise is named as such (a forgotten `await`).
 * @example
 * ```ts
 * const o = aobject(options, 'Envelope options');
 * ```
 */
export function aobject(value: unknown, title: string): Record<string, unknown> {
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    isBytes(value) ||
    isThenable(value)
  ) {
    throw new TypeError(`${title} must be an object, got ${kindOf(value)}`);
  }
  return value as Record<string, unknown>;
}

/**
 * Checks that `value` is a function.
 * @param value - The value.
 * @param title - Its name, for messages.
 * @returns The value, typed as `T`.
 * @throws TypeError otherwise.
 * @example
 * ```ts
 * const clock = afunction<() => number>(options.now, 'now');
 * ```
 */
export function afunction<T extends (...args: never[]) => unknown>(value: unknown, title: string): T {
  if (typeof value !== 'function') throw new TypeError(`${title} must be a function, got ${kindOf(value)}`);
  return value as T;
}

/**
 * Checks that `value` is a boolean.
 * @param value - The value.
 * @param title - Its name, for messages.
 * @returns The value.
 * @throws TypeError otherwise.
 * @example
 * ```ts
 * aboolean(options.jitter, 'jitter');
 * ```
 */
export function aboolean(value: unknown, title: string): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${title} must be a boolean, got ${kindOf(value)}`);
  return value;
}

/**
 * Checks an optional `AbortSignal` (anything with a boolean `aborted`, so signals from another
 * realm or a polyfill pass).
 * @param value - The value, or `undefined`.
 * @param title - Its name, for messages.
 * @returns The signal, or `undefined`.
 * @throws TypeError when it is neither.
 * @example
 * ```ts
 * const signal = asignal(options.signal, 'options.signal');
 * ```
 */
export function asignal(value: unknown, title: string): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || typeof (value as AbortSignal).aborted !== 'boolean') {
    throw new TypeError(`${title} must be an AbortSignal, got ${kindOf(value)}`);
  }
  return value as AbortSignal;
}

/**
 * Checks an optional options object: `undefined` reads as `{}`; with `known`, a name outside it
 * is a `TypeError` (a misspelt option must not be silently ignored).
 * @param value - The options, or `undefined`.
 * @param title - Its name, for messages (`'cachedKeyProvider options'`).
 * @param known - The option names accepted, if the set is closed.
 * @returns The options object.
 * @throws TypeError when it is not an object or names an unknown option.
 * @example
 * ```ts
 * const o = aoptions(options, 'decrypt options', ['aad', 'format', 'signal']);
 * ```
 */
export function aoptions(
  value: unknown,
  title: string,
  known?: ReadonlySet<string> | readonly string[],
): Record<string, unknown> {
  if (value === undefined) return {};
  const o = aobject(value, title);
  if (known !== undefined) {
    const set: ReadonlySet<string> = Array.isArray(known) ? new Set(known) : (known as ReadonlySet<string>);
    for (const name of Object.keys(o)) {
      if (!set.has(name)) throw new TypeError(`${title} has an unknown option "${name}"`);
    }
  }
  return o;
}

/**
 * A copy of `bytes` in fresh memory, as a plain `Uint8Array`. Not `bytes.slice()`: on a Node
 * `Buffer`, `slice` returns a view of the same memory, so zeroing the "copy" would zero the
 * original (and the reverse).
 * @param bytes - The bytes to copy.
 * @returns A new Uint8Array with the same contents.
 * @internal
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}
