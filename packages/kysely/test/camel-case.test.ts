// A plugin that renames identifiers (Kysely's CamelCasePlugin) hides the database's names from
// the vault's plugins on one side or the other; whichever order the plugins run in, a query the
// vault can not map is a TypeError, never a plaintext written or a ciphertext handed on.
import { MemoryKeyProvider } from '@vault-envelope/core';
import { KyselyVault } from '@vault-envelope/kysely';
import Database from 'better-sqlite3';
import { CamelCasePlugin, Kysely, SqliteDialect } from 'kysely';
import { expect, test } from 'vitest';
import { declarations } from './_suite.js';

interface CamelDB {
  users: {
    id: number;
    orgId: string;
    name: string;
    ssn: string | null;
    email: string | null;
    emailIdx: string | null;
  };
}

function setup() {
  const database = new Database(':memory:');
  database.exec(
    'CREATE TABLE users (id INTEGER PRIMARY KEY, org_id TEXT NOT NULL, name TEXT NOT NULL, ssn TEXT, dob TEXT, email TEXT, email_idx TEXT, photo BLOB, note BLOB)',
  );
  const vault = new KyselyVault<CamelDB>({ keys: new MemoryKeyProvider(), tables: declarations() });
  return { database, vault, v: vault.forTenant('org_1') };
}

test('the renaming plugin first: results whose keys it renamed are refused', async () => {
  const { database, vault, v } = setup();
  const db = new Kysely<CamelDB>({
    dialect: new SqliteDialect({ database }),
    plugins: [new CamelCasePlugin(), vault.guard()],
  });
  const tdb = db.withPlugin(v.plugin());
  await tdb
    .insertInto('users')
    .values(
      await v.encrypt('users', { id: 1, orgId: 'org_1', name: 'Ada', ssn: '123', email: 'ada@example.com' }),
    )
    .execute();
  const [raw] = database.prepare('SELECT ssn, email_idx FROM users').all() as {
    ssn: string;
    email_idx: string;
  }[];
  expect(raw!.ssn).not.toBe('123');
  expect(raw!.email_idx).toMatch(/^[0-9a-f]+$/);
  await expect(tdb.selectFrom('users').selectAll().execute()).rejects.toThrow(
    'users: the result rows have no key "org_id", which the query selected: a plugin renamed the result\'s keys (CamelCasePlugin), so its ciphertext can not be found: query this table with a Kysely instance without it',
  );
  await expect(
    db.insertInto('users').values({ id: 2, orgId: 'org_1', name: 'x', ssn: 'plain' }).execute(),
  ).rejects.toThrow(TypeError);
});

test('the renaming plugin after the vault’s: camelCase names of declared columns are refused', async () => {
  const { database, vault, v } = setup();
  const db = new Kysely<CamelDB>({ dialect: new SqliteDialect({ database }), plugins: [vault.guard()] });
  const tdb = db.withPlugin(v.plugin()).withPlugin(new CamelCasePlugin());
  await expect(
    tdb.insertInto('users').values({ id: 1, orgId: 'org_1', name: 'Ada', emailIdx: 'ff' }).execute(),
  ).rejects.toThrow(
    "users.emailIdx is users.email_idx renamed by a plugin (CamelCasePlugin), which the vault's plugins can not see through: query this table with a Kysely instance without it",
  );
  await expect(tdb.selectFrom('users').select(['id', 'emailIdx']).execute()).rejects.toThrow(TypeError);
  expect(database.prepare('SELECT count(*) AS n FROM users').get()).toEqual({ n: 0 });
});
