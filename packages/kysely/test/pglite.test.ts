// The Kysely suite on PostgreSQL embedded in the process (PGlite, in memory), through the
// small PGlite dialect of this folder: one instance for the whole file.
import { PGlite } from '@electric-sql/pglite';
import { pgliteAdapter } from '@vault-envelope/migrate';
import { Kysely } from 'kysely';
import { afterAll } from 'vitest';
import { PGliteDialect } from './_pglite-dialect.js';
import { type DB, ddl, kyselySuite, placeholders } from './_suite.js';

const client = new PGlite();
for (const statement of ddl('pg')) await client.exec(statement);
afterAll(() => client.close());

kyselySuite({
  name: 'pglite',
  dialect: 'pg',
  adapter: pgliteAdapter(client),
  open: (vault) => new Kysely<DB>({ dialect: new PGliteDialect(client), plugins: [vault.guard()] }),
  exec: async (sql) => {
    await client.exec(sql);
  },
  all: async (sql, params = []) =>
    (await client.query<Record<string, unknown>>(placeholders(sql), params)).rows,
});
