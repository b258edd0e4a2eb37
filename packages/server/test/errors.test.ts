/**
 * The error model: a branded base class with a stable `code`, and `is()` guards that narrow per
 * subclass, also across package copies and unbound, and that a look-alike (same name, same code,
 * no brand) does not pass.
 */
import { KeyProviderError } from '@vault-envelope/core';
import { DatabaseError, MasterKeyError, VaultServerError } from '@vault-envelope/server';
import { describe, expect, test } from 'vitest';

const BRAND = Symbol.for('vault-envelope.VaultServerError');

/** What another copy of this package would throw: same brand and code, another class. */
function foreign(name: string, code: string): Error {
  const e = new Error('from another copy');
  e.name = name;
  Object.assign(e, { code });
  Object.defineProperty(e, BRAND, { value: true });
  return e;
}

describe('VaultServerError guards', () => {
  test('VaultServerError.is accepts every server error; a subclass is() only its own case', () => {
    const master = new MasterKeyError('m');
    const db = new DatabaseError('d');
    expect(VaultServerError.is(master)).toBe(true);
    expect(VaultServerError.is(db)).toBe(true);
    expect(MasterKeyError.is(master)).toBe(true);
    expect(MasterKeyError.is(db)).toBe(false);
    expect(DatabaseError.is(db)).toBe(true);
    expect(DatabaseError.is(master)).toBe(false);
  });

  test('codes, names and the static code of each subclass are stable', () => {
    expect(MasterKeyError.code).toBe('MASTER_KEY');
    expect(DatabaseError.code).toBe('DATABASE');
    const master = new MasterKeyError('m', { cause: 'c' });
    expect(master).toBeInstanceOf(VaultServerError);
    expect([master.name, master.code, master.message, master.cause]).toEqual([
      'MasterKeyError',
      'MASTER_KEY',
      'm',
      'c',
    ]);
    const db = new DatabaseError('d');
    expect([db.name, db.code]).toEqual(['DatabaseError', 'DATABASE']);
    const base = new VaultServerError('b', 'DATABASE');
    expect([base.name, base.code]).toEqual(['VaultServerError', 'DATABASE']);
  });

  test('the guards work across package copies, by brand and code', () => {
    const other = foreign('MasterKeyError', 'MASTER_KEY');
    expect(other).not.toBeInstanceOf(VaultServerError);
    expect(VaultServerError.is(other)).toBe(true);
    expect(MasterKeyError.is(other)).toBe(true);
    expect(DatabaseError.is(other)).toBe(false);
  });

  test('a look-alike without the brand, another package error and non-errors are refused', () => {
    const lookalike = Object.assign(new Error('x'), { name: 'MasterKeyError', code: 'MASTER_KEY' });
    const core = new KeyProviderError('the stored key blob does not unwrap');
    for (const value of [lookalike, core, new Error('x'), null, undefined, 'MasterKeyError', 42, {}]) {
      expect(VaultServerError.is(value)).toBe(false);
      expect(MasterKeyError.is(value)).toBe(false);
      expect(DatabaseError.is(value)).toBe(false);
    }
  });

  test('the guards work unbound: each class has its own is(), which does not use this', () => {
    const errors: unknown[] = [new MasterKeyError('m'), new DatabaseError('d'), new Error('x'), null];
    expect(errors.filter(MasterKeyError.is)).toEqual([errors[0]]);
    expect(errors.filter(DatabaseError.is)).toEqual([errors[1]]);
    expect(errors.filter(VaultServerError.is)).toEqual([errors[0], errors[1]]);
    const { is } = MasterKeyError;
    expect(is(errors[0])).toBe(true);
    expect(is(errors[1])).toBe(false);
    // Each subclass answers for its own code, whatever object the method is called on.
    expect(MasterKeyError.is.call(DatabaseError, errors[0])).toBe(true);
    expect(VaultServerError.code).toBeUndefined();
  });
});
