// The migration read mode through the Kysely plugin, on each database of the suite: a users
// table half encrypted by the migration engine (`migrateTable`, stopped after its first batch)
// reads in full with `allowPlaintext` and fails row by row without it; plaintexts of the wrong
// type fail; tenant checks still apply; only the listed columns are lenient; writes still refuse
// plaintext; each value served is counted and reported without the value; and a property over
// any mix of plaintext and ciphertext rows.
import { FormatError, type KeyProvider, MemoryKeyProvider } from '@vault-envelope/core';
import {
  KyselyVault,
  type KyselyVaultOptions,
  type PlaintextRead,
  RowDecryptionError,
  type RowFailure,
  type TableDeclaration,
  TenantMismatchError,
} from '@vault-envelope/kysely';
import { migrateTable, type TableAdapter } from '@vault-envelope/migrate';
import fc from 'fast-check';
import type { Kysely } from 'kysely';
import { describe, expect, test } from 'vitest';
import { rejection } from '../../../test/_shared.js';
import type { DB, Harness } from './_suite.js';

const byOrg = ({ tenant }: { tenant: string | undefined }) => ({ organization_id: tenant! });

/** users as the migration leaves it (ssn, dob, photo encrypted in place) and posts with a bytes column stored as text. */
const tables: TableDeclaration[] = [
  {
    table: 'users',
    id: 'id',
    tenant: 'org_id',
    context: byOrg,
    namespace: 'users',
    columns: { ssn: 'text', dob: 'text', photo: 'bytes' },
  },
  {
    table: 'posts',
    id: 'id',
    tenant: 'org_id',
    context: byOrg,
    columns: { body: { kind: 'bytes', storage: 'text' } },
  },
];

interface Plain {
  id: number;
  org_id: string;
  name: string;
  ssn: string | null;
  dob: string | null;
  photo: Uint8Array | null;
}

