// The migration read mode on plain rows: off by default (every plaintext fails its row), on for
// every column or for the listed ones only; a plaintext is served only when its type is the
// column's, and only in rows that are returned; a ciphertext is never served as plaintext;
// tenant checks still apply (and need the tenant column); each value served is counted and
// reported without the value; writes are unchanged; and a property over any mix of plaintext
// and ciphertext rows.
import { inspect } from 'node:util';
import { DecryptionError, FormatError, MemoryKeyProvider } from '@vault-envelope/core';
import {
  EncryptedTables,
  type EncryptedTablesOptions,
  type PlaintextRead,
  RowDecryptionError,
  type RowFailure,
  type TableDeclaration,
  TenantMismatchError,
} from '@vault-envelope/orm-core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { rejection } from '../../../test/_shared.js';

const users: TableDeclaration = {
  table: 'users',
  id: 'id',
  tenant: 'org_id',
  context: ({ tenant }) => ({ organization_id: tenant! }),
  columns: { ssn: 'text', dob: 'text', photo: 'bytes', note: { kind: 'text', storage: 'binary' } },
};
const settings: TableDeclaration = {
  table: 'settings',
  id: 'key',
  context: { app: 'demo' },
  columns: { value: 'text' },
};

const keys = new MemoryKeyProvider();

function setup(options: Partial<EncryptedTablesOptions> = {}) {
  const reads: PlaintextRead[] = [];
  const tables = new EncryptedTables({
    keys,
    tables: [users, settings],
    onPlaintext: (r) => reads.push(r),
    ...options,
  });
  return { tables, scope: tables.forTenant('org_1'), reads };
}

const row = (i: number, org = 'org_1') => ({
  id: i,
  org_id: org,
  name: `User ${i}`,
  ssn: `123-45-${String(i).padStart(4, '0')}`,
  dob: `19${String(10 + i).slice(-2)}-01-01`,
  photo: new Uint8Array([i, 1, 2]),
  note: `note ${i}`,
});

/** A page of a half-migrated table: rows 1 and 3 encrypted (as the backfill leaves them), 2 and 4 still plaintext. */
async function halfMigrated(tables: EncryptedTables) {
  const scope = tables.forTenant('org_1');
  const [r1, r3] = await scope.encrypt('users', [row(1), row(3)]);
  return [r1!, row(2), r3!, row(4)];
}

const plain = (r: Record<string, unknown>) => ({
  ...r,
  photo: r.photo instanceof Uint8Array ? [...r.photo] : r.photo,
});

describe('off (the default)', () => {
  test('every plaintext row of a half-migrated page fails with a FormatError; nothing is counted', async () => {
    const { tables, scope, reads } = setup();
    const page = await halfMigrated(tables);
    const e = await rejection(scope.decrypt('users', page));
    expect(RowDecryptionError.is(e)).toBe(true);
    const failures = (e as RowDecryptionError).failures;
    expect([...new Set(failures.map((f) => f.row))]).toEqual([1, 3]);
    expect(failures.every((f) => FormatError.is(f.error))).toBe(true);
    const kept: RowFailure[] = [];
    const rows = await scope.decrypt('users', page, { onRowError: (f) => kept.push(f) });
    expect(rows.map((r) => r.id)).toEqual([1, 3]);
    expect(reads).toEqual([]);
    expect(tables.stats()).toEqual({ plaintextServed: 0, plaintextServedByColumn: {} });
  });

  test('false and an empty list are off too', async () => {
    for (const allowPlaintext of [false, []]) {
      const { tables, scope } = setup({ allowPlaintext });
      const e = await rejection(scope.decrypt('users', await halfMigrated(tables)));
      expect(RowDecryptionError.is(e)).toBe(true);
    }
  });
});

