/**
 * The older route names from the WorkOS Vault reference (`/vault/key/...`, `/vault/object/...`),
 * on the same store and keys as the v1 routes.
 */
import { Envelope, makeDataKey } from '@vault-envelope/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { client, sharedServer, testServer } from './_helpers.js';

const shared = sharedServer();
const api = shared.api;

describe('older key routes', () => {
  test('create-data-key with no body; decrypt-data-key and v1 decrypt agree', async () => {
    const r = await api('POST', '/vault/key/create-data-key');
    expect(r.status).toBe(200);
    expect(r.body.plaintext_key).toBe(r.body.data_key);
    expect(r.body.encrypted_key).toBe(r.body.encrypted_keys);
    expect(r.body.context).toEqual({});
    const d = await api('POST', '/vault/key/decrypt-data-key', { encrypted_key: r.body.encrypted_key });
    expect(d.body.plaintext_key).toBe(r.body.plaintext_key);
    const v1 = await api('POST', '/vault/v1/keys/decrypt', { keys: r.body.encrypted_key });
    expect(v1.body.data_key).toBe(r.body.plaintext_key);
    expect((await api('POST', '/vault/key/decrypt-data-key', { encrypted_key: 'AAAA' })).status).toBe(400);
  });

  test('property: encrypt-data then decrypt-data returns the plaintext, with and without a key blob', async () => {
    const dk = (await api('POST', '/vault/key/create-data-key', { context: { org: 'o' } })).body;
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'grapheme', maxLength: 100 }),
        fc.boolean(),
        async (plaintext, withBlob) => {
          const enc = await api('POST', '/vault/key/encrypt-data', {
            plaintext,
            data_key: dk.plaintext_key,
            ...(withBlob ? { encrypted_key: dk.encrypted_key } : {}),
          });
          expect(enc.status).toBe(200);
          const dec = await api('POST', '/vault/key/decrypt-data', {
            ciphertext: enc.body.ciphertext,
            data_key: dk.plaintext_key,
          });
          expect(dec.body).toEqual({ plaintext });
        },
      ),
      { numRuns: 30 },
    );
  });

  test('encrypt-data with encrypted_key writes format A that an Envelope decrypts through Vault', async () => {
    const dk = (await api('POST', '/vault/key/create-data-key', { context: { org: 'o' } })).body;
    const enc = await api('POST', '/vault/key/encrypt-data', {
      plaintext: 'hello',
      data_key: dk.plaintext_key,
      encrypted_key: dk.encrypted_key,
    });
    const envelope = new Envelope({
      keys: {
        createDataKey: () => Promise.reject(new Error('unused')),
        async decryptDataKey(encryptedKeys) {
          const r = await api('POST', '/vault/v1/keys/decrypt', {
            keys: Buffer.from(encryptedKeys).toString('base64'),
          });
          return makeDataKey({
            id: r.body.id,
            key: new Uint8Array(Buffer.from(r.body.data_key, 'base64')),
            encryptedKeys,
          });
        },
      },
    });
    expect(await envelope.decryptToString(enc.body.ciphertext)).toBe('hello');
  });

  test('decrypt-data with the wrong key or AAD is a 400; a short data key is 422', async () => {
    const a = (await api('POST', '/vault/key/create-data-key')).body;
    const b = (await api('POST', '/vault/key/create-data-key')).body;
    const enc = await api('POST', '/vault/key/encrypt-data', {
      plaintext: 'x',
      data_key: a.plaintext_key,
      aad: 'ctx',
    });
    const decrypt = (data_key: string, aad?: string) =>
      api('POST', '/vault/key/decrypt-data', {
        ciphertext: enc.body.ciphertext,
        data_key,
        ...(aad ? { aad } : {}),
      });
    expect((await decrypt(b.plaintext_key, 'ctx')).status).toBe(400);
    expect((await decrypt(a.plaintext_key)).status).toBe(400);
    expect((await decrypt(a.plaintext_key, 'ctx')).body.plaintext).toBe('x');
    const short = await api('POST', '/vault/key/encrypt-data', { plaintext: 'x', data_key: 'AAAA' });
    expect(short.status).toBe(422);
  });
});

