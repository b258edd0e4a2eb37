// The field helpers' types. The assertions here are checked by the compiler (`pnpm run
// typecheck` compiles the tests): each `@ts-expect-error` fails the typecheck if the line below
// it compiles, and each `expectTypeOf` fails it if the type differs. The test run then checks
// that the same calls behave at run time as their types say.
import { type BatchResult, type EncryptedFields, Envelope, MemoryKeyProvider } from '@vault-envelope/core';
import { describe, expect, expectTypeOf, test } from 'vitest';

interface User {
  id: number;
  name: string;
  ssn: string;
  photo: Uint8Array | null;
  age: number;
  note?: string | null;
}

const envelope = new Envelope({ keys: new MemoryKeyProvider() });
const context = { organization_id: 'org_1' };
const user: User = { id: 1, name: 'Ada', ssn: '123', photo: new Uint8Array([1]), age: 36, note: null };

/** Calls that must not compile; never run (their run-time failures are tested elsewhere). */
export async function rejectedByTheCompiler(): Promise<void> {
  // @ts-expect-error a field name that the record does not have (a typo)
  await envelope.encryptFields(user, { fields: ['snn'], id: 1, context });
  // @ts-expect-error a field whose type is not string | Uint8Array | null | undefined
  await envelope.encryptFields(user, { fields: ['age'], id: 1, context });
  // @ts-expect-error a bytes field in an array of names (an array lists text fields)
  await envelope.encryptFields(user, { fields: ['photo'], id: 1, context });
  // @ts-expect-error a typo in the object form
  await envelope.encryptFields(user, { fields: { ssn: 'text', snn: 'bytes' }, id: 1, context });
  // @ts-expect-error a text field declared as bytes
  await envelope.encryptFields(user, { fields: { ssn: 'bytes' }, id: 1, context });
  // @ts-expect-error an unknown kind
  await envelope.encryptFields(user, { fields: { ssn: 'json' }, id: 1, context });
  // @ts-expect-error encryption needs a context
  await envelope.encryptFields(user, { fields: ['ssn'], id: 1 });
  // @ts-expect-error optional names a field that is not listed
  await envelope.encryptFields(user, { fields: ['ssn'], id: 1, context, optional: ['note'] });
  // @ts-expect-error an id that is not a string, number or bigint
  await envelope.encryptFields(user, { fields: ['ssn'], id: { id: 1 }, context });
  // @ts-expect-error decryption options do not take a context
  await envelope.decryptFields(user, { fields: ['ssn'], id: 1, context });
}

/** The same checks for many records, and the id's own: never run. */
export async function rejectedByTheCompilerForMany(): Promise<void> {
  const users = [user];
  // @ts-expect-error a field name that the records do not have (a typo)
  await envelope.encryptFieldsMany(users, { fields: ['snn'], id: 'id', context });
  // @ts-expect-error a field whose type is not string | Uint8Array | null | undefined
  await envelope.encryptFieldsMany(users, { fields: ['age'], id: 'id', context });
  // @ts-expect-error a bytes field in an array of names
  await envelope.encryptFieldsMany(users, { fields: ['photo'], id: 'id', context });
  // @ts-expect-error a typo in the object form
  await envelope.decryptFieldsMany(users, { fields: { ssn: 'text', snn: 'bytes' }, id: 'id' });
  // @ts-expect-error a text field declared as bytes
  await envelope.encryptFieldsMany(users, { fields: { ssn: 'bytes' }, id: 'id', context });
  // @ts-expect-error encryption needs a context
  await envelope.encryptFieldsMany(users, { fields: ['ssn'], id: 'id' });
  // @ts-expect-error decryption options do not take a context
  await envelope.decryptFieldsMany(users, { fields: ['ssn'], id: 'id', context });
  // @ts-expect-error the id names a property the records do not have
  await envelope.encryptFieldsMany(users, { fields: ['ssn'], id: 'uid', context });
  // @ts-expect-error the id names a property that can not hold an id (a Uint8Array)
  await envelope.decryptFieldsMany(users, { fields: ['ssn'], id: 'photo' });
  // @ts-expect-error an id value where the many-record helpers want where to find it
  await envelope.decryptFieldsMany(users, { fields: ['ssn'], id: 1 });
  // @ts-expect-error an id function that returns something that is not an id
  await envelope.encryptFieldsMany(users, { fields: ['ssn'], id: (u) => ({ id: u.id }), context });
  // @ts-expect-error a context function that returns no context
  await envelope.encryptFieldsMany(users, { fields: ['ssn'], id: 'id', context: (u) => u.id });
  // @ts-expect-error one record where a list is wanted
  await envelope.encryptFieldsMany(user, { fields: ['ssn'], id: 'id', context });
  // @ts-expect-error onPlaintext gets a field name and an index
  await envelope.decryptFieldsMany(users, { fields: ['ssn'], id: 'id', onPlaintext: (f: number) => f });
}

