// The ORM-neutral engine on plain rows: round trips of both kinds and both storages, the field
// helpers' bytes in both directions, tenant binding and tenant columns, moved values, one key
// lookup per distinct data key per result set, per-row failures, fail-closed writes, blind
// indexes per tenant and during a reindex, declaration errors, and properties.
import {
  BlindIndex,
  blindIndexVersion,
  DecryptionError,
  Envelope,
  FormatError,
  isText,
  MemoryKeyProvider,
} from '@vault-envelope/core';
import {
  checkTable,
  DeclarationError,
  EncryptedTables,
  NOT_SELECTED,
  OrmError,
  RowDecryptionError,
  type RowFailure,
  type TableDeclaration,
  TenantMismatchError,
} from '@vault-envelope/orm-core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { rejection } from '../../../test/_shared.js';

const rootKey = new Uint8Array(32).fill(7);
const emailIdx = new BlindIndex({
  key: rootKey,
  name: 'users.email',
  normalize: (s) => s.trim().toLowerCase(),
});
const emailIdxV2 = new BlindIndex({ key: new Uint8Array(32).fill(9), name: 'users.email', version: 2 });

const users: TableDeclaration = {
  table: 'users',
  id: 'id',
  tenant: 'org_id',
  context: ({ tenant }) => ({ organization_id: tenant! }),
  columns: { email: 'text', ssn: 'text', photo: 'bytes', note: { kind: 'text', storage: 'binary' } },
  blindIndexes: { email_idx: { source: 'email', indexes: emailIdx } },
};
const settings: TableDeclaration = {
  table: 'settings',
  id: 'key',
  context: { app: 'demo' },
  columns: { value: 'text' },
};

function setup(tables: TableDeclaration[] = [users, settings]) {
  const keys = new MemoryKeyProvider();
  return { keys, tables: new EncryptedTables({ keys, tables }) };
}

const ada = {
  id: 'usr_1',
  org_id: 'org_1',
  name: 'Ada',
  email: 'Ada@Example.com',
  ssn: '123-45-6789',
  photo: new Uint8Array([1, 2, 3]),
  note: 'likes engines',
};

describe('round trips', () => {
  test('text and bytes columns, text and binary storage, nulls and other columns', async () => {
    const { tables } = setup();
    const scope = tables.forTenant('org_1');
    const row = await scope.encrypt('users', { ...ada, ssn: null });
    expect(typeof row.email).toBe('string');
    expect(tables.isCiphertext(row.email)).toBe(true);
    expect(row.photo).toBeInstanceOf(Uint8Array);
    expect(tables.isCiphertext(row.photo)).toBe(true);
    expect(row.note).toBeInstanceOf(Uint8Array);
    expect(row.ssn).toBeNull();
    expect(row.name).toBe('Ada');
    expect(row.email_idx).toBe(emailIdx.forTenant('org_1').compute('ada@example.com'));
    const back = await scope.decrypt('users', row);
    expect(back).toEqual({ ...ada, ssn: null, email_idx: row.email_idx });
  });

  test('a batch insert of one tenant asks for one data key; a page asks for one key per data key', async () => {
    const { keys, tables } = setup();
    const scope = tables.forTenant('org_1');
    const rows = Array.from({ length: 50 }, (_, i) => ({ ...ada, id: `usr_${i}` }));
    const before = keys.stats();
    const a = await scope.encrypt('users', rows.slice(0, 25));
    const b = await scope.encrypt('users', rows.slice(25));
    expect(keys.stats().created - before.created).toBe(2);
    const back = await scope.decrypt('users', [...a, ...b]);
    expect(keys.stats().decrypted - before.decrypted).toBe(2);
    expect(back.map((r) => r.ssn)).toEqual(rows.map((r) => r.ssn));
  });

  test('a row written here decrypts with decryptFields, and a row of encryptFields decrypts here', async () => {
    const { keys, tables } = setup();
    const envelope = new Envelope({ keys, requireTenant: true });
    const scope = tables.forTenant('org_1');
    const row = (await scope.encrypt('users', ada)) as typeof ada & { email_idx: string };
    const plain = await envelope.decryptFields(row, {
      fields: { email: 'text', ssn: 'text', photo: 'bytes', note: 'text' },
      id: row.id,
      tenant: 'org_1',
      namespace: 'users',
    });
    expect(plain).toEqual({ ...ada, email_idx: row.email_idx });

    const written = await envelope.encryptFields(
      { ...ada, id: 'usr_2' },
      {
        fields: { email: 'text', ssn: 'text', photo: 'bytes', note: 'text' },
        id: 'usr_2',
        tenant: 'org_1',
        namespace: 'users',
        context: { organization_id: 'org_1' },
      },
    );
    const back = await scope.decrypt('users', written);
    expect(back).toEqual({ ...ada, id: 'usr_2' });
  });

  test('a table without tenants binds none, and refuses a tenant-bound table without a tenant', async () => {
    const { keys, tables } = setup();
    const none = tables.withoutTenant();
    const row = await none.encrypt('settings', { key: 'smtp', value: 'secret' });
    const plain = await new Envelope({ keys }).decryptFields(row, {
      fields: ['value'],
      id: 'smtp',
      namespace: 'settings',
    });
    expect(plain.value).toBe('secret');
    expect(await none.decrypt('settings', [row])).toEqual([{ key: 'smtp', value: 'secret' }]);
    await expect(none.encrypt('users', ada)).rejects.toThrow(
      'users is bound to tenants: use forTenant(tenant), got a scope without one',
    );
    // A tenant scope reads tables without tenants too.
    expect(await tables.forTenant('org_1').decrypt('settings', row)).toEqual({
      key: 'smtp',
      value: 'secret',
    });
  });

  test('ids 42, 42n and "42" are one id', async () => {
    const { tables } = setup();
    const scope = tables.forTenant('org_1');
    const row = await scope.encrypt('users', { id: 42, ssn: 'x' });
    expect(await scope.decrypt('users', { ...row, id: '42' })).toEqual({ id: '42', ssn: 'x' });
    expect(await scope.decrypt('users', { ...row, id: 42n })).toEqual({ id: 42n, ssn: 'x' });
  });
});