describe('older object routes', () => {
  test('create, get, get-by-name, update (versions 1, 2, 3), past version, versions, metadata, delete', async () => {
    const c = await api('POST', '/vault/object/create', { name: 'seed-obj', data: { ssn: '123' } });
    expect(c.status).toBe(201);
    expect(c.body).toEqual({
      id: expect.any(String),
      name: 'seed-obj',
      created_at: expect.any(String),
      updated_at: expect.any(String),
      version: 1,
    });
    const id = c.body.id;
    expect((await api('GET', `/vault/object/get?id=${id}`)).body.data).toEqual({ ssn: '123' });
    expect((await api('GET', '/vault/object/get-by-name?name=seed-obj')).body.id).toBe(id);
    expect((await api('PUT', '/vault/object/update', { id, data: { ssn: '456' } })).body.version).toBe(2);
    expect(
      (await api('PUT', '/vault/object/update', { id, data: { ssn: '789' }, version: 2 })).body.version,
    ).toBe(3);
    expect((await api('PUT', '/vault/object/update', { id, data: { ssn: '000' }, version: 2 })).status).toBe(
      409,
    );
    const v1 = await api('GET', `/vault/object/version?id=${id}&version=1`);
    expect(v1.body).toMatchObject({ id, version: 1, data: { ssn: '123' }, current_version: false });
    expect((await api('GET', `/vault/object/version?id=${id}&version=9`)).status).toBe(404);
    const versions = (await api('GET', `/vault/object/versions?id=${id}`)).body.data;
    expect(versions.map((v: { version: number }) => v.version)).toEqual([3, 2, 1]);
    const meta = await api('GET', `/vault/object/metadata?id=${id}`);
    expect(meta.body).toMatchObject({ id, name: 'seed-obj', version: 3, key_context: {} });
    expect(meta.body).not.toHaveProperty('data');
    // The same object through v1: the value is the JSON text.
    expect(JSON.parse((await api('GET', `/vault/v1/kv/${id}`)).body.value)).toEqual({ ssn: '789' });
    const d = await api('DELETE', '/vault/object/delete', { id });
    expect(d.body).toEqual({ id, name: 'seed-obj', success: true });
    expect((await api('GET', `/vault/object/get?id=${id}`)).status).toBe(404);
    expect((await api('GET', `/vault/object/versions?id=${id}`)).status).toBe(404);
  });

  test('errors: duplicate 409, data not an object 422, missing id 400', async () => {
    await api('POST', '/vault/object/create', { name: 'seed-dup', data: {} });
    expect((await api('POST', '/vault/object/create', { name: 'seed-dup', data: {} })).status).toBe(409);
    for (const data of ['text', [1], 3]) {
      expect((await api('POST', '/vault/object/create', { name: 'seed-bad', data })).status).toBe(422);
    }
    expect((await api('POST', '/vault/object/create', { name: 'seed-bad' })).status).toBe(400);
    expect((await api('GET', '/vault/object/get')).status).toBe(400);
    expect((await api('DELETE', '/vault/object/delete', {})).status).toBe(400);
  });

  test('list pages with limit and after; a v1 text value reads as data null', async () => {
    const s = await testServer();
    try {
      const seedApi = client(s);
      for (let i = 0; i < 5; i++)
        await seedApi('POST', '/vault/object/create', { name: `l${i}`, data: { i } });
      await seedApi('POST', '/vault/v1/kv', { name: 'plain', value: 'not json', key_context: {} });
      const p1 = await seedApi('GET', '/vault/object/list?limit=4');
      expect(p1.body.data.map((o: { name: string }) => o.name)).toEqual(['plain', 'l4', 'l3', 'l2']);
      const p2 = await seedApi('GET', `/vault/object/list?limit=4&after=${p1.body.list_metadata.after}`);
      expect(p2.body.data.map((o: { name: string }) => o.name)).toEqual(['l1', 'l0']);
      expect(p2.body.list_metadata.after).toBeNull();
      const plain = await seedApi('GET', '/vault/object/get-by-name?name=plain');
      expect(plain.body).toMatchObject({ data: null, value: 'not json' });
      expect((await seedApi('GET', '/vault/object/list?limit=101')).status).toBe(422);
    } finally {
      await s.close();
    }
  });
});
