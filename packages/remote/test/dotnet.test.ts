/**
 * The .NET SDK's variant of format A, end to end against the local server: messages built the
 * way the .NET SDK's `EncryptAsync` builds them (K = `Encoding.UTF8.GetBytes(encrypted_keys)`)
 * decrypt through our Envelope and VaultClient; what we write with `keyBlobEncoding:
 * 'base64-text'` is read the way its `DecryptAsync` reads (K back to text, that text as `keys`
 * to POST /vault/v1/keys/decrypt). The .NET side is emulated over raw HTTP, as the SDK calls it.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Envelope, encodeLeb128u32, inspect, parseCiphertext } from '@vault-envelope/core';
import { VaultClient } from '@vault-envelope/remote';
import { type RunningServer, startServer } from '@vault-envelope/server';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

let srv: RunningServer;
let vault: VaultClient;
const apiKey = 'sk_test_dotnet';
const context = { organization_id: 'org_dotnet' };

beforeAll(async () => {
  srv = await startServer({ port: 0, memory: true, apiKeys: [apiKey], rateLimit: false });
  vault = new VaultClient({ apiKey, baseUrl: srv.url });
});

afterAll(async () => {
  await srv?.close();
});

async function post<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(`${srv.url}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** The .NET SDK's EncryptAsync: a data key from Vault, K = UTF-8 of its `encrypted_keys` text. */
async function dotnetEncrypt(plaintext: string, aad?: string): Promise<string> {
  const pair = await post<{ data_key: string; encrypted_keys: string }>('/vault/v1/keys/data-key', {
    context,
  });
  const key = Buffer.from(pair.data_key, 'base64');
  const k = Buffer.from(pair.encrypted_keys, 'utf8');
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  c.setAAD(Buffer.from(aad ?? '', 'utf8'));
  const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  key.fill(0);
  return Buffer.concat([iv, c.getAuthTag(), Buffer.from(encodeLeb128u32(k.length)), k, ct]).toString(
    'base64',
  );
}

/** The .NET SDK's DecryptAsync: K back to text, sent as `keys`, then AES-GCM. */
async function dotnetDecrypt(message: string, aad?: string): Promise<string> {
  const parts = parseCiphertext(Buffer.from(message, 'base64'), 'A');
  const keys = Buffer.from(parts.encryptedKeys).toString('utf8');
  const { data_key } = await post<{ data_key: string }>('/vault/v1/keys/decrypt', { keys });
  const d = createDecipheriv('aes-256-gcm', Buffer.from(data_key, 'base64'), parts.iv, { authTagLength: 16 });
  d.setAAD(Buffer.from(aad ?? '', 'utf8'));
  d.setAuthTag(parts.tag);
  return Buffer.concat([d.update(parts.ciphertext), d.final()]).toString('utf8');
}

describe('.NET-variant messages and the local server', () => {
  test('what the .NET SDK writes decrypts through the client, with and without AAD (property)', async () => {
    const envelope = new Envelope({ keys: vault });
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'grapheme', maxLength: 80 }),
        fc.option(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }), { nil: undefined }),
        async (text, aad) => {
          const ct = await dotnetEncrypt(text, aad);
          expect(envelope.isCiphertext(ct)).toBe(true);
          expect(inspect(ct)).toMatchObject({
            format: 'A',
            keyBlobEncoding: 'base64-text',
            keyBlobHeader: 'VES.EKM.v1\u0000',
          });
          expect(await envelope.decryptToString(ct, aad === undefined ? {} : { aad })).toBe(text);
        },
      ),
      { numRuns: 15 },
    );
  });

  test('the .NET SDK reads what we write with keyBlobEncoding base64-text, and not what we write by default', async () => {
    const dotnetReadable = new Envelope({ keys: vault, keyBlobEncoding: 'base64-text' });
    const ct = await dotnetReadable.encrypt('123-45-6789', { context, aad: 'users/42/ssn' });
    expect(await dotnetDecrypt(ct, 'users/42/ssn')).toBe('123-45-6789');
    const binary = new Envelope({ keys: vault });
    expect(await binary.decryptToString(ct, { aad: 'users/42/ssn' })).toBe('123-45-6789');
    const ours = await binary.encrypt('123-45-6789', { context });
    await expect(dotnetDecrypt(ours)).rejects.toThrow(/keys\/decrypt: 4\d\d/);
  });

  test('field helpers read and write the variant through the client', async () => {
    const envelope = new Envelope({ keys: vault, keyBlobEncoding: 'base64-text', requireTenant: true });
    const row = await envelope.encryptFields(
      { id: 42, ssn: '123-45-6789' },
      { fields: ['ssn'], id: 42, tenant: 'org_dotnet', namespace: 'users', context },
    );
    expect(inspect(row.ssn).keyBlobEncoding).toBe('base64-text');
    const back = await new Envelope({ keys: vault }).decryptFields(row, {
      fields: ['ssn'],
      id: 42,
      tenant: 'org_dotnet',
      namespace: 'users',
    });
    expect(back.ssn).toBe('123-45-6789');
  });
});
