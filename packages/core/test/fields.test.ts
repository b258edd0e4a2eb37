// The record-field helpers: fail closed (absent fields, wrong types, promises, arrays, values
// that are not ciphertext), read each field once, bind each value to tenant, table, row and
// column with the version-1 field AAD, keep text as text and bytes as bytes, and the migration
// read mode and the version-0 AAD behind explicit options.
import {
  type DataKey,
  DecryptionError,
  decodeBase64,
  Envelope,
  encodeBase64,
  FormatError,
  fieldAad,
  isCiphertext,
  isText,
  type KeyContext,
  type KeyProvider,
  MemoryKeyProvider,
  makeDataKey,
  parseCiphertext,
  serializeFormatA,
} from '@vault-envelope/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { rejection } from '../../../test/_shared.js';

const context = { organization_id: 'org_1' };
const mem = new MemoryKeyProvider();
const envelope = new Envelope({ keys: mem });
const user = { id: 42, name: 'Ada', ssn: '123-45-6789', dob: '1815-12-10', email: null as string | null };

/** The error a promise rejects with (fails the test if it resolves). */
describe('round trips', () => {
  test('the listed fields are encrypted under one data key; others and nulls are copied', async () => {
    const before = mem.stats().created;
    const row = await envelope.encryptFields(user, {
      fields: ['ssn', 'dob', 'email'],
      id: user.id,
      tenant: 'org_1',
      namespace: 'users',
      context,
    });
    expect(mem.stats().created - before).toBe(1);
    expect(row).toMatchObject({ id: 42, name: 'Ada', email: null });
    expect(envelope.isCiphertext(row.ssn) && envelope.isCiphertext(row.dob)).toBe(true);
    const back = await envelope.decryptFields(row, {
      fields: ['ssn', 'dob', 'email'],
      id: 42,
      tenant: 'org_1',
      namespace: 'users',
    });
    expect(back).toEqual(user);
  });

  test('the record is not modified and the result is a new plain object', async () => {
    const record = { ...user };
    const row = await envelope.encryptFields(record, { fields: ['ssn'], id: 42, context });
    expect(record).toEqual(user);
    expect(row).not.toBe(record);
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
  });

  test('bytes fields decrypt to Uint8Array, text fields to strings', async () => {
    const photo = new Uint8Array([0xff, 0xd8, 0xff, 0x00, 0x80]);
    const row = await envelope.encryptFields(
      { id: 7, photo, caption: 'me' },
      { fields: { photo: 'bytes', caption: 'text' }, id: 7, context },
    );
    expect(typeof row.photo).toBe('string');
    const back = await envelope.decryptFields(row, { fields: { photo: 'bytes', caption: 'text' }, id: 7 });
    expect(back.photo).toBeInstanceOf(Uint8Array);
    expect(back.photo).toEqual(photo);
    expect(back.caption).toBe('me');
    // Binary data that is not UTF-8 read as text is a FormatError naming the field.
    const e = await rejection(envelope.decryptFields(row, { fields: ['photo'], id: 7 }));
    expect(e).toBeInstanceOf(FormatError);
    expect(e).toMatchObject({ field: 'photo' });
    expect(e.message).toMatch(/^field "photo": the plaintext is not valid UTF-8/);
  });

  test('a raw-bytes ciphertext (a BLOB column) decrypts too', async () => {
    const row = await envelope.encryptFields({ id: 1, ssn: 'x' }, { fields: ['ssn'], id: 1, context });
    const blob = decodeBase64(row.ssn);
    expect(await envelope.decryptFields({ id: 1, ssn: blob }, { fields: ['ssn'], id: 1 })).toEqual({
      id: 1,
      ssn: 'x',
    });
  });
});

