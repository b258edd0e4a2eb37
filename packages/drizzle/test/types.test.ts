// Types: Drizzle types reads through the vault with the decrypted types and writes with the
// plaintext types, because the encrypted columns' data types are the plaintext's. Checked by
// `tsc` (the typecheck script); the runtime part only keeps vitest from calling the file empty.
import { MemoryKeyProvider } from '@vault-envelope/core';
import { DrizzleVault, type EncryptedValues } from '@vault-envelope/drizzle';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { describe, expect, expectTypeOf, test } from 'vitest';
import * as schema from './_schema-sqlite.js';

const { users } = schema;
const db = drizzle({ client: new Database(':memory:'), schema });
const vault = new DrizzleVault({
  keys: new MemoryKeyProvider(),
  tables: [{ table: users, tenant: users.orgId, context: { organization_id: 'org_1' } }],
});
const v = vault.forTenant('org_1');

describe('types', () => {
  test('reads are typed with the plaintext types', () => {
    type Row = Awaited<ReturnType<typeof v.read<ReturnType<typeof selectAll>>>>[number];
    const selectAll = () => db.select().from(users);
    expectTypeOf<Row['ssn']>().toEqualTypeOf<string | null>();
    expectTypeOf<Row['photo']>().toEqualTypeOf<Uint8Array | null>();
    expectTypeOf<Row['note']>().toEqualTypeOf<string | null>();
    const partial = () => db.select({ id: users.id, secret: users.ssn }).from(users);
    expectTypeOf<Awaited<ReturnType<typeof partial>>>().toEqualTypeOf<
      { id: number; secret: string | null }[]
    >();
    expect(typeof selectAll).toBe('function');
  });

  test('writes take the plaintext types, and encrypt returns what values() takes', () => {
    const write = async () => {
      const row = await v.encrypt(users, {
        id: 1,
        orgId: 'org_1',
        name: 'Ada',
        ssn: '123',
        photo: new Uint8Array(1),
      });
      expectTypeOf(row).toExtend<
        EncryptedValues<
          typeof users,
          { id: number; orgId: string; name: string; ssn: string; photo: Uint8Array }
        >
      >();
      expectTypeOf(row.emailIdx).toEqualTypeOf<string | null | undefined>();
      db.insert(users).values(row);
      // @ts-expect-error a text column takes a string
      await v.encrypt(users, { id: 1, ssn: 42 });
      // @ts-expect-error a bytes column takes a Uint8Array
      await v.encrypt(users, { id: 1, photo: 'not bytes' });
    };
    expect(typeof write).toBe('function');
  });
});
