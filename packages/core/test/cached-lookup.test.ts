/**
 * The synchronous seam for a cache hit: `KeyProvider.cachedDataKey`. An Envelope asks it first
 * when it decrypts, lends it the key blob in a buffer that holds the blob and nothing else, and
 * falls back to `decryptDataKey` on `undefined`. These tests hold the Envelope to that contract
 * (what the provider sees, when it is asked, what happens on a miss, a destroyed key, a
 * malformed key, an aborted signal, a lookup that calls back into the Envelope) and check that
 * the answers are the ones the awaited path gives.
 */

import { createCipheriv, randomBytes } from 'node:crypto';
import {
  type DataKey,
  DecryptionError,
  Envelope,
  FormatError,
  isCiphertext,
  type KeyProvider,
  KeyProviderError,
  MemoryKeyProvider,
  makeDataKey,
  SharedDataKey,
  type SharedDataKeyHandle,
} from '@vault-envelope/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { trickyChars } from './_base64.js';
import { b64, FixedKeyProvider, loadJson } from './_helpers.js';
import type { WorkosVector } from './_workos-vector.js';

const context = { organization_id: 'org_1' };
const enc = new TextEncoder();

/** What the Envelope lent to `cachedDataKey`, captured at the call. */
interface Lent {
  view: Uint8Array;
  /** A copy of the bytes at the time of the call. */
  bytes: Uint8Array;
  byteOffset: number;
  bufferLength: number;
}

/**
 * A provider holding shared keys by blob, with `cachedDataKey`, recording every lent view and
 * counting the awaited calls.
 */
class LookupProvider implements KeyProvider {
  readonly inner = new MemoryKeyProvider();
  readonly keys: SharedDataKeyHandle[] = [];
  readonly lent: Lent[] = [];
  decrypts = 0;
  /** Answer `undefined` (a miss) from `cachedDataKey`. */
  miss = false;
  /** Run inside `cachedDataKey`, before it answers. */
  during: ((view: Uint8Array) => void) | undefined;

  /** One shared key per context, as a cache keeps it. */
  async createDataKey(ctx: Record<string, string>): Promise<DataKey> {
    const name = JSON.stringify(ctx);
    let handle = this.#byContext.get(name);
    if (handle === undefined) {
      handle = SharedDataKey.create(await this.inner.createDataKey(ctx));
      this.#byContext.set(name, handle);
      this.keys.push(handle);
    }
    return handle.shared;
  }

  readonly #byContext = new Map<string, SharedDataKeyHandle>();

  async decryptDataKey(blob: Uint8Array): Promise<DataKey> {
    this.decrypts++;
    return this.inner.decryptDataKey(blob);
  }

  cachedDataKey(view: Uint8Array): DataKey | undefined {
    this.lent.push({
      view,
      bytes: view.slice(),
      byteOffset: view.byteOffset,
      bufferLength: view.buffer.byteLength,
    });
    this.during?.(view);
    if (this.miss) return undefined;
    return this.keys.find((k) => k.shared.wraps(view))?.shared;
  }
}

/** Asserts that a lent view shows exactly `blob` and nothing around it. */
function expectExactly(l: Lent, blob: Uint8Array): void {
  expect(l.byteOffset).toBe(0);
  expect(l.bufferLength).toBe(blob.length);
  expect(l.bytes).toEqual(blob);
}

