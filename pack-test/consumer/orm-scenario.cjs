/**
 * What a new user does with the installed ORM integrations, written once and run twice: by
 * `orm-esm.mjs` with modules loaded through `import`, and by `orm-cjs.cjs` through `require()`.
 * On an in-memory SQLite database (better-sqlite3, installed for the server), with the
 * registry's drizzle-orm and kysely: each integration writes a row, reads it back decrypted,
 * finds it through its blind index and refuses a plaintext write; orm-core decrypts the same
 * rows from plain objects.
 * @module
 */
'use strict';

const assert = require('node:assert/strict');

/**
 * Runs the scenario.
 * @param {{ core: any, ormCore: any, drizzle: any, drizzleSqlite: any, kysely: any, Database: any, drizzleOrm: any, drizzleBetterSqlite: any, drizzleSqliteCore: any, kyselyLib: any }} m
 * @returns {Promise<string[]>} One line per check that passed.
 */
module.exports = async function ormScenario(m) {
  const done = [];
  const keys = new m.core.MemoryKeyProvider();
  const index = new m.core.BlindIndex({ key: new Uint8Array(32).fill(7), name: 'users.email' });
  const context = ({ tenant }) => ({ organization_id: tenant });
  const ddl =
    'CREATE TABLE users (id INTEGER PRIMARY KEY, org_id TEXT NOT NULL, ssn TEXT, email TEXT, email_idx TEXT)';

  // Drizzle.
  const { integer, sqliteTable, text } = m.drizzleSqliteCore;
  const users = sqliteTable('users', {
    id: integer('id').primaryKey(),
    orgId: text('org_id').notNull(),
    ssn: m.drizzleSqlite.encryptedText('ssn'),
    email: m.drizzleSqlite.encryptedText('email'),
    emailIdx: text('email_idx'),
  });
  const dclient = new m.Database(':memory:');
  dclient.exec(ddl);
  const ddb = m.drizzleBetterSqlite.drizzle({ client: dclient });
  const dvault = new m.drizzle.DrizzleVault({
    keys,
    tables: [
      {
        table: users,
        tenant: users.orgId,
        context,
        blindIndexes: [{ column: users.emailIdx, source: users.email, indexes: index }],
      },
    ],
  });
  const dv = dvault.forTenant('org_1');
  ddb
    .insert(users)
    .values(await dv.encrypt(users, { id: 1, orgId: 'org_1', ssn: '123-45-6789', email: 'ada@example.com' }))
    .run();
  const [row] = await dv.read(ddb.select().from(users).where(dv.eq(users.emailIdx, 'ada@example.com')));
  assert.equal(row.ssn, '123-45-6789');
  assert.throws(() => ddb.insert(users).values({ id: 2, orgId: 'org_1', ssn: 'plain' }).run(), TypeError);
  done.push('drizzle: encrypt, read through the blind index, plaintext write refused');

  // Kysely, on a copy of the Drizzle database's rows (the same bytes).
  const kvault = new m.kysely.KyselyVault({
    keys,
    tables: [
      {
        table: 'users',
        id: 'id',
        tenant: 'org_id',
        context,
        columns: { ssn: 'text', email: 'text' },
        blindIndexes: { email_idx: { source: 'email', indexes: index } },
      },
    ],
  });
  const kdb = new m.kyselyLib.Kysely({
    dialect: new m.kyselyLib.SqliteDialect({ database: dclient }),
    plugins: [kvault.guard()],
  });
  const kv = kvault.forTenant('org_1');
  const tdb = kdb.withPlugin(kv.plugin());
  const found = await tdb
    .selectFrom('users')
    .selectAll()
    .where(kv.eq('users.email_idx', 'ada@example.com'))
    .execute();
  assert.equal(found[0].ssn, '123-45-6789');
  await assert.rejects(
    kdb.insertInto('users').values({ id: 3, org_id: 'org_1', ssn: 'plain' }).execute(),
    TypeError,
  );
  done.push('kysely: reads the rows Drizzle wrote, through the blind index; plaintext write refused');

  // orm-core on plain rows, and the errors' guards.
  const tables = new m.ormCore.EncryptedTables({
    keys,
    tables: [
      { table: 'users', id: 'id', tenant: 'org_id', context, columns: { ssn: 'text', email: 'text' } },
    ],
  });
  const plain = await tables
    .forTenant('org_1')
    .decrypt('users', dclient.prepare('SELECT * FROM users').all());
  assert.equal(plain[0].email, 'ada@example.com');
  const failed = await tables
    .forTenant('org_2')
    .decrypt('users', dclient.prepare('SELECT * FROM users').all())
    .catch((e) => e);
  assert.ok(
    m.ormCore.RowDecryptionError.is(failed) &&
      m.drizzle.RowDecryptionError.is(failed) &&
      m.kysely.OrmError.is(failed),
  );
  done.push('orm-core: plain rows decrypted; another tenant -> RowDecryptionError (one class in all three)');
  await kdb.destroy();
  return done;
};
