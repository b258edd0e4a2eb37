// The Drizzle suite on a real PostgreSQL server (`pnpm test:services`, node-postgres), in a
// database of its own. Without the server this file fails: it is never skipped.
import { createDatabase, servicesPostgresUrl } from '@vault-envelope/test-services';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { afterAll } from 'vitest';
import * as schema from './_schema-pg.js';
import { drizzleSuite, placeholders } from './_suite.js';

const base = servicesPostgresUrl();
if (base === undefined)
  throw new Error('the Drizzle PostgreSQL suite needs pnpm test:services (a PostgreSQL server)');
const pool = new pg.Pool({ connectionString: await createDatabase(base, `drizzle_${process.pid}`) });
for (const statement of schema.ddl) await pool.query(statement);
const db = drizzle({ client: pool, schema });
afterAll(() => pool.end());

drizzleSuite({
  name: 'postgres',
  dialect: 'pg',
  db,
  schema: schema as never,
  exec: async (sql) => {
    await pool.query(sql);
  },
  all: async (sql, params = []) => (await pool.query(placeholders(sql), params)).rows,
});