describe('on', () => {
  test('every row of a half-migrated page reads back; each plaintext is counted and reported', async () => {
    const { tables, scope, reads } = setup({ allowPlaintext: true });
    const rows = await scope.decrypt('users', await halfMigrated(tables));
    expect(rows.map(plain)).toEqual([row(1), row(2), row(3), row(4)].map(plain));
    expect(reads).toEqual(
      [1, 3].flatMap((i) =>
        ['ssn', 'dob', 'photo', 'note'].map((column) => ({
          table: 'users',
          column,
          row: i,
          id: i + 1,
          tenant: 'org_1',
        })),
      ),
    );
    expect(tables.stats()).toEqual({
      plaintextServed: 8,
      plaintextServedByColumn: { 'users.ssn': 2, 'users.dob': 2, 'users.photo': 2, 'users.note': 2 },
    });
    // A snapshot: later reads do not change an earlier one.
    const before = tables.stats();
    await scope.decrypt('users', [row(5)]);
    expect(before.plaintextServed).toBe(8);
    expect(tables.stats().plaintextServed).toBe(12);
  });

  test('only the listed columns serve plaintext; the others of the same row still fail it', async () => {
    const { tables, scope, reads } = setup({ allowPlaintext: ['users.ssn', 'users.photo'] });
    const [encrypted] = await scope.encrypt('users', [row(1)]);
    const half = { ...encrypted!, ssn: row(1).ssn, photo: row(1).photo };
    const back = await scope.decrypt('users', half);
    expect(plain(back!)).toEqual(plain(row(1)));
    expect(reads.map((r) => r.column)).toEqual(['ssn', 'photo']);

    const e = await rejection(scope.decrypt('users', { ...half, dob: row(1).dob }));
    const failures = (e as RowDecryptionError).failures;
    expect(failures.map((f) => f.column)).toEqual(['dob']);
    expect(FormatError.is(failures[0]!.error)).toBe(true);
    expect(tables.stats().plaintextServedByColumn).toEqual({ 'users.ssn': 1, 'users.photo': 1 });
  });

  test('a plaintext must have the type of the column: a string in a bytes column fails, and bytes in a text column', async () => {
    const { scope, reads } = setup({ allowPlaintext: true });
    const cases: [string, unknown][] = [
      ['photo', 'a photo as text'],
      ['ssn', new Uint8Array([1, 2, 3])],
      ['note', new Uint8Array([1, 2, 3])],
      ['ssn', 42],
      ['photo', [1, 2, 3]],
    ];
    for (const [column, value] of cases) {
      const failures: RowFailure[] = [];
      const rows = await scope.decrypt('users', [{ id: 1, org_id: 'org_1', [column]: value }], {
        onRowError: (f) => failures.push(f),
      });
      expect(rows).toEqual([]);
      expect(failures.map((f) => f.column)).toEqual([column]);
      expect(FormatError.is(failures[0]!.error)).toBe(true);
      expect(failures[0]!.error.message).toMatch(/is neither a ciphertext nor a plaintext/);
    }
    expect(reads).toEqual([]);
  });

  test('a value that is a ciphertext is decrypted, never served: one moved from another row still fails', async () => {
    const { scope, tables } = setup({ allowPlaintext: true });
    const [a, b] = await scope.encrypt('users', [row(1), row(2)]);
    const e = await rejection(scope.decrypt('users', { ...b!, ssn: a!.ssn }));
    const failures = (e as RowDecryptionError).failures;
    expect(failures.map((f) => f.column)).toEqual(['ssn']);
    expect(DecryptionError.is(failures[0]!.error)).toBe(true);
    expect(tables.stats().plaintextServed).toBe(0);
  });

  test('null and undefined stay as they are, and are not counted', async () => {
    const { scope, tables } = setup({ allowPlaintext: true });
    const back = await scope.decrypt('users', { id: 1, org_id: 'org_1', ssn: null, dob: undefined });
    expect(back).toEqual({ id: 1, org_id: 'org_1', ssn: null, dob: undefined });
    expect(tables.stats().plaintextServed).toBe(0);
  });

  test('a table without tenants serves plaintext in a scope without one', async () => {
    const { tables, reads } = setup({ allowPlaintext: ['settings.value'] });
    const scope = tables.withoutTenant();
    const [stored] = await scope.encrypt('settings', [{ key: 'a', value: 'one' }]);
    const rows = await scope.decrypt('settings', [stored!, { key: 'b', value: 'two' }]);
    expect(rows).toEqual([
      { key: 'a', value: 'one' },
      { key: 'b', value: 'two' },
    ]);
    expect(reads).toEqual([{ table: 'settings', column: 'value', row: 1, id: 'b', tenant: undefined }]);
  });
});