describe('tenants and moved values', () => {
  test('another tenant can not decrypt (the AAD binds the caller, not the row)', async () => {
    const { tables } = setup();
    const row = await tables.forTenant('org_1').encrypt('users', { id: 'usr_1', ssn: 'x' });
    const e = await rejection(tables.forTenant('org_2').decrypt('users', [row]));
    expect(RowDecryptionError.is(e)).toBe(true);
    const f = (e as RowDecryptionError).failures[0]!;
    expect(f).toMatchObject({ row: 0, table: 'users', column: 'ssn', id: 'usr_1' });
    expect(DecryptionError.is(f.error)).toBe(true);
    expect(e.message).toBe('1 of 1 row failed to decrypt: row 0 users.ssn (DecryptionError)');
  });

  test("a row whose tenant column is another tenant's fails without a key lookup", async () => {
    const { keys, tables } = setup();
    const row = await tables.forTenant('org_1').encrypt('users', ada);
    const before = keys.stats().decrypted;
    const e = await rejection(tables.forTenant('org_2').decrypt('users', [row]));
    expect(keys.stats().decrypted).toBe(before);
    const f = (e as RowDecryptionError).failures;
    expect(f).toHaveLength(1);
    expect(TenantMismatchError.is(f[0]!.error)).toBe(true);
    expect(f[0]!.error.message).toBe(
      "users.org_id holds another tenant than the caller's: the row is not the caller's",
    );
    // Moving the row into org_2's tenant column does not help: the AAD still says org_1.
    const moved = await rejection(tables.forTenant('org_2').decrypt('users', [{ ...row, org_id: 'org_2' }]));
    expect(DecryptionError.is((moved as RowDecryptionError).failures[0]!.error)).toBe(true);
  });

  test('a value copied to another row, column or table fails', async () => {
    const { tables } = setup([users, { ...users, table: 'admins', blindIndexes: {} }]);
    const scope = tables.forTenant('org_1');
    const [a, b] = await scope.encrypt('users', [ada, { ...ada, id: 'usr_2', ssn: '999' }]);
    const rows = await scope.decrypt('users', [{ ...b!, ssn: a!.ssn }], { onRowError: () => {} });
    expect(rows).toEqual([]);
    const column = await rejection(scope.decrypt('users', [{ id: 'usr_1', email: a!.ssn }]));
    expect(DecryptionError.is((column as RowDecryptionError).failures[0]!.error)).toBe(true);
    const table = await rejection(scope.decrypt('admins', [{ id: 'usr_1', ssn: a!.ssn }]));
    expect(DecryptionError.is((table as RowDecryptionError).failures[0]!.error)).toBe(true);
  });

  test('a result set across many tenants: only the caller’s rows decrypt; onRowError keeps them', async () => {
    const { keys, tables } = setup();
    const stored: Record<string, unknown>[] = [];
    for (let t = 0; t < 5; t++) {
      const scope = tables.forTenant(`org_${t}`);
      stored.push(
        ...(await scope.encrypt(
          'users',
          Array.from({ length: 4 }, (_, i) => ({ ...ada, id: `u${t}_${i}`, org_id: `org_${t}` })),
        )),
      );
    }
    const failures: RowFailure[] = [];
    const before = keys.stats().decrypted;
    const rows = await tables
      .forTenant('org_3')
      .decrypt('users', stored, { onRowError: (f) => failures.push(f) });
    expect(keys.stats().decrypted - before).toBe(1);
    expect(rows.map((r) => r.id)).toEqual(['u3_0', 'u3_1', 'u3_2', 'u3_3']);
    expect(rows.every((r) => r.ssn === ada.ssn)).toBe(true);
    expect(failures.map((f) => f.row)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19]);
    expect(failures.every((f) => TenantMismatchError.is(f.error))).toBe(true);
    // Without tenant columns in the result, the AAD refuses them (with a key lookup each).
    const bare = stored.map(({ org_id: _, ...r }) => r);
    const e = await rejection(tables.forTenant('org_3').decrypt('users', bare));
    expect((e as RowDecryptionError).failures.every((f) => DecryptionError.is(f.error))).toBe(true);
    expect(new Set((e as RowDecryptionError).failures.map((f) => f.row)).size).toBe(16);
  });

  test('a tenant function of the row is checked the same way', async () => {
    const { tables } = setup([
      { ...users, tenant: (row) => (row.org === undefined ? undefined : `org_${row.org}`), blindIndexes: {} },
    ]);
    const scope = tables.forTenant('org_1');
    const row = await scope.encrypt('users', { id: 'a', org: 1, ssn: 'x' });
    expect(await scope.decrypt('users', row)).toEqual({ id: 'a', org: 1, ssn: 'x' });
    await expect(scope.encrypt('users', { id: 'a', org: 2, ssn: 'x' })).rejects.toThrow(TenantMismatchError);
    const e = await rejection(scope.decrypt('users', [{ ...row, org: 2 }]));
    expect(TenantMismatchError.is((e as RowDecryptionError).failures[0]!.error)).toBe(true);
  });
});

