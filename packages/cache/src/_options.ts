/**
 * Checks {@link KeyCacheOptions} once, at construction, and resolves the defaults.
 * @module
 */
import { aduration, afunction, aint, aoptions, astring } from '@vault-envelope/core';
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
  /**
   * Whether an expiry timer may be used: only with the default clock, whose relation to timers
   * is known.
   */
  timed: boolean;
}

/** Default `capacity`. */
const DEFAULT_CAPACITY = 1000;
/** Default `maxMessages`: 2^20. */
const DEFAULT_MAX_MESSAGES = 2 ** 20;
/** NIST SP 800-38D §8.3: at most 2^32 invocations per key with random 96-bit IVs. */
const MAX_MESSAGES_LIMIT = 2 ** 32;

/** Monotonic, so that wall-clock jumps neither expire nor extend keys. */
const defaultClock = (): number => performance.now();

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

/**
 * Validates the options of `cachedKeyProvider` and applies the defaults.
 * @param options - What the caller passed.
 * @returns The options with defaults applied.
 * @throws TypeError for a missing `maxAge`, an unknown option or a value of the wrong type;
 *   RangeError for a value out of range.
 */
export function resolveOptions(options: unknown): ResolvedOptions {
  const o = aoptions(options, 'cachedKeyProvider options', KNOWN) as Partial<KeyCacheOptions>;
  // Required: a cache must never hold a key forever.
  if (o.maxAge === undefined) {
    throw new TypeError('maxAge must be a number of milliseconds (it is required), got undefined');
  }
  const positive = { exclusive: true };
  const maxAge = aduration(o.maxAge, 'maxAge', positive);
  return {
    maxAge,
    capacity: o.capacity === undefined ? DEFAULT_CAPACITY : aint(o.capacity, 1, 2 ** 31 - 1, 'capacity'),
    maxMessages:
      o.maxMessages === undefined
        ? DEFAULT_MAX_MESSAGES
        : aint(o.maxMessages, 1, MAX_MESSAGES_LIMIT, 'maxMessages'),
    maxBytes:
      o.maxBytes === undefined
        ? Number.MAX_SAFE_INTEGER
        : aint(o.maxBytes, 1, Number.MAX_SAFE_INTEGER, 'maxBytes'),
    bytesBounded: o.maxBytes !== undefined,
    partition: o.partition === undefined ? '' : astring(o.partition, 'partition'),
    refreshAhead:
      o.refreshAhead === undefined
        ? 0
        : aduration(o.refreshAhead, 'refreshAhead', { exclusive: true, max: maxAge }),
    staleIfError: o.staleIfError === undefined ? 0 : aduration(o.staleIfError, 'staleIfError', positive),
    isTransientError:
      o.isTransientError === undefined
        ? isTransientError
        : afunction<(e: unknown) => boolean>(o.isTransientError, 'isTransientError'),
    clock: o.clock === undefined ? defaultClock : afunction<() => number>(o.clock, 'clock'),
    timed: o.clock === undefined && typeof setTimeout === 'function',
  };
}
