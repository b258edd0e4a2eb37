/**
 * The web backend (WebCrypto) on Node's own `crypto.subtle`: Wycheproof on both of its sides,
 * the WorkOS vectors through an Envelope, byte-for-byte agreement with the other backends, and
 * the rules for inputs across the extra `await` (AAD copied at call time, a byte plaintext's
 * length checked again once the key is ready, the UTF-8 copy of a string zeroed while the
 * operation runs, a shared key destroyed during the key import asked for again). The same
 * bundle runs in headless Chromium and workerd (browser-tests), where `'auto'` picks this backend.
 */
import {
  type AeadBackend,
  DecryptionError,
  Envelope,
  fastBackend,
  KeyDestroyedError,
  type KeyProvider,
  MemoryKeyProvider,
  type PreparedKey,
  portableBackend,
  SharedDataKey,
  selectBackend,
  webBackend,
} from '@vault-envelope/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { b64, FixedKeyProvider, hex, loadJson, toHex } from './_helpers.js';
import type { WorkosVector } from './_workos-vector.js';
import type { GcmGroup } from './_wycheproof.js';

const web = webBackend()!;
const fast = fastBackend()!;
const portable = portableBackend();
const context = { organization_id: 'org_1' };

/** Every field is optional in `AeadBackend`; the web backend has the asynchronous side. */
function asyncSide(b: AeadBackend) {
  return {
    prepareAsync: b.prepareAsync!.bind(b),
    encryptAsync: b.encryptAsync!.bind(b),
    decryptAsync: b.decryptAsync!.bind(b),
  };
}

