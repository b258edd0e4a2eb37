// The Drizzle setup of the ORM guide: the `users` table (the demo's), `db` (better-sqlite3 in
// memory, with the table) and `tables`, the DrizzleVault that declares it. Needs: imports,
// vault, orm-keys.
import { DrizzleVault } from '@vault-envelope/drizzle';
import { encryptedText } from '@vault-envelope/drizzle/sqlite-core';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

const users = sqliteTable('users', {
  id: integer('id').primaryKey(),
  orgId: text('org_id').notNull(),
  name: text('name').notNull(),
  ssn: encryptedText('ssn'),
  dob: encryptedText('dob'),
  email: encryptedText('email'),
  emailIdx: text('email_idx'),
});
const client = new Database(':memory:');
client.exec(
  'CREATE TABLE users (id INTEGER PRIMARY KEY, org_id TEXT NOT NULL, name TEXT NOT NULL, ssn TEXT, dob TEXT, email TEXT, email_idx TEXT)',
);
const db = drizzle({ client });
const tables = new DrizzleVault({
  keys,
  tables: [
    {
      table: users,
      tenant: users.orgId,
      context: ({ tenant }) => ({ organization_id: tenant! }),
      blindIndexes: [{ column: users.emailIdx, source: users.email, indexes: emailIndex }],
    },
  ],
});
