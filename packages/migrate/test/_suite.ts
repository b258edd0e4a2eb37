/**
 * The engine's behaviour, the same on every database: what each mode writes, what the checkpoint
 * guarantees, what a concurrent writer sees, and how bad input is refused.
 */
import { cachedKeyProvider } from '@vault-envelope/cache';
import {
  BlindIndex,
  type DataKey,
  DecryptionError,
  Envelope,
  fieldAad,
  inspect,
  type KeyContext,
  type KeyProvider,
  MemoryKeyProvider,
} from '@vault-envelope/core';
import {
  CheckpointError,
  type MigrateOptions,
  migrateTable,
  SchemaError,
  TemplateError,
} from '@vault-envelope/migrate';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rowsOf, type TestDb, tableName, user, usersTable } from './_db.js';

const context = 'organization_id={org_id}';
const namespace = 'users';

/** A provider that counts calls and can run a hook (the "application") before each create. */
class Spy implements KeyProvider {
  readonly inner = new MemoryKeyProvider();
  creates: KeyContext[] = [];
  rekeys = 0;
  decrypts = 0;
  beforeCreate: (() => Promise<void>) | undefined;
  async createDataKey(c: KeyContext): Promise<DataKey> {
    this.creates.push(c);
    await this.beforeCreate?.();
    return this.inner.createDataKey(c);
  }
  decryptDataKey(b: Uint8Array): Promise<DataKey> {
    this.decrypts++;
    return this.inner.decryptDataKey(b);
  }
  rekeyDataKey(b: Uint8Array, c: KeyContext): Promise<Uint8Array> {
    this.rekeys++;
    return this.inner.rekeyDataKey(b, c);
  }
}