describe('the field AAD, version 1', () => {
  test('the documented bytes', () => {
    expect(fieldAad({ tenant: 'org_1', namespace: 'users', id: 42, field: 'ssn' })).toBe(
      'vault-envelope/field/v1|t=org_1|n=users|i=42|f=ssn',
    );
    expect(fieldAad({ namespace: 'users', id: 42, field: 'ssn' })).toBe(
      'vault-envelope/field/v1|n=users|i=42|f=ssn',
    );
    expect(fieldAad({ id: 42, field: 'ssn' })).toBe('vault-envelope/field/v1|i=42|f=ssn');
    expect(fieldAad({ tenant: 't', id: 'a', field: 'f' })).toBe('vault-envelope/field/v1|t=t|i=a|f=f');
    // '%' first, then '|'; nothing else is escaped.
    expect(fieldAad({ tenant: 'a|b%7C', namespace: 'n=|', id: '%', field: 'é f' })).toBe(
      'vault-envelope/field/v1|t=a%7Cb%257C|n=n=%7C|i=%25|f=é f',
    );
  });

  test('42, 42n and "42" are one id; -0 is 0; bigints beyond 2^53 are decimal', () => {
    const a = (id: number | bigint | string) => fieldAad({ id, field: 'f' });
    expect(a(42)).toBe(a(42n));
    expect(a(42)).toBe(a('42'));
    expect(a(-0)).toBe(a(0));
    expect(a(-7)).toBe('vault-envelope/field/v1|i=-7|f=f');
    expect(a(2n ** 64n)).toBe('vault-envelope/field/v1|i=18446744073709551616|f=f');
    expect(a(Number.MAX_SAFE_INTEGER)).toBe(a(BigInt(Number.MAX_SAFE_INTEGER)));
    expect(a('042')).not.toBe(a(42));
  });

  test('what encryptFields binds is exactly fieldAad, for code that decrypts by hand', async () => {
    const row = await envelope.encryptFields(user, {
      fields: ['ssn'],
      id: 42n,
      tenant: 'org_1',
      namespace: 'users',
      context,
    });
    const aad = fieldAad({ tenant: 'org_1', namespace: 'users', id: 42, field: 'ssn' });
    expect(await envelope.decryptToString(row.ssn, { aad })).toBe(user.ssn);
  });

  test('refused ids and names, with their messages', () => {
    const f = (id: unknown) => () => fieldAad({ id: id as number, field: 'f' });
    expect(f(Number.NaN)).toThrow(
      new TypeError('id must be a safe integer, a bigint or a non-empty string, got NaN'),
    );
    expect(f(Number.POSITIVE_INFINITY)).toThrow(
      new TypeError('id must be a safe integer, a bigint or a non-empty string, got Infinity'),
    );
    expect(f(Number.NEGATIVE_INFINITY)).toThrow(
      new TypeError('id must be a safe integer, a bigint or a non-empty string, got -Infinity'),
    );
    expect(f(1.5)).toThrow(
      new TypeError('id must be a safe integer, a bigint or a non-empty string, got a fraction'),
    );
    expect(f(2 ** 53)).toThrow(RangeError);
    expect(f(2 ** 53)).toThrow(/pass larger ids as a bigint or a string/);
    expect(f('')).toThrow(new RangeError('id must not be empty, got an empty string'));
    expect(f('a\u0000b')).toThrow(
      new TypeError(
        'id must be well-formed text without control characters, got a control character at index 1',
      ),
    );
    expect(f('\ud800')).toThrow(/got a lone surrogate at index 0/);
    expect(f({})).toThrow(
      new TypeError('id must be a safe integer, a bigint or a non-empty string, got object'),
    );
    expect(f(null)).toThrow(TypeError);
    expect(() => fieldAad({ id: 1, field: '' })).toThrow(RangeError);
    expect(() => fieldAad({ id: 1, field: 'f', tenant: 'x'.repeat(501) })).toThrow(
      new RangeError('tenant must be at most 500 characters, got 501'),
    );
    expect(() => fieldAad({ id: 1, field: 'f', namespace: 'a\nb' })).toThrow(TypeError);
  });
});