describe('tenants', () => {
  test('a plaintext row of another tenant fails as another tenant, and is not served', async () => {
    const { scope, tables, reads } = setup({ allowPlaintext: true });
    const failures: RowFailure[] = [];
    const rows = await scope.decrypt('users', [row(1), row(2, 'org_2'), { ...row(3), org_id: null }], {
      onRowError: (f) => failures.push(f),
    });
    expect(rows.map((r) => r.id)).toEqual([1]);
    expect(failures.map((f) => f.row)).toEqual([1, 2]);
    expect(failures.every((f) => TenantMismatchError.is(f.error))).toBe(true);
    expect(reads.map((r) => r.row)).toEqual([0, 0, 0, 0]);
    expect(tables.stats().plaintextServed).toBe(4);
  });

  test('a lenient column read without its tenant column is a TypeError, plaintext or not', async () => {
    const { scope } = setup({ allowPlaintext: ['users.ssn'] });
    const [stored] = await scope.encrypt('users', [row(1)]);
    for (const ssn of [row(1).ssn, stored!.ssn, null]) {
      const e = await rejection(scope.decrypt('users', { id: 1, ssn }));
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toBe(
        'users.org_id must be in the result to read users.ssn while it may hold plaintext (allowPlaintext): select it too',
      );
    }
    // A strict column of the same table needs no tenant column (its AAD binds the tenant).
    expect(await scope.decrypt('users', { id: 1, dob: stored!.dob })).toEqual({ id: 1, dob: row(1).dob });
  });

  test('a tenant function: its answer is checked; undefined is a TypeError for a lenient column', async () => {
    const tables = new EncryptedTables({
      keys,
      allowPlaintext: true,
      tables: [{ ...users, tenant: (r) => (r.meta as { org?: string } | undefined)?.org }],
    });
    const scope = tables.forTenant('org_1');
    expect(await scope.decrypt('users', { id: 1, meta: { org: 'org_1' }, ssn: 'plain' })).toEqual({
      id: 1,
      meta: { org: 'org_1' },
      ssn: 'plain',
    });
    const e = await rejection(scope.decrypt('users', { id: 1, meta: { org: 'org_2' }, ssn: 'plain' }));
    expect(TenantMismatchError.is((e as RowDecryptionError).failures[0]!.error)).toBe(true);
    const missing = await rejection(scope.decrypt('users', { id: 1, ssn: 'plain' }));
    expect(missing).toBeInstanceOf(TypeError);
    expect(missing.message).toMatch(
      /^the tenant of each users row \(its tenant function answered undefined\)/,
    );
  });
});

describe('what is served, counted and reported', () => {
  test('nothing of a read that fails as a whole; only the kept rows with onRowError', async () => {
    const { scope, tables, reads } = setup({ allowPlaintext: true });
    const [a, b] = await scope.encrypt('users', [row(1), row(2)]);
    // Row 1: a plaintext ssn beside a dob moved from row 0 (fails); row 2: all plaintext.
    const page = [a!, { ...b!, ssn: row(2).ssn, dob: a!.dob }, row(3)];
    await rejection(scope.decrypt('users', page));
    expect(reads).toEqual([]);
    expect(tables.stats().plaintextServed).toBe(0);

    const failures: RowFailure[] = [];
    const rows = await scope.decrypt('users', page, { onRowError: (f) => failures.push(f) });
    expect(rows.map((r) => r.id)).toEqual([1, 3]);
    expect(failures.map((f) => [f.row, f.column])).toEqual([[1, 'dob']]);
    expect(reads.every((r) => r.row === 2)).toBe(true);
    expect(tables.stats().plaintextServed).toBe(4);
  });

  test('the report holds where the value was, never the value', async () => {
    const secret = `pt-${'x'.repeat(8)}-${Math.random().toString(36).slice(2)}`;
    const { scope, reads } = setup({ allowPlaintext: true });
    await scope.decrypt('users', {
      id: 'usr_1',
      org_id: 'org_1',
      ssn: secret,
      photo: new TextEncoder().encode(secret),
    });
    expect(reads).toHaveLength(2);
    for (const r of reads) {
      expect(Object.keys(r).sort()).toEqual(['column', 'id', 'row', 'table', 'tenant']);
      const shown = `${JSON.stringify(r)}\n${inspect(r, { showHidden: true, depth: 5 })}`;
      expect(shown.includes(secret.slice(0, 12))).toBe(false);
      expect(shown.includes(secret.slice(-12))).toBe(false);
    }
  });

  test('what onPlaintext throws fails the read; the value was counted', async () => {
    const { scope, tables } = setup({
      allowPlaintext: true,
      onPlaintext: () => {
        throw new Error('alarm');
      },
    });
    const e = await rejection(scope.decrypt('users', { id: 1, org_id: 'org_1', ssn: 'plain' }));
    expect(e.message).toBe('alarm');
    expect(tables.stats().plaintextServed).toBe(1);
  });
});

