// The Drizzle integration against a real database: the same suite on SQLite (better-sqlite3),
// PGlite and, under `pnpm test:services`, a PostgreSQL server. Each database file builds a
// harness and calls `drizzleSuite`.

import { inspect } from 'node:util';
import {
  BlindIndex,
  blindIndexVersion,
  DecryptionError,
  Envelope,
  FormatError,
  type KeyProvider,
  MemoryKeyProvider,
} from '@vault-envelope/core';
import {
  DrizzleVault,
  type DrizzleVaultOptions,
  EncryptedValue,
  RowDecryptionError,
  type RowFailure,
  TenantMismatchError,
} from '@vault-envelope/drizzle';
import { and, eq, sql } from 'drizzle-orm';
import { alias as pgAlias } from 'drizzle-orm/pg-core';
import { alias } from 'drizzle-orm/sqlite-core';
import fc from 'fast-check';
import { beforeEach, describe, expect, test } from 'vitest';
import { rejection } from '../../../test/_shared.js';
import { readModeSuite } from './_read-mode.js';
import type * as Schema from './_schema-sqlite.js';

/** What the suite needs of a database. */
export interface Harness {
  readonly name: string;
  readonly dialect: 'sqlite' | 'pg';
  // The suite drives both dialects with one body; Drizzle's types differ per dialect.
  // biome-ignore lint/suspicious/noExplicitAny: see above
  readonly db: any;
  readonly schema: typeof Schema;
  /** Runs SQL without results. */
  exec(sql: string): Promise<void>;
  /** Raw rows of a query with `?` placeholders (as the driver returns them). */
  all(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
}

/** A KeyProvider that counts the calls reaching the key service. */
export function counting(provider: KeyProvider = new MemoryKeyProvider()) {
  const calls = { create: 0, decrypt: 0 };
  const keys: KeyProvider & { calls: typeof calls } = {
    calls,
    keyBlobHeaders: provider.keyBlobHeaders ?? [],
    createDataKey: (context, opts) => {
      calls.create++;
      return provider.createDataKey(context, opts);
    },
    decryptDataKey: (blob, opts) => {
      calls.decrypt++;
      return provider.decryptDataKey(blob, opts);
    },
  };
  return keys;
}

const rootKey = new Uint8Array(32).fill(3);
export const emailIdx = new BlindIndex({
  key: rootKey,
  name: 'users.email',
  normalize: (s) => s.trim().toLowerCase(),
});
const emailIdxV2 = new BlindIndex({ key: new Uint8Array(32).fill(4), name: 'users.email', version: 2 });

export function vaultOptions(
  s: typeof Schema,
  keys: KeyProvider,
  indexes: BlindIndex[] = [emailIdx],
): DrizzleVaultOptions {
  return {
    keys,
    tables: [
      {
        table: s.users,
        tenant: s.users.orgId,
        context: ({ tenant }) => ({ organization_id: tenant! }),
        blindIndexes: [{ column: s.users.emailIdx, source: s.users.email, indexes }],
      },
      { table: s.posts, tenant: s.posts.orgId, context: ({ tenant }) => ({ organization_id: tenant! }) },
      { table: s.settings, context: { app: 'tests' } },
      {
        table: s.accounts,
        tenant: s.accounts.orgId,
        context: ({ tenant }) => ({ organization_id: tenant! }),
      },
    ],
  };
}

function user(i: number, org = 'org_1') {
  return {
    id: i,
    orgId: org,
    name: `User ${i}`,
    ssn: `123-45-${String(i).padStart(4, '0')}`,
    dob: '1815-12-10',
    email: `User${i}@Example.com`,
    photo: new Uint8Array([i & 0xff, 1, 2, 3]),
    note: `note ${i} ✓`,
  };
}

const plain = (u: ReturnType<typeof user>) => ({ ...u, photo: [...u.photo] });
const normalize = (row: Record<string, unknown>) => {
  const { emailIdx: _, ...rest } = row;
  return { ...rest, photo: rest.photo instanceof Uint8Array ? [...rest.photo] : rest.photo };
};

export function drizzleSuite(h: Harness): void {
  const s = h.schema;
  const { users, posts, settings, accounts } = s;
  const aliasOf = h.dialect === 'sqlite' ? alias : (pgAlias as unknown as typeof alias);
  let keys = counting();
  let vault = new DrizzleVault(vaultOptions(s, keys));
  let v = vault.forTenant('org_1');

  beforeEach(async () => {
    for (const t of ['users', 'posts', 'settings', 'accounts']) await h.exec(`DELETE FROM ${t}`);
    keys = counting();
    vault = new DrizzleVault(vaultOptions(s, keys));
    v = vault.forTenant('org_1');
  });

  async function insertUsers(rows: ReturnType<typeof user>[], scope = v) {
    await h.db.insert(users).values(await scope.encrypt(users, rows));
  }

  describe(`${h.name}: round trips`, () => {
    test('every column type: text, bytes, text stored as binary, nulls', async () => {
      const a = user(1);
      await insertUsers([a, { ...user(2), ssn: null, photo: null, note: null } as never]);
      const rows = await v.read(h.db.select().from(users).orderBy(users.id));
      expect(rows.map(normalize)).toEqual([
        plain(a),
        { ...plain(user(2)), ssn: null, photo: null, note: null },
      ]);
      expect(rows[0].photo).toBeInstanceOf(Uint8Array);
      expect(typeof rows[0].note).toBe('string');
      const raw = await h.all('SELECT ssn, photo, note, email_idx FROM users WHERE id = ?', [1]);
      expect(typeof raw[0]!.ssn).toBe('string');
      expect(raw[0]!.photo).toBeInstanceOf(Uint8Array);
      expect(raw[0]!.note).toBeInstanceOf(Uint8Array);
      expect(raw[0]!.email_idx).toBe(emailIdx.forTenant('org_1').compute('user1@example.com'));
    });

    test('a row written through the adapter decrypts with decryptFields, and back', async () => {
      const envelope = new Envelope({ keys, requireTenant: true });
      await insertUsers([user(1)]);
      const [raw] = (await h.all('SELECT * FROM users WHERE id = ?', [1])) as {
        id: number;
        ssn: string;
        dob: string;
        email: string;
        photo: Uint8Array;
        note: Uint8Array;
      }[];
      const plainRow = await envelope.decryptFields(raw!, {
        fields: { ssn: 'text', dob: 'text', email: 'text', photo: 'bytes', note: 'text' },
        id: raw!.id,
        tenant: 'org_1',
        namespace: 'users',
      });
      expect(plainRow.ssn).toBe(user(1).ssn);
      expect([...(plainRow.photo as Uint8Array)]).toEqual([...user(1).photo]);
      expect(plainRow.note).toBe(user(1).note);

      const written = await envelope.encryptFields(
        { id: 2, ssn: 'from the helpers', photo: new Uint8Array([9]) },
        {
          fields: { ssn: 'text', photo: 'bytes' },
          id: 2,
          tenant: 'org_1',
          namespace: 'users',
          context: { organization_id: 'org_1' },
        },
      );
      // The helpers give base64 text; a bytea or BLOB column takes the bytes.
      await h.all(
        h.dialect === 'pg'
          ? "INSERT INTO users (id, org_id, name, ssn, photo) VALUES (?, 'org_1', 'two', ?, decode(?, 'base64')) RETURNING id"
          : "INSERT INTO users (id, org_id, name, ssn, photo) VALUES (?, 'org_1', 'two', ?, ?) RETURNING id",
        [2, written.ssn, h.dialect === 'pg' ? written.photo : Buffer.from(written.photo, 'base64')],
      );
      const [back] = await v.read(h.db.select().from(users).where(eq(users.id, 2)));
      expect(back.ssn).toBe('from the helpers');
      expect([...back.photo]).toEqual([9]);
    });

    test('a batch insert makes one key request per context; a page makes one lookup per data key', async () => {
      for (let b = 0; b < 4; b++) await insertUsers(Array.from({ length: 25 }, (_, i) => user(b * 25 + i)));
      expect(keys.calls.create).toBe(4);
      const rows = await v.read(h.db.select().from(users).orderBy(users.id));
      expect(rows).toHaveLength(100);
      expect(keys.calls.decrypt).toBe(4);
      expect(rows[99].ssn).toBe(user(99).ssn);
    });

    test('a table without tenants', async () => {
      const none = vault.withoutTenant();
      await h.db.insert(settings).values(await none.encrypt(settings, { key: 'smtp', value: 'hunter2' }));
      expect(await none.read(h.db.select().from(settings))).toEqual([{ key: 'smtp', value: 'hunter2' }]);
      await expect(none.encrypt(users, user(1))).rejects.toThrow(
        'users is bound to tenants: use forTenant(tenant)',
      );
    });
  });

  describe(`${h.name}: fail closed`, () => {
    test('a plaintext written without encrypt is refused by the column, never stored', async () => {
      const e = await rejection(h.db.insert(users).values(user(1)));
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toMatch(
        /^users\.ssn is an encrypted column: write it with vault\.forTenant\(tenant\)\.encrypt/,
      );
      expect(await h.all('SELECT * FROM users')).toEqual([]);
      await insertUsers([user(1)]);
      await expect(
        rejection(h.db.update(users).set({ ssn: 'plain' }).where(eq(users.id, 1))),
      ).resolves.toBeInstanceOf(TypeError);
      // Comparing an encrypted column to a plaintext is refused too: search the blind index.
      await expect(rejection(h.db.select().from(users).where(eq(users.ssn, 'x')))).resolves.toBeInstanceOf(
        TypeError,
      );
    });

    test('a result read without the vault holds EncryptedValues that refuse to be serialized', async () => {
      await insertUsers([user(1)]);
      const [row] = await h.db.select().from(users);
      expect(row.ssn).toBeInstanceOf(EncryptedValue);
      expect(String(row.ssn)).toBe('[encrypted users.ssn]');
      expect(inspect(row.ssn)).toBe('[encrypted users.ssn]');
      expect(() => JSON.stringify(row)).toThrow(
        'users.ssn is an encrypted column: read the query with vault.forTenant(tenant).read(query) to decrypt it',
      );
      // Such a value can be written back as it is (it is a ciphertext) and then read.
      await h.db.update(users).set({ dob: row.ssn }).where(eq(users.id, 1));
      const e = await rejection(v.read(h.db.select().from(users)));
      expect(DecryptionError.is((e as RowDecryptionError).failures[0]!.error)).toBe(true); // another column
    });

    test('an encrypted column selected without its id fails before the query runs', async () => {
      await expect(rejection(v.read(h.db.select({ ssn: users.ssn }).from(users)))).resolves.toMatchObject({
        message:
          'users.id must be selected to decrypt users.ssn (the id is bound into each value): select it too',
      });
      await expect(
        rejection(v.read(h.db.select({ s: sql`${users.ssn}`.mapWith(users.ssn), id: users.id }).from(users))),
      ).resolves.toMatchObject({
        message:
          'users.ssn is selected through an SQL expression, which can not be decrypted: select the column itself',
      });
    });

    test('a plaintext found in an encrypted column is a FormatError for its row', async () => {
      await insertUsers([user(1), user(2)]);
      await h.all("UPDATE users SET ssn = 'plain text' WHERE id = ? RETURNING id", [2]);
      const failures: RowFailure[] = [];
      const rows = await v.read(h.db.select().from(users).orderBy(users.id), {
        onRowError: (f) => failures.push(f),
      });
      expect(rows.map((r: { id: number }) => r.id)).toEqual([1]);
      expect(failures).toHaveLength(1);
      expect(FormatError.is(failures[0]!.error)).toBe(true);
    });

    test('a missing declaration and a declared column of another table are TypeErrors naming them', async () => {
      const partial = new DrizzleVault({
        ...vaultOptions(s, keys),
        tables: vaultOptions(s, keys).tables.slice(0, 1),
      });
      await insertUsers([user(1)]);
      await h.db
        .insert(posts)
        .values(await v.encrypt(posts, { id: 1, userId: 1, orgId: 'org_1', body: 'hi' }));
      await expect(
        rejection(partial.forTenant('org_1').read(h.db.select().from(posts))),
      ).resolves.toMatchObject({
        message:
          "posts.body is an encrypted column of a table the vault has no declaration for: add its table to the DrizzleVault's tables",
      });
      await expect(partial.forTenant('org_1').encrypt(posts, { id: 1 })).rejects.toThrow(
        'table posts must be declared in the DrizzleVault to be encrypted, got no declaration for it',
      );
      expect(
        () => new DrizzleVault({ keys, tables: [{ table: users, tenant: posts.orgId, context: {} }] }),
      ).toThrow('users: tenant must be a column of users, got a column of another table (posts.org_id)');
      expect(
        () =>
          new DrizzleVault({
            keys,
            tables: [
              {
                table: users,
                context: { a: 'b' },
                blindIndexes: [{ column: users.name, source: users.orgId, indexes: emailIdx }],
              },
            ],
          }),
      ).toThrow(
        'table users: blindIndexes.name.source must be the key of an encrypted column of users, got string',
      );
    });

    test('an encrypted column without its database name is refused at declaration', async () => {
      const { sqliteTable, integer } = await import('drizzle-orm/sqlite-core');
      const { encryptedText } = await import('@vault-envelope/drizzle/sqlite-core');
      const t = sqliteTable('notes', { id: integer('id').primaryKey(), secretBody: encryptedText() });
      expect(() => new DrizzleVault({ keys, tables: [{ table: t, context: { a: 'b' } }] })).toThrow(
        "notes.secretBody must be given its database name (encryptedText('secretBody'), say): the name is bound into each value, and one derived from the property could change",
      );
    });

    test('a tenant column that is null, or another tenant, is refused on write', async () => {
      await expect(v.encrypt(users, { ...user(1), orgId: null as never })).rejects.toThrow(
        "users.org_id must hold the row's tenant, got null",
      );
      await expect(v.encrypt(users, user(1, 'org_2'))).rejects.toThrow(TenantMismatchError);
    });
  });

  describe(`${h.name}: tenants and moved values`, () => {
    test('another tenant can not read; a query that forgot its tenant filter asks no key for other rows', async () => {
      await insertUsers([user(1)]);
      await insertUsers([user(2, 'org_2')], vault.forTenant('org_2'));
      const before = keys.calls.decrypt;
      const e = await rejection(vault.forTenant('org_2').read(h.db.select().from(users).orderBy(users.id)));
      expect(RowDecryptionError.is(e)).toBe(true);
      expect((e as RowDecryptionError).failures.map((f) => [f.row, f.error.name])).toEqual([
        [0, 'TenantMismatchError'],
      ]);
      expect(keys.calls.decrypt - before).toBe(1); // org_2's own key; none for org_1's row
      const kept = await vault.forTenant('org_2').read(h.db.select().from(users), { onRowError: () => {} });
      expect(kept.map((r: { id: number }) => r.id)).toEqual([2]);
    });

    test('a row moved into the caller’s tenant, or a value copied to another row, fails to decrypt', async () => {
      await insertUsers([user(1), user(2)]);
      await insertUsers([user(3, 'org_2')], vault.forTenant('org_2'));
      await h.all("UPDATE users SET org_id = 'org_1' WHERE id = ? RETURNING id", [3]);
      await h.all(
        'UPDATE users SET ssn = (SELECT ssn FROM users WHERE id = ?) WHERE id = ? RETURNING id',
        [1, 2],
      );
      const failures: RowFailure[] = [];
      const rows = await v.read(h.db.select().from(users).orderBy(users.id), {
        onRowError: (f) => failures.push(f),
      });
      expect(rows.map((r: { id: number }) => r.id)).toEqual([1]);
      expect(failures.map((f) => [f.row, f.column, f.error.name])).toEqual([
        [1, 'ssn', 'DecryptionError'],
        [2, 'ssn', 'DecryptionError'],
        [2, 'dob', 'DecryptionError'],
        [2, 'email', 'DecryptionError'],
        [2, 'photo', 'DecryptionError'],
        [2, 'note', 'DecryptionError'],
      ]);
    });

    test('a result set across many tenants: each tenant reads its own rows, with one key lookup', async () => {
      for (let t = 1; t <= 5; t++) {
        await insertUsers(
          Array.from({ length: 8 }, (_, i) => user(t * 100 + i, `org_${t}`)),
          vault.forTenant(`org_${t}`),
        );
      }
      for (let t = 1; t <= 5; t++) {
        const before = keys.calls.decrypt;
        const failures: RowFailure[] = [];
        const rows = await vault.forTenant(`org_${t}`).read(h.db.select().from(users).orderBy(users.id), {
          onRowError: (f) => failures.push(f),
        });
        expect(keys.calls.decrypt - before).toBe(1);
        expect(rows.map((r: { id: number }) => r.id)).toEqual(
          Array.from({ length: 8 }, (_, i) => t * 100 + i),
        );
        expect(rows.every((r: { orgId: string }) => r.orgId === `org_${t}`)).toBe(true);
        expect(new Set(failures.map((f) => f.row)).size).toBe(32);
        expect(failures.every((f) => TenantMismatchError.is(f.error))).toBe(true);
      }
    });
  });

  describe(`${h.name}: selects`, () => {
    test('partial selects with renamed keys, and nested objects', async () => {
      await insertUsers([user(1), user(2)]);
      const rows = await v.read(
        h.db
          .select({ who: users.id, secret: users.ssn, person: { born: users.dob, org: users.orgId } })
          .from(users)
          .orderBy(users.id),
      );
      expect(rows).toEqual([
        { who: 1, secret: user(1).ssn, person: { born: user(1).dob, org: 'org_1' } },
        { who: 2, secret: user(2).ssn, person: { born: user(2).dob, org: 'org_1' } },
      ]);
    });

    test('joins: nested per table, left joins without a match, and aliased tables', async () => {
      await insertUsers([user(1), user(2)]);
      await h.db
        .insert(posts)
        .values(await v.encrypt(posts, [{ id: 10, userId: 1, orgId: 'org_1', body: 'first post' }]));
      const joined = await v.read(
        h.db.select().from(users).leftJoin(posts, eq(posts.userId, users.id)).orderBy(users.id),
      );
      expect(
        joined.map((r: { users: { ssn: string }; posts: { body: string } | null }) => [
          r.users.ssn,
          r.posts?.body ?? null,
        ]),
      ).toEqual([
        [user(1).ssn, 'first post'],
        [user(2).ssn, null],
      ]);
      const other = aliasOf(users as never, 'other') as unknown as typeof users;
      const pairs = await v.read(
        h.db
          .select({ aId: users.id, a: users.ssn, bId: other.id, b: other.ssn })
          .from(users)
          .innerJoin(other, and(eq(other.orgId, users.orgId), sql`${other.id} <> ${users.id}`))
          .orderBy(users.id),
      );
      expect(pairs).toEqual([
        { aId: 1, a: user(1).ssn, bId: 2, b: user(2).ssn },
        { aId: 2, a: user(2).ssn, bId: 1, b: user(1).ssn },
      ]);
    });

    test('relational queries: findMany with nested rows, findFirst, and columns without the id', async () => {
      await insertUsers([user(1), user(2)]);
      await h.db.insert(posts).values(
        await v.encrypt(posts, [
          { id: 10, userId: 1, orgId: 'org_1', body: 'one' },
          { id: 11, userId: 1, orgId: 'org_1', body: 'two' },
        ]),
      );
      const found = await v.read(
        h.db.query.users.findMany({
          columns: { id: true, orgId: true, ssn: true },
          with: { posts: { orderBy: posts.id } },
          orderBy: users.id,
        }),
      );
      expect(found).toEqual([
        {
          id: 1,
          orgId: 'org_1',
          ssn: user(1).ssn,
          posts: [
            { id: 10, userId: 1, orgId: 'org_1', body: 'one' },
            { id: 11, userId: 1, orgId: 'org_1', body: 'two' },
          ],
        },
        { id: 2, orgId: 'org_1', ssn: user(2).ssn, posts: [] },
      ]);
      const first = await v.read(
        h.db.query.posts.findFirst({
          where: eq(posts.id, 11),
          with: { author: { columns: { id: true, email: true } } },
        }),
      );
      expect(first).toEqual({
        id: 11,
        userId: 1,
        orgId: 'org_1',
        body: 'two',
        author: { id: 1, email: user(1).email },
      });
      if (h.dialect === 'pg') {
        // Nested rows come back as JSON, where bytea is hex text: bytes columns decrypt there too.
        const nested = await v.read(
          h.db.query.posts.findFirst({
            where: eq(posts.id, 10),
            with: { author: { columns: { id: true, photo: true } } },
          }),
        );
        expect([...nested.author.photo]).toEqual([...user(1).photo]);
      }
      await expect(v.read(h.db.query.users.findMany({ columns: { ssn: true } }))).rejects.toThrow(
        'users.id must be in the result to decrypt users.ssn (the id is bound into each value): select it too',
      );
    });

    test('returning on insert, update and delete', async () => {
      const inserted = await v.read(
        h.db
          .insert(users)
          .values(await v.encrypt(users, user(1)))
          .returning(),
      );
      expect(inserted.map(normalize)).toEqual([plain(user(1))]);
      const updated = await v.read(
        h.db
          .update(users)
          .set(await v.encrypt(users, { ssn: 'changed' }, { id: 1 }))
          .where(eq(users.id, 1))
          .returning({ id: users.id, ssn: users.ssn }),
      );
      expect(updated).toEqual([{ id: 1, ssn: 'changed' }]);
      const deleted = await v.read(
        h.db.delete(users).where(eq(users.id, 1)).returning({ id: users.id, dob: users.dob }),
      );
      expect(deleted).toEqual([{ id: 1, dob: user(1).dob }]);
    });

    test('upsert: onConflictDoUpdate with encrypted values bound to the row', async () => {
      await insertUsers([user(1)]);
      const row = await v.encrypt(users, { ...user(1), ssn: 'upserted' });
      await h.db
        .insert(users)
        .values(row)
        .onConflictDoUpdate({
          target: users.id,
          set: { ssn: row.ssn, emailIdx: row.emailIdx },
          setWhere: eq(users.orgId, 'org_1'),
        });
      const [back] = await v.read(h.db.select().from(users));
      expect(back.ssn).toBe('upserted');
      await h.db
        .insert(users)
        .values(await v.encrypt(users, user(1)))
        .onConflictDoNothing();
      expect((await v.read(h.db.select().from(users)))[0].ssn).toBe('upserted');
    });
  });

  describe(`${h.name}: blind indexes`, () => {
    test('eq finds by the plaintext, per tenant', async () => {
      await insertUsers([user(1), user(2)]);
      await insertUsers([{ ...user(3, 'org_2'), email: user(1).email }], vault.forTenant('org_2'));
      const found = await v.read(
        h.db.select().from(users).where(v.eq(users.emailIdx, '  user1@EXAMPLE.com ')),
      );
      expect(found.map((r: { id: number }) => r.id)).toEqual([1]);
      const theirs = await vault.forTenant('org_2').read(
        h.db
          .select()
          .from(users)
          .where(vault.forTenant('org_2').eq(users.emailIdx, user(1).email)),
      );
      expect(theirs.map((r: { id: number }) => r.id)).toEqual([3]);
      expect(() => v.eq(users.email, 'x')).toThrow(
        'users.email must be a declared blind-index column, got a column that is not one',
      );
    });

    test('during a reindex: rows of both index versions are found', async () => {
      await insertUsers([user(1)]);
      const next = new DrizzleVault(vaultOptions(s, keys, [emailIdxV2, emailIdx]));
      const nv = next.forTenant('org_1');
      await h.db.insert(users).values(await nv.encrypt(users, user(2)));
      const [a, b] = await h.all('SELECT email_idx FROM users ORDER BY id');
      expect([blindIndexVersion(a!.email_idx as string), blindIndexVersion(b!.email_idx as string)]).toEqual([
        0, 2,
      ]);
      for (const i of [1, 2]) {
        const found = await nv.read(
          h.db
            .select()
            .from(users)
            .where(nv.eq(users.emailIdx, user(i).email)),
        );
        expect(found.map((r: { id: number }) => r.id)).toEqual([i]);
      }
      // The old vault, which knows only version 0, does not find the new row.
      expect(
        await v.read(
          h.db
            .select()
            .from(users)
            .where(v.eq(users.emailIdx, user(2).email)),
        ),
      ).toEqual([]);
    });
  });

  describe(`${h.name}: transactions and generated ids`, () => {
    test('values are encrypted before the transaction opens; a rollback leaves nothing', async () => {
      const rows = await v.encrypt(users, [user(1), user(2)]);
      const post = await v.encrypt(posts, { id: 1, userId: 1, orgId: 'org_1', body: 'hello' });
      if (h.dialect === 'sqlite') {
        h.db.transaction((tx: typeof h.db) => {
          tx.insert(users).values(rows).run();
          tx.insert(posts).values(post).run();
        });
        expect(() =>
          h.db.transaction((tx: typeof h.db) => {
            tx.insert(users).values(rows).run(); // duplicate ids
          }),
        ).toThrow();
      } else {
        await h.db.transaction(async (tx: typeof h.db) => {
          await tx.insert(users).values(rows);
          await tx.insert(posts).values(post);
        });
        await expect(
          h.db.transaction(async (tx: typeof h.db) => tx.insert(users).values(rows)),
        ).rejects.toThrow();
      }
      expect((await v.read(h.db.select().from(users))).length).toBe(2);
      expect((await v.read(h.db.select().from(posts)))[0].body).toBe('hello');
    });

    test('a generated id: insert without the encrypted column, then set it with { id }, in one transaction', async () => {
      let id: number;
      if (h.dialect === 'pg') {
        id = await h.db.transaction(async (tx: typeof h.db) => {
          const [{ id: newId }] = await tx
            .insert(accounts)
            .values({ orgId: 'org_1' })
            .returning({ id: accounts.id });
          await tx
            .update(accounts)
            .set(await v.encrypt(accounts, { secret: 's3cret' }, { id: newId }))
            .where(eq(accounts.id, newId));
          return newId;
        });
      } else {
        // better-sqlite3's transactions can not await: BEGIN and COMMIT by hand on this connection.
        h.db.run(sql`BEGIN`);
        try {
          const [{ id: newId }] = h.db
            .insert(accounts)
            .values({ orgId: 'org_1' })
            .returning({ id: accounts.id })
            .all();
          h.db
            .update(accounts)
            .set(await v.encrypt(accounts, { secret: 's3cret' }, { id: newId }))
            .where(eq(accounts.id, newId))
            .run();
          h.db.run(sql`COMMIT`);
          id = newId;
        } catch (e) {
          h.db.run(sql`ROLLBACK`);
          throw e;
        }
      }
      expect(await v.read(h.db.select().from(accounts))).toEqual([{ id, orgId: 'org_1', secret: 's3cret' }]);
    });
  });

  describe(`${h.name}: properties`, () => {
    test('any row written reads back equal', async () => {
      let next = 1000;
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            ssn: fc.option(fc.string({ unit: 'grapheme', maxLength: 40 }), { nil: null }),
            email: fc.option(fc.string({ unit: 'grapheme', maxLength: 40 }), { nil: null }),
            photo: fc.option(fc.uint8Array({ maxLength: 64 }), { nil: null }),
          }),
          async (r) => {
            const id = next++;
            await h.db.insert(users).values(await v.encrypt(users, { id, orgId: 'org_1', name: 'p', ...r }));
            const [back] = await v.read(
              h.db
                .select({ id: users.id, ssn: users.ssn, email: users.email, photo: users.photo })
                .from(users)
                .where(eq(users.id, id)),
            );
            expect({ ...back, photo: back.photo === null ? null : [...back.photo] }).toEqual({
              id,
              ...r,
              photo: r.photo === null ? null : [...r.photo],
            });
          },
        ),
        { numRuns: 30 },
      );
    });

    test('any move of a value to another row or tenant fails', async () => {
      await insertUsers([user(1), user(2)]);
      await insertUsers([user(3, 'org_2')], vault.forTenant('org_2'));
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(2, 3),
          fc.constantFrom('ssn', 'dob', 'email', 'note'),
          async (to, column) => {
            const target = to === 3 ? 'org_2' : 'org_1';
            await h.all(
              `UPDATE users SET ${column} = (SELECT ${column} FROM users WHERE id = ?) WHERE id = ? RETURNING id`,
              [1, to],
            );
            const failures: RowFailure[] = [];
            const rows = await vault
              .forTenant(target)
              .read(h.db.select().from(users).where(eq(users.id, to)), {
                onRowError: (f) => failures.push(f),
              });
            expect(rows).toEqual([]);
            expect(failures.some((f) => f.column === column && DecryptionError.is(f.error))).toBe(true);
            // Put the row back as it was.
            await h.db.delete(users).where(eq(users.id, to));
            await insertUsers([user(to, target)], vault.forTenant(target));
          },
        ),
        { numRuns: 12 },
      );
    });
  });

  readModeSuite(h);
}

/** `?` placeholders as PostgreSQL's `$1, $2, ...`. */
export function placeholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