describe('fail closed', () => {
  test('a listed field the record lacks (a typo) is a TypeError naming it, unless optional', async () => {
    await expect(envelope.encryptFields(user, { fields: ['snn' as 'ssn'], id: 42, context })).rejects.toThrow(
      new TypeError(
        'record must have the listed field "snn" (name it in optional if it may be absent), got no such property',
      ),
    );
    await expect(envelope.decryptFields(user, { fields: ['nope' as 'ssn'], id: 42 })).rejects.toThrow(
      TypeError,
    );
    const partial: { id: number; ssn?: string } = { id: 1 };
    const row = await envelope.encryptFields(partial, { fields: ['ssn'], id: 1, context, optional: ['ssn'] });
    expect(row).toEqual({ id: 1 });
    expect('ssn' in row).toBe(false);
    expect(await envelope.decryptFields(row, { fields: ['ssn'], id: 1, optional: ['ssn'] })).toEqual({
      id: 1,
    });
  });

  test('a record that is a promise, an array, bytes or not an object is a TypeError', async () => {
    const opts = { fields: ['ssn'], id: 1 };
    const cases: [unknown, string][] = [
      [Promise.resolve(user), 'Promise'],
      [[user], 'array'],
      [new Uint8Array(2), 'Uint8Array'],
      [null, 'null'],
      ['ssn', 'string'],
      [undefined, 'undefined'],
    ];
    for (const [record, kind] of cases) {
      await expect(envelope.encryptFields(record as object, { ...opts, context } as never)).rejects.toThrow(
        new TypeError(`record must be an object, got ${kind}`),
      );
      await expect(envelope.decryptFields(record as object, opts as never)).rejects.toThrow(
        new TypeError(`record must be an object, got ${kind}`),
      );
    }
  });

  test('a value that is neither text nor bytes, or of the other kind, is a TypeError naming the field', async () => {
    const enc = (record: object, fields: unknown) =>
      envelope.encryptFields(record as never, { fields, id: 1, context } as never);
    await expect(enc({ n: 5 }, ['n'])).rejects.toThrow(
      new TypeError('field "n" must be a string (a text field), got number'),
    );
    await expect(enc({ n: new Uint8Array(1) }, ['n'])).rejects.toThrow(
      new TypeError('field "n" must be a string (a text field), got Uint8Array'),
    );
    await expect(enc({ n: 'x' }, { n: 'bytes' })).rejects.toThrow(
      new TypeError('field "n" must be a Uint8Array (a bytes field), got string'),
    );
    await expect(enc({ n: {} }, { n: 'bytes' })).rejects.toThrow(
      new TypeError('field "n" must be a Uint8Array (a bytes field), got object'),
    );
    await expect(enc({ n: 'a\ud800b' }, ['n'])).rejects.toThrow(
      new TypeError('field "n" must be well-formed text, got a lone surrogate at index 1'),
    );
    await expect(envelope.decryptFields({ n: true }, { fields: ['n'] as never, id: 1 })).rejects.toThrow(
      new TypeError('field "n" must be a ciphertext (base64 text or a Uint8Array), got boolean'),
    );
  });

  test('exact messages of the option checks', async () => {
    const enc = (options: object) => envelope.encryptFields(user, { context, ...options } as never);
    await expect(enc({ fields: ['ssn'], id: 1, tenat: 'org_1' })).rejects.toThrow(
      new TypeError('field options has an unknown option "tenat"'),
    );
    await expect(enc({ fields: 'ssn', id: 1 })).rejects.toThrow(
      new TypeError('fields must be an array of field names or an object of field kinds, got string'),
    );
    await expect(enc({ fields: [], id: 1 })).rejects.toThrow(
      new RangeError('fields must list at least one field, got none'),
    );
    await expect(enc({ fields: ['ssn', 2], id: 1 })).rejects.toThrow(
      new TypeError('fields[1] must be a string, got number'),
    );
    await expect(enc({ fields: ['ssn', 'ssn'], id: 1 })).rejects.toThrow(
      new TypeError('fields[1] must be a field not listed before, got a repeat'),
    );
    await expect(enc({ fields: { ssn: 'txt' }, id: 1 })).rejects.toThrow(
      new TypeError(`fields["ssn"] must be 'text' or 'bytes', got another string`),
    );
    await expect(enc({ fields: ['ssn'], id: 1, optional: ['dob'] })).rejects.toThrow(
      new TypeError('optional[0] must be one of the listed fields, got string'),
    );
    await expect(enc({ fields: ['ssn'], id: 1, namespace: 3 })).rejects.toThrow(
      new TypeError('namespace must be a string, got number'),
    );
    await expect(enc({ fields: ['ssn'], id: 1, tenant: '' })).rejects.toThrow(
      new RangeError('tenant must not be empty, got an empty string'),
    );
    await expect(enc({ fields: ['ssn'], id: 1, aad: () => 'x' })).rejects.toThrow(
      new TypeError('field options has an unknown option "aad"'),
    );
    await expect(envelope.decryptFields(user, null as never)).rejects.toThrow(
      new TypeError('field options must be an object, got null'),
    );
    await expect(envelope.decryptFields(user, undefined as never)).rejects.toThrow(
      new TypeError('field options must be an object, got undefined'),
    );
    await expect(
      envelope.decryptFields(user, { fields: ['ssn'], id: 1, allowPlaintext: 'yes' } as never),
    ).rejects.toThrow(new TypeError('allowPlaintext must be a boolean, got string'));
  });

  test('a forgotten context names context, not an internal array', async () => {
    await expect(envelope.encryptFields(user, { fields: ['ssn'], id: 1 } as never)).rejects.toThrow(
      /^context must be an object, got undefined$/,
    );
  });

  test('with requireTenant, a field call without a tenant is a TypeError before any key request', async () => {
    const keys = new MemoryKeyProvider();
    const strict = new Envelope({ keys, requireTenant: true });
    const message = 'tenant must be a non-empty string (this Envelope has requireTenant set), got undefined';
    await expect(strict.encryptFields(user, { fields: ['ssn'], id: 1, context })).rejects.toThrow(
      new TypeError(message),
    );
    const row = await strict.encryptFields(user, { fields: ['ssn'], id: 1, tenant: 'org_1', context });
    await expect(strict.decryptFields(row, { fields: ['ssn'], id: 1 })).rejects.toThrow(
      new TypeError(message),
    );
    expect(keys.stats()).toEqual({ created: 1, decrypted: 0, rekeyed: 0 });
    expect((await strict.decryptFields(row, { fields: ['ssn'], id: 1, tenant: 'org_1' })).ssn).toBe(user.ssn);
  });

  test('a listed value that is not a ciphertext is a FormatError naming the field, before any key lookup', async () => {
    const keys = new MemoryKeyProvider();
    const e2 = new Envelope({ keys });
    const row = await e2.encryptFields(user, { fields: ['ssn'], id: 42, context });
    // Half of all random base64 strings parse as format A; none has a known key-blob header.
    const lookalike = encodeBase64(new Uint8Array([...new Uint8Array(28), 4, 1, 2, 3, 4, 9, 9]));
    for (const value of ['123-45-6789', lookalike, 'aGVsbG8=']) {
      const e = await rejection(e2.decryptFields({ ...row, ssn: value }, { fields: ['ssn'], id: 42 }));
      expect(e).toBeInstanceOf(FormatError);
      expect(e).toMatchObject({ field: 'ssn' });
      expect(e.message).toMatch(/^field "ssn" is not a ciphertext: /);
      expect(e.message).not.toContain(value);
    }
    expect(keys.stats().decrypted).toBe(0);
  });

  test('a moved or modified value is a DecryptionError that names the field in its message and as field', async () => {
    const row = await envelope.encryptFields(user, { fields: ['ssn', 'dob'], id: 42, context });
    const e = await rejection(
      envelope.decryptFields({ ...row, ssn: row.dob }, { fields: ['dob', 'ssn'], id: 42 }),
    );
    expect(e).toBeInstanceOf(DecryptionError);
    expect(e).toMatchObject({ field: 'ssn' });
    expect(e.message).toBe(
      'decryption failed for field "ssn": wrong key, wrong AAD or a modified ciphertext',
    );
    expect(DecryptionError.is(e)).toBe(true);
  });

  test('a failure of the key provider passes through unchanged', async () => {
    const down: KeyProvider = {
      keyBlobHeaders: mem.keyBlobHeaders,
      createDataKey: () => Promise.reject(new Error('503 from Vault')),
      decryptDataKey: () => Promise.reject(new Error('503 from Vault')),
    };
    const e2 = new Envelope({ keys: down });
    await expect(e2.encryptFields(user, { fields: ['ssn'], id: 1, context })).rejects.toThrow(
      '503 from Vault',
    );
    const row = await envelope.encryptFields(user, { fields: ['ssn'], id: 1, context });
    await expect(e2.decryptFields(row, { fields: ['ssn'], id: 1 })).rejects.toThrow('503 from Vault');
  });
});

