// The field helpers for many records (encryptFieldsMany, decryptFieldsMany): the same bytes and
// the same fail-closed checks as the single-record helpers, per record, with one batch per call
// (one createDataKey per distinct key context, one key lookup per distinct wrapped key), a
// result per record in input order, and nothing partial or unzeroed left of a failed record.
import {
  type BatchResult,
  type CreateDataKeyOptions,
  type DataKey,
  DecryptionError,
  Envelope,
  FormatError,
  fieldAad,
  isCiphertext,
  type KeyContext,
  type KeyProvider,
  type KeyRequestOptions,
  MemoryKeyProvider,
} from '@vault-envelope/core';
import fc from 'fast-check';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { rejection } from '../../../test/_shared.js';

const context = { organization_id: 'org_1' };
const TENANT = 'org_1';

/** A MemoryKeyProvider that records every key request: contexts, usages and wrapped keys. */
class CountingProvider implements KeyProvider {
  readonly inner = new MemoryKeyProvider();
  readonly keyBlobHeaders = this.inner.keyBlobHeaders;
  creates: { context: KeyContext; usage: CreateDataKeyOptions['usage'] }[] = [];
  lookups: Uint8Array[] = [];
  createDataKey(ctx: KeyContext, options?: CreateDataKeyOptions): Promise<DataKey> {
    this.creates.push({ context: ctx, usage: options?.usage });
    return this.inner.createDataKey(ctx, options);
  }
  decryptDataKey(blob: Uint8Array, options?: KeyRequestOptions): Promise<DataKey> {
    this.lookups.push(blob.slice());
    return this.inner.decryptDataKey(blob, options);
  }
  reset(): void {
    this.creates = [];
    this.lookups = [];
  }
}

interface User {
  id: number;
  name: string;
  ssn: string;
  dob: string | null;
}

const users = (n: number, from = 0): User[] =>
  Array.from({ length: n }, (_, i) => ({
    id: from + i,
    name: `User ${from + i}`,
    ssn: `${100 + i}-45-6789`,
    dob: i % 3 === 0 ? null : `19${50 + i}-01-01`,
  }));

const value = <T>(r: BatchResult<T>): T => {
  if (!r.ok) throw r.error;
  return r.value;
};
const failure = (r: BatchResult<unknown>): Error => {
  if (r.ok) throw new Error('expected a failed result');
  return r.error;
};

/** The error a promise rejects with (fails the test if it resolves). */
/**
 * Records a copy of every Uint8Array zeroed with `fill(0)` while it is on, so that a test can
 * see that bytes holding a given plaintext were zeroed (they are not returned to it).
 */
function watchZeroing(): { zeroed: Uint8Array[] } {
  const zeroed: Uint8Array[] = [];
  const fill = Uint8Array.prototype.fill;
  vi.spyOn(Uint8Array.prototype, 'fill').mockImplementation(function (this: Uint8Array, ...args) {
    if (args[0] === 0 && this.length > 0) zeroed.push(Uint8Array.prototype.slice.call(this));
    return fill.apply(this, args);
  });
  return { zeroed };
}
afterEach(() => {
  vi.restoreAllMocks();
});
const holds = (list: readonly Uint8Array[], bytes: Uint8Array) =>
  list.some((z) => z.length === bytes.length && z.every((b, i) => b === bytes[i]));

describe('round trips', () => {
  test('many records come back in input order; unlisted fields and nulls are copied; the records are not modified', async () => {
    const envelope = new Envelope({ keys: new MemoryKeyProvider() });
    const page = users(25);
    const before = structuredClone(page);
    const opts = { fields: ['ssn', 'dob'] as const, id: 'id' as const, tenant: TENANT, namespace: 'users' };
    const written = (await envelope.encryptFieldsMany(page, { ...opts, context })).map(value);
    expect(page).toEqual(before);
    expect(written.map((r) => r.id)).toEqual(page.map((u) => u.id));
    for (const [i, row] of written.entries()) {
      expect(isCiphertext(row.ssn)).toBe(true);
      expect(row.dob === null).toBe(page[i]!.dob === null);
      expect(row.name).toBe(page[i]!.name);
    }
    const read = (await envelope.decryptFieldsMany(written, opts)).map(value);
    expect(read).toEqual(page);
    // The copies keep the records' property order, a null field included.
    for (const [i, r] of read.entries()) expect(Object.keys(r)).toEqual(Object.keys(page[i]!));
    expect(Object.keys(written[0]!)).toEqual(['id', 'name', 'ssn', 'dob']);
  });

  test('an empty list makes no key request and returns an empty list', async () => {
    const keys = new CountingProvider();
    const envelope = new Envelope({ keys });
    expect(await envelope.encryptFieldsMany([], { fields: ['ssn'], id: 'id', context })).toEqual([]);
    expect(await envelope.decryptFieldsMany([], { fields: ['ssn'], id: 'id' })).toEqual([]);
    expect(keys.creates.length + keys.lookups.length).toBe(0);
  });

  test('bytes fields decrypt to Uint8Array and text fields to strings, per record', async () => {
    const envelope = new Envelope({ keys: new MemoryKeyProvider() });
    const rows = [
      { id: 'a', photo: new Uint8Array([0xff, 0, 0x80]), caption: 'me' },
      { id: 'b', photo: new Uint8Array([]), caption: '' },
    ];
    const fields = { photo: 'bytes', caption: 'text' } as const;
    const written = (await envelope.encryptFieldsMany(rows, { fields, id: 'id', context })).map(value);
    const read = (await envelope.decryptFieldsMany(written, { fields, id: 'id' })).map(value);
    expect(read).toEqual(rows);
    expect(read[0]!.photo).toBeInstanceOf(Uint8Array);
  });

  test('what encryptFieldsMany binds is exactly fieldAad (the bytes the ORM integrations and other languages use)', async () => {
    const envelope = new Envelope({ keys: new MemoryKeyProvider() });
    const [row] = (
      await envelope.encryptFieldsMany([{ id: 42n, ssn: '123-45-6789' }], {
        fields: ['ssn'],
        id: 'id',
        tenant: TENANT,
        namespace: 'users',
        context,
      })
    ).map(value);
    const aad = fieldAad({ tenant: TENANT, namespace: 'users', id: 42, field: 'ssn' });
    expect(await envelope.decryptToString(row!.ssn, { aad })).toBe('123-45-6789');
    // And a value encrypted by hand under fieldAad reads through decryptFieldsMany.
    const byHand = await envelope.encrypt('x', { context, aad });
    const [back] = await envelope.decryptFieldsMany([{ id: '42', ssn: byHand }], {
      fields: ['ssn'],
      id: 'id',
      tenant: TENANT,
      namespace: 'users',
    });
    expect(value(back!).ssn).toBe('x');
  });
});

