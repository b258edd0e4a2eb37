/**
 * Rekey: `Envelope.rekey` and `Envelope.rekeyMany` move messages to a new key context through the
 * provider's `rekeyDataKey`, keeping the message body (IV, tag, ciphertext) and its layout, and
 * the batch form makes one call per distinct pair of key blob and new context.
 */
import {
  canonicalContext,
  type DataKey,
  Envelope,
  FormatError,
  inspect,
  type KeyContext,
  type KeyProvider,
  KeyProviderError,
  MemoryKeyProvider,
  makeDataKey,
  parseCiphertext,
} from '@vault-envelope/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { FixedKeyProvider } from './_helpers.js';

const ctx1 = { organization_id: 'org_1' };
const ctx2 = { organization_id: 'org_1', region: 'eu' };

const bytesOf = (ct: string) => new Uint8Array(Buffer.from(ct, 'base64'));

describe('Envelope.rekey', () => {
  test('keeps the body, changes the blob, and decrypts under the new blob with the same AAD (property)', async () => {
    const keys = new MemoryKeyProvider();
    const envelope = new Envelope({ keys });
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), fc.string({ maxLength: 20 }), async (text, aad) => {
        const ct = await envelope.encrypt(text, { context: ctx1, aad });
        const moved = await envelope.rekey(ct, ctx2);
        expect(typeof moved).toBe('string');
        const before = inspect(ct);
        const after = inspect(moved);
        expect(after.iv).toEqual(before.iv);
        expect(after.tag).toEqual(before.tag);
        expect(after.format).toBe('A');
        expect(parseCiphertext(bytesOf(moved)).ciphertext).toEqual(parseCiphertext(bytesOf(ct)).ciphertext);
        expect(after.encryptedKeys).not.toEqual(before.encryptedKeys);
        expect(await envelope.decryptToString(moved, { aad })).toBe(text);
      }),
      { numRuns: 50 },
    );
  });

  test("the new blob is bound to the new context, the key bytes are the old blob's", async () => {
    const keys = new MemoryKeyProvider();
    const envelope = new Envelope({ keys });
    const ct = await envelope.encrypt('x', { context: ctx1 });
    const moved = await envelope.rekey(ct, ctx2);
    const oldKey = await keys.decryptDataKey(inspect(ct).encryptedKeys);
    const newKey = await keys.decryptDataKey(inspect(moved).encryptedKeys);
    expect(newKey.context).toEqual(ctx2);
    expect(oldKey.context).toEqual(ctx1);
    expect(newKey.key).toEqual(oldKey.key);
    expect(keys.stats().rekeyed).toBe(1);
  });

  test('bytes in, bytes out; the caller’s message is not modified', async () => {
    const envelope = new Envelope({ keys: new MemoryKeyProvider() });
    const ct = await envelope.encryptToBytes('photo', { context: ctx1, aad: 'p' });
    const copy = ct.slice();
    const moved = await envelope.rekey(ct, ctx2);
    expect(moved).toBeInstanceOf(Uint8Array);
    expect(ct).toEqual(copy);
    expect(await envelope.decryptToString(moved, { aad: 'p' })).toBe('photo');
  });

  test('a malformed message is a FormatError and the provider is never called', async () => {
    const keys = new MemoryKeyProvider();
    const envelope = new Envelope({ keys });
    await expect(envelope.rekey('AAAA', ctx2)).rejects.toBeInstanceOf(FormatError);
    await expect(envelope.rekey('not base64!', ctx2)).rejects.toBeInstanceOf(FormatError);
    expect(keys.stats().rekeyed).toBe(0);
  });

  test('a provider without rekeyDataKey, and bad arguments, are TypeErrors with exact messages', async () => {
    const fixed = new FixedKeyProvider(new Uint8Array(32).fill(7));
    const envelope = new Envelope({ keys: fixed });
    const ct = await envelope.encrypt('x', { context: ctx1 });
    await expect(envelope.rekey(ct, ctx2)).rejects.toThrow(
      new TypeError(
        'the key provider must implement rekeyDataKey to rekey messages (VaultClient, MemoryKeyProvider and the cache do), got none',
      ),
    );
    await expect(envelope.rekeyMany([{ ciphertext: ct, context: ctx2 }])).rejects.toThrow(TypeError);
    const mem = new Envelope({ keys: new MemoryKeyProvider() });
    await expect(mem.rekey(42 as never, ctx2)).rejects.toThrow(
      'ciphertext must be a string or a Uint8Array, got number',
    );
    await expect(mem.rekey(ct, 'ctx' as never)).rejects.toThrow('context must be an object, got string');
    await expect(mem.rekey(ct, ctx2, null as never)).rejects.toThrow(
      'rekey options must be an object, got null',
    );
    await expect(mem.rekeyMany('x' as never)).rejects.toThrow('items must be an array, got string');
  });

  test('a provider that returns something other than bytes is a KeyProviderError', async () => {
    const bad: KeyProvider = {
      ...new FixedKeyProvider(new Uint8Array(32).fill(1)),
      createDataKey: (c) => new FixedKeyProvider(new Uint8Array(32).fill(1)).createDataKey(c),
      decryptDataKey: (b) => new FixedKeyProvider(new Uint8Array(32).fill(1)).decryptDataKey(b),
      rekeyDataKey: async () => 'nope' as never,
    };
    const envelope = new Envelope({ keys: bad });
    const ct = await envelope.encrypt('x', { context: ctx1 });
    const e = await envelope.rekey(ct, ctx2).catch((error: unknown) => error);
    expect(KeyProviderError.is(e)).toBe(true);
  });
});