describe('the web backend', () => {
  test('exists where crypto.subtle does, is named web, and is what selectBackend("web") gives', () => {
    expect(web.name).toBe('web');
    expect(selectBackend('web')).toBe(web);
    expect(web.asyncFrom).toBe(0);
    // Node has node:crypto, so 'auto' stays on the fast backend here.
    expect(selectBackend('auto')).toBe(fast);
    expect(new Envelope({ keys: new MemoryKeyProvider(), backend: 'web' }).backend).toBe('web');
  });

  test('Wycheproof AES-GCM (keySize 256, tagSize 128, IV 96 and 256 bits), both sides', async () => {
    const groups = loadJson<{ testGroups: GcmGroup[] }>('aes_gcm_test.json').testGroups.filter(
      (g) => g.keySize === 256 && g.tagSize === 128 && (g.ivSize === 96 || g.ivSize === 256),
    );
    const side = asyncSide(web);
    let valid = 0;
    let invalid = 0;
    for (const g of groups) {
      for (const t of g.tests) {
        const key = web.prepare(hex(t.key));
        await side.prepareAsync(key);
        const iv = hex(t.iv);
        const aad = t.aad === '' ? undefined : hex(t.aad);
        const msg = hex(t.msg);
        const ct = hex(t.ct);
        const tag = hex(t.tag);
        if (t.result === 'valid' || t.result === 'acceptable') {
          const out = new Uint8Array(msg.length + 16);
          await side.encryptAsync(key, iv, msg, aad, out, 0, msg.length);
          expect(toHex(out), `tcId ${t.tcId}`).toBe(t.ct + t.tag);
          const sync = new Uint8Array(msg.length + 16);
          web.encrypt(key, iv, msg, aad, sync, 0, msg.length);
          expect(toHex(sync), `tcId ${t.tcId}`).toBe(t.ct + t.tag);
          expect(toHex(await side.decryptAsync(key, iv, ct, tag, aad)), `tcId ${t.tcId}`).toBe(t.msg);
          expect(toHex(web.decrypt(key, iv, ct, tag, aad)), `tcId ${t.tcId}`).toBe(t.msg);
          valid++;
        } else {
          await expect(side.decryptAsync(key, iv, ct, tag, aad), `tcId ${t.tcId}`).rejects.toBeInstanceOf(
            DecryptionError,
          );
          expect(() => web.decrypt(key, iv, ct, tag, aad), `tcId ${t.tcId}`).toThrow(DecryptionError);
          invalid++;
        }
        key.destroy();
      }
    }
    expect(valid).toBeGreaterThan(30);
    expect(invalid).toBeGreaterThan(10);
  });

  test('the WorkOS vectors decrypt through an Envelope on the web backend, and A re-encrypts to its bytes', async () => {
    const vectors = loadJson<WorkosVector[]>('workos_vectors.json');
    const side = asyncSide(web);
    for (const v of vectors) {
      const keys = new FixedKeyProvider(b64(v.data_key), b64(v.encrypted_keys));
      const envelope = new Envelope({ keys, backend: 'web' });
      const opts = {
        ...(v.aad === null ? {} : { aad: v.aad }),
        ...(v.format === 'B' ? { format: 'B' as const } : {}),
      };
      expect(await envelope.decryptToString(v.ciphertext_b64, opts)).toBe(v.plaintext);
      await expect(envelope.decrypt(v.ciphertext_b64, { ...opts, aad: 'wrong' })).rejects.toBeInstanceOf(
        DecryptionError,
      );
      if (v.format === 'A') {
        const key = web.prepare(b64(v.data_key));
        await side.prepareAsync(key);
        const pt = new TextEncoder().encode(v.plaintext);
        const out = new Uint8Array(pt.length + 16);
        await side.encryptAsync(
          key,
          hex(v.iv_hex),
          pt,
          v.aad === null ? undefined : new TextEncoder().encode(v.aad),
          out,
          0,
          pt.length,
        );
        expect(toHex(out)).toBe(`${v.ciphertext_hex}${v.tag_hex}`);
      }
    }
  });

  test('gives the bytes of the fast and portable backends for the same key, IV, AAD and plaintext (property)', async () => {
    const side = asyncSide(web);
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((k) => k.some((b) => b !== 0)),
        fc.oneof(
          fc.uint8Array({ minLength: 12, maxLength: 12 }),
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
        ),
        fc.option(fc.uint8Array({ maxLength: 40 }), { nil: undefined }),
        fc.uint8Array({ maxLength: 3000 }),
        async (keyBytes, iv, aad, pt) => {
          const outs: string[] = [];
          for (const b of [fast, portable, web]) {
            const k = b.prepare(keyBytes);
            const out = new Uint8Array(pt.length + 16);
            b.encrypt(k, iv, pt, aad, out, 0, pt.length);
            outs.push(toHex(out));
          }
          const k = web.prepare(keyBytes);
          await side.prepareAsync(k);
          const out = new Uint8Array(pt.length + 16);
          await side.encryptAsync(k, iv, pt, aad, out, 0, pt.length);
          outs.push(toHex(out));
          expect(new Set(outs).size).toBe(1);
          const ct = out.subarray(0, pt.length);
          const tag = out.subarray(pt.length);
          expect(await side.decryptAsync(k, iv, ct, tag, aad)).toEqual(pt);
          tag[0]! ^= 1;
          await expect(side.decryptAsync(k, iv, ct, tag, aad)).rejects.toBeInstanceOf(DecryptionError);
        },
      ),
      { numRuns: 100 },
    );
  });

  test('an Envelope on the web backend and one on the fast backend read each other, single, batch and fields', async () => {
    const keys = new MemoryKeyProvider();
    const w = new Envelope({ keys, backend: 'web' });
    const f = new Envelope({ keys, backend: 'fast' });
    for (const size of [0, 1, 255, 70_000, 1 << 20]) {
      const pt = 'ü'.repeat(size >> 1) + 'x'.repeat(size & 1);
      for (const [a, b] of [
        [w, f],
        [f, w],
      ] as const) {
        expect(await b.decryptToString(await a.encrypt(pt, { context, aad: 'r' }), { aad: 'r' })).toBe(pt);
        const bytes = new Uint8Array(size).fill(5);
        expect(await b.decrypt(await a.encryptToBytes(bytes, { context }))).toEqual(bytes);
      }
    }
    const items = Array.from({ length: 9 }, (_, i) => ({
      plaintext: `item ${i}`,
      context: { organization_id: `org_${i % 3}` },
      aad: `batch/${i}`,
    }));
    const sealed = await w.encryptMany(items);
    const opened = await f.decryptManyToString(
      sealed.map((r, i) => ({ ciphertext: r.ok ? r.value : '', aad: `batch/${i}` })),
    );
    expect(opened.map((r) => (r.ok ? r.value : r.error.message))).toEqual(items.map((i) => i.plaintext));
    const back = await w.decryptManyToString(
      (await f.encryptMany(items)).map((r, i) => ({ ciphertext: r.ok ? r.value : '', aad: `batch/${i}` })),
    );
    expect(back.map((r) => (r.ok ? r.value : r.error.message))).toEqual(items.map((i) => i.plaintext));
    const row = { id: 7, ssn: '123-45-6789', photo: new Uint8Array([1, 2, 3]) };
    const fields = { ssn: 'text', photo: 'bytes' } as const;
    const enc = await w.encryptFields(row, { fields, id: 7, namespace: 'users', context });
    expect(await f.decryptFields(enc, { fields, id: 7, namespace: 'users' })).toEqual(row);
    const tampered = [...(await w.decryptMany([{ ciphertext: 'AAAA' }]))];
    expect(tampered[0]!.ok).toBe(false);
  });

  test('byte AAD is copied at call time: changing it while the key is fetched changes nothing', async () => {
    const inner = new MemoryKeyProvider();
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const keys: KeyProvider = {
      createDataKey: async (c) => {
        await held;
        return inner.createDataKey(c);
      },
      decryptDataKey: (b) => inner.decryptDataKey(b),
    };
    const envelope = new Envelope({ keys, backend: 'web' });
    const aad = new TextEncoder().encode('bound');
    const pending = envelope.encrypt('x', { context, aad });
    aad.fill(0);
    release();
    const ct = await pending;
    expect(await new Envelope({ keys: inner }).decryptToString(ct, { aad: 'bound' })).toBe('x');
  });

  test('a byte plaintext is checked again once the key is ready, after the key import', async () => {
    const gate = gated(web);
    const envelope = new Envelope({ keys: new MemoryKeyProvider(), backend: gate.backend });
    const buffer = new (
      ArrayBuffer as unknown as new (
        n: number,
        o: { maxByteLength: number },
      ) => ArrayBuffer & {
        resize(n: number): void;
      }
    )(8, { maxByteLength: 16 });
    const pt = new Uint8Array(buffer);
    const pending = envelope.encryptToBytes(pt, { context });
    await gate.entered;
    buffer.resize(4);
    gate.open();
    await expect(pending).rejects.toThrow(
      new RangeError('plaintext must keep its length of 8 bytes while its key is fetched, got 4'),
    );
  });

  test('the UTF-8 bytes of a string are zeroed as soon as the backend has read them, before it settles', async () => {
    const seen: { zeroedWhileRunning: boolean; text: string }[] = [];
    const spy: AeadBackend = {
      name: 'spy',
      asyncFrom: 0,
      prepare: (k) => web.prepare(k),
      prepareAsync: (k) => web.prepareAsync!(k),
      encrypt: () => {
        throw new Error('not the synchronous side');
      },
      decrypt: (k, iv, c, t, a) => web.decrypt(k, iv, c, t, a),
      decryptAsync: (k, iv, c, t, a) => web.decryptAsync!(k, iv, c, t, a),
      encryptAsync(k, iv, plaintext, aad, out, ctAt, tagAt) {
        const text = new TextDecoder().decode(plaintext);
        const running = web.encryptAsync!(k, iv, plaintext, aad, out, ctAt, tagAt);
        return Promise.resolve().then(async () => {
          seen.push({ zeroedWhileRunning: plaintext.every((b) => b === 0), text });
          await running;
        });
      },
      fillIv: (o, at) => web.fillIv(o, at),
    };
    const keys = new MemoryKeyProvider();
    const ct = await new Envelope({ keys, backend: spy }).encrypt('secret text', { context });
    expect(seen).toEqual([{ zeroedWhileRunning: true, text: 'secret text' }]);
    expect(await new Envelope({ keys }).decryptToString(ct)).toBe('secret text');
  });

  test('a shared key destroyed while its CryptoKey is imported is asked for again, never used', async () => {
    const provider = new MemoryKeyProvider();
    const handles: { destroy: () => void }[] = [];
    const keys: KeyProvider = {
      createDataKey: async (c) => {
        const h = SharedDataKey.create(await provider.createDataKey(c));
        handles.push(h);
        return h.shared;
      },
      decryptDataKey: (b) => provider.decryptDataKey(b),
    };
    const gate = gated(web);
    const envelope = new Envelope({ keys, backend: gate.backend });
    const pending = envelope.encrypt('again', { context });
    await gate.entered;
    handles[0]!.destroy();
    gate.open();
    const ct = await pending;
    expect(await new Envelope({ keys: provider }).decryptToString(ct)).toBe('again');
    // Two keys were handed out: the destroyed one, then the one the message is under.
    expect(handles.length).toBe(2);
  });

  test('a shared key destroyed during every attempt ends in KeyDestroyedError', async () => {
    const provider = new MemoryKeyProvider();
    const handles: { destroy: () => void }[] = [];
    const keys: KeyProvider = {
      createDataKey: async (c) => {
        const h = SharedDataKey.create(await provider.createDataKey(c));
        handles.push(h);
        return h.shared;
      },
      decryptDataKey: (b) => provider.decryptDataKey(b),
    };
    const backend: AeadBackend = {
      ...bindAll(web),
      prepareAsync: (k) => {
        handles.at(-1)!.destroy();
        return web.prepareAsync!(k);
      },
    };
    await expect(new Envelope({ keys, backend }).encrypt('x', { context })).rejects.toBeInstanceOf(
      KeyDestroyedError,
    );
    expect(handles.length).toBe(4);
  });

  test('a custom backend with asyncFrom must have the asynchronous methods and an integer asyncFrom', () => {
    const refused = new TypeError(
      'backend with asyncFrom must have an integer asyncFrom >= 0, encryptAsync and decryptAsync, got an object without',
    );
    expect(() => selectBackend({ ...bindAll(portable), asyncFrom: 0 } as AeadBackend)).toThrow(refused);
    expect(() => selectBackend({ ...bindAll(web), asyncFrom: -1 })).toThrow(refused);
    expect(() => selectBackend({ ...bindAll(web), asyncFrom: 1.5 })).toThrow(refused);
    const custom = { ...bindAll(web), asyncFrom: 1024 };
    expect(selectBackend(custom)).toBe(custom);
  });
});

