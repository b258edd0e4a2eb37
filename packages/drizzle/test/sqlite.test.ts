// The Drizzle suite on SQLite (better-sqlite3, in memory).
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import * as schema from './_schema-sqlite.js';
import { drizzleSuite } from './_suite.js';

const client = new Database(':memory:');
for (const statement of schema.ddl) client.exec(statement);
const db = drizzle({ client, schema });

drizzleSuite({
  name: 'sqlite',
  dialect: 'sqlite',
  db,
  schema,
  exec: async (sql) => {
    client.exec(sql);
  },
  all: async (sql, params = []) => client.prepare(sql).all(...params) as Record<string, unknown>[],
});