const person = (i: number, org = 'org_1'): Plain => ({
  id: i,
  org_id: org,
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
 * @param adapter - The migration engine's adapter on the same database.
 */
export function readModeSuite(h: Harness, adapter: TableAdapter): void {
  const keys: KeyProvider = new MemoryKeyProvider();

  function setup(options: Partial<KyselyVaultOptions> = {}) {
    const reads: PlaintextRead[] = [];
    const vault = new KyselyVault<DB>({ keys, tables, onPlaintext: (r) => reads.push(r), ...options });
    const db = h.open(vault);
    const as = (tenant: string, o: Parameters<ReturnType<typeof vault.forTenant>['plugin']>[0] = {}) => {
      const v = vault.forTenant(tenant);
      return { v, db: db.withPlugin(v.plugin(o)) };
    };
    return { vault, db, as, reads };
  }

  /** Rows inserted as the application wrote them before encryption: in clear. */
  async function insertPlain(rows: readonly Plain[]) {
    for (const r of rows) {
      await h.all(
        'INSERT INTO users (id, org_id, name, ssn, dob, photo) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
        [r.id, r.org_id, r.name, r.ssn, r.dob, r.photo === null ? null : Buffer.from(r.photo)],
      );
    }
  }

  const migrate = (mode: 'encrypt' | 'verify', extra: Partial<Parameters<typeof migrateTable>[0]> = {}) =>
    migrateTable({
      db: adapter,
      keys,
      mode,
      table: 'users',
      columns: ['ssn', 'dob', 'photo'],
      tenant: '{org_id}',
      namespace: 'users',
      ...(mode === 'encrypt' ? { context: 'organization_id={org_id}', restart: true } : {}),
      ...extra,
    });

  const selectUsers = (db: Kysely<DB>) =>
    db.selectFrom('users').select(['id', 'org_id', 'name', 'ssn', 'dob', 'photo']).orderBy('id').execute();

  describe(`${h.name}: migration read mode`, () => {
    test('a table half encrypted by migrateTable reads in full with allowPlaintext, and fails without it', async () => {
      const originals = Array.from({ length: 9 }, (_, i) => person(i + 1));
      await insertPlain(originals);
      const stop = new AbortController();
      const first = await migrate('encrypt', {
        batchSize: 3,
        signal: stop.signal,
        onProgress: () => stop.abort(),
      });
      expect(first.interrupted).toBe(true);
      expect(first.changedRows).toBe(3);
      // The application, deployed with the mode on, writes row 10 encrypted meanwhile.
      const { vault, as, reads } = setup({ allowPlaintext: true });
      const t = as('org_1');
      await t.db
        .insertInto('users')
        .values(await t.v.encrypt('users', person(10)))
        .execute();
      const all = [...originals, person(10)];

      expect((await selectUsers(t.db)).map(comparable)).toEqual(all.map(comparable));
      expect(vault.stats()).toEqual({
        plaintextServed: 18,
        plaintextServedByColumn: { 'users.ssn': 6, 'users.dob': 6, 'users.photo': 6 },
      });
      expect(new Set(reads.map((r) => r.id))).toEqual(new Set([4, 5, 6, 7, 8, 9]));
      expect(reads.every((r) => r.table === 'users' && r.tenant === 'org_1')).toBe(true);

      // Strict, the plaintext rows fail (the whole query, or each row with onRowError).
      const strict = setup();
      const e = await rejection(selectUsers(strict.as('org_1').db));
      expect(RowDecryptionError.is(e)).toBe(true);
      expect(new Set((e as RowDecryptionError).failures.map((f) => f.id))).toEqual(
        new Set([4, 5, 6, 7, 8, 9]),
      );
      const failures: RowFailure[] = [];
      const kept = await selectUsers(strict.as('org_1', { onRowError: (f) => failures.push(f) }).db);
      expect(kept.map((r) => r.id)).toEqual([1, 2, 3, 10]);
      expect(failures.every((f) => FormatError.is(f.error))).toBe(true);
      expect(strict.vault.stats().plaintextServed).toBe(0);

      // The backfill resumes and finishes; verify passes; strict reads pass and nothing more is served.
      const rest = await migrate('encrypt', { restart: false });
      expect(rest.complete).toBe(true);
      expect((await migrate('verify')).problems).toEqual([]);
      expect((await selectUsers(strict.as('org_1').db)).map(comparable)).toEqual(all.map(comparable));
      await selectUsers(t.db);
      expect(vault.stats().plaintextServed).toBe(18);
    });

    test('a plaintext of the wrong type fails: a string in a bytes column, bytes in a text column', async () => {
      const { as, reads } = setup({ allowPlaintext: true });
      await h.all(
        "INSERT INTO posts (id, user_id, org_id, body) VALUES (1, 1, 'org_1', 'a post in clear') RETURNING id",
      );
      await h.all('INSERT INTO posts (id, user_id, org_id, body) VALUES (2, 1, ?, ?) RETURNING id', [
        'org_1',
        'x',
      ]);
      const t = as('org_1');
      await t.db
        .insertInto('posts')
        .values(
          await t.v.encrypt('posts', {
            id: 3,
            user_id: 1,
            org_id: 'org_1',
            body: new Uint8Array([1, 2]) as never,
          }),
        )
        .execute();
      const failures: RowFailure[] = [];
      const posts = await as('org_1', { onRowError: (f) => failures.push(f) })
        .db.selectFrom('posts')
        .selectAll()
        .orderBy('id')
        .execute();
      expect(posts.map((p) => [p.id, [...(p.body as unknown as Uint8Array)]])).toEqual([[3, [1, 2]]]);
      expect(failures.map((f) => [f.id, f.column])).toEqual([
        [1, 'body'],
        [2, 'body'],
      ]);
      for (const f of failures) {
        expect(FormatError.is(f.error)).toBe(true);
        expect(f.error.message).toBe(
          'posts.body is neither a ciphertext nor a plaintext Uint8Array (a bytes column), got string',
        );
      }
      if (h.dialect === 'sqlite') {
        // SQLite keeps the text a BLOB column was given; a bytea column can not hold a string.
        await insertPlain([person(1), person(2)]);
        await h.all("UPDATE users SET photo = 'a photo as text' WHERE id = 1 RETURNING id");
        await h.all('UPDATE users SET ssn = ? WHERE id = 2 RETURNING id', [Buffer.from('an ssn as bytes')]);
        const e = await rejection(selectUsers(as('org_1').db));
        const f = (e as RowDecryptionError).failures;
        expect(f.map((x) => [x.id, x.column])).toEqual([
          [1, 'photo'],
          [2, 'ssn'],
        ]);
        expect(f.map((x) => x.error.message)).toEqual([
          'users.photo is neither a ciphertext nor a plaintext Uint8Array (a bytes column), got string',
          'users.ssn is neither a ciphertext nor a plaintext string (a text column), got Buffer',
        ]);
      }
      expect(reads).toEqual([]);
    });

    test('tenant checks still apply: another tenant’s plaintext fails; a lenient column needs the tenant column', async () => {
      await insertPlain([person(1), person(2, 'org_2')]);
      const { as, vault } = setup({ allowPlaintext: true });
      const failures: RowFailure[] = [];
      // The query forgot its tenant filter: org_2's row is not served, plaintext or not.
      const rows = await selectUsers(as('org_1', { onRowError: (f) => failures.push(f) }).db);
      expect(rows.map((r) => r.id)).toEqual([1]);
      expect(failures.length).toBeGreaterThan(0);
      expect(failures.every((f) => f.id === 2 && TenantMismatchError.is(f.error))).toBe(true);
      expect(vault.stats().plaintextServed).toBe(3);

      const e = await rejection(as('org_1').db.selectFrom('users').select(['id', 'ssn']).execute());
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toMatch(
        /^users\.org_id must be in the result to read users\.ssn while it may hold plaintext/,
      );
    });

    test('only the listed columns are lenient; writes still refuse plaintext', async () => {
      await insertPlain([person(1)]);
      await h.all('UPDATE users SET dob = NULL, photo = NULL WHERE id = 1 RETURNING id');
      const { as, db, reads } = setup({ allowPlaintext: ['users.ssn'] });
      const t = as('org_1');
      expect(await selectUsers(t.db)).toEqual([{ ...person(1), dob: null, photo: null }]);
      expect(reads).toEqual([{ table: 'users', column: 'ssn', row: 0, id: 1, tenant: 'org_1' }]);
      await h.all("UPDATE users SET dob = '1815-12-10' WHERE id = 1 RETURNING id");
      const e = await rejection(selectUsers(t.db));
      expect((e as RowDecryptionError).failures.map((f) => f.column)).toEqual(['dob']);

      for (const instance of [db, t.db]) {
        await expect(
          instance.updateTable('users').set({ ssn: 'still in clear' }).where('id', '=', 1).execute(),
        ).rejects.toThrow(/^users\.ssn is an encrypted column/);
      }
      expect((await h.all('SELECT ssn FROM users WHERE id = 1'))[0]!.ssn).toBe(person(1).ssn);
      expect(() => setup({ allowPlaintext: ['users.name'] })).toThrow(
        /allowPlaintext\[0\] must name a declared encrypted column/,
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
            const t = on.as('org_1');
            const sealed = originals.filter((_, i) => specs[i]!.encrypted);
            if (sealed.length > 0)
              await t.db
                .insertInto('users')
                .values(await t.v.encrypt('users', sealed))
                .execute();
            await insertPlain(originals.filter((_, i) => !specs[i]!.encrypted));

            expect((await selectUsers(t.db)).map(comparable)).toEqual(originals.map(comparable));
            const failures: RowFailure[] = [];
            const strict = await selectUsers(off.as('org_1', { onRowError: (f) => failures.push(f) }).db);
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