describe('one read per field', () => {
  test('a class instance with accessors (an ORM entity) works, each accessor read once', async () => {
    class Entity {
      reads = 0;
      #ssn = '123-45-6789';
      constructor(readonly id: number) {}
      get ssn(): string {
        this.reads++;
        return this.#ssn;
      }
    }
    const entity = new Entity(9);
    const row = await envelope.encryptFields(entity, { fields: ['ssn'], id: entity.id, context });
    expect(entity.reads).toBe(1);
    expect(row).toMatchObject({ id: 9, reads: 1 });
    expect((await envelope.decryptFields(row, { fields: ['ssn'], id: 9 })).ssn).toBe('123-45-6789');
  });

  test('a getter that answers null first and the value later can not leave the value in clear', async () => {
    let n = 0;
    const record = {
      id: 1,
      get ssn(): string | null {
        return n++ === 0 ? null : '123-45-6789';
      },
    };
    const row = await envelope.encryptFields(record, { fields: ['ssn'], id: 1, context });
    expect(row.ssn).toBeNull();
    expect(n).toBe(1);
    expect(JSON.stringify(row)).not.toContain('123');
  });

  test('an own __proto__ key is copied as data and sets no prototype', async () => {
    const record = JSON.parse('{"id": 1, "ssn": "x", "__proto__": {"polluted": true}}') as {
      id: number;
      ssn: string;
    };
    const row = await envelope.encryptFields(record, { fields: ['ssn'], id: 1, context });
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect((row as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toEqual({ polluted: true });
  });
});

describe('the migration read mode (allowPlaintext)', () => {
  test('off by default; on, a plaintext is served as it is, counted and reported; ciphertext still decrypts', async () => {
    const keys = new MemoryKeyProvider();
    const e2 = new Envelope({ keys });
    const row = await e2.encryptFields(user, { fields: ['ssn'], id: 42, context });
    const halfMigrated = { ...row, dob: '1815-12-10', photo: new Uint8Array([1, 2]) };
    const fields = { ssn: 'text', dob: 'text', photo: 'bytes' } as const;
    await expect(e2.decryptFields(halfMigrated, { fields, id: 42 })).rejects.toThrow(FormatError);
    expect(e2.stats()).toEqual({ plaintextServed: 0 });
    const seen: string[] = [];
    const back = await e2.decryptFields(halfMigrated, {
      fields,
      id: 42,
      allowPlaintext: true,
      onPlaintext: (field) => seen.push(field),
    });
    expect(back).toMatchObject({ ssn: user.ssn, dob: '1815-12-10', photo: new Uint8Array([1, 2]) });
    expect(seen).toEqual(['dob', 'photo']);
    expect(e2.stats()).toEqual({ plaintextServed: 2 });
    // A plaintext of the wrong kind is still refused.
    await expect(
      e2.decryptFields(
        { id: 1, photo: 'not bytes' },
        { fields: { photo: 'bytes' }, id: 1, allowPlaintext: true },
      ),
    ).rejects.toThrow(
      /^field "photo" is neither a ciphertext nor a plaintext Uint8Array \(a bytes field\), got string$/,
    );
    // A ciphertext that fails is never served as plaintext.
    await expect(
      e2.decryptFields(row, { fields: ['ssn'], id: 43, allowPlaintext: true }),
    ).rejects.toBeInstanceOf(DecryptionError);
    expect(e2.stats()).toEqual({ plaintextServed: 2 });
  });
});

describe('the version-0 field AAD (legacyAad)', () => {
  test('values written by 0.1 read only with legacyAad; values are never written with it', async () => {
    // What 0.1's encryptFields wrote: AAD = JSON of [namespace, String(id), field].
    const v0 = await envelope.encrypt(user.ssn, { context, aad: JSON.stringify(['users', '42', 'ssn']) });
    const v0NoNs = await envelope.encrypt(user.ssn, { context, aad: JSON.stringify(['42', 'ssn']) });
    const opts = { fields: ['ssn'] as const, id: 42, namespace: 'users' };
    await expect(envelope.decryptFields({ ssn: v0 }, opts)).rejects.toBeInstanceOf(DecryptionError);
    expect((await envelope.decryptFields({ ssn: v0 }, { ...opts, legacyAad: true })).ssn).toBe(user.ssn);
    expect(
      (await envelope.decryptFields({ ssn: v0NoNs }, { fields: ['ssn'], id: 42n, legacyAad: true })).ssn,
    ).toBe(user.ssn);
    // The v0 AAD binds the id and field as well: another row still fails.
    await expect(
      envelope.decryptFields({ ssn: v0 }, { ...opts, id: 43, legacyAad: true }),
    ).rejects.toBeInstanceOf(DecryptionError);
    // A value written today is v1: it does not decrypt under the v0 AAD.
    const row = await envelope.encryptFields(user, { fields: ['ssn'], id: 42, namespace: 'users', context });
    await expect(
      envelope.decryptToString(row.ssn, { aad: JSON.stringify(['users', '42', 'ssn']) }),
    ).rejects.toBeInstanceOf(DecryptionError);
    expect((await envelope.decryptFields({ ...row }, { ...opts, legacyAad: true })).ssn).toBe(user.ssn);
  });
});

// ---- properties ----

const names = fc.constantFrom('ssn', 'dob', 'email', 'note', 'photo', 'a|b', '%7C', '__proto__x');
const anyValue = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.uint8Array({ maxLength: 20 }),
  fc.constantFrom(null, undefined),
  fc.integer(),
  fc.boolean(),
  fc.constant({}),
  fc.constant(Promise.resolve('x')),
);

describe('properties', () => {
  test('never plaintext in a listed field: every listed present field comes back as ciphertext, or the call throws', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(names, anyValue, { maxKeys: 6 }),
        fc.uniqueArray(names, { minLength: 1, maxLength: 5 }),
        fc.boolean(),
        fc.array(fc.constantFrom('text', 'bytes') as fc.Arbitrary<'text' | 'bytes'>, {
          minLength: 5,
          maxLength: 5,
        }),
        async (record, listed, asObject, kinds) => {
          const fields = asObject ? Object.fromEntries(listed.map((n, i) => [n, kinds[i]!])) : listed;
          let out: Record<string, unknown>;
          try {
            out = (await envelope.encryptFields(record, { fields, id: 1, context } as never)) as Record<
              string,
              unknown
            >;
          } catch (e) {
            expect(e instanceof TypeError || e instanceof RangeError).toBe(true);
            return;
          }
          for (const name of listed) {
            const v = record[name];
            if (v === null || v === undefined) {
              expect(out[name]).toBe(v);
              continue;
            }
            expect(typeof out[name]).toBe('string');
            expect(isCiphertext(out[name])).toBe(true);
            expect(out[name]).not.toEqual(v);
          }
          for (const [k, v] of Object.entries(record))
            if (!(listed as string[]).includes(k)) expect(out[k]).toBe(v);
        },
      ),
      { numRuns: 150 },
    );
  });

  // Names that stress the escaping: separators, escapes, the tags' own letters.
  const text = fc.string({
    unit: fc.constantFrom('a', 't', '|', '%', '7', 'C', '=', 'é'),
    minLength: 1,
    maxLength: 6,
  });
  const id = fc.oneof(fc.integer({ min: -5, max: 5 }), fc.bigInt({ min: -5n, max: 5n }), text);
  const place = fc.record({
    tenant: fc.option(text, { nil: undefined }),
    namespace: fc.option(text, { nil: undefined }),
    id,
    field: text,
  });
  const canonical = (p: {
    tenant: string | undefined;
    namespace: string | undefined;
    id: unknown;
    field: string;
  }) => JSON.stringify([p.tenant ?? null, p.namespace ?? null, String(p.id), p.field]);

  test('any move to another tenant, table, row or column fails with DecryptionError', async () => {
    await fc.assert(
      fc.asyncProperty(place, place, async (from, to) => {
        const opts = (p: typeof from) => {
          const o: Record<string, unknown> = { fields: [p.field], id: p.id };
          if (p.tenant !== undefined) o.tenant = p.tenant;
          if (p.namespace !== undefined) o.namespace = p.namespace;
          return o;
        };
        const row = (await envelope.encryptFields({ [from.field]: 'secret' }, {
          ...opts(from),
          context,
        } as never)) as Record<string, string>;
        const moved = { [to.field]: row[from.field] };
        const read = envelope.decryptFields(moved, opts(to) as never);
        if (canonical(from) === canonical(to)) {
          expect(((await read) as Record<string, string>)[to.field]).toBe('secret');
        } else {
          const e = await rejection(read);
          expect(e).toBeInstanceOf(DecryptionError);
          expect(e).toMatchObject({ field: to.field });
        }
      }),
      { numRuns: 200 },
    );
  });

  test('getters and proxies are read once per listed field, in encryption and in decryption', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom('ssn', 'dob', 'email', 'note'), fc.option(fc.string(), { nil: null }), {
          minKeys: 1,
        }),
        async (values) => {
          const listed = Object.keys(values);
          const counting = (target: Record<string, unknown>) => {
            const reads = new Map<PropertyKey, number>();
            const proxy = new Proxy(target, {
              get(t, key, receiver) {
                reads.set(key, (reads.get(key) ?? 0) + 1);
                return Reflect.get(t, key, receiver);
              },
            });
            return { proxy, reads };
          };
          const a = counting({ id: 1, ...values });
          const row = (await envelope.encryptFields(a.proxy, {
            fields: listed,
            id: 1,
            context,
          } as never)) as Record<string, unknown>;
          for (const f of listed) expect(a.reads.get(f)).toBe(1);
          const b = counting(row);
          const back = await envelope.decryptFields(b.proxy, { fields: listed, id: 1 } as never);
          for (const f of listed) expect(b.reads.get(f)).toBe(1);
          expect(back).toEqual({ id: 1, ...values });
        },
      ),
      { numRuns: 60 },
    );
  });

  test('bytes fields round-trip as bytes, text fields as text', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 300 }),
        fc.string({ unit: 'grapheme', maxLength: 100 }),
        async (bytes, str) => {
          const row = await envelope.encryptFields(
            { id: 'r', b: bytes, s: str },
            { fields: { b: 'bytes', s: 'text' }, id: 'r', context },
          );
          const back = await envelope.decryptFields(row, { fields: { b: 'bytes', s: 'text' }, id: 'r' });
          expect(back.b).toBeInstanceOf(Uint8Array);
          expect(back.b).toEqual(bytes);
          expect(typeof back.s).toBe('string');
          expect(back.s).toBe(str);
        },
      ),
      { numRuns: 100 },
    );
  });
});

