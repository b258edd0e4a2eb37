import { cachedKeyProvider, isTransientError, type KeyCacheOptions } from '@vault-envelope/cache';
import { MemoryKeyProvider } from '@vault-envelope/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

const provider = new MemoryKeyProvider();
const make = (options: unknown) => () => cachedKeyProvider(provider, options as KeyCacheOptions);

describe('option validation at construction', () => {
  test('maxAge is required', () => {
    expect(make({})).toThrow(new TypeError('cachedKeyProvider options.maxAge is required'));
    expect(make(undefined)).toThrow(TypeError);
    expect(make(null)).toThrow(TypeError);
  });

  test.each([
    ['maxAge', '1000', TypeError],
    ['maxAge', Number.NaN, TypeError],
    ['maxAge', 0, RangeError],
    ['maxAge', -1, RangeError],
    ['maxAge', Number.POSITIVE_INFINITY, RangeError],
    ['capacity', 0, RangeError],
    ['capacity', 1.5, TypeError],
    ['capacity', '10', TypeError],
    ['maxMessages', 0, RangeError],
    ['maxMessages', 2 ** 32 + 1, RangeError],
    ['maxMessages', 2.5, TypeError],
    ['maxBytes', 0, RangeError],
    ['maxBytes', 2 ** 53, RangeError],
    ['partition', 7, TypeError],
    ['refreshAhead', 0, RangeError],
    ['refreshAhead', 1000, RangeError],
    ['refreshAhead', 'soon', TypeError],
    ['staleIfError', -5, RangeError],
    ['staleIfError', Number.POSITIVE_INFINITY, RangeError],
    ['clock', 123, TypeError],
    ['isTransientError', true, TypeError],
  ])('%s = %s is rejected', (name, value, error) => {
    expect(make({ maxAge: 1000, [name]: value })).toThrow(error);
  });

  test('an unknown option is a TypeError (a misspelt limit must not pass silently)', () => {
    expect(make({ maxAge: 1000, maxMessage: 10 })).toThrow(
      new TypeError('cachedKeyProvider: unknown option "maxMessage"'),
    );
  });

  test('limits at their bounds are accepted', () => {
    expect(
      make({
        maxAge: 1000,
        maxMessages: 2 ** 32,
        capacity: 1,
        maxBytes: Number.MAX_SAFE_INTEGER,
        refreshAhead: 999.5,
      }),
    ).not.toThrow();
    expect(make({ maxAge: 0.5, maxMessages: 1 })).not.toThrow();
  });

  test('the provider must be a KeyProvider', () => {
    expect(() => cachedKeyProvider({} as never, { maxAge: 1 })).toThrow(TypeError);
    expect(() => cachedKeyProvider(null as never, { maxAge: 1 })).toThrow(TypeError);
  });

  test('every valid option combination constructs; every positive maxAge is accepted', () => {
    fc.assert(
      fc.property(
        fc.double({ min: Number.MIN_VALUE, max: 1e12, noNaN: true }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 2 ** 32 }),
        fc.string(),
        (maxAge, capacity, maxMessages, partition) => {
          const keys = cachedKeyProvider(provider, { maxAge, capacity, maxMessages, partition });
          expect(keys.stats().partition).toBe(partition);
          expect(keys.partition).toBe(partition);
        },
      ),
    );
  });
});

describe('isTransientError', () => {
  const withStatus = (status: number) => Object.assign(new Error('x'), { status });

  test('5xx and network errors are transient; 4xx and plain errors are not', () => {
    for (const s of [500, 502, 503, 504, 599]) expect(isTransientError(withStatus(s))).toBe(true);
    for (const s of [400, 401, 403, 404, 409, 422, 429]) expect(isTransientError(withStatus(s))).toBe(false);
    expect(isTransientError(Object.assign(new Error('x'), { name: 'NetworkError' }))).toBe(true);
    expect(isTransientError(Object.assign(new Error('x'), { name: 'TimeoutError' }))).toBe(true);
    expect(isTransientError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isTransientError(new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } }))).toBe(true);
    expect(isTransientError(new Error('plain'))).toBe(false);
    expect(isTransientError(undefined)).toBe(false);
    expect(isTransientError('503')).toBe(false);
  });

  test("a status decides even when a cause says otherwise: the server's answer wins", () => {
    const e = Object.assign(new Error('forbidden', { cause: { code: 'ECONNRESET' } }), { status: 403 });
    expect(isTransientError(e)).toBe(false);
  });

  test('the cause chain is followed three levels deep, no further', () => {
    const net = { name: 'NetworkError' };
    expect(isTransientError({ cause: { cause: { cause: net } } })).toBe(true);
    expect(isTransientError({ cause: { cause: { cause: { cause: net } } } })).toBe(false);
  });
});
