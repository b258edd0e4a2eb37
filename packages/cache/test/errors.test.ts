/**
 * The cache's error guards: by a `Symbol.for` brand and the code, never by `name`; each subclass
 * accepts only its own case, the base class every case; they survive package copies and realms,
 * and work unbound.
 */
import { runInNewContext } from 'node:vm';
import { CacheClosedError, KeyCacheError } from '@vault-envelope/cache';
import { EnvelopeError, KeyProviderError } from '@vault-envelope/core';
import { NotFoundError, VaultError } from '@vault-envelope/remote';
import { describe, expect, test } from 'vitest';

const BRAND = Symbol.for('vault-envelope.KeyCacheError');

describe('KeyCacheError guards', () => {
  test('CacheClosedError carries its code, its name and the brand', () => {
    const e = new CacheClosedError();
    expect(e).toBeInstanceOf(KeyCacheError);
    expect(e.code).toBe('CACHE_CLOSED');
    expect(CacheClosedError.code).toBe('CACHE_CLOSED');
    expect(e.name).toBe('CacheClosedError');
    expect(e.message).toBe('the key cache is closed');
    expect((e as unknown as Record<symbol, unknown>)[BRAND]).toBe(true);
  });

  test('the base class accepts every cache error; a subclass only its own code', () => {
    const closed = new CacheClosedError();
    // A cache error of another code, as a later release (or another copy) may throw.
    const other = { code: 'CACHE_FULL', [BRAND]: true };
    expect(KeyCacheError.is(closed)).toBe(true);
    expect(KeyCacheError.is(other)).toBe(true);
    expect(CacheClosedError.is(closed)).toBe(true);
    expect(CacheClosedError.is(other)).toBe(false);
  });

  test("other packages' errors, look-alikes and non-errors are no cache errors", () => {
    for (const x of [
      new KeyProviderError('x'),
      new VaultError('x', 'NETWORK', { method: 'GET', path: '/' }),
      new NotFoundError({ method: 'GET', path: '/' }),
      Object.assign(new Error('the key cache is closed'), { name: 'CacheClosedError', code: 'CACHE_CLOSED' }),
      { code: 'CACHE_CLOSED', [BRAND]: 'true' },
      { code: 'CACHE_CLOSED', [Symbol.for('vault-envelope.VaultError')]: true },
      null,
      undefined,
      'CACHE_CLOSED',
    ]) {
      expect(KeyCacheError.is(x)).toBe(false);
      expect(CacheClosedError.is(x)).toBe(false);
    }
    expect(EnvelopeError.is(new CacheClosedError())).toBe(false);
    expect(VaultError.is(new CacheClosedError())).toBe(false);
  });

  test('they work across copies of the package: a plain object with the brand and code', () => {
    const copy = { name: 'CacheClosedError', code: 'CACHE_CLOSED', [BRAND]: true };
    expect(KeyCacheError.is(copy)).toBe(true);
    expect(CacheClosedError.is(copy)).toBe(true);
  });

  test('they work across realms: an error made in another vm context', () => {
    const other = runInNewContext(`
      const e = new Error('the key cache is closed');
      Object.defineProperty(e, Symbol.for('vault-envelope.KeyCacheError'), { value: true });
      e.code = 'CACHE_CLOSED';
      e;
    `) as unknown;
    expect(other instanceof Error).toBe(false); // another realm's Error
    expect(KeyCacheError.is(other)).toBe(true);
    expect(CacheClosedError.is(other)).toBe(true);
  });

  test('they work unbound', () => {
    const errors: unknown[] = [new CacheClosedError(), new Error('x'), { code: 'CACHE_FULL', [BRAND]: true }];
    expect(errors.filter(KeyCacheError.is)).toHaveLength(2);
    expect(errors.filter(CacheClosedError.is)).toEqual([errors[0]]);
  });
});