/**
 * A stand-in for a key service with rekey: each blob is a header and a random handle; rekey
 * issues a new handle for the same 32 key bytes under a new context (as Vault's rekey re-wraps
 * the data key under the new context's KEKs).
 */
class RewrapProvider implements KeyProvider {
  static readonly header = new TextEncoder().encode('TST.RW.v1\0');
  readonly keyBlobHeaders = [RewrapProvider.header];
  readonly #keys = new Map<string, { key: Uint8Array; context: KeyContext }>();

  #issue(key: Uint8Array, context: KeyContext): Uint8Array {
    const blob = new Uint8Array([...RewrapProvider.header, ...crypto.getRandomValues(new Uint8Array(16))]);
    this.#keys.set(encodeBase64(blob), { key, context });
    return blob;
  }
  async createDataKey(context: KeyContext): Promise<DataKey> {
    const key = crypto.getRandomValues(new Uint8Array(32));
    const blob = this.#issue(key, context);
    return makeDataKey({ id: 'rw', key: key.slice(), encryptedKeys: blob, context });
  }
  async decryptDataKey(blob: Uint8Array): Promise<DataKey> {
    const entry = this.#keys.get(encodeBase64(blob));
    if (entry === undefined) throw new Error('unknown blob');
    return makeDataKey({
      id: 'rw',
      key: entry.key.slice(),
      encryptedKeys: blob.slice(),
      context: entry.context,
    });
  }
  async rekeyDataKey(blob: Uint8Array, context: KeyContext): Promise<Uint8Array> {
    const entry = this.#keys.get(encodeBase64(blob));
    if (entry === undefined) throw new Error('unknown blob');
    return this.#issue(entry.key, context);
  }
}