describe('writes fail closed', () => {
  const { tables } = setup();
  const scope = tables.forTenant('org_1');

  test.each([
    [{ id: 'a', ssn: 42 }, 'users.ssn must be a string (a text column), got number'],
    [{ id: 'a', ssn: 'a\ud800' }, 'users.ssn must be well-formed text, got a lone surrogate at index 1'],
    [{ id: 'a', photo: 'not bytes' }, 'users.photo must be a Uint8Array (a bytes column), got string'],
    [
      { id: 'a', email: 'x', email_idx: 'ff' },
      'users.email_idx is computed from users.email on every write: leave it out of the values',
    ],
    [{ id: 'a', org_id: null, ssn: 'x' }, "users.org_id must hold the row's tenant, got null"],
    [
      { id: 1.5, ssn: 'x' },
      'users.id must be a safe integer, a bigint or a non-empty string, got a fraction',
    ],
  ])('refuses %j', async (row, message) => {
    await expect(scope.encrypt('users', row)).rejects.toThrow(new TypeError(message));
  });

  test('a missing id names what to do', async () => {
    await expect(scope.encrypt('users', { ssn: 'x' })).rejects.toThrow(
      'users.id must be given to encrypt users.ssn (the id is bound into each value): generate ids in the application, or insert the row without its encrypted columns and set them with { id } in the same transaction',
    );
  });

  test('a value that is already a ciphertext is refused (no double encryption)', async () => {
    const row = await scope.encrypt('users', { id: 'a', ssn: 'x' });
    await expect(scope.encrypt('users', row)).rejects.toThrow(
      'users.ssn must be a plaintext, got a value that is already a ciphertext',
    );
  });

  test("another tenant's row is refused", async () => {
    const e = await rejection(scope.encrypt('users', { ...ada, org_id: 'org_2' }));
    expect(TenantMismatchError.is(e) && OrmError.is(e)).toBe(true);
  });

  test('an update set with { id } binds to that row; a disagreeing id is refused', async () => {
    const set = await scope.encrypt('users', { ssn: 'new' }, { id: 'usr_9' });
    expect(await scope.decrypt('users', { id: 'usr_9', ...set })).toEqual({ id: 'usr_9', ssn: 'new' });
    await expect(scope.encrypt('users', { id: 'usr_8', ssn: 'x' }, { id: 'usr_9' })).rejects.toThrow(
      'users: options.id must be the id the values hold in users.id, got another id',
    );
    await expect(scope.encrypt('users', [{ ssn: 'a' }, { ssn: 'b' }], { id: 'usr_9' })).rejects.toThrow(
      'users: options.id must go with one row, got 2 rows',
    );
  });

  test('an undeclared table is a TypeError', async () => {
    await expect(scope.encrypt('posts', { id: 1 })).rejects.toThrow(
      'table posts must be declared to be encrypted or decrypted, got no declaration for it',
    );
  });
});

