/**
 * Interop with the official SDK (`@workos-inc/node` 11, a test-only dev dependency), both pointed
 * at the same local server: what its `vault.encrypt` writes, our Envelope + VaultClient decrypt,
 * and what ours writes, its `vault.decrypt` reads, with and without associated data. Its object
 * API and ours see the same objects.
 */
import { DecryptionError, Envelope, inspect } from '@vault-envelope/core';
import { VaultClient } from '@vault-envelope/remote';
import { type RunningServer, startServer } from '@vault-envelope/server';
import { WorkOS } from '@workos-inc/node';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

let srv: RunningServer;
let sdk: WorkOS;
let vault: VaultClient;
let envelope: Envelope;
const context = { organization_id: 'org_interop' };

beforeAll(async () => {
  srv = await startServer({ port: 0, memory: true, apiKeys: ['sk_test_interop'], rateLimit: false });
  const { hostname, port } = new URL(srv.url);
  sdk = new WorkOS('sk_test_interop', { apiHostname: hostname, port: Number(port), https: false });
  vault = new VaultClient({ apiKey: 'sk_test_interop', baseUrl: srv.url });
  envelope = new Envelope({ keys: vault });
});

afterAll(async () => {
  await srv?.close();
});

describe('ciphertexts, both ways', () => {
  test('SDK encrypt → our decrypt, without AAD', async () => {
    const ct = await sdk.vault.encrypt('123-45-6789', context);
    expect(await envelope.decryptToString(ct)).toBe('123-45-6789');
    expect(inspect(ct).format).toBe('A');
  });

  test('SDK encrypt → our decrypt, with AAD; a wrong AAD fails', async () => {
    const ct = await sdk.vault.encrypt('4111 1111 1111 1111', context, 'users/42/card');
    expect(await envelope.decryptToString(ct, { aad: 'users/42/card' })).toBe('4111 1111 1111 1111');
    await expect(envelope.decryptToString(ct, { aad: 'users/43/card' })).rejects.toBeInstanceOf(
      DecryptionError,
    );
    await expect(envelope.decryptToString(ct)).rejects.toBeInstanceOf(DecryptionError);
  });

  test('our encrypt → SDK decrypt, without AAD', async () => {
    const ct = await envelope.encrypt('123-45-6789', { context });
    expect(await sdk.vault.decrypt(ct)).toBe('123-45-6789');
  });

  test('our encrypt → SDK decrypt, with AAD; a wrong AAD fails there too', async () => {
    const ct = await envelope.encrypt('tok_abc', { context, aad: 'users/42/token' });
    expect(await sdk.vault.decrypt(ct, 'users/42/token')).toBe('tok_abc');
    await expect(sdk.vault.decrypt(ct, 'users/42/other')).rejects.toThrow();
  });

  test('property: any UTF-8 text and AAD round-trips both ways', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        fc.option(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), { nil: undefined }),
        async (text, aad) => {
          const theirs = await sdk.vault.encrypt(text, context, aad);
          expect(await envelope.decryptToString(theirs, aad === undefined ? {} : { aad })).toBe(text);
          const ours = await envelope.encrypt(text, aad === undefined ? { context } : { context, aad });
          expect(await sdk.vault.decrypt(ours, aad)).toBe(text);
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('keys and objects, both ways', () => {
  test('a data key from the SDK unwraps through our client, and ours through the SDK', async () => {
    const theirs = await sdk.vault.createDataKey({ context });
    const ours = await vault.decryptDataKey(Buffer.from(theirs.encryptedKeys, 'base64'));
    expect(Buffer.from(ours.key).toString('base64')).toBe(theirs.dataKey.key);
    expect(ours.id).toBe(theirs.dataKey.id);

    const mine = await vault.createDataKey(context);
    const back = await sdk.vault.decryptDataKey({ keys: Buffer.from(mine.encryptedKeys).toString('base64') });
    expect(back.key).toBe(Buffer.from(mine.key).toString('base64'));
  });

  test('objects written by one are read by the other, with the same metadata', async () => {
    const theirs = await sdk.vault.createObject({ name: 'interop-a', value: 'from-sdk', context });
    const mine = await vault.readObject({ id: theirs.id });
    expect(mine.value).toBe('from-sdk');
    expect(mine.metadata.versionId).toBe(theirs.versionId);
    expect(mine.metadata.updatedAt).toEqual(theirs.updatedAt);

    const meta = await vault.createObject({ name: 'interop-b', value: 'from-us', context });
    const read = await sdk.vault.readObjectByName('interop-b');
    expect(read.value).toBe('from-us');
    expect(read.metadata.keyId).toBe(meta.keyId);
    expect(read.metadata.context).toEqual(meta.context);

    await vault.updateObject({ id: meta.id, value: 'v2' });
    const versions = await sdk.vault.listObjectVersions({ id: meta.id });
    expect(versions).toEqual(await vault.listObjectVersions({ id: meta.id }));
  });
});