describe('one batch per call', () => {
  test('N records under one context: one createDataKey, with the whole call as its usage', async () => {
    const keys = new CountingProvider();
    const envelope = new Envelope({ keys });
    const page = users(40);
    const results = await envelope.encryptFieldsMany(page, {
      fields: ['ssn', 'dob'],
      id: 'id',
      tenant: TENANT,
      context,
    });
    expect(results.every((r) => r.ok)).toBe(true);
    const present = page.flatMap((u) => [u.ssn, u.dob].filter((v): v is string => v !== null));
    expect(keys.creates).toEqual([
      {
        context,
        usage: { messages: present.length, bytes: present.reduce((n, v) => n + v.length, 0) },
      },
    ]);
    // A loop of encryptFields asks once per record.
    keys.reset();
    for (const u of page)
      await envelope.encryptFields(u, { fields: ['ssn'], id: u.id, tenant: TENANT, context });
    expect(keys.creates.length).toBe(page.length);
  });

  test('a context per record: one createDataKey per distinct context (equal up to key order)', async () => {
    const keys = new CountingProvider();
    const envelope = new Envelope({ keys });
    const page = users(30);
    const seen: number[] = [];
    const results = await envelope.encryptFieldsMany(page, {
      fields: ['ssn'],
      id: 'id',
      tenant: TENANT,
      context: (u, index) => {
        seen.push(index);
        const region = ['eu', 'us', 'ap'][u.id % 3]!;
        // Key order differs from record to record: the same context all the same.
        return u.id % 2 === 0 ? { organization_id: TENANT, region } : { region, organization_id: TENANT };
      },
    });
    expect(seen).toEqual(page.map((_, i) => i));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(keys.creates.map((c) => c.context.region).sort()).toEqual(['ap', 'eu', 'us']);
    expect(keys.creates.map((c) => c.usage?.messages)).toEqual([10, 10, 10]);
    const read = await envelope.decryptFieldsMany(
      results.map((r) => value(r)),
      { fields: ['ssn'], id: 'id', tenant: TENANT },
    );
    expect(read.map((r) => value(r).ssn)).toEqual(page.map((u) => u.ssn));
  });

  test('N rows under k wrapped keys: k key lookups, where decryptFields asks once per row', async () => {
    const keys = new CountingProvider();
    const envelope = new Envelope({ keys });
    const k = 4;
    const stored: { id: number; name: string; ssn: string; dob: string | null }[] = [];
    for (let b = 0; b < k; b++) {
      const chunk = users(25, b * 25);
      const r = await envelope.encryptFieldsMany(chunk, {
        fields: ['ssn', 'dob'],
        id: 'id',
        tenant: TENANT,
        context,
      });
      stored.push(...r.map(value));
    }
    expect(keys.creates.length).toBe(k);
    keys.reset();
    const read = await envelope.decryptFieldsMany(stored, {
      fields: ['ssn', 'dob'],
      id: 'id',
      tenant: TENANT,
    });
    expect(read.every((r) => r.ok)).toBe(true);
    expect(keys.lookups.length).toBe(k);
    expect(new Set(keys.lookups.map((b) => Buffer.from(b).toString('base64'))).size).toBe(k);
    keys.reset();
    for (const row of stored) {
      await envelope.decryptFields(row, { fields: ['ssn', 'dob'], id: row.id as number, tenant: TENANT });
    }
    expect(keys.lookups.length).toBe(stored.length);
  });
});

