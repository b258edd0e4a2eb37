/**
 * Argument checks at the public edge of the client, run before anything is sent. A wrong type is
 * a `TypeError`, a wrong size or range a `RangeError`. Messages name the argument and never quote
 * its value (an object's value is secret; a name may be too sensitive to log).
 * @module
 */

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/**
 * Checks that `value` is an integer in `[min, max]`.
 * @param value - The value.
 * @param min - Lowest allowed.
 * @param max - Highest allowed.
 * @param title - Its name, for messages.
 * @returns The value.
 * @throws TypeError when not an integer; RangeError when out of range.
 */
export function aint(value: unknown, min: number, max: number, title: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${title} must be an integer, got ${kind(value)}`);
  }
  if (value < min || value > max) throw new RangeError(`${title} must be in [${min}, ${max}], got ${value}`);
  return value;
}

/**
 * Checks that `value` is a plain object (not null, not an array).
 * @param value - The value.
 * @param title - Its name, for messages.
 * @returns The value.
 * @throws TypeError otherwise.
 */
export function aobject(value: unknown, title: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${title} must be an object, got ${kind(value)}`);
  }
  return value as Record<string, unknown>;
}

/**
 * Checks that `value` is a string of `min..max` characters.
 * @param value - The value.
 * @param title - Its name, for messages.
 * @param min - Shortest allowed (default 0).
 * @param max - Longest allowed (default unbounded).
 * @returns The value.
 * @throws TypeError when not a string; RangeError when too short or too long.
 */
export function astr(value: unknown, title: string, min = 0, max = Number.POSITIVE_INFINITY): string {
  if (typeof value !== 'string') throw new TypeError(`${title} must be a string, got ${kind(value)}`);
  if (value.length < min) {
    throw new RangeError(
      min === 1 ? `${title} must not be empty` : `${title} must be at least ${min} characters`,
    );
  }
  if (value.length > max)
    throw new RangeError(`${title} must be at most ${max} characters, got ${value.length}`);
  return value;
}

/**
 * Checks the options object every call takes and its `signal`.
 * @param options - `{ signal? }` or undefined.
 * @returns The signal, if any.
 * @throws TypeError when options is not an object or signal not an AbortSignal.
 */
export function callSignal(options: unknown): AbortSignal | undefined {
  if (options === undefined) return undefined;
  const signal = aobject(options, 'options').signal;
  if (signal === undefined) return undefined;
  if (typeof signal !== 'object' || signal === null || typeof (signal as AbortSignal).aborted !== 'boolean') {
    throw new TypeError(`options.signal must be an AbortSignal, got ${kind(signal)}`);
  }
  return signal as AbortSignal;
}