/**
 * A provider with one fixed key whose blob names the context it was wrapped under, so that a
 * test can build messages in any layout by hand and see which context a blob is for.
 */
class ContextBlobProvider implements KeyProvider {
  rekeys: [string, string][] = [];
  readonly key = new Uint8Array(32).fill(9);
  #dk(context: KeyContext): DataKey {
    return makeDataKey({ id: 'k', key: this.key.slice(), encryptedKeys: this.blob(context), context });
  }
  blob(context: KeyContext): Uint8Array {
    return new TextEncoder().encode(`ctx:${canonicalContext(context)}`);
  }
  async createDataKey(context: KeyContext): Promise<DataKey> {
    return this.#dk(context);
  }
  async decryptDataKey(encryptedKeys: Uint8Array): Promise<DataKey> {
    const text = new TextDecoder().decode(encryptedKeys);
    if (!text.startsWith('ctx:')) throw new Error('not ours');
    return this.#dk(Object.fromEntries(JSON.parse(text.slice(4)) as [string, string][]));
  }
  async rekeyDataKey(encryptedKeys: Uint8Array, context: KeyContext): Promise<Uint8Array> {
    this.rekeys.push([new TextDecoder().decode(encryptedKeys), canonicalContext(context)]);
    if (context['fail'] !== undefined) throw new Error('rekey refused');
    return this.blob(context);
  }
}

/** LEB128 of a small number (< 128), enough for these blobs. */
const leb = (n: number) => {
  if (n >= 128) throw new Error('test blob too long');
  return [n];
};

describe('layouts', () => {
  test('a format B message stays format B, with its nonce, ciphertext and tag unchanged', async () => {
    const keys = new ContextBlobProvider();
    const envelope = new Envelope({ keys });
    const a = parseCiphertext(bytesOf(await envelope.encrypt('written by Go', { context: ctx1, aad: 'g' })));
    const k = a.encryptedKeys;
    const b = Uint8Array.from([...leb(k.length), ...k, ...a.iv, ...a.ciphertext, ...a.tag]);
    expect(await envelope.decryptToString(b, { aad: 'g', format: 'B' })).toBe('written by Go');
    const moved = await envelope.rekey(b, ctx2, { format: 'B' });
    const p = parseCiphertext(moved, 'B');
    expect([p.iv, p.ciphertext, p.tag]).toEqual([a.iv, a.ciphertext, a.tag]);
    expect(p.encryptedKeys).toEqual(keys.blob(ctx2));
    expect(await envelope.decryptToString(moved, { aad: 'g', format: 'B' })).toBe('written by Go');
  });

  test('a legacy (32-byte IV) message stays legacy', async () => {
    // A legacy message is format A with a 32-byte IV; build one with the provider's key.
    const keys = new ContextBlobProvider();
    const envelope = new Envelope({ keys });
    const { portableBackend } = await import('@vault-envelope/core');
    const backend = portableBackend();
    const prepared = backend.prepare(keys.key.slice());
    const iv = new Uint8Array(32).fill(3);
    const pt = new TextEncoder().encode('old node sdk');
    const sealed = new Uint8Array(pt.length + 16);
    backend.encrypt(prepared, iv, pt, undefined, sealed, 0, pt.length);
    const out = sealed.slice(0, pt.length);
    const tag = sealed.slice(pt.length);
    const k = keys.blob(ctx1);
    const legacy = Uint8Array.from([...iv, ...tag, ...leb(k.length), ...k, ...out]);
    expect(await envelope.decryptToString(legacy, { format: 'legacy' })).toBe('old node sdk');
    const moved = await envelope.rekey(legacy, ctx2, { format: 'legacy' });
    const p = parseCiphertext(moved, 'legacy');
    expect([p.iv, p.tag, p.ciphertext]).toEqual([iv, tag, out]);
    expect(p.encryptedKeys).toEqual(keys.blob(ctx2));
    expect(await envelope.decryptToString(moved, { format: 'legacy' })).toBe('old node sdk');
  });
});

