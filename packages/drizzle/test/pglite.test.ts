// The Drizzle suite on PostgreSQL embedded in the process (PGlite, in memory): one instance
// for the whole file, as it takes seconds and hundreds of megabytes to start.
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { afterAll } from 'vitest';
import * as schema from './_schema-pg.js';
import { drizzleSuite, placeholders } from './_suite.js';

const client = new PGlite();
for (const statement of schema.ddl) await client.exec(statement);
const db = drizzle({ client, schema });
afterAll(() => client.close());

drizzleSuite({
  name: 'pglite',
  dialect: 'pg',
  db,
  schema: schema as never,
  exec: async (sql) => {
    await client.exec(sql);
  },
  all: async (sql, params = []) =>
    (await client.query<Record<string, unknown>>(placeholders(sql), params)).rows,
});