describe('the record id', () => {
  const envelope = new Envelope({ keys: new MemoryKeyProvider() });

  test('a function gets each record and its index; its id is bound as decryptFields binds it', async () => {
    const rows = [{ ssn: 'a' }, { ssn: 'b' }];
    const ids = ['u-1', 'u-2'];
    const calls: [unknown, number][] = [];
    const written = (
      await envelope.encryptFieldsMany(rows, {
        fields: ['ssn'],
        id: (record, index) => {
          calls.push([record, index]);
          return ids[index]!;
        },
        context,
      })
    ).map(value);
    expect(calls).toEqual([
      [rows[0], 0],
      [rows[1], 1],
    ]);
    expect((await envelope.decryptFields(written[1]!, { fields: ['ssn'], id: 'u-2' })).ssn).toBe('b');
    const e = await rejection(envelope.decryptFields(written[1]!, { fields: ['ssn'], id: 'u-1' }));
    expect(e).toBeInstanceOf(DecryptionError);
  });

  test('an id property is read once, with the snapshot; an accessor on the prototype works', async () => {
    class Entity {
      reads = 0;
      readonly #id: number;
      constructor(
        id: number,
        readonly ssn: string,
      ) {
        this.#id = id;
      }
      get id(): number {
        this.reads++;
        return this.#id;
      }
    }
    const entities = [new Entity(1, 'x'), new Entity(2, 'y')];
    const written = (await envelope.encryptFieldsMany(entities, { fields: ['ssn'], id: 'id', context })).map(
      value,
    );
    expect(entities.map((e) => e.reads)).toEqual([1, 1]);
    const back = await envelope.decryptFields(written[1]!, { fields: ['ssn'], id: 2 });
    expect(back.ssn).toBe('y');
    // An own id property is read once too (a counting proxy).
    let reads = 0;
    const proxy = new Proxy(
      { id: 7, ssn: 'z' },
      {
        get(t, key, receiver) {
          if (key === 'id') reads++;
          return Reflect.get(t, key, receiver);
        },
      },
    );
    const [r] = await envelope.encryptFieldsMany([proxy], { fields: ['ssn'], id: 'id', context });
    expect(reads).toBe(1);
    expect(value(r!).id).toBe(7);
  });

  test('a record without its id property, or with a refused id, fails alone with a message naming it', async () => {
    const rows = [
      { id: 1, ssn: 'a' },
      { ssn: 'b' },
      { id: Number.NaN, ssn: 'c' },
      { id: '', ssn: 'd' },
      { id: 5, ssn: 'e' },
    ];
    const results = await envelope.encryptFieldsMany(rows as { id: number; ssn: string }[], {
      fields: ['ssn'],
      id: 'id',
      context,
    });
    expect(results.map((r) => r.ok)).toEqual([true, false, false, false, true]);
    expect(failure(results[1]!)).toEqual(
      new TypeError('records[1] must have the id property "id", got no such property'),
    );
    expect(failure(results[2]!)).toEqual(
      new TypeError('id must be a safe integer, a bigint or a non-empty string, got NaN'),
    );
    expect(failure(results[3]!)).toEqual(new RangeError('id must not be empty, got an empty string'));
    // A function that throws fails its record with that error.
    const [bad] = await envelope.decryptFieldsMany([{ id: 1, ssn: 'x' }], {
      fields: ['ssn'],
      id: () => {
        throw new Error('no id here');
      },
    });
    expect(failure(bad!).message).toBe('no id here');
  });

  test('an id option that is neither a property name nor a function, or names a listed field, is thrown', async () => {
    const rows = [{ id: 1, ssn: 'a' }];
    await expect(
      envelope.encryptFieldsMany(rows, { fields: ['ssn'], id: 1, context } as never),
    ).rejects.toThrow(
      new TypeError('id must be a property name or a function (record, index) => id, got number'),
    );
    await expect(envelope.decryptFieldsMany(rows, { fields: ['ssn'], id: '' } as never)).rejects.toThrow(
      new TypeError('id must be a property name or a function (record, index) => id, got an empty string'),
    );
    await expect(envelope.decryptFieldsMany(rows, { fields: ['ssn'] } as never)).rejects.toThrow(
      new TypeError('id must be a property name or a function (record, index) => id, got undefined'),
    );
    await expect(
      envelope.encryptFieldsMany(rows, { fields: ['ssn', 'id'], id: 'id', context } as never),
    ).rejects.toThrow(new TypeError('id must not be a listed field, got a listed field'));
  });
});