describe('the .NET variant', () => {
  test('a key blob stored as base64 text is sent decoded and written back as text', async () => {
    const keys = new MemoryKeyProvider();
    const dotnet = new Envelope({ keys, keyBlobEncoding: 'base64-text' });
    const ct = await dotnet.encrypt('written for .NET', { context: ctx1, aad: 'n' });
    expect(inspect(ct).keyBlobEncoding).toBe('base64-text');
    const moved = await dotnet.rekey(ct, ctx2);
    const info = inspect(moved);
    expect(info.keyBlobEncoding).toBe('base64-text');
    expect((await keys.decryptDataKey(info.encryptedKeys)).context).toEqual(ctx2);
    expect(await new Envelope({ keys }).decryptToString(moved, { aad: 'n' })).toBe('written for .NET');
    const many = await new Envelope({ keys }).rekeyMany([{ ciphertext: ct, context: ctx2 }]);
    expect(many[0]!.ok && inspect(many[0]!.value).keyBlobEncoding).toBe('base64-text');
  });
});

describe('Envelope.rekeyMany', () => {
  test('one rekeyDataKey call per distinct (blob, new context) pair, results in input order', async () => {
    const keys = new ContextBlobProvider();
    const envelope = new Envelope({ keys });
    const a = await envelope.encryptMany([0, 1, 2].map((i) => ({ plaintext: `a${i}`, context: ctx1 })));
    const b = await envelope.encrypt('b', { context: { organization_id: 'org_9' } });
    const items = [
      ...a.map((r) => ({ ciphertext: r.ok ? r.value : '', context: ctx2 })),
      { ciphertext: b, context: ctx2 },
      { ciphertext: a[0]!.ok ? a[0]!.value : '', context: { region: 'eu', organization_id: 'org_1' } },
      { ciphertext: a[0]!.ok ? a[0]!.value : '', context: { organization_id: 'org_3' } },
    ];
    const results = await envelope.rekeyMany(items);
    // a[0..2] share a blob and a context (key order does not matter): one call; b: one; org_3: one.
    expect(keys.rekeys).toHaveLength(3);
    const plain = await envelope.decryptManyToString(
      results.map((r) => ({ ciphertext: r.ok ? r.value : 'x' })),
    );
    expect(plain.map((r) => (r.ok ? r.value : r.error.message))).toEqual(['a0', 'a1', 'a2', 'b', 'a0', 'a0']);
    const blobs = results.map((r) => (r.ok ? new TextDecoder().decode(inspect(r.value).encryptedKeys) : ''));
    expect(blobs[5]).toBe(`ctx:${canonicalContext({ organization_id: 'org_3' })}`);
    expect(new Set(blobs.slice(0, 5)).size).toBe(1);
  });

  test('a malformed item fails alone; a refused call fails only its group', async () => {
    const keys = new ContextBlobProvider();
    const envelope = new Envelope({ keys });
    const ct = await envelope.encrypt('ok', { context: ctx1 });
    const results = await envelope.rekeyMany([
      { ciphertext: ct, context: ctx2 },
      { ciphertext: 'AAAA', context: ctx2 },
      { ciphertext: ct, context: { fail: 'yes' } },
      { ciphertext: ct, context: 'bad' as never },
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, false, false, false]);
    expect(results[1]!.ok ? '' : results[1]!.error).toBeInstanceOf(FormatError);
    expect(results[2]!.ok ? '' : results[2]!.error.message).toBe('rekey refused');
    expect(results[3]!.ok ? '' : results[3]!.error.message).toBe(
      'items[3].context must be an object, got string',
    );
    expect(keys.rekeys).toHaveLength(2);
  });

  test('an empty batch makes no call', async () => {
    const keys = new ContextBlobProvider();
    expect(await new Envelope({ keys }).rekeyMany([])).toEqual([]);
    expect(keys.rekeys).toHaveLength(0);
  });
});
