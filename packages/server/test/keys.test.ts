/**
 * The key routes: data keys round-trip through decrypt and rekey, every context entry wraps a
 * copy, the empty context works, and no tampered, truncated or foreign blob ever gets anything
 * but a 400.
 */
import { Envelope, type KeyProvider, makeDataKey } from '@vault-envelope/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { client, sharedServer, testServer } from './_helpers.js';

const shared = sharedServer();
const api = shared.api;

const b64 = (s: string) => Buffer.from(s, 'base64');
// Keys go to core as plain Uint8Array copies: core's backends copy a key with .slice(), which on
// a Buffer is a view of the same memory (zeroed after use).
const keyOf = (s: string) => new Uint8Array(b64(s));

async function dataKey(context: Record<string, string>) {
  const r = await api('POST', '/vault/v1/keys/data-key', { context });
  expect(r.status).toBe(200);
  return r.body as { id: string; data_key: string; encrypted_keys: string; context: Record<string, string> };
}

describe('data keys', () => {
  test('a data key is 32 random bytes, echoed context, a blob of our own magic', async () => {
    const a = await dataKey({ organization_id: 'org_1' });
    const b = await dataKey({ organization_id: 'org_1' });
    expect(b64(a.data_key)).toHaveLength(32);
    expect(a.data_key).not.toBe(b.data_key);
    expect(a.id).not.toBe(b.id);
    expect(a.context).toEqual({ organization_id: 'org_1' });
    const blob = b64(a.encrypted_keys);
    expect(blob.subarray(0, 11).toString('latin1')).toBe('VES.EKM.v1\0');
    expect(blob.includes(Buffer.from(a.id))).toBe(true);
    expect(blob.includes(Buffer.from('WOS.EKM'))).toBe(false);
  });

  test('the empty context uses the environment default key and round-trips', async () => {
    const a = await dataKey({});
    const d = await api('POST', '/vault/v1/keys/decrypt', { keys: a.encrypted_keys });
    expect(d.status).toBe(200);
    expect(d.body).toEqual({ id: a.id, data_key: a.data_key });
  });

  test('property: decrypt returns the same key and id for any valid context', async () => {
    const name = fc.string({ minLength: 1, maxLength: 120 });
    const ctx = fc.dictionary(name, fc.string({ maxLength: 500 }), { maxKeys: 10 });
    await fc.assert(
      fc.asyncProperty(ctx, async (context) => {
        const dk = await dataKey(context);
        const d = await api('POST', '/vault/v1/keys/decrypt', { keys: dk.encrypted_keys });
        expect(d.status).toBe(200);
        expect(d.body).toEqual({ id: dk.id, data_key: dk.data_key });
        // One wrapped copy per entry (the default KEK for the empty context).
        expect(b64(dk.encrypted_keys)[11 + 1 + dk.id.length]).toBe(Math.max(1, Object.keys(context).length));
      }),
      { numRuns: 40 },
    );
  });

  test('rekey keeps the key and id, and the new blob decrypts', async () => {
    const dk = await dataKey({ tenant: 't1', region: 'eu' });
    const r = await api('POST', '/vault/v1/keys/rekey', {
      encrypted_keys: dk.encrypted_keys,
      context: { tenant: 't2' },
    });
    expect(r.status).toBe(200);
    expect(r.body.id).toBe(dk.id);
    expect(r.body.data_key).toBe(dk.data_key);
    expect(r.body.context).toEqual({ tenant: 't2' });
    expect(r.body.encrypted_keys).not.toBe(dk.encrypted_keys);
    const d = await api('POST', '/vault/v1/keys/decrypt', { keys: r.body.encrypted_keys });
    expect(d.body.data_key).toBe(dk.data_key);
  });

  test('a blob still decrypts when one of its copies is damaged (first copy that works)', async () => {
    const dk = await dataKey({ a: '1', b: '2' });
    const blob = b64(dk.encrypted_keys);
    // The first copy's wrapped key ends 60 + 41 + 1 bytes before the end of a two-copy blob.
    const firstCopyEnd = blob.length - (1 + 40 + 60);
    blob[firstCopyEnd - 1]! ^= 0xff;
    const d = await api('POST', '/vault/v1/keys/decrypt', { keys: blob.toString('base64') });
    expect(d.status).toBe(200);
    expect(d.body.data_key).toBe(dk.data_key);
  });

  test('context rules: > 10 entries, long names and values, non-string values are 422', async () => {
    const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v']));
    for (const context of [
      eleven,
      { ['n'.repeat(121)]: 'v' },
      { k: 'v'.repeat(501) },
      { k: 1 },
      { '': 'v' },
      [],
    ]) {
      const r = await api('POST', '/vault/v1/keys/data-key', { context });
      expect(r.status, JSON.stringify(context).slice(0, 40)).toBe(422);
      expect(typeof r.body.error).toBe('string');
    }
    const limits = { ['n'.repeat(120)]: 'v'.repeat(500) };
    expect((await api('POST', '/vault/v1/keys/data-key', { context: limits })).status).toBe(200);
  });

  test('property: any change to a blob (flip, truncate, extend) is a 400, never a 500', async () => {
    const dk = await dataKey({ org: 'o' });
    const blob = b64(dk.encrypted_keys);
    const mutation = fc.oneof(
      fc.record({
        kind: fc.constant('flip' as const),
        at: fc.nat(blob.length - 1),
        bit: fc.integer({ min: 0, max: 7 }),
      }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat(blob.length - 1), bit: fc.constant(0) }),
      fc.record({ kind: fc.constant('add' as const), at: fc.nat(255), bit: fc.constant(0) }),
    );
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        let bad: Buffer;
        if (m.kind === 'flip') {
          bad = Buffer.from(blob);
          bad[m.at]! ^= 1 << m.bit;
        } else if (m.kind === 'cut') bad = blob.subarray(0, m.at);
        else bad = Buffer.concat([blob, Buffer.of(m.at)]);
        const r = await api('POST', '/vault/v1/keys/decrypt', { keys: bad.toString('base64') });
        expect(r.status).toBe(400);
        expect(r.text).not.toContain(dk.data_key);
      }),
      { numRuns: 150 },
    );
  });

  test('property: random bytes and foreign blobs are 400', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
        const r = await api('POST', '/vault/v1/keys/decrypt', {
          keys: Buffer.from(bytes).toString('base64'),
        });
        expect(r.status).toBe(400);
      }),
      { numRuns: 60 },
    );
    const wos = Buffer.concat([Buffer.from('WOS.EKM.v1\0'), Buffer.alloc(80, 7)]).toString('base64');
    expect((await api('POST', '/vault/v1/keys/decrypt', { keys: wos })).status).toBe(400);
  });

  test('a blob from another server (another master key) is a 400', async () => {
    const other = await testServer();
    try {
      const foreign = (await client(other)('POST', '/vault/v1/keys/data-key', { context: { org: 'o' } }))
        .body;
      const r = await api('POST', '/vault/v1/keys/decrypt', { keys: foreign.encrypted_keys });
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ error: 'Encrypted keys could not be decrypted' });
    } finally {
      await other.close();
    }
  });

  test('an Envelope over the HTTP key routes writes format A that decrypts again', async () => {
    const keys: KeyProvider = {
      async createDataKey(context) {
        const k = await dataKey({ ...context });
        return makeDataKey({
          id: k.id,
          key: keyOf(k.data_key),
          encryptedKeys: b64(k.encrypted_keys),
          context,
        });
      },
      async decryptDataKey(encryptedKeys) {
        const r = await api('POST', '/vault/v1/keys/decrypt', {
          keys: Buffer.from(encryptedKeys).toString('base64'),
        });
        return makeDataKey({ id: r.body.id, key: keyOf(r.body.data_key), encryptedKeys });
      },
    };
    const envelope = new Envelope({ keys });
    const ct = await envelope.encrypt('123-45-6789', {
      context: { organization_id: 'org_1' },
      aad: 'users/42/ssn',
    });
    expect(await envelope.decryptToString(ct, { aad: 'users/42/ssn' })).toBe('123-45-6789');
  });
});
