import { cachedKeyProvider, isTransientError, type KeyCacheOptions } from '@vault-envelope/cache';
import { MemoryKeyProvider } from '@vault-envelope/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

const provider = new MemoryKeyProvider();
const make = (options: unknown) => () => cachedKeyProvider(provider, options as KeyCacheOptions);

describe('option validation at construction', () => {
  test('maxAge is required', () => {
    const missing = new TypeError('maxAge must be a number of milliseconds (it is required), got undefined');
    expect(make({})).toThrow(missing);
    expect(make(undefined)).toThrow(missing);
    expect(make(null)).toThrow(new TypeError('cachedKeyProvider options must be an object, got null'));
    expect(make([])).toThrow(new TypeError('cachedKeyProvider options must be an object, got array'));
    expect(make(Promise.resolve({ maxAge: 1 }))).toThrow(
      new TypeError('cachedKeyProvider options must be an object, got Promise'),
    );
  });

  const positive = 'must be a finite number of milliseconds greater than 0';
  test.each([
    ['maxAge', '1000', new TypeError('maxAge must be a number of milliseconds, got string')],
    ['maxAge', Number.NaN, new TypeError('maxAge must be a number of milliseconds, got NaN')],
    ['maxAge', 0, new RangeError(`maxAge ${positive}, got 0`)],
    ['maxAge', -1, new RangeError(`maxAge ${positive}, got -1`)],
    ['maxAge', Number.POSITIVE_INFINITY, new RangeError(`maxAge ${positive}, got Infinity`)],
    ['capacity', 0, new RangeError('capacity must be in [1, 2147483647], got 0')],
    ['capacity', 1.5, new TypeError('capacity must be an integer, got a fraction')],
    ['capacity', '10', new TypeError('capacity must be an integer, got string')],
    ['maxMessages', 0, new RangeError('maxMessages must be in [1, 4294967296], got 0')],
    ['maxMessages', 2 ** 32 + 1, new RangeError('maxMessages must be in [1, 4294967296], got 4294967297')],
    ['maxMessages', 2.5, new TypeError('maxMessages must be an integer, got a fraction')],
    ['maxBytes', 0, new RangeError('maxBytes must be in [1, 9007199254740991], got 0')],
    ['maxBytes', 2 ** 53, new RangeError('maxBytes must be in [1, 9007199254740991], got 9007199254740992')],
    ['maxBytes', null, new TypeError('maxBytes must be an integer, got null')],
    ['partition', 7, new TypeError('partition must be a string, got number')],
    ['refreshAhead', 0, new RangeError(`refreshAhead ${positive} and less than 1000, got 0`)],
    ['refreshAhead', 1000, new RangeError(`refreshAhead ${positive} and less than 1000, got 1000`)],
    ['refreshAhead', 'soon', new TypeError('refreshAhead must be a number of milliseconds, got string')],
    ['staleIfError', -5, new RangeError(`staleIfError ${positive}, got -5`)],
    ['staleIfError', Number.POSITIVE_INFINITY, new RangeError(`staleIfError ${positive}, got Infinity`)],
    ['clock', 123, new TypeError('clock must be a function, got number')],
    ['isTransientError', true, new TypeError('isTransientError must be a function, got boolean')],
  ])('%s = %s is refused with its exact message', (name, value, error) => {
    expect(make({ maxAge: 1000, [name]: value })).toThrow(error);
  });

  test('an unknown option is a TypeError (a misspelt limit must not pass silently)', () => {
    expect(make({ maxAge: 1000, maxMessage: 10 })).toThrow(
      new TypeError('cachedKeyProvider options has an unknown option "maxMessage"'),
    );
  });

  test('property: a refused option value is never quoted in the message', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(
          'maxAge',
          'capacity',
          'maxMessages',
          'maxBytes',
          'refreshAhead',
          'staleIfError',
          'clock',
        ),
        fc.string({ minLength: 1, maxLength: 30 }).map((s) => `S3CR3T${s}`),
        (name, value) => {
          let error: unknown;
          try {
            make({ maxAge: 1000, [name]: value })();
          } catch (e) {
            error = e;
          }
          expect(error).toBeInstanceOf(TypeError);
          expect((error as Error).message).not.toContain('S3CR3T');
        },
      ),
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
    expect(() => cachedKeyProvider({} as never, { maxAge: 1 })).toThrow(
      new TypeError('provider.createDataKey must be a function, got undefined'),
    );
    expect(() => cachedKeyProvider({ createDataKey() {} } as never, { maxAge: 1 })).toThrow(
      new TypeError('provider.decryptDataKey must be a function, got undefined'),
    );
    expect(() => cachedKeyProvider(null as never, { maxAge: 1 })).toThrow(
      new TypeError('provider must be an object, got null'),
    );
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
