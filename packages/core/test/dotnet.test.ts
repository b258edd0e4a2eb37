// The .NET SDK's variant of format A: K is the UTF-8 bytes of the key blob's base64 text
// (`Encoding.UTF8.GetBytes(EncryptedKeys)`), and its decrypt turns K back into text and sends
// that to Vault. We read it by handing the provider the decoded blob, and write it on request
// (`keyBlobEncoding: 'base64-text'`). The same against the local server: remote/test/dotnet.test.ts.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  type DataKey,
  Envelope,
  encodeBase64,
  encodeLeb128u32,
  type KeyContext,
  type KeyProvider,
  makeDataKey,
  parseCiphertext,
  SharedDataKey,
} from '@vault-envelope/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

const utf8 = (s: string) => new TextEncoder().encode(s);

/** A provider with WorkOS-like blobs that records which blob each decrypt was given. */
class WorkosLikeProvider implements KeyProvider {
  readonly key = new Uint8Array(randomBytes(32));
  readonly blob = new Uint8Array([...utf8('WOS.EKM.v1\0'), ...randomBytes(90)]);
  readonly seen: Uint8Array[] = [];
  shared = false;
  async createDataKey(context: KeyContext): Promise<DataKey> {
    const dk = makeDataKey({ id: 'k', key: this.key.slice(), encryptedKeys: this.blob.slice(), context });
    return this.shared ? SharedDataKey.create(dk).shared : dk;
  }
  async decryptDataKey(blob: Uint8Array): Promise<DataKey> {
    this.seen.push(blob.slice());
    if (Buffer.compare(blob, this.blob) !== 0) throw new Error('Vault: invalid encrypted keys');
    return makeDataKey({ id: 'k', key: this.key.slice(), encryptedKeys: blob.slice() });
  }
}

/** What the .NET SDK's EncryptAsync writes, given the data key and `encrypted_keys` text. */
function dotnetEncrypt(plaintext: string, key: Uint8Array, encryptedKeysText: string, aad?: string): string {
  const k = Buffer.from(encryptedKeysText, 'utf8');
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  c.setAAD(aad === undefined ? Buffer.alloc(0) : Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), Buffer.from(encodeLeb128u32(k.length)), k, ct]).toString(
    'base64',
  );
}

/** What the .NET SDK's DecryptAsync does: K back to text, that text to Vault, then AES-GCM. */
async function dotnetDecrypt(message: string, vault: KeyProvider, aad?: string): Promise<string> {
  const bytes = Buffer.from(message, 'base64');
  const parts = parseCiphertext(bytes, 'A');
  const text = Buffer.from(parts.encryptedKeys).toString('utf8'); // Encoding.UTF8.GetString
  const dk = await vault.decryptDataKey(new Uint8Array(Buffer.from(text, 'base64')));
  const d = createDecipheriv('aes-256-gcm', dk.key, parts.iv, { authTagLength: 16 });
  d.setAAD(aad === undefined ? Buffer.alloc(0) : Buffer.from(aad, 'utf8'));
  d.setAuthTag(parts.tag);
  return Buffer.concat([d.update(parts.ciphertext), d.final()]).toString('utf8');
}