/** The backend's methods, bound, as a plain object to spread. */
function bindAll(b: AeadBackend): AeadBackend {
  const o: AeadBackend = {
    name: b.name,
    prepare: (k) => b.prepare(k),
    encrypt: (k, iv, p, a, out, c, t) => b.encrypt(k, iv, p, a, out, c, t),
    decrypt: (k, iv, c, t, a) => b.decrypt(k, iv, c, t, a),
    fillIv: (out, at) => b.fillIv(out, at),
  };
  if (b.asyncFrom !== undefined) {
    Object.assign(o, {
      asyncFrom: b.asyncFrom,
      prepareAsync: (k: PreparedKey) => b.prepareAsync!(k),
      encryptAsync: b.encryptAsync!.bind(b),
      decryptAsync: b.decryptAsync!.bind(b),
    });
  }
  return o;
}

/** `b` with a `prepareAsync` that waits until `open()`; `entered` settles when it is called. */
function gated(b: AeadBackend): { backend: AeadBackend; entered: Promise<void>; open: () => void } {
  let open!: () => void;
  let enter!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  const entered = new Promise<void>((r) => {
    enter = r;
  });
  let first = true;
  const backend: AeadBackend = {
    ...bindAll(b),
    prepareAsync: (k) => {
      if (!first) return b.prepareAsync!(k);
      first = false;
      enter();
      return opened.then(() => b.prepareAsync!(k));
    },
  };
  return { backend, entered, open };
}
