// The Kysely setup of the ORM guide: the `DB` interface, `tables` (the KyselyVault declaring
// users) and `db` (better-sqlite3 in memory, with the table, and the vault's guard). Needs:
// imports, vault, orm-keys.
import { KyselyVault } from '@vault-envelope/kysely';
import Database from 'better-sqlite3';
import { type Generated, Kysely, SqliteDialect } from 'kysely';

interface DB {
  users: {
    id: Generated<number>;
    org_id: string;
    name: string;
    ssn: string | null;
    dob: string | null;
    email: string | null;
    email_idx: string | null;
  };
}
const tables = new KyselyVault<DB>({
  keys,
  tables: [
    {
      table: 'users',
      id: 'id',
      tenant: 'org_id',
      context: ({ tenant }) => ({ organization_id: tenant! }),
      columns: { ssn: 'text', dob: 'text', email: 'text' },
      blindIndexes: { email_idx: { source: 'email', indexes: emailIndex } },
    },
  ],
});
const database = new Database(':memory:');
database.exec(
  'CREATE TABLE users (id INTEGER PRIMARY KEY, org_id TEXT NOT NULL, name TEXT NOT NULL, ssn TEXT, dob TEXT, email TEXT, email_idx TEXT)',
);
const db = new Kysely<DB>({ dialect: new SqliteDialect({ database }), plugins: [tables.guard()] });