describe('reading the .NET variant', () => {
  test('what the .NET SDK writes decrypts; the provider gets the decoded blob (property)', async () => {
    const vault = new WorkosLikeProvider();
    const envelope = new Envelope({ keys: vault });
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'grapheme', maxLength: 100 }),
        fc.option(fc.string({ minLength: 1, maxLength: 20 }), { nil: undefined }),
        async (text, aad) => {
          const ct = dotnetEncrypt(text, vault.key, encodeBase64(vault.blob), aad);
          expect(envelope.isCiphertext(ct)).toBe(true);
          const opts = aad === undefined ? {} : { aad };
          expect(await envelope.decryptToString(ct, opts)).toBe(text);
          const [r] = await envelope.decryptManyToString([{ ciphertext: ct, ...opts }]);
          expect(r).toEqual({ ok: true, value: text });
          expect(vault.seen.at(-1)).toEqual(vault.blob);
        },
      ),
      { numRuns: 50 },
    );
  });

  test('a K that merely looks like base64 of a header but is not strict base64 goes to the provider as it is', async () => {
    const vault = new WorkosLikeProvider();
    const envelope = new Envelope({ keys: vault });
    const text = `${encodeBase64(vault.blob)}!`; // not base64 any more
    const ct = dotnetEncrypt('x', vault.key, text);
    expect(envelope.isCiphertext(ct)).toBe(false);
    await expect(envelope.decrypt(ct)).rejects.toThrow('Vault: invalid encrypted keys');
    expect(Buffer.from(vault.seen.at(-1)!).toString()).toBe(text);
  });
});

describe('writing the .NET variant (keyBlobEncoding: base64-text)', () => {
  for (const shared of [false, true]) {
    test(`the .NET SDK's decrypt reads what we write${shared ? ', with a shared (cached) key' : ''}`, async () => {
      const vault = new WorkosLikeProvider();
      vault.shared = shared;
      const envelope = new Envelope({ keys: vault, keyBlobEncoding: 'base64-text' });
      const ct = await envelope.encrypt('123-45-6789', { context: { org: '1' }, aad: 'users/42/ssn' });
      const k = parseCiphertext(Buffer.from(ct, 'base64')).encryptedKeys;
      expect(Buffer.from(k).toString()).toBe(encodeBase64(vault.blob));
      expect(await dotnetDecrypt(ct, vault, 'users/42/ssn')).toBe('123-45-6789');
      // ... and so does every reader of ours.
      expect(await envelope.decryptToString(ct, { aad: 'users/42/ssn' })).toBe('123-45-6789');
      const binary = new Envelope({ keys: vault });
      expect(await binary.decryptToString(ct, { aad: 'users/42/ssn' })).toBe('123-45-6789');
      // The binary default is what the .NET SDK can not read: it sends Vault the blob's bytes
      // read as text.
      const plain = await binary.encrypt('x', { context: { org: '1' } });
      await expect(dotnetDecrypt(plain, vault)).rejects.toThrow();
    });
  }

  test('batches and field helpers write it too, and read it back', async () => {
    const vault = new WorkosLikeProvider();
    const envelope = new Envelope({ keys: vault, keyBlobEncoding: 'base64-text' });
    const [r] = await envelope.encryptMany([{ plaintext: 'a', context: {}, aad: 'k' }]);
    if (r === undefined || !r.ok) throw new Error('encryptMany failed');
    expect(await dotnetDecrypt(r.value, vault, 'k')).toBe('a');
    const row = await envelope.encryptFields({ id: 1, ssn: 's' }, { fields: ['ssn'], id: 1, context: {} });
    expect(Buffer.from(parseCiphertext(Buffer.from(row.ssn, 'base64')).encryptedKeys).toString()).toBe(
      encodeBase64(vault.blob),
    );
    expect((await envelope.decryptFields(row, { fields: ['ssn'], id: 1 })).ssn).toBe('s');
  });

  test('the data keys handed out are zeroed after use, as in binary mode', async () => {
    const issued: DataKey[] = [];
    const vault = new WorkosLikeProvider();
    const tracking: KeyProvider = {
      async createDataKey(c) {
        const dk = await vault.createDataKey(c);
        issued.push(dk);
        return dk;
      },
      decryptDataKey: (b) => vault.decryptDataKey(b),
    };
    const envelope = new Envelope({ keys: tracking, keyBlobEncoding: 'base64-text' });
    await envelope.encrypt('x', { context: {} });
    expect(issued).toHaveLength(1);
    expect(issued[0]!.key.every((b) => b === 0)).toBe(true);
  });
});