test('a rekeyed field still decrypts: the field AAD binds the tenant, not the key context (property)', async () => {
  const keys = new RewrapProvider();
  const e2 = new Envelope({ keys });
  await fc.assert(
    fc.asyncProperty(
      fc.string({ minLength: 1, maxLength: 20 }).filter(isText),
      fc.dictionary(
        fc.constantFrom('organization_id', 'byok', 'region'),
        fc.string({ maxLength: 10 }).filter(isText),
        {
          minKeys: 1,
        },
      ),
      async (tenant, newContext) => {
        const row = await e2.encryptFields(user, {
          fields: ['ssn'],
          id: 42,
          tenant,
          namespace: 'users',
          context: { organization_id: tenant },
        });
        // What a rekey does to a stored value: the same message with the key blob re-wrapped.
        const parts = parseCiphertext(decodeBase64(row.ssn));
        const blob = await keys.rekeyDataKey(parts.encryptedKeys.slice(), newContext);
        const rekeyed = encodeBase64(serializeFormatA({ ...parts, encryptedKeys: blob }));
        expect(rekeyed).not.toBe(row.ssn);
        const opts = { fields: ['ssn'] as const, id: 42, tenant, namespace: 'users' };
        expect((await e2.decryptFields({ ssn: rekeyed }, opts)).ssn).toBe(user.ssn);
        // ... and it is still bound to its tenant.
        await expect(
          e2.decryptFields({ ssn: rekeyed }, { ...opts, tenant: `${tenant}x` }),
        ).rejects.toBeInstanceOf(DecryptionError);
      },
    ),
    { numRuns: 30 },
  );
});