describe('an Envelope with a provider that has cachedDataKey', () => {
  test('a hit decrypts without decryptDataKey, for base64 and bytes, below and above the scratch size', async () => {
    const keys = new LookupProvider();
    const envelope = new Envelope({ keys });
    for (const size of [0, 1, 256, 40_000, 1 << 20]) {
      const plaintext = 'é'.repeat(size >> 1) + 'x'.repeat(size & 1);
      const text = await envelope.encrypt(plaintext, { context, aad: 'a' });
      const bytes = await envelope.encryptToBytes(plaintext, { context, aad: 'a' });
      expect(await envelope.decryptToString(text, { aad: 'a' })).toBe(plaintext);
      expect(await envelope.decryptToString(bytes, { aad: 'a' })).toBe(plaintext);
    }
    expect(keys.decrypts).toBe(0);
    expect(keys.lent.length).toBe(10);
  });

  test('the view it lends holds exactly the key blob: its own buffer, at offset 0, nothing else', async () => {
    const keys = new LookupProvider();
    const envelope = new Envelope({ keys });
    const blob = (await keys.createDataKey(context)).encryptedKeys;
    for (const size of [3, 300, 40_000, 1 << 20]) {
      const pt = new Uint8Array(size).fill(7);
      await envelope.decrypt(await envelope.encrypt(pt, { context }));
      await envelope.decrypt(await envelope.encryptToBytes(pt, { context }));
    }
    expect(keys.lent.length).toBe(8);
    for (const l of keys.lent) expectExactly(l, blob);
  });

  test('the view is lent, not given: the next message overwrites it, so a provider must copy what it keeps', async () => {
    const keys = new LookupProvider();
    const envelope = new Envelope({ keys });
    // Two contexts, two keys, two blobs of the same length.
    const a = await envelope.encrypt('a', { context: { organization_id: 'org_a' } });
    const b = await envelope.encrypt('b', { context: { organization_id: 'org_b' } });
    expect(await envelope.decryptToString(a)).toBe('a');
    const kept = keys.lent[0]!.view;
    const blobA = keys.lent[0]!.bytes;
    expect(await envelope.decryptToString(b)).toBe('b');
    const blobB = keys.lent[1]!.bytes;
    expect(blobA).not.toEqual(blobB);
    expect(kept).toEqual(blobB);
  });

  test('every layout and the .NET variant: the provider is lent the blob as the key service issued it', async () => {
    const vectors = loadJson<WorkosVector[]>('workos_vectors.json');
    for (const v of vectors) {
      const blob = b64(v.encrypted_keys);
      const { shared } = SharedDataKey.create(
        makeDataKey({ id: 'v', key: b64(v.data_key), encryptedKeys: blob.slice() }),
      );
      const lent: Lent[] = [];
      const keys: KeyProvider = {
        createDataKey: async () => shared,
        decryptDataKey: async () => {
          throw new Error('not on a hit');
        },
        cachedDataKey(view) {
          lent.push({
            view,
            bytes: view.slice(),
            byteOffset: view.byteOffset,
            bufferLength: view.buffer.byteLength,
          });
          return shared.wraps(view) ? shared : undefined;
        },
      };
      const envelope = new Envelope({ keys });
      const format = v.format === 'B' ? ('B' as const) : undefined;
      const opts = { ...(v.aad === null ? {} : { aad: v.aad }), ...(format === undefined ? {} : { format }) };
      expect(await envelope.decryptToString(v.ciphertext_b64, opts)).toBe(v.plaintext);
      expectExactly(lent[0]!, blob);
    }
    // The .NET variant: K is the blob's base64 text; the provider is lent the decoded blob.
    const keys = new LookupProvider();
    const dotnet = new Envelope({ keys, keyBlobEncoding: 'base64-text' });
    const ct = await dotnet.encrypt('net', { context });
    expect(await new Envelope({ keys }).decryptToString(ct)).toBe('net');
    expectExactly(keys.lent[0]!, keys.keys[0]!.shared.encryptedKeys);
    expect(keys.decrypts).toBe(0);
  });

  test('a miss goes to decryptDataKey, with a blob in memory of its own, and decrypts the same', async () => {
    const keys = new LookupProvider();
    const envelope = new Envelope({ keys });
    const ct = await envelope.encrypt('miss', { context, aad: 'x' });
    keys.miss = true;
    const seen: Uint8Array[] = [];
    const decrypt = keys.decryptDataKey.bind(keys);
    keys.decryptDataKey = (blob) => {
      seen.push(blob);
      return decrypt(blob);
    };
    expect(await envelope.decryptToString(ct, { aad: 'x' })).toBe('miss');
    expect(keys.lent.length).toBe(1);
    expect(keys.decrypts).toBe(1);
    expect(seen[0]!.byteOffset).toBe(0);
    expect(seen[0]!.buffer.byteLength).toBe(seen[0]!.length);
    expect(seen[0]).toEqual(keys.keys[0]!.shared.encryptedKeys);
    await expect(envelope.decrypt(ct, { aad: 'y' })).rejects.toBeInstanceOf(DecryptionError);
  });

  test('a key destroyed before the lookup answered is asked for again through decryptDataKey', async () => {
    const keys = new LookupProvider();
    const envelope = new Envelope({ keys });
    const ct = await envelope.encrypt('again', { context });
    keys.keys[0]!.destroy();
    expect(await envelope.decryptToString(ct)).toBe('again');
    expect(keys.lent.length).toBe(1);
    expect(keys.decrypts).toBe(1);
  });

  test('a malformed or all-zero key from cachedDataKey is a KeyProviderError; a throw reaches the caller unchanged', async () => {
    const good = new LookupProvider();
    const ct = await new Envelope({ keys: good }).encrypt('x', { context });
    const answers: unknown[] = [
      { id: 'k', key: new Uint8Array(31).fill(1), encryptedKeys: new Uint8Array(3) },
      null,
      makeDataKey({ id: 'k', key: new Uint8Array(32), encryptedKeys: new Uint8Array(3) }),
    ];
    for (const answer of answers) {
      const keys: KeyProvider = {
        createDataKey: good.createDataKey.bind(good),
        decryptDataKey: good.decryptDataKey.bind(good),
        cachedDataKey: () => answer as DataKey,
      };
      await expect(new Envelope({ keys }).decrypt(ct)).rejects.toBeInstanceOf(KeyProviderError);
    }
    const boom = new Error('lookup failed');
    const throwing: KeyProvider = {
      createDataKey: good.createDataKey.bind(good),
      decryptDataKey: good.decryptDataKey.bind(good),
      cachedDataKey: () => {
        throw boom;
      },
    };
    await expect(new Envelope({ keys: throwing }).decrypt(ct)).rejects.toBe(boom);
  });

  test('a plain DataKey from cachedDataKey is ours: zeroed once used', async () => {
    const key = new Uint8Array(32).fill(9);
    const fixed = new FixedKeyProvider(key);
    const ct = await new Envelope({ keys: fixed }).encrypt('plain', { context });
    const handed: DataKey[] = [];
    const keys: KeyProvider = {
      createDataKey: fixed.createDataKey.bind(fixed),
      decryptDataKey: fixed.decryptDataKey.bind(fixed),
      cachedDataKey: () => {
        const dk = makeDataKey({ id: 'p', key: key.slice(), encryptedKeys: fixed.encryptedKeys.slice() });
        handed.push(dk);
        return dk;
      },
    };
    expect(await new Envelope({ keys }).decryptToString(ct)).toBe('plain');
    expect(handed[0]!.key.every((b) => b === 0)).toBe(true);
    expect(fixed.calls.decrypt).toBe(0);
  });

  test('a malformed message never reaches cachedDataKey', async () => {
    const keys = new LookupProvider();
    const envelope = new Envelope({ keys });
    const ct = await envelope.encryptToBytes('x', { context });
    await expect(envelope.decrypt(ct.subarray(0, 20))).rejects.toBeInstanceOf(FormatError);
    await expect(envelope.decrypt('not base64!')).rejects.toBeInstanceOf(FormatError);
    await expect(envelope.decrypt('aGl=')).rejects.toBeInstanceOf(FormatError);
    expect(keys.lent).toEqual([]);
    expect(keys.decrypts).toBe(0);
  });

  test('a base64 character swapped for one above U+00FF with the same low byte is a FormatError on both paths, before any lookup', async () => {
    const keys = new LookupProvider();
    const envelope = new Envelope({ keys });
    const awaited = new Envelope({
      keys: { createDataKey: keys.createDataKey.bind(keys), decryptDataKey: keys.decryptDataKey.bind(keys) },
    });
    // Below the scratch size (the cached path decodes into its scratch) and above it.
    for (const size of [10, 40_000]) {
      const text = await envelope.encrypt('x'.repeat(size), { context });
      for (const at of [0, 5, text.indexOf('=') === -1 ? text.length - 1 : text.indexOf('=') - 1]) {
        // Buffer's decoder reads only the low byte: U+0100 + 'A' would read as 'A'.
        const twin =
          text.slice(0, at) + String.fromCharCode(0x100 + text.charCodeAt(at)) + text.slice(at + 1);
        for (const e of [envelope, awaited]) {
          await expect(e.decryptToString(twin)).rejects.toThrow(
            new FormatError('ciphertext is not valid standard base64'),
          );
        }
        expect(isCiphertext(twin)).toBe(false);
      }
      expect(await envelope.decryptToString(text)).toHaveLength(size);
    }
    expect(keys.lent.length).toBe(2);
    expect(keys.decrypts).toBe(0);
  });

  test('an aborted signal skips the lookup and decryptDataKey decides; a signal that is not one is a TypeError', async () => {
    const keys = new LookupProvider();
    const envelope = new Envelope({ keys });
    const ct = await envelope.encrypt('s', { context });
    const controller = new AbortController();
    controller.abort();
    expect(await envelope.decryptToString(ct, { signal: controller.signal })).toBe('s');
    expect(keys.lent).toEqual([]);
    expect(keys.decrypts).toBe(1);
    await expect(envelope.decrypt(ct, { signal: 'soon' as never })).rejects.toThrow(
      new TypeError('decrypt options.signal must be an AbortSignal, got string'),
    );
    expect(keys.lent).toEqual([]);
  });

  test('a lookup that calls back into the same Envelope gets its own answer, and so does the outer call', async () => {
    const keys = new LookupProvider();
    const envelope = new Envelope({ keys });
    const outer = await envelope.encrypt('outer', { context, aad: 'o' });
    const inner = await envelope.encrypt('inner', { context: { organization_id: 'org_2' }, aad: 'i' });
    let nested: Promise<string> | undefined;
    keys.during = () => {
      keys.during = undefined;
      nested = envelope.decryptToString(inner, { aad: 'i' });
    };
    expect(await envelope.decryptToString(outer, { aad: 'o' })).toBe('outer');
    expect(await nested).toBe('inner');
    // The nested call took the awaited path: its blob was not lent into the outer call's buffer.
    expect(keys.decrypts).toBe(1);
  });

  test('answers as the awaited path does, for any plaintext, AAD, layout of the input and tampering (property)', async () => {
    const keys = new LookupProvider();
    const fast = new Envelope({ keys });
    const awaited = new Envelope({
      keys: { createDataKey: keys.createDataKey.bind(keys), decryptDataKey: keys.decryptDataKey.bind(keys) },
    });
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 300 }),
        fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
        fc.boolean(),
        fc.option(fc.nat(2000), { nil: undefined }),
        async (plaintext, aad, asBytes, flip) => {
          const opts = aad === undefined ? {} : { aad };
          const bytes = await fast.encryptToBytes(plaintext, { context, ...opts });
          if (flip !== undefined) bytes[flip % bytes.length]! ^= 1;
          const message = asBytes ? bytes : Buffer.from(bytes).toString('base64');
          const outcome = (p: Promise<string>) =>
            p.then(
              (v) => ({ ok: true, v }),
              (e: Error) => ({ ok: false, v: `${e.constructor.name}: ${e.message}` }),
            );
          const a = await outcome(fast.decryptToString(message, opts));
          const b = await outcome(awaited.decryptToString(message, opts));
          expect(a).toEqual(b);
          if (flip === undefined) expect(a).toEqual({ ok: true, v: plaintext });
          for (const l of keys.lent) expect(l.bufferLength).toBe(l.bytes.length);
          keys.lent.length = 0;
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('the cached path fails closed as the awaited path does', () => {
  test('for any message, in any layout, mutated or not, as bytes or base64, the same answer or the same error (property)', async () => {
    const keys = new LookupProvider();
    const cached = new Envelope({ keys });
    const dotnet = new Envelope({ keys, keyBlobEncoding: 'base64-text' });
    const awaited = new Envelope({
      keys: { createDataKey: keys.createDataKey.bind(keys), decryptDataKey: keys.decryptDataKey.bind(keys) },
    });
    const shared = (await keys.createDataKey(context)) as SharedDataKey;
    const blob = shared.encryptedKeys;
    const leb = (n: number) => (n < 128 ? [n] : [(n & 0x7f) | 0x80, n >> 7]);
    /** Legacy and B by hand with node:crypto, under the provider's key and blob. */
    const layout = (format: 'legacy' | 'B', pt: Uint8Array, aad: string | undefined): Uint8Array => {
      const iv = randomBytes(format === 'legacy' ? 32 : 12);
      const c = createCipheriv('aes-256-gcm', shared.key, iv);
      if (aad !== undefined) c.setAAD(enc.encode(aad));
      const body = Buffer.concat([c.update(pt), c.final()]);
      const t = c.getAuthTag();
      const k = [...leb(blob.length), ...blob];
      return new Uint8Array(
        format === 'legacy' ? [...iv, ...t, ...k, ...body] : [...k, ...iv, ...body, ...t],
      );
    };
    const mutation = fc.oneof(
      fc.constant({ kind: 'none' as const }),
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({
        kind: fc.constant('append' as const),
        bytes: fc.uint8Array({ minLength: 1, maxLength: 20 }),
      }),
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(80), value: fc.nat(255) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fc.nat(255) }),
    );
    const textEdit = fc.oneof(
      fc.constant({ kind: 'none' as const }),
      fc.record({ kind: fc.constant('char' as const), at: fc.nat(), char: trickyChars }),
      fc.constant({ kind: 'unpad' as const }),
      fc.record({ kind: fc.constant('space' as const), at: fc.nat() }),
    );
    const outcome = (p: Promise<string>) =>
      p.then(
        (v) => `ok ${v}`,
        (e: Error) => `${e.constructor.name}: ${e.message}`,
      );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('A', 'A, .NET', 'legacy', 'B'),
        fc.oneof(fc.string({ maxLength: 60 }), fc.constant('y'.repeat(33_000))),
        fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
        fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
        fc.constantFrom(undefined, 'A', 'legacy', 'B'),
        mutation,
        fc.boolean(),
        textEdit,
        async (written, plaintext, aad, readAad, format, m, asBytes, edit) => {
          const opts = aad === undefined ? {} : { aad };
          let bytes =
            written === 'A'
              ? await cached.encryptToBytes(plaintext, { context, ...opts })
              : written === 'A, .NET'
                ? await dotnet.encryptToBytes(plaintext, { context, ...opts })
                : layout(written, enc.encode(plaintext), aad);
          if (m.kind === 'flip') bytes[m.at % bytes.length]! ^= 1 << m.bit;
          if (m.kind === 'truncate') bytes = bytes.subarray(0, m.at % bytes.length);
          if (m.kind === 'append') bytes = new Uint8Array([...bytes, ...m.bytes]);
          if (m.kind === 'set' && m.at < bytes.length) bytes[m.at] = m.value;
          if (m.kind === 'insert') {
            const at = m.at % (bytes.length + 1);
            bytes = new Uint8Array([...bytes.subarray(0, at), m.value, ...bytes.subarray(at)]);
          }
          let message: string | Uint8Array = bytes;
          if (!asBytes) {
            let text = Buffer.from(bytes).toString('base64');
            if (edit.kind === 'char' && text.length > 0) {
              const at = edit.at % text.length;
              text = text.slice(0, at) + edit.char + text.slice(at + 1);
            }
            if (edit.kind === 'unpad') text = text.replace(/=+$/, '');
            if (edit.kind === 'space') {
              const at = edit.at % (text.length + 1);
              text = `${text.slice(0, at)} ${text.slice(at)}`;
            }
            message = text;
          }
          const read = {
            ...(readAad === undefined ? {} : { aad: readAad }),
            ...(format === undefined ? {} : { format }),
          };
          const a = await outcome(cached.decryptToString(message, read));
          const b = await outcome(awaited.decryptToString(message, read));
          expect(a).toBe(b);
          const intact = m.kind === 'none' && (asBytes || edit.kind === 'none');
          if (
            intact &&
            readAad === aad &&
            (format === undefined || format === written.slice(0, format.length))
          ) {
            expect(a).toBe(`ok ${plaintext}`);
          }
          // Whatever K the parser found in a mutated message, it was lent alone.
          for (const l of keys.lent) {
            expect(l.byteOffset).toBe(0);
            expect(l.bufferLength).toBe(l.bytes.length);
          }
          keys.lent.length = 0;
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('the fast lane for format A (Node)', () => {
  test('reads blobs of every LEB128 width as the general parser does, tampered or not (property)', async () => {
    const key = new Uint8Array(32).fill(3);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(1, 8, 9, 100, 127, 128, 129, 300, 16_383, 16_384, 20_000),
        fc.string({ maxLength: 50 }),
        fc.option(fc.tuple(fc.nat(60), fc.nat(7)), { nil: undefined }),
        async (blobLength, plaintext, flip) => {
          const header = new TextEncoder().encode('WOS.EKM.');
          const blob = new Uint8Array(Math.max(blobLength, 1));
          blob.set(header.subarray(0, Math.min(header.length, blob.length)));
          for (let i = header.length; i < blob.length; i++) blob[i] = (i * 31) & 0xff;
          const { shared } = SharedDataKey.create(
            makeDataKey({ id: 'k', key: key.slice(), encryptedKeys: blob }),
          );
          const lent: number[] = [];
          const decryptDataKey = async (b: Uint8Array) => {
            if (!shared.wraps(b)) throw new Error('unknown blob');
            return shared;
          };
          const withLookup: KeyProvider = {
            createDataKey: async () => shared,
            decryptDataKey,
            cachedDataKey(view) {
              lent.push(view.buffer.byteLength - view.length);
              return shared.wraps(view) ? shared : undefined;
            },
          };
          const awaited: KeyProvider = { createDataKey: async () => shared, decryptDataKey };
          const bytes = await new Envelope({ keys: withLookup }).encryptToBytes(plaintext, { context });
          if (flip !== undefined) bytes[(28 + flip[0]) % bytes.length]! ^= 1 << flip[1];
          const text = Buffer.from(bytes).toString('base64');
          const outcome = (p: Promise<string>) =>
            p.then(
              (v) => `ok ${v}`,
              (e: Error) => `${e.constructor.name}: ${e.message}`,
            );
          const a = await outcome(new Envelope({ keys: withLookup }).decryptToString(text));
          const b = await outcome(new Envelope({ keys: awaited }).decryptToString(text));
          expect(a).toBe(b);
          if (flip === undefined) expect(a).toBe(`ok ${plaintext}`);
          expect(lent.every((extra) => extra === 0)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('encryption writes each message in memory of its own', () => {
  test('encryptToBytes returns a plain Uint8Array over exactly its bytes, at every size', async () => {
    const envelope = new Envelope({ keys: new LookupProvider() });
    for (const size of [0, 100, 16 * 1024, 40_000, 1 << 20]) {
      for (const plaintext of ['x'.repeat(size), new Uint8Array(size).fill(1)]) {
        const out = await envelope.encryptToBytes(plaintext, { context });
        expect(out.constructor).toBe(Uint8Array);
        expect(out.byteOffset).toBe(0);
        expect(out.buffer.byteLength).toBe(out.length);
        expect(await envelope.decrypt(out)).toEqual(
          typeof plaintext === 'string' ? enc.encode(plaintext) : plaintext,
        );
      }
    }
  });

  test('a string encrypted in place decrypts on the other backend, around the scratch sizes (property)', async () => {
    const keys = new LookupProvider();
    const fast = new Envelope({ keys, backend: 'fast' });
    const portable = new Envelope({ keys, backend: 'portable' });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(0, 1, 32 * 1024 - 200, 32 * 1024, 2 * 1024 * 1024 - 200, 2 * 1024 * 1024 + 5),
        fc.constantFrom('a', 'é', '€', '😀'),
        fc.boolean(),
        async (n, ch, text) => {
          const plaintext = ch.repeat(Math.ceil(n / enc.encode(ch).length));
          for (const [from, to] of [
            [fast, portable],
            [portable, fast],
          ] as const) {
            const ct = text
              ? await from.encrypt(plaintext, { context })
              : await from.encryptToBytes(plaintext, { context });
            expect(await to.decryptToString(ct)).toBe(plaintext);
          }
        },
      ),
      { numRuns: 12 },
    );
  });
});
