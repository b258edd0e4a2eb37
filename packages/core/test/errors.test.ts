import {
  DecryptionError,
  EnvelopeError,
  type EnvelopeErrorCode,
  FormatError,
  KeyDestroyedError,
  KeyProviderError,
  MemoryKeyProvider,
} from '@vault-envelope/core';
import { describe, expect, expectTypeOf, test } from 'vitest';

const BRAND = Symbol.for('vault-envelope.EnvelopeError');

/** What the tests need of an error class: its code and its guard. */
interface ErrorClass {
  readonly code: EnvelopeErrorCode | undefined;
  is(error: unknown): boolean;
}

/** One instance of each subclass, with the code it must carry and its class. */
const cases: [string, EnvelopeError, EnvelopeErrorCode, ErrorClass][] = [
  ['FormatError', new FormatError('x'), 'FORMAT', FormatError],
  ['DecryptionError', new DecryptionError(), 'DECRYPTION', DecryptionError],
  ['KeyDestroyedError', new KeyDestroyedError(), 'KEY_DESTROYED', KeyDestroyedError],
  ['KeyProviderError', new KeyProviderError('x'), 'KEY_PROVIDER', KeyProviderError],
];

/** What an error of this package looks like when it comes from another copy of it. */
function foreign(code: EnvelopeErrorCode): Error {
  const e = Object.assign(new Error('from another copy'), { code });
  Object.defineProperty(e, BRAND, { value: true });
  return e;
}

describe('error guards narrow per subclass', () => {
  test.each(cases)(
    '%s: its own is() and the base is() accept it, no other is() does',
    (name, error, code) => {
      expect(error.name).toBe(name);
      expect(error.code).toBe(code);
      expect(error).toBeInstanceOf(EnvelopeError);
      expect(EnvelopeError.is(error)).toBe(true);
      for (const [, , otherCode, Other] of cases) expect(Other.is(error)).toBe(otherCode === code);
    },
  );

  test.each(cases)('%s has a static code equal to the code of its instances', (_, error, code, Class) => {
    expect(Class.code).toBe(code);
    expect(error.code).toBe(Class.code);
  });

  test('DecryptionError.is(new FormatError(...)) is false', () => {
    expect(DecryptionError.is(new FormatError('x'))).toBe(false);
    expect(FormatError.is(new DecryptionError())).toBe(false);
  });

  test('the base class stands for every code', () => {
    expect(EnvelopeError.code).toBeUndefined();
    for (const code of ['FORMAT', 'DECRYPTION', 'KEY_DESTROYED', 'KEY_PROVIDER'] as const) {
      expect(EnvelopeError.is(new EnvelopeError('x', code))).toBe(true);
    }
  });

  test('an EnvelopeError built with a code is recognised by the subclass of that code', () => {
    const e = new EnvelopeError('built by hand', 'KEY_PROVIDER');
    expect(KeyProviderError.is(e)).toBe(true);
    expect(FormatError.is(e)).toBe(false);
  });

  test('errors from another copy of the package (the brand, not instanceof) narrow by code', () => {
    const e = foreign('FORMAT');
    expect(e).not.toBeInstanceOf(EnvelopeError);
    expect(EnvelopeError.is(e)).toBe(true);
    expect(FormatError.is(e)).toBe(true);
    expect(DecryptionError.is(e)).toBe(false);
  });

  test('a look-alike without the brand is not recognised (a name or code alone cannot spoof it)', () => {
    const lookalike = Object.assign(new Error('x'), { name: 'FormatError', code: 'FORMAT' });
    for (const [, , , Class] of cases) expect(Class.is(lookalike)).toBe(false);
    expect(EnvelopeError.is(lookalike)).toBe(false);
    for (const v of [null, undefined, 'FormatError', 42, {}]) expect(EnvelopeError.is(v)).toBe(false);
  });

  test('a subclass an application defines inherits the base guard; instanceof tells it apart', () => {
    class AppError extends EnvelopeError {}
    const mine = new AppError('x', 'FORMAT');
    expect(AppError.is).toBe(EnvelopeError.is);
    expect(AppError.is(mine)).toBe(true);
    expect(FormatError.is(mine)).toBe(true);
    expect(new FormatError('x')).not.toBeInstanceOf(AppError);
    expect(mine).toBeInstanceOf(AppError);
  });

  test('every guard works unbound (errors.filter(DecryptionError.is))', () => {
    const instances = cases.map(([, error]) => error);
    const mixed: unknown[] = [...instances, new Error('plain'), null, foreign('DECRYPTION')];
    expect(mixed.filter(EnvelopeError.is)).toHaveLength(instances.length + 1);
    for (const [i, [, , code, Class]] of cases.entries()) {
      const own = mixed.filter(Class.is);
      expect(own[0]).toBe(instances[i]);
      expect(own).toHaveLength(code === 'DECRYPTION' ? 2 : 1);
    }
    const { is } = DecryptionError;
    expect(is(new DecryptionError())).toBe(true);
    expect(is(new FormatError('x'))).toBe(false);
  });

  test('each subclass has a guard of its own', () => {
    for (const [, , , Class] of cases) {
      expect(Object.hasOwn(Class, 'is')).toBe(true);
      expect(Class.is).not.toBe(EnvelopeError.is);
    }
  });

  test('is() narrows the type', () => {
    const e: unknown = new FormatError('x');
    if (FormatError.is(e)) expectTypeOf(e).toEqualTypeOf<FormatError>();
    if (EnvelopeError.is(e)) expectTypeOf(e.code).toEqualTypeOf<EnvelopeErrorCode>();
    expect(FormatError.is(e)).toBe(true);
  });
});

describe('MemoryKeyProvider throws KeyProviderError', () => {
  test('for a blob that is not its own, and for one it cannot unwrap', async () => {
    const mem = new MemoryKeyProvider();
    const notOurs = await mem.decryptDataKey(new Uint8Array([1, 2, 3])).catch((e: unknown) => e);
    expect(notOurs).toBeInstanceOf(KeyProviderError);
    expect(KeyProviderError.is(notOurs)).toBe(true);
    expect(notOurs).toMatchObject({
      name: 'KeyProviderError',
      code: 'KEY_PROVIDER',
      message: 'not a MemoryKeyProvider key blob',
    });
    const blob = (await mem.createDataKey({ org: '1' })).encryptedKeys;
    const other = await new MemoryKeyProvider().decryptDataKey(blob).catch((e: unknown) => e);
    expect(other).toBeInstanceOf(KeyProviderError);
    expect(other).toMatchObject({
      code: 'KEY_PROVIDER',
      message: 'MemoryKeyProvider could not unwrap this key blob',
    });
    expect((other as Error).cause).toBeInstanceOf(DecryptionError);
  });
});