describe('reads fail closed', () => {
  const { tables } = setup();
  const scope = tables.forTenant('org_1');

  test('a plaintext in a declared column is a FormatError, not a pass-through', async () => {
    const e = await rejection(scope.decrypt('users', [{ id: 'a', ssn: '123-45-6789' }]));
    const f = (e as RowDecryptionError).failures[0]!;
    expect(FormatError.is(f.error)).toBe(true);
    expect(f.error.message).toBe('users.ssn is not a ciphertext');
  });

  test('an encrypted column without its id is a TypeError', async () => {
    const row = await scope.encrypt('users', { id: 'a', ssn: 'x' });
    await expect(scope.decrypt('users', [{ ssn: row.ssn }])).rejects.toThrow(
      'users.id must be in the result to decrypt users.ssn (the id is bound into each value): select it too',
    );
  });

  test('a bytes value stored in a text column decrypts; a text column that holds bytes fails alone', async () => {
    const row = await scope.encrypt('users', { id: 'a', photo: new Uint8Array([0xff, 0xfe]) });
    const failures: RowFailure[] = [];
    const out = await scope.decrypt('users', [{ id: 'a', ssn: row.photo }], {
      onRowError: (f) => failures.push(f),
    });
    expect(out).toEqual([]);
    expect(DecryptionError.is(failures[0]!.error)).toBe(true); // another field name in the AAD
  });

  test('an aborted read rejects with the reason', async () => {
    const row = await scope.encrypt('users', { id: 'a', ssn: 'x' });
    const c = new AbortController();
    c.abort(new Error('stop'));
    await expect(scope.decrypt('users', [row], { signal: c.signal })).rejects.toThrow('stop');
  });

  test('cells given by hand: NOT_SELECTED skips the tenant check', async () => {
    const row = await scope.encrypt('users', { id: 'a', ssn: 'x' });
    const holder = { s: row.ssn };
    const model = tables.table('users');
    const failed = await scope.open(
      [
        {
          table: model,
          column: model.columnByKey.get('ssn')!,
          row: 0,
          holder,
          key: 's',
          value: row.ssn,
          id: 'a',
          tenant: NOT_SELECTED,
        },
      ],
      1,
    );
    expect(failed.size).toBe(0);
    expect(holder.s).toBe('x');
  });
});

describe('blind indexes', () => {
  test('per tenant: the same email gives unrelated values in two tenants; search finds the row', async () => {
    const { tables } = setup();
    const a = await tables.forTenant('org_1').encrypt('users', { id: 'a', email: 'ada@example.com' });
    const b = await tables.forTenant('org_2').encrypt('users', { id: 'b', email: 'ada@example.com' });
    expect(a.email_idx).not.toBe(b.email_idx);
    expect(tables.forTenant('org_1').indexValues('users', 'email_idx', ' ADA@example.com')).toEqual([
      a.email_idx,
    ]);
  });

  test('during a reindex, writes use the newest index and search matches both versions', async () => {
    const { tables } = setup([
      { ...users, blindIndexes: { email_idx: { source: 'email', indexes: [emailIdxV2, emailIdx] } } },
    ]);
    const scope = tables.forTenant('org_1');
    const row = await scope.encrypt('users', { id: 'a', email: 'ada@example.com' });
    expect(blindIndexVersion(row.email_idx as string)).toBe(2);
    const candidates = scope.indexValues('users', 'email_idx', 'ada@example.com');
    expect(candidates.map(blindIndexVersion)).toEqual([2, 0]);
    expect(candidates[1]).toBe(emailIdx.forTenant('org_1').compute('ada@example.com'));
    expect(() => scope.indexValues('users', 'email', 'x')).toThrow(
      'users.email must be a declared blind-index column, got a column that is not one',
    );
  });

  test('a null source nulls its index', async () => {
    const { tables } = setup();
    const row = await tables.forTenant('org_1').encrypt('users', { id: 'a', email: null });
    expect(row).toEqual({ id: 'a', email: null, email_idx: null });
  });
});