describe('argument errors are thrown; record errors are results', () => {
  const keys = new CountingProvider();
  const envelope = new Envelope({ keys });

  test('records that are not an array, and bad options, reject the call before any key request', async () => {
    keys.reset();
    for (const [records, kind] of [
      [undefined, 'undefined'],
      [{ 0: { id: 1 } }, 'object'],
      [Promise.resolve([]), 'Promise'],
      ['rows', 'string'],
    ] as const) {
      await expect(
        envelope.encryptFieldsMany(records as unknown as User[], { fields: ['ssn'], id: 'id', context }),
      ).rejects.toThrow(new TypeError(`records must be an array, got ${kind}`));
      await expect(
        envelope.decryptFieldsMany(records as unknown as User[], { fields: ['ssn'], id: 'id' }),
      ).rejects.toThrow(new TypeError(`records must be an array, got ${kind}`));
    }
    const rows = users(2);
    const enc = (o: object) =>
      envelope.encryptFieldsMany(rows, { fields: ['ssn'], id: 'id', context, ...o } as never);
    await expect(enc({ tenat: TENANT })).rejects.toThrow(
      new TypeError('field options has an unknown option "tenat"'),
    );
    await expect(enc({ fields: [] })).rejects.toThrow(
      new RangeError('fields must list at least one field, got none'),
    );
    await expect(enc({ tenant: '' })).rejects.toThrow(
      new RangeError('tenant must not be empty, got an empty string'),
    );
    await expect(enc({ context: undefined })).rejects.toThrow(/^context must be an object, got undefined$/);
    await expect(enc({ optional: ['dob'] })).rejects.toThrow(
      new TypeError('optional[0] must be one of the listed fields, got string'),
    );
    await expect(
      envelope.decryptFieldsMany(rows, { fields: ['ssn'], id: 'id', legacyAad: 1 } as never),
    ).rejects.toThrow(new TypeError('legacyAad must be a boolean, got number'));
    await expect(
      envelope.decryptFieldsMany(rows, { fields: ['ssn'], id: 'id', context } as never),
    ).rejects.toThrow(new TypeError('field options has an unknown option "context"'));
    await expect(envelope.decryptFieldsMany(rows, undefined as never)).rejects.toThrow(
      new TypeError('field options must be an object, got undefined'),
    );
    // A context function is for many records only.
    await expect(
      envelope.encryptFields(rows[0]!, { fields: ['ssn'], id: 0, context: () => context } as never),
    ).rejects.toThrow(/^context must be an object, got function$/);
    expect(keys.creates.length + keys.lookups.length).toBe(0);
  });

  test('with requireTenant, a call without a tenant is thrown before any key request', async () => {
    const strictKeys = new CountingProvider();
    const strict = new Envelope({ keys: strictKeys, requireTenant: true });
    const message = 'tenant must be a non-empty string (this Envelope has requireTenant set), got undefined';
    await expect(strict.encryptFieldsMany(users(2), { fields: ['ssn'], id: 'id', context })).rejects.toThrow(
      new TypeError(message),
    );
    const written = (
      await strict.encryptFieldsMany(users(2), { fields: ['ssn'], id: 'id', tenant: TENANT, context })
    ).map(value);
    await expect(strict.decryptFieldsMany(written, { fields: ['ssn'], id: 'id' })).rejects.toThrow(
      new TypeError(message),
    );
    expect(strictKeys.creates.length).toBe(1);
    expect(strictKeys.lookups.length).toBe(0);
  });

  test('every fail-closed check of encryptFields, per record: the others are encrypted, under one key', async () => {
    keys.reset();
    const getterReads = { n: 0 };
    const good = { id: 1, ssn: 'a', dob: null };
    const records: unknown[] = [
      good,
      Promise.resolve(good),
      [good],
      null,
      { id: 4, dob: null },
      { id: 5, ssn: 5, dob: null },
      { id: 6, ssn: 'a\ud800', dob: null },
      { id: 7, ssn: new Uint8Array(1), dob: null },
      {
        id: 8,
        dob: null,
        get ssn() {
          getterReads.n++;
          return getterReads.n === 1 ? null : 'leaked';
        },
      },
      { id: 9, ssn: 'b' },
      // A good field before a bad one: the good one must not reach the batch either.
      { id: 10, ssn: 'c', dob: 5 },
    ];
    const results = await envelope.encryptFieldsMany(
      records as { id: number; ssn: string | null; dob?: string | null }[],
      {
        fields: ['ssn', 'dob'],
        id: 'id',
        optional: ['dob'],
        context,
      },
    );
    const errors = results.map((r) => (r.ok ? undefined : r.error));
    expect(errors.slice(1, 8)).toEqual([
      new TypeError('records[1] must be an object, got Promise'),
      new TypeError('records[2] must be an object, got array'),
      new TypeError('records[3] must be an object, got null'),
      new TypeError(
        'records[4] must have the listed field "ssn" (name it in optional if it may be absent), got no such property',
      ),
      new TypeError('field "ssn" must be a string (a text field), got number'),
      new TypeError('field "ssn" must be well-formed text, got a lone surrogate at index 1'),
      new TypeError('field "ssn" must be a string (a text field), got Uint8Array'),
    ]);
    expect(errors[0]).toBeUndefined();
    // The getter was read once: its null stays null, the later value never appears.
    expect(getterReads.n).toBe(1);
    expect(value(results[8]!).ssn).toBeNull();
    expect(JSON.stringify(results.filter((r) => r.ok))).not.toContain('leaked');
    // 'dob' absent and optional in the last record.
    expect('dob' in value(results[9]!)).toBe(false);
    expect(failure(results[10]!)).toEqual(
      new TypeError('field "dob" must be a string (a text field), got number'),
    );
    expect(keys.creates.length).toBe(1);
    expect(keys.creates[0]!.usage).toEqual({ messages: 2, bytes: 2 });
  });

  test('every fail-closed check of decryptFields, per record: the others are decrypted', async () => {
    keys.reset();
    const written = (
      await envelope.encryptFieldsMany(users(6), { fields: ['ssn'], id: 'id', tenant: TENANT, context })
    ).map(value);
    const records: unknown[] = [
      written[0],
      Promise.resolve(written[1]),
      { ...written[2], ssn: '123-45-6789' },
      { ...written[3], ssn: true },
      { id: 4, name: 'x' },
      written[5],
    ];
    const results = await envelope.decryptFieldsMany(records as User[], {
      fields: ['ssn'],
      id: 'id',
      tenant: TENANT,
    });
    expect(results.map((r) => r.ok)).toEqual([true, false, false, false, false, true]);
    expect(failure(results[1]!)).toEqual(new TypeError('records[1] must be an object, got Promise'));
    const notCt = failure(results[2]!);
    expect(notCt).toBeInstanceOf(FormatError);
    expect(notCt).toMatchObject({ field: 'ssn' });
    expect(notCt.message).toMatch(/^field "ssn" is not a ciphertext: /);
    expect(notCt.message).not.toContain('123-45-6789');
    expect(failure(results[3]!)).toEqual(
      new TypeError('field "ssn" must be a ciphertext (base64 text or a Uint8Array), got boolean'),
    );
    expect(failure(results[4]!)).toEqual(
      new TypeError(
        'records[4] must have the listed field "ssn" (name it in optional if it may be absent), got no such property',
      ),
    );
    expect(value(results[5]!).ssn).toBe(users(6)[5]!.ssn);
    expect(keys.lookups.length).toBe(1);
  });

  test('a failure of the key provider fails the records of its group, and only them', async () => {
    const mem = new MemoryKeyProvider();
    const down: KeyProvider = {
      keyBlobHeaders: mem.keyBlobHeaders,
      createDataKey: (ctx, o) =>
        ctx.region === 'down' ? Promise.reject(new Error('503 from Vault')) : mem.createDataKey(ctx, o),
      decryptDataKey: (blob, o) => mem.decryptDataKey(blob, o),
    };
    const e2 = new Envelope({ keys: down });
    const results = await e2.encryptFieldsMany(users(4), {
      fields: ['ssn'],
      id: 'id',
      context: (u) => ({ organization_id: TENANT, region: u.id % 2 === 0 ? 'up' : 'down' }),
    });
    expect(results.map((r) => (r.ok ? 'ok' : r.error.message))).toEqual([
      'ok',
      '503 from Vault',
      'ok',
      '503 from Vault',
    ]);
  });
});

