// Kysely on SQLite: the demo's users table with ssn, dob and email encrypted, declared once.
//
// The table is declared once in a KyselyVault (encrypted columns, blind index, tenant column,
// key context). The base Kysely instance carries the vault's guard; per request, the request's
// organization gives a tenant view: `encrypt` before a write, its plugin decrypts results,
// `eq` searches by email. A page of rows costs one key lookup per data key, not one per row; a
// query that forgot its tenant filter decrypts nothing of other tenants' rows; a plaintext
// written into an encrypted column, or ciphertext read without the tenant's plugin, is an error.
//
//   node examples/kysely-sqlite.mjs
import { cachedKeyProvider } from '@vault-envelope/cache';
import { BlindIndex } from '@vault-envelope/core';
import { KyselyVault } from '@vault-envelope/kysely';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { openVault, run, user } from './_setup.mjs';

/** A KeyProvider that counts the calls reaching Vault. */
function counting(provider) {
  const calls = { create: 0, decrypt: 0 };
  return {
    calls,
    keyBlobHeaders: provider.keyBlobHeaders,
    createDataKey: (context, opts) => {
      calls.create++;
      return provider.createDataKey(context, opts);
    },
    decryptDataKey: (blob, opts) => {
      calls.decrypt++;
      return provider.decryptDataKey(blob, opts);
    },
  };
}

run(async () => {
  const vault = await openVault();
  const remote = counting(vault.client);
  // Two caches, as two processes would have: one writes the rows, the other serves requests.
  const writerKeys = cachedKeyProvider(remote, { maxAge: 5 * 60_000 });
  const keys = cachedKeyProvider(remote, { maxAge: 5 * 60_000 });
  const client = new Database(':memory:');
  client.exec(`CREATE TABLE users (id INTEGER PRIMARY KEY, org_id TEXT NOT NULL, name TEXT NOT NULL,
    ssn TEXT NOT NULL, dob TEXT NOT NULL, email TEXT NOT NULL, email_idx TEXT NOT NULL);
    CREATE INDEX users_email_idx ON users (email_idx);`);
  // In production the index key is loaded from Vault (see the demo); here it is random.
  const emailIndex = new BlindIndex({
    key: crypto.getRandomValues(new Uint8Array(32)),
    name: 'users.email',
    normalize: (s) => s.trim().toLowerCase(),
  });
  // The declaration: once per table, by column name.
  const declarations = [
    {
      table: 'users',
      id: 'id',
      tenant: 'org_id',
      context: ({ tenant }) => ({ organization_id: tenant }),
      columns: { ssn: 'text', dob: 'text', email: 'text' },
      blindIndexes: { email_idx: { source: 'email', indexes: emailIndex } },
    },
  ];
  const writer = new KyselyVault({ keys: writerKeys, tables: declarations });
  const tables = new KyselyVault({ keys, tables: declarations });
  const db = new Kysely({ dialect: new SqliteDialect({ database: client }), plugins: [tables.guard()] });
  try {
    await tables.verify(db);

    // 1. Writes: each organization's batch insert is encrypted under one data key.
    const orgs = ['org_1', 'org_2', 'org_3'];
    for (const org of orgs) {
      const rows = Array.from({ length: 200 }, (_, i) => user(i * 3 + orgs.indexOf(org), 3));
      const v = writer.forTenant(org);
      await db
        .insertInto('users')
        .values(await v.encrypt('users', rows))
        .execute();
    }
    console.log(`inserted 600 users of 3 organizations: ${remote.calls.create} data keys created`);

    // 2. A request handler: the tenant is the session's organization, never a row's org_id.
    const session = { orgId: 'org_2' };
    const v = tables.forTenant(session.orgId);
    const tdb = db.withPlugin(v.plugin());
    const page = await tdb
      .selectFrom('users')
      .selectAll()
      .where('org_id', '=', session.orgId)
      .orderBy('id')
      .limit(150)
      .execute();
    console.log(
      `read a page of ${page.length} users: ${remote.calls.decrypt} Vault call(s) (one per data key in the page), first ssn ${page[0].ssn.slice(0, 3)}-**-****`,
    );
    const wanted = user(4, 3).email;
    const found = await tdb
      .selectFrom('users')
      .select(['id', 'name', 'email'])
      .where('org_id', '=', session.orgId)
      .where(v.eq('users.email_idx', ` ${wanted.toUpperCase()} `))
      .executeTakeFirstOrThrow();
    console.log(
      `found by email through the blind index: user ${found.id} (${found.email === wanted ? 'email matches' : 'WRONG'})`,
    );

    // 3. A query that forgot its tenant filter: other tenants' rows are refused, without a Vault call.
    const before = remote.calls.decrypt;
    const failures = [];
    const everyone = await db
      .withPlugin(v.plugin({ onRowError: (f) => failures.push(f) }))
      .selectFrom('users')
      .selectAll()
      .execute();
    console.log(
      `forgot the tenant filter: ${everyone.length} rows kept, ${failures.length} rows refused (${failures[0].error.name}), ${remote.calls.decrypt - before} more Vault calls`,
    );

    // 4. Fail closed: a plaintext written into an encrypted column, and ciphertext read without the plugin.
    const refused = await db
      .insertInto('users')
      .values({ id: 9999, org_id: 'org_2', name: 'x', ssn: '1', dob: '1', email: 'x', email_idx: '00' })
      .execute()
      .catch((e) => e);
    console.log(`a plaintext write: ${refused.name}: ${refused.message.split(':')[0]}`);
    const unread = await db
      .selectFrom('users')
      .selectAll()
      .limit(1)
      .execute()
      .catch((e) => e);
    console.log(`a read without the tenant's plugin: ${unread.name}: ${unread.message.split(':')[0]}`);
  } finally {
    await db.destroy();
    tables.destroy();
    writer.destroy();
    emailIndex.destroy();
    keys.close();
    writerKeys.close();
    await vault.close();
  }
});
