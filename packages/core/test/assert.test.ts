import {
  aboolean,
  abytes,
  aduration,
  afunction,
  aint,
  aobject,
  aoptions,
  asignal,
  astring,
  astringOrBytes,
  atext,
  isText,
  kindOf,
} from '@vault-envelope/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

describe('the shared argument checks', () => {
  it('kindOf names the type, never the value', () => {
    expect(kindOf(null)).toBe('null');
    expect(kindOf(undefined)).toBe('undefined');
    expect(kindOf([1])).toBe('array');
    expect(kindOf(new Uint8Array(1))).toBe('Uint8Array');
    expect(kindOf(Buffer.alloc(1))).toBe('Buffer');
    expect(kindOf(Number.NaN)).toBe('NaN');
    expect(kindOf(Number.POSITIVE_INFINITY)).toBe('Infinity');
    expect(kindOf(Number.NEGATIVE_INFINITY)).toBe('-Infinity');
    expect(kindOf(1.5)).toBe('number');
    expect(kindOf(Promise.resolve(1))).toBe('Promise');
    // biome-ignore lint/suspicious/noThenProperty: a thenable is what is being described
    expect(kindOf({ then() {} })).toBe('Promise');
    expect(kindOf(() => 1)).toBe('function');
    expect(kindOf({})).toBe('object');
    expect(kindOf('s3cr3t')).toBe('string');
    expect(kindOf(1n)).toBe('bigint');
  });

  it('no message ever contains a string or bytes value it was given', () => {
    const checks = [
      (v: unknown) => abytes(v, 32, 't'),
      (v: unknown) => aint(v, 0, 1, 't'),
      (v: unknown) => aduration(v, 't'),
      (v: unknown) => aobject(v, 't'),
      (v: unknown) => afunction(v, 't'),
      (v: unknown) => aboolean(v, 't'),
      (v: unknown) => asignal(v, 't'),
      (v: unknown) => astring(v, 't', 1, 3),
    ];
    fc.assert(
      fc.property(
        fc.string({ minLength: 4 }).filter((s) => !/^\s*$/.test(s) && !'t must be'.includes(s)),
        (secret) => {
          for (const check of checks) {
            try {
              check(secret);
            } catch (e) {
              expect((e as Error).message).not.toContain(secret);
            }
          }
        },
      ),
    );
  });

  it('exact messages, one shape', () => {
    expect(() => abytes('x', 32, 'data key')).toThrow(
      new TypeError('data key must be a Uint8Array, got string'),
    );
    expect(() => abytes(new Uint8Array(31), 32, 'data key')).toThrow(
      new RangeError('data key must be 32 bytes, got 31'),
    );
    expect(() => astring(1, 'name')).toThrow(new TypeError('name must be a string, got number'));
    expect(() => astring('', 'name', 1)).toThrow(
      new RangeError('name must not be empty, got an empty string'),
    );
    expect(() => astring('ab', 'name', 3)).toThrow(
      new RangeError('name must be at least 3 characters, got 2'),
    );
    expect(() => astring('abcd', 'name', 0, 3)).toThrow(
      new RangeError('name must be at most 3 characters, got 4'),
    );
    expect(() => astringOrBytes(null, 'plaintext')).toThrow(
      new TypeError('plaintext must be a string or a Uint8Array, got null'),
    );
    expect(() => aint(1.5, 0, 9, 'capacity')).toThrow(
      new TypeError('capacity must be an integer, got a fraction'),
    );
    expect(() => aint(Number.NaN, 0, 9, 'capacity')).toThrow(
      new TypeError('capacity must be an integer, got NaN'),
    );
    expect(() => aint(10, 0, 9, 'capacity')).toThrow(new RangeError('capacity must be in [0, 9], got 10'));
    expect(() => aduration('1', 'timeout')).toThrow(
      new TypeError('timeout must be a number of milliseconds, got string'),
    );
    expect(() => aduration(-1, 'timeout')).toThrow(
      new RangeError('timeout must be a finite number of milliseconds at least 0, got -1'),
    );
    expect(() => aduration(0, 'maxAge', { exclusive: true })).toThrow(
      new RangeError('maxAge must be a finite number of milliseconds greater than 0, got 0'),
    );
    expect(() => aduration(10, 'refreshAhead', { exclusive: true, max: 10 })).toThrow(
      new RangeError(
        'refreshAhead must be a finite number of milliseconds greater than 0 and less than 10, got 10',
      ),
    );
    expect(() => aduration(Number.POSITIVE_INFINITY, 'timeout')).toThrow(
      new RangeError('timeout must be a finite number of milliseconds at least 0, got Infinity'),
    );
    expect(() => aobject(Promise.resolve({}), 'record')).toThrow(
      new TypeError('record must be an object, got Promise'),
    );
    expect(() => aobject([], 'record')).toThrow(new TypeError('record must be an object, got array'));
    expect(() => afunction(1, 'clock')).toThrow(new TypeError('clock must be a function, got number'));
    expect(() => aboolean('yes', 'jitter')).toThrow(new TypeError('jitter must be a boolean, got string'));
    expect(() => asignal({}, 'options.signal')).toThrow(
      new TypeError('options.signal must be an AbortSignal, got object'),
    );
    expect(() => aoptions({ maxAgee: 1 }, 'cache options', ['maxAge'])).toThrow(
      new TypeError('cache options has an unknown option "maxAgee"'),
    );
  });

  it('return what they checked', () => {
    const bytes = new Uint8Array(2);
    expect(abytes(bytes, undefined, 'b')).toBe(bytes);
    expect(aduration(5, 't')).toBe(5);
    expect(aoptions(undefined, 'o')).toEqual({});
    const signal = new AbortController().signal;
    expect(asignal(signal, 's')).toBe(signal);
    expect(asignal(undefined, 's')).toBeUndefined();
  });

  it('text rules: well-formed Unicode, no C0 control or DEL', () => {
    expect(isText('org_1 é 😀 \u0080 \u2028')).toBe(true);
    for (const bad of ['\u0000', 'a\u001fb', '\u007f', 'a\ud800', '\udc00b', 'a\udc00\ud800b', '\n']) {
      expect(isText(bad)).toBe(false);
    }
    expect(() => atext('t1\u0000acme', 'key context value')).toThrow(
      new TypeError(
        'key context value must be well-formed text without control characters, got a control character at index 2',
      ),
    );
    expect(() => atext('a\udc00b', 'name')).toThrow(
      new TypeError(
        'name must be well-formed text without control characters, got a lone surrogate at index 1',
      ),
    );
    expect(() => atext(7, 'name')).toThrow(new TypeError('name must be a string, got number'));
    expect(atext('ok', 'name', 1, 2)).toBe('ok');
  });

  it('isText agrees with a code-point reading of the string', () => {
    const model = (s: string): boolean => {
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c < 0x20 || c === 0x7f) return false;
        if (c >= 0xd800 && c <= 0xdbff) {
          const d = s.charCodeAt(i + 1);
          if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
          i++;
        } else if (c >= 0xdc00 && c <= 0xdfff) return false;
      }
      return true;
    };
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(isText(s)).toBe(model(s));
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffff })), (units) => {
        const s = String.fromCharCode(...units);
        expect(isText(s)).toBe(model(s));
      }),
      { numRuns: 2000 },
    );
  });
});
