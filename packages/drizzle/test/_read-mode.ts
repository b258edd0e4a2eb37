// The migration read mode through Drizzle's `read`, on each database of the suite: a users table
// half encrypted (rows written through the integration beside rows still in clear) reads in
// full with `allowPlaintext` (selects, partial selects, joins, aliases, relational queries) and
// fails row by row without it; plaintexts of the wrong type fail; tenant checks still apply;
// only the listed columns are lenient; the columns still refuse plaintext writes; each value
// served is counted and reported without the value; and a property over any mix of rows.
import { FormatError, type KeyProvider, MemoryKeyProvider } from '@vault-envelope/core';
import {
  DrizzleVault,
  type DrizzleVaultOptions,
  type PlaintextRead,
  RowDecryptionError,
  type RowFailure,
  TenantMismatchError,
} from '@vault-envelope/drizzle';
import { encryptedBytes as pgBytes } from '@vault-envelope/drizzle/pg-core';
import { encryptedBytes as sqliteBytes } from '@vault-envelope/drizzle/sqlite-core';
import { eq } from 'drizzle-orm';
import { alias as pgAlias, integer as pgInteger, pgTable, text as pgText } from 'drizzle-orm/pg-core';
import { alias, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { rejection } from '../../../test/_shared.js';
import type { Harness } from './_suite.js';

interface Plain {
  id: number;
  orgId: string;
  name: string;
  ssn: string | null;
  dob: string | null;
  photo: Uint8Array | null;
}

const person = (i: number, org = 'org_1'): Plain => ({
  id: i,
  orgId: org,
  name: `User ${i}`,
  ssn: `123-45-${String(i).padStart(4, '0')}`,
  dob: `19${String(10 + (i % 90)).padStart(2, '0')}-02-03`,
  photo: new Uint8Array([i & 0xff, 7, 8]),
});

const comparable = (r: object) => {
  const photo = (r as { photo?: unknown }).photo;
  return { ...r, photo: photo instanceof Uint8Array ? [...photo] : photo };
};

/**
 * The suite; it runs inside the main suite's file, whose `beforeEach` empties the tables.
 * @param h - The database.
 */
export function readModeSuite(h: Harness): void {
  const { users, posts } = h.schema;
  const aliasOf = h.dialect === 'sqlite' ? alias : (pgAlias as unknown as typeof alias);
  // The posts table seen with a bytes column stored as base64 text (its body is TEXT).
  // (Typed as the schema's posts for the suite's one body over both dialects.)
  const binaryPosts = (h.dialect === 'sqlite'
    ? sqliteTable('posts', {
        id: integer('id').primaryKey(),
        userId: integer('user_id').notNull(),
        orgId: text('org_id').notNull(),
        body: sqliteBytes('body', { storage: 'text' }),
      })
    : pgTable('posts', {
        id: pgInteger('id').primaryKey(),
        userId: pgInteger('user_id').notNull(),
        orgId: pgText('org_id').notNull(),
        body: pgBytes('body', { storage: 'text' }),
      })) as unknown as typeof posts;
  const keys: KeyProvider = new MemoryKeyProvider();
  const byOrg = ({ tenant }: { tenant: string | undefined }) => ({ organization_id: tenant! });

  function setup(options: Partial<DrizzleVaultOptions> = {}) {
    const reads: PlaintextRead[] = [];
    const vault = new DrizzleVault({
      keys,
      tables: [
        { table: users, tenant: users.orgId, context: byOrg },
        { table: posts, tenant: posts.orgId, context: byOrg },
      ],
      onPlaintext: (r) => reads.push(r),
      ...options,
    });
    return { vault, v: vault.forTenant('org_1'), reads };
  }

  /** Rows as the application wrote them before encryption: in clear. */
  async function insertPlain(rows: readonly Plain[]) {
    for (const r of rows) {
      await h.all(
        'INSERT INTO users (id, org_id, name, ssn, dob, photo) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
        [r.id, r.orgId, r.name, r.ssn, r.dob, r.photo === null ? null : Buffer.from(r.photo)],
      );
    }
  }

  const selectUsers = () =>
    h.db
      .select({
        id: users.id,
        orgId: users.orgId,
        name: users.name,
        ssn: users.ssn,
        dob: users.dob,
        photo: users.photo,
      })
      .from(users)
      .orderBy(users.id);

  describe(`${h.name}: migration read mode`, () => {
    test('a half-migrated table reads in full with allowPlaintext (selects, joins, aliases, relational), and fails without it', async () => {
      const { vault, v, reads } = setup({ allowPlaintext: true });
      const all = Array.from({ length: 6 }, (_, i) => person(i + 1));
      await h.db.insert(users).values(await v.encrypt(users, all.slice(0, 3)));
      await insertPlain(all.slice(3));
      await h.all(
        "INSERT INTO posts (id, user_id, org_id, body) VALUES (20, 4, 'org_1', 'a post in clear') RETURNING id",
      );
      await h.db
        .insert(posts)
        .values(await v.encrypt(posts, { id: 21, userId: 1, orgId: 'org_1', body: 'sealed' }));

      expect((await v.read(selectUsers())).map(comparable)).toEqual(all.map(comparable));
      expect(vault.stats()).toEqual({
        plaintextServed: 9,
        plaintextServedByColumn: { 'users.ssn': 3, 'users.dob': 3, 'users.photo': 3 },
      });
      expect(reads.map((r) => r.id)).toEqual([4, 4, 4, 5, 5, 5, 6, 6, 6]);
      expect(reads[0]).toEqual({ table: 'users', column: 'ssn', row: 3, id: 4, tenant: 'org_1' });

      // A join, with an aliased table: each instance's plaintext is served with its own row.
      const u = aliasOf(users, 'u');
      const joined = await v.read(
        h.db
          .select({ post: posts, who: { id: u.id, orgId: u.orgId, ssn: u.ssn } })
          .from(posts)
          .innerJoin(u, eq(posts.userId, u.id))
          .orderBy(posts.id),
      );
      expect(joined).toEqual([
        {
          post: { id: 20, userId: 4, orgId: 'org_1', body: 'a post in clear' },
          who: { id: 4, orgId: 'org_1', ssn: all[3]!.ssn },
        },
        {
          post: { id: 21, userId: 1, orgId: 'org_1', body: 'sealed' },
          who: { id: 1, orgId: 'org_1', ssn: all[0]!.ssn },
        },
      ]);
      // A relational query: the nested rows are walked, plaintext or not.
      const nested = await v.read(
        h.db.query.users.findMany({
          columns: { id: true, orgId: true, ssn: true },
          with: { posts: { orderBy: posts.id } },
          where: eq(users.id, 4),
        }),
      );
      expect(nested).toEqual([
        {
          id: 4,
          orgId: 'org_1',
          ssn: all[3]!.ssn,
          posts: [{ id: 20, userId: 4, orgId: 'org_1', body: 'a post in clear' }],
        },
      ]);

      // Strict, the plaintext rows fail: the whole query, or each row with onRowError.
      const strict = setup();
      const e = await rejection(strict.v.read(selectUsers()));
      expect(RowDecryptionError.is(e)).toBe(true);
      expect(new Set((e as RowDecryptionError).failures.map((f) => f.id))).toEqual(new Set([4, 5, 6]));
      const failures: RowFailure[] = [];
      const kept = await strict.v.read(selectUsers(), { onRowError: (f) => failures.push(f) });
      expect(kept.map((r: Plain) => r.id)).toEqual([1, 2, 3]);
      expect(failures.every((f) => FormatError.is(f.error))).toBe(true);
      expect(strict.vault.stats().plaintextServed).toBe(0);
    });

    test('a plaintext of the wrong type fails: a string in a bytes column, bytes in a text column', async () => {
      const { vault, reads } = (() => {
        const reads: PlaintextRead[] = [];
        const vault = new DrizzleVault({
          keys,
          allowPlaintext: true,
          onPlaintext: (r) => reads.push(r),
          tables: [
            { table: binaryPosts, tenant: binaryPosts.orgId, context: byOrg },
            { table: users, tenant: users.orgId, context: byOrg },
          ],
        });
        return { vault, reads };
      })();
      const v = vault.forTenant('org_1');
      const bp = binaryPosts;
      await h.all(
        "INSERT INTO posts (id, user_id, org_id, body) VALUES (1, 1, 'org_1', 'a post in clear') RETURNING id",
      );
      await h.db
        .insert(bp)
        .values(
          await v.encrypt(bp, { id: 2, userId: 1, orgId: 'org_1', body: new Uint8Array([1, 2]) as never }),
        );
      const failures: RowFailure[] = [];
      const rows = await v.read(h.db.select().from(bp).orderBy(bp.id), {
        onRowError: (f) => failures.push(f),
      });
      expect(rows.map((r: { id: number; body: Uint8Array }) => [r.id, [...r.body]])).toEqual([[2, [1, 2]]]);
      expect(failures.map((f) => [f.id, f.column, f.error.message])).toEqual([
        [
          1,
          'body',
          'posts.body is neither a ciphertext nor a plaintext Uint8Array (a bytes column), got string',
        ],
      ]);
      expect(FormatError.is(failures[0]!.error)).toBe(true);

      // A text column stored as binary holding bytes in clear.
      await h.all('INSERT INTO users (id, org_id, name, note) VALUES (1, ?, ?, ?) RETURNING id', [
        'org_1',
        'x',
        Buffer.from('a note as bytes'),
      ]);
      const e = await rejection(
        v.read(h.db.select({ id: users.id, orgId: users.orgId, note: users.note }).from(users)),
      );
      expect((e as RowDecryptionError).failures.map((f) => f.error.message)).toEqual([
        expect.stringMatching(
          /^users\.note is neither a ciphertext nor a plaintext string \(a text column\), got (Buffer|Uint8Array)$/,
        ),
      ]);
      if (h.dialect === 'sqlite') {
        // SQLite keeps the text a BLOB column was given; a bytea column can not hold a string.
        await insertPlain([person(2)]);
        await h.all("UPDATE users SET photo = 'a photo as text' WHERE id = 2 RETURNING id");
        const f = ((await rejection(v.read(selectUsers().where(eq(users.id, 2))))) as RowDecryptionError)
          .failures;
        expect(f.map((x) => x.column)).toEqual(['photo']);
      }
      expect(reads).toEqual([]);
    });

    test('tenant checks still apply: another tenant’s plaintext fails; a lenient column needs the tenant column', async () => {
      await insertPlain([person(1), person(2, 'org_2')]);
      const { v, vault } = setup({ allowPlaintext: true });
      const failures: RowFailure[] = [];
      const rows = await v.read(selectUsers(), { onRowError: (f) => failures.push(f) });
      expect(rows.map((r: Plain) => r.id)).toEqual([1]);
      expect(failures.map((f) => f.id)).toEqual([2]);
      expect(TenantMismatchError.is(failures[0]!.error)).toBe(true);
      expect(vault.stats().plaintextServed).toBe(3);

      const e = await rejection(v.read(h.db.select({ id: users.id, ssn: users.ssn }).from(users)));
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toBe(
        'users.org_id must be in the result to read users.ssn while it may hold plaintext (allowPlaintext): select it too',
      );
    });

    test('only the listed columns are lenient (given as columns); the columns still refuse plaintext writes', async () => {
      await insertPlain([{ ...person(1), dob: null, photo: null }]);
      const { v, reads } = setup({ allowPlaintext: [users.ssn] });
      expect(await v.read(selectUsers())).toEqual([{ ...person(1), dob: null, photo: null }]);
      expect(reads).toEqual([{ table: 'users', column: 'ssn', row: 0, id: 1, tenant: 'org_1' }]);
      await h.all("UPDATE users SET dob = '1815-12-10' WHERE id = 1 RETURNING id");
      const e = await rejection(v.read(selectUsers()));
      expect((e as RowDecryptionError).failures.map((f) => f.column)).toEqual(['dob']);
      // An alias's column names the same column.
      expect(() => setup({ allowPlaintext: [aliasOf(users, 'u').ssn] })).not.toThrow();

      await expect(h.db.update(users).set({ ssn: 'still in clear' }).where(eq(users.id, 1))).rejects.toThrow(
        /^users\.ssn is an encrypted column/,
      );
      expect((await h.all('SELECT ssn FROM users WHERE id = 1'))[0]!.ssn).toBe(person(1).ssn);
      expect(() => setup({ allowPlaintext: [users.name] })).toThrow(
        'DrizzleVault options.allowPlaintext[0] must be an encrypted column of a declared table, got users.name, which is not one',
      );
      expect(() => setup({ allowPlaintext: ['users.ssn' as never] })).toThrow(
        'DrizzleVault options.allowPlaintext[0] must be an encrypted column of a declared table, got string',
      );
      expect(() => setup({ allowPlaintext: users.ssn as never })).toThrow(
        'DrizzleVault options.allowPlaintext must be a boolean or an array of encrypted columns, got object',
      );
    });

    test('property: any mix of plaintext and ciphertext rows reads back with the mode on; off, exactly the plaintext rows fail', async () => {
      const on = setup({ allowPlaintext: true });
      const off = setup();
      let next = 1;
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({
              encrypted: fc.boolean(),
              // PostgreSQL's text holds no NUL: the plaintext rows are stored as they are.
              ssn: fc.option(
                fc.string({ unit: 'grapheme', maxLength: 30 }).filter((x) => !x.includes('\u0000')),
                { nil: null },
              ),
              photo: fc.option(fc.uint8Array({ maxLength: 32 }), { nil: null }),
            }),
            { minLength: 1, maxLength: 6 },
          ),
          async (specs) => {
            await h.exec('DELETE FROM users');
            const originals = specs.map((s) => ({
              ...person(next++),
              ssn: s.ssn,
              photo: s.photo,
              dob: null,
            }));
            const sealed = originals.filter((_, i) => specs[i]!.encrypted);
            if (sealed.length > 0) await h.db.insert(users).values(await on.v.encrypt(users, sealed));
            await insertPlain(originals.filter((_, i) => !specs[i]!.encrypted));

            expect((await on.v.read(selectUsers())).map(comparable)).toEqual(originals.map(comparable));
            const failures: RowFailure[] = [];
            const strict = await off.v.read(selectUsers(), { onRowError: (f) => failures.push(f) });
            const failing = originals.filter(
              (o, i) => !specs[i]!.encrypted && (o.ssn !== null || o.photo !== null),
            );
            expect(new Set(failures.map((f) => f.id))).toEqual(new Set(failing.map((o) => o.id)));
            expect(failures.every((f) => FormatError.is(f.error))).toBe(true);
            expect(strict.length).toBe(originals.length - failing.length);
          },
        ),
        { numRuns: 15 },
      );
      expect(off.vault.stats().plaintextServed).toBe(0);
    });
  });
}