describe('declarations', () => {
  const base = users;
  test.each([
    [{ ...base, columns: {} }, RangeError, 'table users: columns must declare at least one column, got none'],
    [
      { ...base, columns: { id: 'text' } },
      TypeError,
      'table users: id must be declared once, got it as the id and as an encrypted column',
    ],
    [
      { ...base, columns: { ssn: 'number' } },
      TypeError,
      "table users: columns.ssn must be 'text', 'bytes' or { kind, storage }, got another string",
    ],
    [
      { ...base, blindIndexes: { idx: { source: 'name', indexes: emailIdx } } },
      TypeError,
      'table users: blindIndexes.idx.source must be the key of an encrypted column of users, got string',
    ],
    [
      { ...base, blindIndexes: { idx: { source: 'email', indexes: [] } } },
      RangeError,
      'table users: blindIndexes.idx.indexes must list at least one BlindIndex, got none',
    ],
    [
      { ...settings, blindIndexes: { idx: { source: 'value', indexes: emailIdx, perTenant: true } } },
      TypeError,
      'table settings: blindIndexes.idx.perTenant needs a table with a tenant, and settings declares none',
    ],
    [{ ...base, colums: {} }, TypeError, 'table users has an unknown option "colums"'],
    [{ ...base, namespace: '' }, RangeError, 'table users: namespace must not be empty, got an empty string'],
  ])('refuses a bad declaration (%#)', (d, type, message) => {
    expect(() => checkTable(d as TableDeclaration)).toThrow(new (type as typeof TypeError)(message));
  });

  test('two declarations of one table are refused', () => {
    expect(() => new EncryptedTables({ keys: new MemoryKeyProvider(), tables: [users, users] })).toThrow(
      'table users must be declared once, got two declarations',
    );
  });

  test('the error guards narrow per class', () => {
    const d = new DeclarationError('x');
    expect(DeclarationError.is(d) && OrmError.is(d)).toBe(true);
    expect(RowDecryptionError.is(d) || TenantMismatchError.is(d)).toBe(false);
    expect(OrmError.is(new Error('x'))).toBe(false);
  });
});

describe('properties', () => {
  const { tables } = setup();
  const row = fc.record({
    id: fc.oneof(
      fc.string({ minLength: 1 }).filter(isText),
      fc.integer(),
      fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
    ),
    email: fc.option(fc.string({ unit: 'grapheme' }), { nil: null }),
    ssn: fc.option(fc.string({ unit: 'grapheme' }), { nil: undefined }),
    photo: fc.option(fc.uint8Array(), { nil: null }),
  });

  test('any row written reads back equal', async () => {
    await fc.assert(
      fc.asyncProperty(row, fc.constantFrom('org_1', 'org|2', 'org%3'), async (r, tenant) => {
        const scope = tables.forTenant(tenant);
        const plain = Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined));
        const stored = await scope.encrypt('users', plain);
        const back = await scope.decrypt('users', stored);
        const { email_idx: _, ...rest } = back as Record<string, unknown>;
        expect(rest).toEqual(plain);
      }),
      { numRuns: 60 },
    );
  });

  test('any move to another tenant, row or column fails', async () => {
    const scope = tables.forTenant('org_1');
    const stored = await scope.encrypt('users', { id: 'a', email: 'e', ssn: 's' });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('tenant', 'row', 'column'),
        fc
          .string({ minLength: 1, maxLength: 8 })
          .filter((s) => /^[a-z0-9_]+$/.test(s) && s !== 'a' && s !== 'org_1'),
        async (move, other) => {
          let failed = false;
          const onRowError = () => {
            failed = true;
          };
          if (move === 'tenant')
            await tables.forTenant(other).decrypt('users', { id: 'a', ssn: stored.ssn }, { onRowError });
          if (move === 'row') await scope.decrypt('users', { id: other, ssn: stored.ssn }, { onRowError });
          if (move === 'column') await scope.decrypt('users', { id: 'a', email: stored.ssn }, { onRowError });
          expect(failed).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });
});