export function engineSuite(name: string, open: () => Promise<TestDb>): void {
  describe(`the engine on ${name}`, () => {
    let db: TestDb;
    beforeAll(async () => {
      db = await open();
    }, 60_000);
    afterAll(async () => {
      await db?.close();
    });

    const run = (keys: KeyProvider, options: Omit<MigrateOptions, 'db' | 'keys'>) =>
      migrateTable({ db: db.adapter, keys, namespace, batchSize: 50, ...options });

    async function decryptAll(keys: KeyProvider, table: string, column = 'ssn') {
      const envelope = new Envelope({ keys });
      const out = new Map<number, string | null>();
      for (const r of await rowsOf(db, table)) {
        const v = r[column] as string | null;
        out.set(
          r.id as number,
          v === null
            ? null
            : await envelope.decryptToString(v, {
                aad: fieldAad({ id: r.id as number, field: column, namespace }),
              }),
        );
      }
      return out;
    }

    test('encrypt: every value becomes ciphertext under its row AAD and context; nulls stay; one data key per context per batch', async () => {
      const t = await usersTable(db, 200);
      const keys = new Spy();
      const r = await run(keys, { mode: 'encrypt', table: t, columns: ['ssn', 'email'], context });
      expect(r.complete).toBe(true);
      expect(r.rows).toBe(200);
      expect(r.values.changed).toBe(200 + 180);
      expect(r.values.null).toBe(20);
      expect(r.changedRows).toBe(200);
      // 4 batches of 50 rows, 3 organizations each.
      expect(keys.creates).toHaveLength(12);
      expect(r.keyCalls.createDataKey).toBe(12);
      const plain = await decryptAll(keys, t);
      for (let i = 1; i <= 200; i++) expect(plain.get(i)).toBe(i % 10 === 0 ? null : user(i).ssn);
      const emails = await decryptAll(keys, t, 'email');
      expect(emails.get(7)).toBe(user(7).email);
      // The key context came from the row.
      const row = (await rowsOf(db, t))[4]!;
      const dk = await keys.inner.decryptDataKey(inspect(row['ssn'] as string).encryptedKeys);
      expect(dk.context).toEqual({ organization_id: user(5).org_id });
      // Bytes columns get raw ciphertext bytes.
      const photos = await run(keys, { mode: 'encrypt', table: t, columns: ['photo'], context });
      expect(photos.values.changed).toBe(50);
      const p = (await rowsOf(db, t))[3]!['photo'] as Uint8Array;
      expect(p).toBeInstanceOf(Uint8Array);
      const back = await new Envelope({ keys }).decrypt(p, {
        aad: fieldAad({ id: 4, field: 'photo', namespace }),
      });
      expect([...back]).toEqual([4, 1, 2, 3]);
    });

    test('encrypt twice never double-encrypts; verify then finds nothing left', async () => {
      const t = await usersTable(db, 120);
      const keys = new Spy();
      await run(keys, { mode: 'encrypt', table: t, columns: ['ssn'], context });
      const again = await run(keys, { mode: 'encrypt', table: t, columns: ['ssn'], context });
      expect(again.values.changed).toBe(0);
      expect(again.values.encrypted).toBe(108);
      expect(again.changedRows).toBe(0);
      const v = await run(keys, { mode: 'verify', table: t, columns: ['ssn'] });
      expect(v.values).toMatchObject({ ok: 108, null: 12, plaintext: 0, undecryptable: 0 });
      expect(v.failedRows).toBe(0);
      expect(v.job).toBeUndefined();
      expect((await decryptAll(keys, t)).get(1)).toBe(user(1).ssn);
    });

    test('verify counts plaintext left, values that do not decrypt under their row, and the rows', async () => {
      const t = await usersTable(db, 60);
      const keys = new Spy();
      await run(keys, { mode: 'encrypt', table: t, columns: ['ssn'], context });
      // The application wrote plaintext into row 3, and row 5's ciphertext was copied into row 6.
      await db.app.run(`UPDATE ${t} SET ssn = ? WHERE id = 3`, ['999-99-9999']);
      const five = (await rowsOf(db, t))[4]!['ssn'] as string;
      await db.app.run(`UPDATE ${t} SET ssn = ? WHERE id = 6`, [five]);
      const v = await run(keys, { mode: 'verify', table: t, columns: ['ssn'] });
      expect(v.values).toMatchObject({ plaintext: 1, undecryptable: 1, ok: 52, null: 6 });
      expect(v.failedRows).toBe(2);
      expect(v.problems.map((p) => [Number(p.key[0]), p.reason])).toEqual([
        [3, 'ssn not encrypted'],
        [6, 'ssn does not decrypt under its AAD'],
      ]);
      expect(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x))).not.toContain(
        '999-99-9999',
      );
    });

    test('rekey: new context, same body, one rekey call per distinct key blob per batch', async () => {
      const t = await usersTable(db, 100);
      const keys = new Spy();
      await run(keys, { mode: 'encrypt', table: t, columns: ['ssn'], context });
      const before = await rowsOf(db, t);
      const r = await run(keys, {
        mode: 'rekey',
        table: t,
        columns: ['ssn'],
        context: [context, 'region=eu'],
      });
      expect(r.values.changed).toBe(90);
      // The encrypt batches had 3 data keys each (2 batches); rekey batches see the same 6 blobs.
      expect(keys.rekeys).toBe(6);
      const after = await rowsOf(db, t);
      const a = inspect(after[0]!['ssn'] as string);
      const b = inspect(before[0]!['ssn'] as string);
      expect([a.iv, a.tag, a.ciphertextLength]).toEqual([b.iv, b.tag, b.ciphertextLength]);
      expect((await keys.inner.decryptDataKey(a.encryptedKeys)).context).toEqual({
        organization_id: user(1).org_id,
        region: 'eu',
      });
      expect((await decryptAll(keys, t)).get(1)).toBe(user(1).ssn);
    });

    test('reencrypt: fresh data keys (a retiring cache is told), same plaintext and AAD', async () => {
      const t = await usersTable(db, 50);
      const spy = new Spy();
      let retired = 0;
      const keys = Object.assign(spy, { retire: () => retired++ });
      await run(keys, { mode: 'encrypt', table: t, columns: ['ssn'], context });
      const before = await rowsOf(db, t);
      const r = await run(keys, { mode: 'reencrypt', table: t, columns: ['ssn'], context });
      expect(retired).toBe(1);
      expect(r.values.changed).toBe(45);
      const after = await rowsOf(db, t);
      const oldKey = await spy.inner.decryptDataKey(inspect(before[0]!['ssn'] as string).encryptedKeys);
      const newKey = await spy.inner.decryptDataKey(inspect(after[0]!['ssn'] as string).encryptedKeys);
      expect(newKey.key).not.toEqual(oldKey.key);
      expect((await decryptAll(spy, t)).get(2)).toBe(user(2).ssn);
    });

    test('reencrypt through a warm cache still gets fresh data keys: the engine retires the cached encryption keys', async () => {
      const t = await usersTable(db, 60);
      const inner = new MemoryKeyProvider();
      const keys = cachedKeyProvider(inner, { maxAge: 60_000 });
      try {
        await run(keys, { mode: 'encrypt', table: t, columns: ['ssn'], context });
        const before = await rowsOf(db, t);
        const r = await run(keys, { mode: 'reencrypt', table: t, columns: ['ssn'], context });
        expect(r.values.changed).toBe(54);
        expect(keys.stats().retiredOnRequest).toBeGreaterThan(0);
        const after = await rowsOf(db, t);
        const keyOf = async (v: unknown) =>
          (await inner.decryptDataKey(inspect(v as string).encryptedKeys)).key;
        expect(await keyOf(after[0]!['ssn'])).not.toEqual(await keyOf(before[0]!['ssn']));
        expect((await decryptAll(keys, t)).get(1)).toBe(user(1).ssn);
      } finally {
        await keys.close();
      }
    });

    test('reindex: writes versioned blind-index values of the plaintext (decrypting first), and rotates to a new version', async () => {
      const t = await usersTable(db, 80);
      const keys = new Spy();
      const normalize = (s: string) => s.trim().toLowerCase();
      const v1 = new BlindIndex({ key: new Uint8Array(32).fill(1), name: 'users.email', normalize });
      const v2 = new BlindIndex({
        key: new Uint8Array(32).fill(2),
        name: 'users.email',
        normalize,
        version: 2,
      });
      const first = await run(keys, {
        mode: 'reindex',
        table: t,
        indexes: [{ column: 'email', into: 'email_idx', index: v1 }],
      });
      expect(first.values.changed).toBe(80);
      expect((await rowsOf(db, t))[0]!['email_idx']).toBe(v1.compute(user(1).email));
      await run(keys, { mode: 'encrypt', table: t, columns: ['email'], context });
      const rotate = await run(keys, {
        mode: 'reindex',
        table: t,
        indexes: [{ column: 'email', into: 'email_idx', index: v2 }],
      });
      expect(rotate.values.changed).toBe(80);
      expect(rotate.keyCalls.decryptDataKey).toBeGreaterThan(0);
      const rows = await rowsOf(db, t);
      expect(rows[6]!['email_idx']).toBe(v2.compute(user(7).email));
      expect(rows[6]!['email_idx']).toMatch(/^v2:[0-9a-f]{16}$/);
      const check = await run(keys, {
        mode: 'verify',
        table: t,
        columns: ['email'],
        indexes: [{ column: 'email', into: 'email_idx', index: v2 }],
      });
      expect(check.values).toMatchObject({ ok: 160, mismatch: 0 });
      const again = await run(keys, {
        mode: 'reindex',
        table: t,
        indexes: [{ column: 'email', into: 'email_idx', index: v2 }],
      });
      expect(again.values).toMatchObject({ changed: 0, unchanged: 80 });
    });

    test('dry run: counts what would change, writes nothing, creates no key', async () => {
      const t = await usersTable(db, 70);
      const keys = new Spy();
      const before = await rowsOf(db, t);
      const r = await run(keys, { mode: 'encrypt', table: t, columns: ['ssn'], context, dryRun: true });
      expect(r.values.changed).toBe(63);
      expect(r.changedRows).toBe(0);
      expect(r.job).toBeUndefined();
      expect(keys.creates).toHaveLength(0);
      expect(await rowsOf(db, t)).toEqual(before);
    });

    test('stopped after a batch, a job resumes from its checkpoint: every row exactly once', async () => {
      const t = await usersTable(db, 230);
      const keys = new Spy();
      const stop = new AbortController();
      const first = await run(keys, {
        mode: 'encrypt',
        table: t,
        columns: ['ssn'],
        context,
        signal: stop.signal,
        onProgress: (p) => {
          if (p.rows >= 100) stop.abort();
        },
      });
      expect(first).toMatchObject({ interrupted: true, complete: false, rows: 100, resumed: false });
      const second = await run(keys, { mode: 'encrypt', table: t, columns: ['ssn'], context });
      expect(second).toMatchObject({ complete: true, resumed: true, rows: 130 });
      expect(second.values.encrypted).toBe(0);
      expect(second.totals['rows']).toBe(230);
      expect(second.totals['changed']).toBe(207);
      const plain = await decryptAll(keys, t);
      expect(plain.get(230)).toBe(null);
      expect(plain.get(229)).toBe(user(229).ssn);
    });

    test('a row the application changes between read and write is read again, never overwritten', async () => {
      const t = await usersTable(db, 100);
      const keys = new Spy();
      let writes = 0;
      keys.beforeCreate = async () => {
        // The application writes row 7 while the engine holds its plan for the first batch.
        if (writes++ === 0) await db.app.run(`UPDATE ${t} SET ssn = ? WHERE id = 7`, ['app-wrote-this']);
      };
      const r = await run(keys, { mode: 'encrypt', table: t, columns: ['ssn'], context });
      expect(r.conflicts).toBe(1);
      expect(r.values.changed).toBe(90);
      expect((await decryptAll(keys, t)).get(7)).toBe('app-wrote-this');
      expect(r.totals['rows']).toBe(100);
    });

    test('a row that keeps changing is done under lock after the retries', async () => {
      const t = await usersTable(db, 20, 1);
      const keys = new Spy();
      let writes = 0;
      keys.beforeCreate = async () => {
        // Conflicts on the first attempt and on the one retry allowed; the locked round wins.
        if (writes < 2) await db.app.run(`UPDATE ${t} SET ssn = ? WHERE id = 2`, [`write ${++writes}`]);
      };
      const r = await run(keys, { mode: 'encrypt', table: t, columns: ['ssn'], context, conflictRetries: 1 });
      expect(r.conflicts).toBe(2);
      expect((await decryptAll(keys, t)).get(2)).toBe('write 2');
      expect(r.values.changed).toBe(18);
    });

    test('a row whose template column is NULL fails alone and is reported by key', async () => {
      const t = await usersTable(db, 30);
      await db.app.run(`UPDATE ${t} SET org_id = NULL WHERE id = 4`);
      const keys = new Spy();
      const r = await run(keys, { mode: 'encrypt', table: t, columns: ['ssn'], context });
      expect(r.failedRows).toBe(1);
      expect(r.problems).toEqual([{ key: [expect.anything()], reason: 'column org_id is NULL' }]);
      expect(Number(r.problems[0]!.key[0])).toBe(4);
      expect((await rowsOf(db, t))[3]!['ssn']).toBe(user(4).ssn);
      expect(r.values.changed).toBe(26);
    });

    test('a tenant per row is bound as the field helpers bind it: rows round-trip between the engine and encryptFields/decryptFields', async () => {
      const t = await usersTable(db, 40);
      const keys = new Spy();
      const r = await run(keys, { mode: 'encrypt', table: t, columns: ['ssn'], context, tenant: '{org_id}' });
      expect(r.values.changed).toBe(36);
      const envelope = new Envelope({ keys, requireTenant: true });
      const row = (await rowsOf(db, t))[6]! as { id: number; org_id: string; ssn: string };
      const plain = await envelope.decryptFields(row, {
        fields: ['ssn'],
        id: row.id,
        tenant: row.org_id,
        namespace,
      });
      expect(plain.ssn).toBe(user(7).ssn);
      await expect(
        envelope.decryptFields(row, { fields: ['ssn'], id: row.id, tenant: 'org_other', namespace }),
      ).rejects.toThrow(DecryptionError);
      // A row the application wrote with encryptFields is recognised, and verifies.
      const written = await envelope.encryptFields(
        { id: 41, org_id: 'org_2', ssn: 'written-by-app' },
        { fields: ['ssn'], id: 41, tenant: 'org_2', namespace, context: { organization_id: 'org_2' } },
      );
      await db.app.run(`INSERT INTO ${t} (id, org_id, ssn) VALUES (?, ?, ?)`, [41, 'org_2', written.ssn]);
      const again = await run(keys, {
        mode: 'encrypt',
        table: t,
        columns: ['ssn'],
        context,
        tenant: '{org_id}',
      });
      expect(again.values).toMatchObject({ changed: 0, encrypted: 37 });
      const v = await run(keys, { mode: 'verify', table: t, columns: ['ssn'], tenant: '{org_id}' });
      expect(v.values).toMatchObject({ ok: 37, plaintext: 0, undecryptable: 0 });
      // Without the tenant the AAD differs: nothing decrypts.
      const wrong = await run(keys, { mode: 'verify', table: t, columns: ['ssn'] });
      expect(wrong.values.undecryptable).toBe(37);
    });

    test('values under the version 0 field AAD: verify counts them, reencrypt upgrades them to version 1', async () => {
      const t = await usersTable(db, 30);
      const keys = new Spy();
      const envelope = new Envelope({ keys });
      // What vault-envelope 0.1 wrote: AAD JSON.stringify([namespace, id, field]).
      for (const r of await rowsOf(db, t)) {
        if (r['ssn'] === null) continue;
        const ct = await envelope.encrypt(r['ssn'] as string, {
          context: { organization_id: r['org_id'] as string },
          aad: JSON.stringify([namespace, String(r.id), 'ssn']),
        });
        await db.app.run(`UPDATE ${t} SET ssn = ? WHERE id = ?`, [ct, r.id as number]);
      }
      const before = await run(keys, { mode: 'verify', table: t, columns: ['ssn'] });
      expect(before.values).toMatchObject({ ok: 0, legacy: 27, undecryptable: 0 });
      expect(before.failedRows).toBe(27);
      expect(before.problems[0]!.reason).toBe('ssn under the version 0 field AAD (reencrypt upgrades it)');
      const up = await run(keys, { mode: 'reencrypt', table: t, columns: ['ssn'], context });
      expect(up.values.changed).toBe(27);
      const after = await run(keys, { mode: 'verify', table: t, columns: ['ssn'] });
      expect(after.values).toMatchObject({ ok: 27, legacy: 0 });
      expect((await decryptAll(keys, t)).get(3)).toBe(user(3).ssn);
    });

    test('a per-tenant blind index keys each row for its tenant', async () => {
      const t = await usersTable(db, 12);
      const keys = new Spy();
      const index = new BlindIndex({ key: new Uint8Array(32).fill(5), name: 'users.email', version: 1 });
      const r = await run(keys, {
        mode: 'reindex',
        table: t,
        tenant: '{org_id}',
        indexes: [{ column: 'email', into: 'email_idx', index, perTenant: true }],
      });
      expect(r.values.changed).toBe(12);
      const row = (await rowsOf(db, t))[0]!;
      expect(row['email_idx']).toBe(index.forTenant(user(1).org_id).compute(user(1).email));
      expect(row['email_idx']).not.toBe(index.compute(user(1).email));
    });

    test('a composite primary key is walked in key order, the record id named by idColumn', async () => {
      const t = tableName('members');
      await db.adapter.run(
        `CREATE TABLE ${t} (org_id TEXT NOT NULL, id BIGINT NOT NULL, ssn TEXT, PRIMARY KEY (org_id, id))`,
      );
      for (let i = 1; i <= 40; i++)
        await db.adapter.run(`INSERT INTO ${t} VALUES (?, ?, ?)`, [`org_${i % 3}`, i, `s${i}`]);
      const keys = new Spy();
      const r = await run(keys, {
        mode: 'encrypt',
        table: t,
        columns: ['ssn'],
        context,
        idColumn: 'id',
        batchSize: 7,
      });
      expect(r.values.changed).toBe(40);
      const v = await run(keys, { mode: 'verify', table: t, columns: ['ssn'], idColumn: 'id' });
      expect(v.values.ok).toBe(40);
    });

    test('bad input: exact messages for a missing table, column or template column, and a job with other settings', async () => {
      const t = await usersTable(db, 5);
      const keys = new Spy();
      await expect(run(keys, { mode: 'verify', table: 'nope', columns: ['ssn'] })).rejects.toThrow(
        new SchemaError('table nope does not exist'),
      );
      await expect(run(keys, { mode: 'verify', table: t, columns: ['sn'] })).rejects.toThrow(
        new SchemaError(`table ${t} has no column sn`),
      );
      await expect(
        run(keys, { mode: 'encrypt', table: t, columns: ['ssn'], context: 'organization_id={org}' }),
      ).rejects.toThrow(
        new TemplateError(`context template names column org, which table ${t} does not have`),
      );
      await expect(
        run(keys, { mode: 'encrypt', table: t, columns: ['ssn'], context: 'organization_id={org_id' }),
      ).rejects.toThrow(TemplateError);
      await expect(run(keys, { mode: 'encrypt', table: t, columns: ['ssn'] })).rejects.toThrow(
        'context is required for encrypt: the key context of each row, e.g. organization_id={org_id}',
      );
      const stop = new AbortController();
      stop.abort();
      const r = await run(keys, {
        mode: 'encrypt',
        table: t,
        columns: ['ssn'],
        context,
        job: 'j1',
        signal: stop.signal,
      });
      expect(r.interrupted).toBe(true);
      await expect(
        run(keys, { mode: 'encrypt', table: t, columns: ['ssn'], context: 'organization_id=x', job: 'j1' }),
      ).rejects.toThrow(
        new CheckpointError(
          'job j1 is unfinished with other settings: finish it, give another job name, or restart it',
        ),
      );
      const restarted = await run(keys, {
        mode: 'encrypt',
        table: t,
        columns: ['ssn'],
        context: 'organization_id=x',
        job: 'j1',
        restart: true,
      });
      expect(restarted.complete).toBe(true);
      await expect(run(keys, { mode: 'verify', table: t, columns: ['ssn'], batchSize: 0 })).rejects.toThrow(
        RangeError,
      );
      const short = tableName('short');
      await db.adapter.run(`CREATE TABLE ${short} (id BIGINT PRIMARY KEY, org_id TEXT, ssn VARCHAR(20))`);
      const shortRun = run(keys, { mode: 'encrypt', table: short, columns: ['ssn'], context });
      if (db.kind === 'sqlite')
        expect((await shortRun).complete).toBe(true); // SQLite ignores lengths
      else {
        await expect(shortRun).rejects.toThrow(
          new SchemaError(
            'column ssn is character varying(20), too short for a ciphertext: change it to text first',
          ),
        );
      }
      await expect(run(keys, { mode: 'wipe' as never, table: t, columns: ['ssn'] })).rejects.toThrow(
        'mode must be one of encrypt, rekey, reencrypt, reindex, verify, got wipe',
      );
    });
  });
}