describe('tenants and moves', () => {
  test('a value moved to another row fails that record only; a whole page read as another tenant fails', async () => {
    const envelope = new Envelope({ keys: new MemoryKeyProvider() });
    const page = users(6);
    const written = (
      await envelope.encryptFieldsMany(page, {
        fields: ['ssn', 'dob'],
        id: 'id',
        tenant: TENANT,
        namespace: 'users',
        context,
      })
    ).map(value);
    // Row 4's ssn copied into row 1.
    const tampered = written.map((r) => ({ ...r }));
    tampered[1]!.ssn = written[4]!.ssn;
    const opts = { fields: ['ssn', 'dob'] as const, id: 'id' as const, namespace: 'users' };
    const results = await envelope.decryptFieldsMany(tampered, { ...opts, tenant: TENANT });
    expect(results.map((r) => r.ok)).toEqual([true, false, true, true, true, true]);
    const e = failure(results[1]!);
    expect(e).toBeInstanceOf(DecryptionError);
    expect(e).toMatchObject({ field: 'ssn' });
    expect(e.message).toBe(
      'decryption failed for field "ssn": wrong key, wrong AAD or a modified ciphertext',
    );
    expect(value(results[4]!).ssn).toBe(page[4]!.ssn);
    // The same rows read by another tenant (a query that forgot its tenant filter): every record fails.
    const other = await envelope.decryptFieldsMany(written, { ...opts, tenant: 'org_2' });
    expect(other.every((r) => !r.ok && DecryptionError.is(r.error))).toBe(true);
    // Another namespace too.
    const table = await envelope.decryptFieldsMany(written, { ...opts, tenant: TENANT, namespace: 'admins' });
    expect(table.every((r) => !r.ok && DecryptionError.is(r.error))).toBe(true);
  });

  test('any value moved to another record, field or tenant fails for that record only (property)', async () => {
    const envelope = new Envelope({ keys: new MemoryKeyProvider() });
    const fields = ['ssn', 'dob'] as const;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 8 }),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(...fields), fc.nat(), fc.constantFrom(...fields)), {
          maxLength: 4,
        }),
        fc.constantFrom(TENANT, 'org_2'),
        async (n, moves, writer) => {
          const page = users(n).map((u) => ({ ...u, dob: `d${u.id}` }));
          const written = (
            await envelope.encryptFieldsMany(page, { fields, id: 'id', tenant: writer, context })
          ).map(value);
          const rows = written.map((r) => ({ ...r }));
          const moved = new Set<number>();
          for (const [a, fa, b, fb] of moves) {
            const [from, to] = [a % n, b % n];
            if (from === to && fa === fb) continue;
            rows[to]![fb] = written[from]![fa] as string;
            moved.add(to);
          }
          const results = await envelope.decryptFieldsMany(rows, { fields, id: 'id', tenant: TENANT });
          results.forEach((r, i) => {
            if (writer !== TENANT || moved.has(i)) {
              expect(r.ok).toBe(false);
              expect(DecryptionError.is((r as { error: Error }).error)).toBe(true);
            } else expect(value(r)).toEqual(page[i]);
          });
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('old data', () => {
  test('legacyAad reads version-0 values in a page that also holds version-1 ones', async () => {
    const envelope = new Envelope({ keys: new MemoryKeyProvider() });
    const v0 = await envelope.encrypt('old', { context, aad: JSON.stringify(['users', '1', 'ssn']) });
    const [v1] = (
      await envelope.encryptFieldsMany([{ id: 2, ssn: 'new' }], {
        fields: ['ssn'],
        id: 'id',
        namespace: 'users',
        context,
      })
    ).map(value);
    const rows = [{ id: 1, ssn: v0 }, v1!, { id: 3, ssn: v0 }];
    const opts = { fields: ['ssn'] as const, id: 'id' as const, namespace: 'users' };
    const strict = await envelope.decryptFieldsMany(rows, opts);
    expect(strict.map((r) => r.ok)).toEqual([false, true, false]);
    const read = await envelope.decryptFieldsMany(rows, { ...opts, legacyAad: true });
    expect(read.map((r) => r.ok)).toEqual([true, true, false]);
    expect(read.slice(0, 2).map((r) => value(r).ssn)).toEqual(['old', 'new']);
    expect(failure(read[2]!)).toBeInstanceOf(DecryptionError);
  });

  test('allowPlaintext serves plaintexts, counted and reported with their record, only for records that succeed', async () => {
    const envelope = new Envelope({ keys: new MemoryKeyProvider() });
    const [a, b] = (
      await envelope.encryptFieldsMany(
        [
          { id: 1, ssn: 's1' },
          { id: 2, ssn: 's2' },
        ],
        { fields: ['ssn'], id: 'id', context },
      )
    ).map(value);
    const rows = [
      { ...a!, dob: '1815-12-10' },
      { id: 2, ssn: a!.ssn, dob: '1900-01-01' },
      { ...b!, dob: 'x' },
    ];
    const fields = ['ssn', 'dob'] as const;
    const off = await envelope.decryptFieldsMany(rows, { fields, id: 'id' });
    expect(off.every((r) => !r.ok && FormatError.is(r.error))).toBe(true);
    const seen: [string, number][] = [];
    const on = await envelope.decryptFieldsMany(rows, {
      fields,
      id: 'id',
      allowPlaintext: true,
      onPlaintext: (field, index) => seen.push([field, index]),
    });
    expect(on.map((r) => r.ok)).toEqual([true, false, true]);
    expect(value(on[0]!)).toEqual({ id: 1, ssn: 's1', dob: '1815-12-10' });
    expect(seen).toEqual([
      ['dob', 0],
      ['dob', 2],
    ]);
    expect(envelope.stats()).toEqual({ plaintextServed: 2 });
  });
});

describe('nothing partial, nothing unzeroed', () => {
  test('a record with one failed field has no result; its decrypted plaintext bytes are zeroed', async () => {
    const envelope = new Envelope({ keys: new MemoryKeyProvider() });
    const photo = new Uint8Array([9, 8, 7, 6, 5, 4, 3, 2, 1]);
    const binary = new Uint8Array([0xff, 0xfe, 0xfd, 0x80]);
    const [row] = (
      await envelope.encryptFieldsMany([{ id: 1, photo, note: binary, ssn: 'ssn-1' }], {
        fields: { photo: 'bytes', note: 'bytes', ssn: 'text' },
        id: 'id',
        context,
      })
    ).map(value);
    const [other] = (
      await envelope.encryptFieldsMany([{ id: 2, photo, ssn: 'ssn-2' }], {
        fields: { photo: 'bytes', ssn: 'text' },
        id: 'id',
        context,
      })
    ).map(value);
    // Record 0: 'note' is binary read as text (invalid UTF-8), after 'photo' decrypted.
    // Record 1: its 'ssn' is record 2's (moved), after 'photo' decrypted.
    const { zeroed } = watchZeroing();
    const results = await envelope.decryptFieldsMany(
      [
        { id: 1, photo: row!.photo, note: row!.note },
        { id: 1, photo: row!.photo, note: other!.ssn },
      ],
      { fields: { photo: 'bytes', note: 'text' }, id: 'id' },
    );
    vi.restoreAllMocks();
    expect(failure(results[0]!)).toBeInstanceOf(FormatError);
    expect(failure(results[0]!).message).toMatch(/^field "note": the plaintext is not valid UTF-8/);
    expect(failure(results[1]!)).toBeInstanceOf(DecryptionError);
    // Both records decrypted photo, and both copies were zeroed; so was the binary note.
    expect(zeroed.filter((z) => holds([z], photo)).length).toBe(2);
    expect(holds(zeroed, binary)).toBe(true);
  });

  test('the same holds for decryptFields: a failed record zeroes a bytes field decrypted before the failure', async () => {
    const envelope = new Envelope({ keys: new MemoryKeyProvider() });
    const photo = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const row = await envelope.encryptFields(
      { id: 1, photo, note: new Uint8Array([0xff, 0xff]) },
      { fields: { photo: 'bytes', note: 'bytes' }, id: 1, context },
    );
    const { zeroed } = watchZeroing();
    const e = await rejection(
      envelope.decryptFields(row, { fields: { photo: 'bytes', note: 'text' }, id: 1 }),
    );
    vi.restoreAllMocks();
    expect(e).toBeInstanceOf(FormatError);
    expect(holds(zeroed, photo)).toBe(true);
  });
});

describe('abort', () => {
  test('an aborted signal rejects with its reason before any key request', async () => {
    const keys = new CountingProvider();
    const envelope = new Envelope({ keys });
    const written = (await envelope.encryptFieldsMany(users(3), { fields: ['ssn'], id: 'id', context })).map(
      value,
    );
    keys.reset();
    const reason = new Error('request gone');
    const signal = AbortSignal.abort(reason);
    expect(
      await rejection(envelope.encryptFieldsMany(users(3), { fields: ['ssn'], id: 'id', context, signal })),
    ).toBe(reason);
    expect(await rejection(envelope.decryptFieldsMany(written, { fields: ['ssn'], id: 'id', signal }))).toBe(
      reason,
    );
    expect(await rejection(envelope.decryptFields(written[0]!, { fields: ['ssn'], id: 0, signal }))).toBe(
      reason,
    );
    expect(keys.creates.length + keys.lookups.length).toBe(0);
  });

  test('aborted while the keys are fetched: the call rejects with the reason and every decrypted plaintext is zeroed', async () => {
    const mem = new MemoryKeyProvider();
    const controller = new AbortController();
    // A provider that answers even though the signal was aborted meanwhile.
    const slow: KeyProvider = {
      keyBlobHeaders: mem.keyBlobHeaders,
      createDataKey: (ctx) => mem.createDataKey(ctx),
      decryptDataKey: async (blob) => {
        controller.abort(new Error('client went away'));
        return mem.decryptDataKey(blob);
      },
    };
    const envelope = new Envelope({ keys: slow });
    const photo = new Uint8Array([42, 43, 44, 45, 46, 47]);
    const written = (
      await envelope.encryptFieldsMany([{ id: 1, photo }], { fields: { photo: 'bytes' }, id: 'id', context })
    ).map(value);
    const { zeroed } = watchZeroing();
    const e = await rejection(
      envelope.decryptFieldsMany(written, {
        fields: { photo: 'bytes' },
        id: 'id',
        signal: controller.signal,
      }),
    );
    vi.restoreAllMocks();
    expect(e.message).toBe('client went away');
    expect(holds(zeroed, photo)).toBe(true);
  });
});

// ---- equivalence with the single-record helpers ----

const names = fc.constantFrom('ssn', 'dob', 'note', 'photo');
const plainValue = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.uint8Array({ maxLength: 12 }),
  fc.constantFrom(null, undefined),
  fc.integer(),
  fc.constant(Promise.resolve('x')),
);
const kindsArb = fc.array(fc.constantFrom('text', 'bytes') as fc.Arbitrary<'text' | 'bytes'>, {
  minLength: 4,
  maxLength: 4,
});