describe('writes are unchanged', () => {
  test('a row read as plaintext is encrypted when written back; a ciphertext is still refused as a value', async () => {
    const { tables, scope } = setup({ allowPlaintext: true });
    const [read] = await scope.decrypt('users', [row(1)]);
    const written: Record<string, unknown> = await scope.encrypt('users', read!);
    for (const c of ['ssn', 'dob', 'photo', 'note']) expect(tables.isCiphertext(written[c])).toBe(true);
    expect(plain((await scope.decrypt('users', written))!)).toEqual(plain(row(1)));
    await expect(scope.encrypt('users', { ...row(2), ssn: written.ssn })).rejects.toThrow(TypeError);
  });
});

describe('options', () => {
  test('allowPlaintext and onPlaintext are checked at construction', () => {
    const make = (o: Partial<EncryptedTablesOptions>) => () =>
      new EncryptedTables({ keys, tables: [users, settings], ...o });
    expect(make({ allowPlaintext: ['users.snn'] })).toThrow(
      'allowPlaintext[0] must name a declared encrypted column as "table.column" (users.ssn, users.dob, users.photo, users.note, settings.value), got a string that names none',
    );
    expect(make({ allowPlaintext: ['users.name'] })).toThrow(/allowPlaintext\[0\] must name a declared/);
    expect(make({ allowPlaintext: ['users'] })).toThrow(/allowPlaintext\[0\] must name a declared/);
    expect(make({ allowPlaintext: [42 as never] })).toThrow(/got number$/);
    expect(make({ allowPlaintext: ['users.ssn', 'users.ssn'] })).toThrow(
      'allowPlaintext[1] must name each column once, got a repeat',
    );
    expect(make({ allowPlaintext: 'users.ssn' as never })).toThrow(
      'allowPlaintext must be a boolean or an array of "table.column" names, got string',
    );
    expect(make({ onPlaintext: 'log' as never })).toThrow(TypeError);
    expect(make({ allowPlaintext: ['users.ssn', 'settings.value'] })).not.toThrow();
  });
});

describe('properties', () => {
  test('any mix of plaintext and ciphertext rows: on, every row reads back; off, exactly the plaintext rows fail', async () => {
    const tables = {
      on: new EncryptedTables({ keys, tables: [users], allowPlaintext: true }),
      off: new EncryptedTables({ keys, tables: [users] }),
    };
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            encrypted: fc.boolean(),
            ssn: fc.option(fc.string({ unit: 'grapheme', maxLength: 40 }), { nil: null }),
            photo: fc.option(fc.uint8Array({ maxLength: 48 }), { nil: null }),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        async (specs) => {
          const originals = specs.map((s, i) => ({ id: i, org_id: 'org_1', ssn: s.ssn, photo: s.photo }));
          const enc = await tables.on.forTenant('org_1').encrypt(
            'users',
            originals.filter((_, i) => specs[i]!.encrypted),
          );
          let k = 0;
          const stored = originals.map((o, i) => (specs[i]!.encrypted ? enc[k++]! : o));
          const before = tables.on.stats().plaintextServed;
          const back = await tables.on.forTenant('org_1').decrypt('users', stored);
          expect(back.map(plain)).toEqual(originals.map(plain));
          const plaintexts = specs
            .filter((s) => !s.encrypted)
            .reduce((n, s) => n + (s.ssn === null ? 0 : 1) + (s.photo === null ? 0 : 1), 0);
          expect(tables.on.stats().plaintextServed - before).toBe(plaintexts);

          const failures: RowFailure[] = [];
          const strict = await tables.off
            .forTenant('org_1')
            .decrypt('users', stored, { onRowError: (f) => failures.push(f) });
          const failing = specs.flatMap((s, i) =>
            !s.encrypted && (s.ssn !== null || s.photo !== null) ? [i] : [],
          );
          expect([...new Set(failures.map((f) => f.row))]).toEqual(failing);
          expect(failures.every((f) => FormatError.is(f.error))).toBe(true);
          expect(strict.map((r) => r.id)).toEqual(
            originals.map((o) => o.id).filter((id) => !failing.includes(id)),
          );
          expect(tables.off.stats().plaintextServed).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  });
});