describe('field types', () => {
  test('the result is typed per field: ciphertext strings, then strings or bytes by kind', async () => {
    const row = await envelope.encryptFields(user, {
      fields: { ssn: 'text', note: 'text', photo: 'bytes' },
      id: user.id,
      context,
    });
    expectTypeOf(row.ssn).toEqualTypeOf<string>();
    expectTypeOf(row.photo).toEqualTypeOf<string | null>();
    expectTypeOf(row.note).toEqualTypeOf<string | null | undefined>();
    expectTypeOf(row.age).toEqualTypeOf<number>();
    expect(typeof row.ssn).toBe('string');
    expect(typeof row.photo).toBe('string');
    expect(row.note).toBeNull();
    expect(row.age).toBe(36);

    const back = await envelope.decryptFields(row, {
      fields: { ssn: 'text', note: 'text', photo: 'bytes' },
      id: user.id,
    });
    expectTypeOf(back.ssn).toEqualTypeOf<string>();
    expectTypeOf(back.photo).toEqualTypeOf<Uint8Array | null>();
    expectTypeOf(back.name).toEqualTypeOf<string>();
    expect(back.photo).toBeInstanceOf(Uint8Array);
    expect(back.ssn).toBe('123');

    const text = await envelope.decryptFields(row, { fields: ['ssn'], id: user.id });
    expectTypeOf(text.ssn).toEqualTypeOf<string>();
    expectTypeOf(text.photo).toEqualTypeOf<string | null>();
  });

  test('many records: a result per record, typed as the single helpers type one record', async () => {
    const results = await envelope.encryptFieldsMany([user, { ...user, id: 2 }], {
      fields: { ssn: 'text', photo: 'bytes' },
      id: 'id',
      tenant: 'org_1',
      context: (u) => ({ organization_id: 'org_1', age: String(u.age) }),
    });
    expectTypeOf(results).toEqualTypeOf<
      BatchResult<EncryptedFields<User, { readonly ssn: 'text'; readonly photo: 'bytes' }>>[]
    >();
    const rows = results.map((r) => {
      if (!r.ok) throw r.error;
      expectTypeOf(r.value.ssn).toEqualTypeOf<string>();
      expectTypeOf(r.value.photo).toEqualTypeOf<string | null>();
      return r.value;
    });
    const back = await envelope.decryptFieldsMany(rows, {
      fields: { ssn: 'text', photo: 'bytes' },
      id: (row, index) => {
        expectTypeOf(row.id).toEqualTypeOf<number>();
        expectTypeOf(index).toEqualTypeOf<number>();
        return row.id;
      },
      tenant: 'org_1',
    });
    const first = back[0]!;
    if (!first.ok) throw first.error;
    expectTypeOf(first.value.photo).toEqualTypeOf<Uint8Array | null>();
    expectTypeOf(first.value.ssn).toEqualTypeOf<string>();
    expect(first.value).toEqual(user);
    expect(back.length).toBe(2);
  });

  test('a field list held in a variable, and an untyped row, still compile', async () => {
    const fields: readonly ('ssn' | 'name')[] = ['ssn', 'name'];
    const row = await envelope.encryptFields(user, { fields, id: 1, context });
    expectTypeOf(row.ssn).toEqualTypeOf<string>();
    // biome-ignore lint/suspicious/noExplicitAny: a row from an untyped driver
    const anyRow: any = row;
    const back = await envelope.decryptFields(anyRow, { fields: ['ssn', 'name'], id: 1 });
    expect(back.ssn).toBe('123');
    expect(back.name).toBe('Ada');
  });
});
