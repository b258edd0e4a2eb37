// The Kysely suite on SQLite (better-sqlite3, in memory).
import { sqliteAdapter } from '@vault-envelope/migrate';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { type DB, ddl, kyselySuite } from './_suite.js';

const client = new Database(':memory:');
for (const statement of ddl('sqlite')) client.exec(statement);

kyselySuite({
  name: 'sqlite',
  dialect: 'sqlite',
  adapter: sqliteAdapter(client),
  open: (vault) =>
    new Kysely<DB>({ dialect: new SqliteDialect({ database: client }), plugins: [vault.guard()] }),
  exec: async (sql) => {
    client.exec(sql);
  },
  all: async (sql, params = []) => client.prepare(sql).all(...params) as Record<string, unknown>[],
});
