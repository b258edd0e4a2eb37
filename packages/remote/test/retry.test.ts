import { __TESTS, DEFAULT_RETRY } from '@vault-envelope/remote';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

const { backoffDelay, requestedWait, resolveRetryOptions } = __TESTS;

describe('backoffDelay', () => {
  test('full jitter: the wait lies in [0, min(backoffLimit, delay(retry))]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 0, max: 120_000 }),
        (retry, r, backoffLimit) => {
          const opts = resolveRetryOptions({ backoffLimit });
          const d = backoffDelay(retry, opts, () => r);
          return d >= 0 && d <= Math.min(backoffLimit, 250 * 2 ** (retry - 1));
        },
      ),
    );
  });

  test('without jitter it is the capped exponential', () => {
    const opts = resolveRetryOptions({ jitter: false, backoffLimit: 1000 });
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, opts))).toEqual([250, 500, 1000, 1000, 1000]);
  });

  test('full jitter scales the capped backoff by the random draw', () => {
    expect(backoffDelay(1, DEFAULT_RETRY, () => 0.5)).toBe(125);
    expect(backoffDelay(3, DEFAULT_RETRY, () => 0)).toBe(0);
  });

  test('a custom jitter function that returns garbage falls back to the capped backoff', () => {
    const opts = resolveRetryOptions({ jitter: () => Number.NaN });
    expect(backoffDelay(2, opts)).toBe(500);
    const neg = resolveRetryOptions({ jitter: () => -5 });
    expect(backoffDelay(2, neg)).toBe(500);
  });

  test('a custom delay function is used and capped', () => {
    const opts = resolveRetryOptions({ delay: () => 1e9, jitter: false, backoffLimit: 42 });
    expect(backoffDelay(1, opts)).toBe(42);
  });
});

describe('requestedWait', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  const h = (o: Record<string, string>) => new Headers(o);

  test('Retry-After in seconds', () => {
    expect(requestedWait(h({ 'retry-after': '3' }), now)).toBe(3000);
    expect(requestedWait(h({ 'retry-after': '0' }), now)).toBe(0);
  });

  test('Retry-After as an HTTP date, in the future and in the past', () => {
    expect(requestedWait(h({ 'retry-after': 'Wed, 01 Jan 2025 00:00:05 GMT' }), now)).toBe(5000);
    expect(requestedWait(h({ 'retry-after': 'Tue, 31 Dec 2024 23:00:00 GMT' }), now)).toBe(0);
  });

  test('X-RateLimit-Reset as seconds to wait, Unix seconds and Unix milliseconds', () => {
    expect(requestedWait(h({ 'x-ratelimit-reset': '7' }), now)).toBe(7000);
    expect(requestedWait(h({ 'x-ratelimit-reset': String(now / 1000 + 4) }), now)).toBe(4000);
    expect(requestedWait(h({ 'x-ratelimit-reset': String(now + 1500) }), now)).toBe(1500);
  });

  test('Retry-After wins over X-RateLimit-Reset, which is ignored when not asked for', () => {
    expect(requestedWait(h({ 'retry-after': '1', 'x-ratelimit-reset': '9' }), now)).toBe(1000);
    expect(requestedWait(h({ 'x-ratelimit-reset': '9' }), now, false)).toBeUndefined();
  });

  test('garbage and absence give undefined', () => {
    expect(requestedWait(h({}), now)).toBeUndefined();
    expect(requestedWait(h({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(requestedWait(h({ 'x-ratelimit-reset': '-1' }), now)).toBeUndefined();
  });
});

describe('resolveRetryOptions', () => {
  test('defaults', () => {
    expect(resolveRetryOptions(undefined)).toBe(DEFAULT_RETRY);
    expect(DEFAULT_RETRY.limit).toBe(3);
    expect(DEFAULT_RETRY.statusCodes).toEqual([408, 429, 500, 502, 503, 504]);
    expect(DEFAULT_RETRY.maxRetryAfter).toBe(60_000);
    expect(resolveRetryOptions(0).limit).toBe(0);
  });

  const ms = 'must be a finite number of milliseconds at least 0';
  test.each([
    ['limit: -1', { limit: -1 }, new RangeError('retry.limit must be in [0, 100], got -1')],
    ['limit: 1.5', { limit: 1.5 }, new TypeError('retry.limit must be an integer, got a fraction')],
    ['limit: "3"', { limit: '3' }, new TypeError('retry.limit must be an integer, got string')],
    ['backoffLimit: -1', { backoffLimit: -1 }, new RangeError(`retry.backoffLimit ${ms}, got -1`)],
    [
      'maxRetryAfter: Infinity',
      { maxRetryAfter: Number.POSITIVE_INFINITY },
      new RangeError(`retry.maxRetryAfter ${ms}, got Infinity`),
    ],
    [
      'maxRetryAfter: NaN',
      { maxRetryAfter: Number.NaN },
      new TypeError('retry.maxRetryAfter must be a number of milliseconds, got NaN'),
    ],
    [
      'statusCodes: [700]',
      { statusCodes: [700] },
      new RangeError('retry.statusCodes entry must be in [100, 599], got 700'),
    ],
    [
      'statusCodes: 503',
      { statusCodes: 503 },
      new TypeError('retry.statusCodes must be an array of HTTP statuses, got number'),
    ],
    [
      'jitter: "full"',
      { jitter: 'full' },
      new TypeError('retry.jitter must be a boolean or a function, got string'),
    ],
    ['delay: 5', { delay: 5 }, new TypeError('retry.delay must be a function, got number')],
    [
      'retryOnNetworkError: "yes"',
      { retryOnNetworkError: 'yes' },
      new TypeError('retry.retryOnNetworkError must be a boolean, got string'),
    ],
  ])('%s is refused with its exact message', (_, options, error) => {
    expect(() => resolveRetryOptions(options as never)).toThrow(error);
  });

  test('a retry that is neither a limit nor an object is refused with its exact message', () => {
    expect(() => resolveRetryOptions('3' as never)).toThrow(
      new TypeError('retry must be a retry limit or a RetryOptions object, got string'),
    );
    expect(() => resolveRetryOptions(null as never)).toThrow(
      new TypeError('retry must be an object, got null'),
    );
    expect(() => resolveRetryOptions(-1)).toThrow(new RangeError('retry must be in [0, 100], got -1'));
  });
});
