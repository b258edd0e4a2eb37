// Types: a Kysely database declares its encrypted columns with their plaintext types, which is
// what the tenant's plugin returns; encrypt takes and gives the table's insertable values.
// Checked by `tsc` (the typecheck script).
import { MemoryKeyProvider } from '@vault-envelope/core';
import { KyselyVault } from '@vault-envelope/kysely';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { describe, expect, expectTypeOf, test } from 'vitest';
import { type DB, declarations } from './_suite.js';

const vault = new KyselyVault<DB>({ keys: new MemoryKeyProvider(), tables: declarations() });
const v = vault.forTenant('org_1');
const db = new Kysely<DB>({
  dialect: new SqliteDialect({ database: new Database(':memory:') }),
  plugins: [vault.guard()],
});

describe('types', () => {
  test('encrypt takes the table’s values and returns what values() takes', () => {
    const write = async () => {
      const row = await v.encrypt('users', {
        id: 1,
        org_id: 'org_1',
        name: 'Ada',
        ssn: '123',
        photo: new Uint8Array(1),
      });
      expectTypeOf(row.email_idx).toEqualTypeOf<string | null | undefined>();
      await db.withPlugin(v.plugin()).insertInto('users').values(row).execute();
      // @ts-expect-error not a table of DB
      await v.encrypt('nope', { id: 1 });
      // @ts-expect-error a text column takes a string
      await v.encrypt('users', { id: 1, ssn: 42 });
      const rows = await db.withPlugin(v.plugin()).selectFrom('users').select(['id', 'photo']).execute();
      expectTypeOf(rows).toEqualTypeOf<{ id: number; photo: Uint8Array | null }[]>();
    };
    expect(typeof write).toBe('function');
  });
});
