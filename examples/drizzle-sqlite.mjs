// Drizzle ORM on SQLite: the demo's users table with ssn, dob and email encrypted, declared once.
//
// The encrypted columns are typed as what they hold (`encryptedText`), and the table is declared
// once in a DrizzleVault (its tenant column, key context and blind index). Per request, with the
// request's organization as the tenant: `encrypt` before a write, `read` around a query, `eq` to
// search by email. A page of rows costs one key lookup per data key, not one per row; a query
// that forgot its tenant filter decrypts nothing of other tenants' rows; a plaintext written
// without `encrypt`, or a result serialized without `read`, is an error.
//
//   node examples/drizzle-sqlite.mjs
import { cachedKeyProvider } from '@vault-envelope/cache';
import { BlindIndex } from '@vault-envelope/core';
import { DrizzleVault } from '@vault-envelope/drizzle';
import { encryptedText } from '@vault-envelope/drizzle/sqlite-core';
import Database from 'better-sqlite3';
import { and, eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { openVault, run, user } from './_setup.mjs';

// The schema: the same users table as the demo.
const users = sqliteTable('users', {
  id: integer('id').primaryKey(),
  orgId: text('org_id').notNull(),
  name: text('name').notNull(),
  ssn: encryptedText('ssn').notNull(),
  dob: encryptedText('dob').notNull(),
  email: encryptedText('email').notNull(),
  emailIdx: text('email_idx').notNull(),
});

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
  const db = drizzle({ client });
  // In production the index key is loaded from Vault (see the demo); here it is random.
  const emailIndex = new BlindIndex({
    key: crypto.getRandomValues(new Uint8Array(32)),
    name: 'users.email',
    normalize: (s) => s.trim().toLowerCase(),
  });
  // The declaration: once per table.
  const declarations = [
    {
      table: users,
      tenant: users.orgId,
      context: ({ tenant }) => ({ organization_id: tenant }),
      blindIndexes: [{ column: users.emailIdx, source: users.email, indexes: emailIndex }],
    },
  ];
  const writer = new DrizzleVault({ keys: writerKeys, tables: declarations });
  const tables = new DrizzleVault({ keys, tables: declarations });
  try {
    // 1. Writes: each organization's batch insert is encrypted under one data key.
    const orgs = ['org_1', 'org_2', 'org_3'];
    for (const org of orgs) {
      const rows = Array.from({ length: 200 }, (_, i) => user(i * 3 + orgs.indexOf(org), 3)).map(
        ({ id, org_id, name, ssn, dob, email }) => ({ id, orgId: org_id, name, ssn, dob, email }),
      );
      const v = writer.forTenant(org);
      db.insert(users)
        .values(await v.encrypt(users, rows))
        .run();
    }
    console.log(`inserted 600 users of 3 organizations: ${remote.calls.create} data keys created`);

    // 2. A request handler: the tenant is the session's organization, never a row's org_id.
    const session = { orgId: 'org_2' };
    const v = tables.forTenant(session.orgId);
    const page = await v.read(
      db.select().from(users).where(eq(users.orgId, session.orgId)).orderBy(users.id).limit(150),
    );
    console.log(
      `read a page of ${page.length} users: ${remote.calls.decrypt} Vault call(s) (one per data key in the page), first ssn ${page[0].ssn.slice(0, 3)}-**-****`,
    );
    const wanted = user(4, 3).email;
    const [found] = await v.read(
      db
        .select({ id: users.id, name: users.name, email: users.email })
        .from(users)
        .where(and(eq(users.orgId, session.orgId), v.eq(users.emailIdx, ` ${wanted.toUpperCase()} `))),
    );
    console.log(
      `found by email through the blind index: user ${found.id} (${found.email === wanted ? 'email matches' : 'WRONG'})`,
    );

    // 3. A query that forgot its tenant filter: other tenants' rows are refused, without a Vault call.
    const before = remote.calls.decrypt;
    const failures = [];
    const everyone = await v.read(db.select().from(users), { onRowError: (f) => failures.push(f) });
    console.log(
      `forgot the tenant filter: ${everyone.length} rows kept, ${failures.length} rows refused (${failures[0].error.name}), ${remote.calls.decrypt - before} more Vault calls`,
    );

    // 4. Fail closed: a plaintext written without encrypt, and a result serialized without read.
    const refused = (() => {
      try {
        db.insert(users)
          .values({ id: 9999, orgId: 'org_2', name: 'x', ssn: '1', dob: '1', email: 'x', emailIdx: 'x' })
          .run();
      } catch (e) {
        return e;
      }
    })();
    console.log(`a plaintext write: ${refused.name}: ${refused.message.split(':')[0]}`);
    const [raw] = await db.select().from(users).limit(1);
    const serialized = (() => {
      try {
        return JSON.stringify(raw);
      } catch (e) {
        return e;
      }
    })();
    console.log(
      `a result read without the vault: ${String(raw.ssn)}, and JSON.stringify throws ${serialized.name}`,
    );
  } finally {
    tables.destroy();
    writer.destroy();
    emailIndex.destroy();
    keys.close();
    writerKeys.close();
    client.close();
    await vault.close();
  }
});
