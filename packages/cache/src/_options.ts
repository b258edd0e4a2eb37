/**
 * Checks {@link KeyCacheOptions} once, at construction, and resolves the defaults.
 * @module
 */
import type { KeyCacheOptions } from './options.js';
import { isTransientError } from './transient.js';

/** The options with defaults applied; `0` means off for `refreshAhead` and `staleIfError`. */
export interface ResolvedOptions {
  maxAge: number;
  capacity: number;
  maxMessages: number;
  maxBytes: number;
  /** Whether `maxBytes` was given (then a call without `usage` can not be counted). */
  bytesBounded: boolean;
  partition: string;
  refreshAhead: number;
  staleIfError: number;
  isTransientError: (error: unknown) => boolean;
  clock: () => number;
}

/** Default `capacity`. */
export const DEFAULT_CAPACITY = 1000;
/** Default `maxMessages`: 2^20. */
export const DEFAULT_MAX_MESSAGES: number = 2 ** 20;
/** NIST SP 800-38D §8.3: at most 2^32 invocations per key with random 96-bit IVs. */
export const MAX_MESSAGES_LIMIT: number = 2 ** 32;

const KNOWN: ReadonlySet<string> = new Set([
  'maxAge',
  'capacity',
  'maxMessages',
  'maxBytes',
  'partition',
  'refreshAhead',
  'staleIfError',
  'isTransientError',
  'clock',
]);

function kind(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

/** A finite number of milliseconds in (min, max). */
function duration(value: unknown, title: string, max = Number.POSITIVE_INFINITY): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`${title} must be a number of milliseconds, got ${kind(value)}`);
  }
  if (!(value > 0) || !Number.isFinite(value) || !(value < max)) {
    const upper = max === Number.POSITIVE_INFINITY ? 'finite' : `less than ${max}`;
    throw new RangeError(`${title} must be greater than 0 and ${upper}, got ${value}`);
  }
  return value;
}

/** An integer in [min, max]. */
function integer(value: unknown, min: number, max: number, title: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${title} must be an integer, got ${kind(value) === 'number' ? value : kind(value)}`);
  }
  if (value < min || value > max) throw new RangeError(`${title} must be in [${min}, ${max}], got ${value}`);
  return value;
}

function fn<T>(value: unknown, title: string): T {
  if (typeof value !== 'function') throw new TypeError(`${title} must be a function, got ${kind(value)}`);
  return value as T;
}

/**
 * Validates the options of `cachedKeyProvider` and applies the defaults.
 * @throws TypeError for a missing `maxAge`, an unknown option or a value of the wrong type;
 *   RangeError for a value out of range.
 */
export function resolveOptions(options: unknown): ResolvedOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`cachedKeyProvider options must be an object, got ${kind(options)}`);
  }
  for (const name of Object.keys(options)) {
    if (!KNOWN.has(name)) throw new TypeError(`cachedKeyProvider: unknown option "${name}"`);
  }
  const o = options as KeyCacheOptions;
  if (o.maxAge === undefined) throw new TypeError('cachedKeyProvider options.maxAge is required');
  const maxAge = duration(o.maxAge, 'maxAge');
  const maxBytes =
    o.maxBytes === undefined
      ? Number.MAX_SAFE_INTEGER
      : integer(o.maxBytes, 1, Number.MAX_SAFE_INTEGER, 'maxBytes');
  let partition = '';
  if (o.partition !== undefined) {
    if (typeof o.partition !== 'string') {
      throw new TypeError(`partition must be a string, got ${kind(o.partition)}`);
    }
    partition = o.partition;
  }
  const defaultClock = (): number => performance.now();
  return {
    maxAge,
    capacity: o.capacity === undefined ? DEFAULT_CAPACITY : integer(o.capacity, 1, 2 ** 31 - 1, 'capacity'),
    maxMessages:
      o.maxMessages === undefined
        ? DEFAULT_MAX_MESSAGES
        : integer(o.maxMessages, 1, MAX_MESSAGES_LIMIT, 'maxMessages'),
    maxBytes,
    bytesBounded: o.maxBytes !== undefined,
    partition,
    refreshAhead: o.refreshAhead === undefined ? 0 : duration(o.refreshAhead, 'refreshAhead', maxAge),
    staleIfError: o.staleIfError === undefined ? 0 : duration(o.staleIfError, 'staleIfError'),
    isTransientError:
      o.isTransientError === undefined
        ? isTransientError
        : fn<(e: unknown) => boolean>(o.isTransientError, 'isTransientError'),
    clock: o.clock === undefined ? defaultClock : fn<() => number>(o.clock, 'clock'),
  };
}
