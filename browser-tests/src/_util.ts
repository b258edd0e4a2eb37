/**
 * Small helpers of the checks: hex, error names, and running one group of checks into a
 * {@link Section}. No Node API: this runs in the browser and the edge context.
 * @module
 */
import type { Section } from './types.js';

/** Globals that Node has and browsers and edge runtimes do not. */
export const NODE_GLOBALS: readonly string[] = Object.freeze([
  'process',
  'Buffer',
  'require',
  'module',
  'global',
  'setImmediate',
  '__dirname',
]);

/**
 * Bytes as lowercase hex.
 * @param bytes - Any bytes.
 * @returns The hex text.
 * @example
 * ```ts
 * toHex(new Uint8Array([1, 255])); // '01ff'
 * ```
 */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += (b < 16 ? '0' : '') + b.toString(16);
  return s;
}

/**
 * Hex to bytes.
 * @param hex - Lowercase or uppercase hex of even length.
 * @returns The bytes.
 * @throws RangeError when the length is odd.
 * @example
 * ```ts
 * fromHex('01ff'); // Uint8Array [1, 255]
 * ```
 */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw new RangeError('hex text must have an even length');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Standard base64 to bytes through `atob` (a web global), independent of the code under test.
 * @param text - Base64 text.
 * @returns The bytes.
 * @example
 * ```ts
 * fromBase64Web('AQI='); // Uint8Array [1, 2]
 * ```
 */
export function fromBase64Web(text: string): Uint8Array {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * What a caught value was, as `Name: message` (never a key: the checks only throw library errors).
 * @param e - Anything caught.
 * @returns A one-line description.
 * @example
 * ```ts
 * describeError(new TypeError('x')); // 'TypeError: x'
 * ```
 */
export function describeError(e: unknown): string {
  if (typeof e === 'object' && e !== null && 'name' in e && 'message' in e) {
    return `${String(e.name)}: ${String(e.message)}`;
  }
  return `thrown ${typeof e}: ${String(e)}`;
}

/**
 * The name of the error `fn` rejects with, or `'none'` when it resolves.
 * @param fn - The call to make.
 * @returns The error's `name`, or `'none'`.
 * @example
 * ```ts
 * await errorName(() => envelope.decrypt(ct, { aad: 'wrong' })); // 'DecryptionError'
 * ```
 */
export async function errorName(fn: () => unknown): Promise<string> {
  try {
    await fn();
    return 'none';
  } catch (e) {
    return typeof e === 'object' && e !== null && 'name' in e ? String(e.name) : typeof e;
  }
}

/**
 * Runs one group of checks, catching what it throws so that the other groups still report.
 * @param fn - The group.
 * @returns Its observations, or the error.
 * @example
 * ```ts
 * const core = await section(() => coreChecks(config));
 * ```
 */
export async function section<T>(fn: () => Promise<T>): Promise<Section<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return { ok: false, error: describeError(e) };
  }
}

/**
 * A plain copy of a stats object (numbers and strings only), fit for JSON.
 * @param stats - What a `stats()` returned.
 * @returns The copy.
 * @example
 * ```ts
 * plainStats(keys.stats()).hits;
 * ```
 */
export function plainStats(stats: object): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(stats)) if (typeof v === 'number' || typeof v === 'string') out[k] = v;
  return out;
}
