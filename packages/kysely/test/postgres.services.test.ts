// The Kysely suite on a real PostgreSQL server (`pnpm test:services`, Kysely's own
// PostgresDialect over node-postgres), in a database of its own. Without the server this file
// fails: it is never skipped.
import { postgresAdapter } from '@vault-envelope/migrate';
import { createDatabase, servicesPostgresUrl } from '@vault-envelope/test-services';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll } from 'vitest';
import { type DB, ddl, kyselySuite, placeholders } from './_suite.js';

const base = servicesPostgresUrl();
if (base === undefined)
  throw new Error('the Kysely PostgreSQL suite needs pnpm test:services (a PostgreSQL server)');
const pool = new pg.Pool({ connectionString: await createDatabase(base, `kysely_${process.pid}`) });
for (const statement of ddl('pg')) await pool.query(statement);
afterAll(() => pool.end());

kyselySuite({
  name: 'postgres',
  dialect: 'pg',
  adapter: postgresAdapter(pool),
  open: (vault) => new Kysely<DB>({ dialect: new PostgresDialect({ pool }), plugins: [vault.guard()] }),
  exec: async (sql) => {
    await pool.query(sql);
  },
  all: async (sql, params = []) => (await pool.query(placeholders(sql), params)).rows,
});
