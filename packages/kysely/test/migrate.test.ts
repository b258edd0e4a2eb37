// The three users of the field AAD agree: a plaintext column encrypted and reindexed by the
// migration engine (`@vault-envelope/migrate`, with a tenant and per-tenant blind indexes) reads
// and searches through the Kysely integration, and rows the integration writes pass the
// engine's verify (every value ok under the current AAD, every index value matching).
import { BlindIndex, MemoryKeyProvider } from '@vault-envelope/core';
import { KyselyVault } from '@vault-envelope/kysely';
import { migrateTable, sqliteAdapter } from '@vault-envelope/migrate';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { expect, test } from 'vitest';

interface DB {
  users: { id: number; org_id: string; ssn: string | null; email: string | null; email_idx: string | null };
}

test('a column migrated by the engine reads through the integration, and what it writes verifies', async () => {
  const keys = new MemoryKeyProvider();
  const index = new BlindIndex({ key: new Uint8Array(32).fill(5), name: 'users.email' });
  const client = new Database(':memory:');
  client.exec(
    'CREATE TABLE users (id INTEGER PRIMARY KEY, org_id TEXT NOT NULL, ssn TEXT, email TEXT, email_idx TEXT)',
  );
  const insert = client.prepare('INSERT INTO users (id, org_id, ssn, email) VALUES (?, ?, ?, ?)');
  for (let i = 1; i <= 30; i++) insert.run(i, `org_${i % 3}`, `ssn ${i}`, `user${i}@example.com`);

  const db = sqliteAdapter(client);
  const common = { db, keys, table: 'users', namespace: 'users', tenant: '{org_id}' } as const;
  const encrypted = await migrateTable({
    ...common,
    mode: 'encrypt',
    columns: ['ssn', 'email'],
    context: 'organization_id={org_id}',
  });
  expect(encrypted.values.changed).toBe(60);
  await migrateTable({
    ...common,
    mode: 'reindex',
    columns: [],
    indexes: [{ column: 'email', into: 'email_idx', index, perTenant: true }],
  });

  const vault = new KyselyVault<DB>({
    keys,
    tables: [
      {
        table: 'users',
        id: 'id',
        tenant: 'org_id',
        context: ({ tenant }) => ({ organization_id: tenant! }),
        columns: { ssn: 'text', email: 'text' },
        blindIndexes: { email_idx: { source: 'email', indexes: index } },
      },
    ],
  });
  const kdb = new Kysely<DB>({ dialect: new SqliteDialect({ database: client }), plugins: [vault.guard()] });
  const v = vault.forTenant('org_2');
  const tdb = kdb.withPlugin(v.plugin());
  const rows = await tdb
    .selectFrom('users')
    .selectAll()
    .where('org_id', '=', 'org_2')
    .orderBy('id')
    .execute();
  expect(rows.map((r) => r.ssn)).toEqual([2, 5, 8, 11, 14, 17, 20, 23, 26, 29].map((i) => `ssn ${i}`));
  const found = await tdb
    .selectFrom('users')
    .select(['id', 'email'])
    .where(v.eq('users.email_idx', 'user14@example.com'))
    .execute();
  expect(found).toEqual([{ id: 14, email: 'user14@example.com' }]);

  await tdb
    .insertInto('users')
    .values(await v.encrypt('users', { id: 31, org_id: 'org_2', ssn: 'ssn 31', email: 'user31@example.com' }))
    .execute();
  const verified = await migrateTable({
    ...common,
    mode: 'verify',
    columns: ['ssn', 'email'],
    indexes: [{ column: 'email', into: 'email_idx', index, perTenant: true }],
  });
  expect(verified.problems).toEqual([]);
  expect(verified.values.ok).toBeGreaterThanOrEqual(62);
  await kdb.destroy();
});