type Outcome = { ok: true; value: unknown } | { ok: false; type: string; message: string };
const outcome = (r: BatchResult<unknown>): Outcome =>
  r.ok
    ? { ok: true, value: r.value }
    : { ok: false, type: r.error.constructor.name, message: r.error.message };
async function settle(p: Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: await p };
  } catch (e) {
    return { ok: false, type: (e as Error).constructor.name, message: (e as Error).message };
  }
}
/** Strips a record-level title, the one thing the two helpers name differently. */
const unindexed = (o: Outcome): Outcome =>
  o.ok ? o : { ...o, message: o.message.replace(/^records\[\d+\]/, 'record') };

describe('equivalence with encryptFields and decryptFields (properties)', () => {
  const envelope = new Envelope({ keys: new MemoryKeyProvider() });

  test('encryptFieldsMany fails exactly the records encryptFields refuses, with the same errors, and never returns plaintext', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.dictionary(names, plainValue, { maxKeys: 4 }), fc.constant(null)), {
          maxLength: 6,
        }),
        fc.uniqueArray(names, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        kindsArb,
        async (records, listed, asObject, kinds) => {
          const fields = asObject ? Object.fromEntries(listed.map((n, i) => [n, kinds[i]!])) : listed;
          const many = await envelope.encryptFieldsMany(
            records as never[],
            {
              fields,
              id: (_r: unknown, i: number) => i + 1,
              tenant: TENANT,
              context,
            } as never,
          );
          expect(many.length).toBe(records.length);
          for (const [i, r] of many.entries()) {
            const single = await settle(
              envelope.encryptFields(
                records[i] as never,
                { fields, id: i + 1, tenant: TENANT, context } as never,
              ),
            );
            const m = unindexed(outcome(r));
            expect(m.ok).toBe(single.ok);
            if (!m.ok) {
              expect(m).toEqual(single);
              continue;
            }
            // Ciphertexts differ (fresh IVs, keys): compare what they decrypt to, with the other helper.
            const out = m.value as Record<string, unknown>;
            const rec = records[i] as Record<string, unknown>;
            for (const name of listed) {
              const v = rec[name];
              if (v === null || v === undefined) expect(out[name]).toBe(v);
              else expect(isCiphertext(out[name])).toBe(true);
            }
            const back = await envelope.decryptFields(out, {
              fields,
              id: i + 1,
              tenant: TENANT,
              optional: listed,
            } as never);
            const singleBack = await envelope.decryptFieldsMany([(single as { value: object }).value], {
              fields,
              id: () => i + 1,
              tenant: TENANT,
              optional: listed,
            } as never);
            expect(value(singleBack[0]!)).toEqual(back);
            expect(back).toEqual(rec);
          }
        },
      ),
      { numRuns: 120 },
    );
  });

  test('decryptFieldsMany(rows) equals rows mapped through decryptFields, for any page with moved, plaintext, missing or mistyped values', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            ssn: fc.string({ maxLength: 10 }),
            dob: fc.option(fc.string({ maxLength: 10 }), { nil: null }),
          }),
          {
            minLength: 1,
            maxLength: 8,
          },
        ),
        fc.array(
          fc.tuple(
            fc.nat(),
            fc.constantFrom('ssn', 'dob'),
            fc.oneof(
              fc.record({ moveFrom: fc.nat() }),
              fc.constantFrom('plaintext', 'delete', 'number', 'promise', 'bytes'),
            ),
          ),
          { maxLength: 5 },
        ),
        fc.boolean(),
        async (values, mutations, allowPlaintext) => {
          const page = values.map((v, i) => ({ id: i, ...v }));
          const written = (
            await envelope.encryptFieldsMany(page, {
              fields: ['ssn', 'dob'],
              id: 'id',
              tenant: TENANT,
              context,
            })
          ).map(value) as Record<string, unknown>[];
          const rows: unknown[] = written.map((r) => ({ ...r }));
          for (const [at, field, what] of mutations) {
            const i = at % rows.length;
            const row = rows[i] as Record<string, unknown>;
            if (typeof what === 'object') row[field] = written[what.moveFrom % written.length]![field];
            else if (what === 'plaintext') row[field] = 'clear text';
            else if (what === 'delete') delete row[field];
            else if (what === 'number') row[field] = 7;
            else if (what === 'bytes') row[field] = new Uint8Array([1, 2]);
            else rows[i] = Promise.resolve(row);
          }
          const options = { fields: ['ssn', 'dob'], tenant: TENANT, allowPlaintext };
          const many = await envelope.decryptFieldsMany(
            rows as never[],
            { ...options, id: (_r: unknown, i: number) => i } as never,
          );
          for (const [i, r] of many.entries()) {
            const single = await settle(
              envelope.decryptFields(rows[i] as never, { ...options, id: i } as never),
            );
            expect(unindexed(outcome(r))).toEqual(single);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  test('listed fields and id properties are read once per record, through proxies (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.dictionary(fc.constantFrom('ssn', 'dob', 'note'), fc.option(fc.string(), { nil: null }), {
            minKeys: 3,
          }),
          {
            minLength: 1,
            maxLength: 5,
          },
        ),
        async (pages) => {
          const listed = ['ssn', 'dob', 'note'];
          const counting = (target: Record<string, unknown>) => {
            const reads = new Map<PropertyKey, number>();
            const proxy = new Proxy(target, {
              get(t, key, receiver) {
                reads.set(key, (reads.get(key) ?? 0) + 1);
                return Reflect.get(t, key, receiver);
              },
            });
            return { proxy, reads };
          };
          const a = pages.map((v, i) => counting({ id: i, ...v }));
          const written = (
            await envelope.encryptFieldsMany(
              a.map((x) => x.proxy),
              { fields: listed, id: 'id', context } as never,
            )
          ).map(value);
          for (const x of a) for (const f of [...listed, 'id']) expect(x.reads.get(f)).toBe(1);
          const b = written.map((r) => counting(r as Record<string, unknown>));
          const back = await envelope.decryptFieldsMany(
            b.map((x) => x.proxy),
            { fields: listed, id: 'id' } as never,
          );
          for (const x of b) for (const f of [...listed, 'id']) expect(x.reads.get(f)).toBe(1);
          expect(back.map(value)).toEqual(pages.map((v, i) => ({ id: i, ...v })));
        },
      ),
      { numRuns: 40 },
    );
  });
});
