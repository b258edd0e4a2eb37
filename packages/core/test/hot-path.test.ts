import {
  type AeadBackend,
  Envelope,
  encodeLeb128u32,
  inspect,
  makeDataKey,
  type PreparedKey,
  SharedDataKey,
  selectBackend,
} from '@vault-envelope/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
// Internals of the hot path, imported from the source on purpose (they are not exported).
import { decodeLeb128u32, peekLeb128u32 } from '../src/leb128.js';
import { FixedKeyProvider } from './_helpers.js';

const key = new Uint8Array(32).fill(7);

/** The scratch buffers hold up to 16 KiB; strings around that size take both paths. */
const SCRATCH = 16 * 1024;

describe('peekLeb128u32', () => {
  test('agrees with decodeLeb128u32 on any bytes at any offset (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), fc.nat(8), (bytes, offset) => {
        let expected: number;
        try {
          expected = decodeLeb128u32(bytes, offset).value;
        } catch {
          expected = -1;
        }
        expect(peekLeb128u32(bytes, offset)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  test('reads every valid encoding back (property)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffff_ffff }), (n) => {
        expect(peekLeb128u32(encodeLeb128u32(n), 0)).toBe(n);
      }),
    );
  });
});

describe('string plaintexts through the scratch buffers', () => {
  for (const backend of ['fast', 'portable'] as const) {
    test(`${backend}: round trips strings of any length and script around the scratch size (property)`, async () => {
      const envelope = new Envelope({ keys: new FixedKeyProvider(key), backend });
      const text = fc.oneof(
        fc.string({ unit: 'grapheme', maxLength: 64 }),
        fc
          .tuple(fc.integer({ min: SCRATCH - 8, max: SCRATCH + 8 }), fc.constantFrom('a', 'é', '€', '😀'))
          .map(([n, c]) => c.repeat(Math.ceil(n / new TextEncoder().encode(c).length))),
      );
      await fc.assert(
        fc.asyncProperty(text, async (pt) => {
          const ct = await envelope.encrypt(pt, { context: { org: '1' }, aad: 'a' });
          expect(inspect(ct).ciphertextLength).toBe(new TextEncoder().encode(pt).length);
          expect(await envelope.decryptToString(ct, { aad: 'a' })).toBe(pt);
        }),
        { numRuns: 40 },
      );
    });
  }

  test('lone surrogates are encrypted as U+FFFD, as TextEncoder encodes them', async () => {
    const envelope = new Envelope({ keys: new FixedKeyProvider(key) });
    const ct = await envelope.encrypt('a\ud800b', { context: {} });
    expect(await envelope.decryptToString(ct)).toBe('a\ufffdb');
  });

  test('concurrent encryptions never see each other in the shared scratch buffers', async () => {
    const envelope = new Envelope({ keys: new FixedKeyProvider(key) });
    const texts = Array.from({ length: 200 }, (_, i) => `value-${i}-`.repeat(1 + (i % 50)));
    const cts = await Promise.all(
      texts.map((t) => envelope.encrypt(t, { context: { org: String(texts.length) } })),
    );
    const back = await Promise.all(cts.map((c) => envelope.decryptToString(c)));
    expect(back).toEqual(texts);
  });

  test('the UTF-8 copy of a string plaintext is zeroed right after encryption', async () => {
    const real = selectBackend('fast');
    const seen: Uint8Array[] = [];
    const spy: AeadBackend = {
      name: 'spy',
      prepare: (k) => real.prepare(k),
      fillIv: (out, at) => real.fillIv(out, at),
      decrypt: (k, iv, c, t, a) => real.decrypt(k, iv, c, t, a),
      encrypt(k: PreparedKey, iv, pt, aad, out, ctAt, tagAt) {
        real.encrypt(k, iv, pt, aad, out, ctAt, tagAt);
        seen.push(pt);
      },
    };
    const envelope = new Envelope({ keys: new FixedKeyProvider(key), backend: spy });
    await envelope.encrypt('secret value', { context: {} });
    await envelope.encrypt('x'.repeat(SCRATCH + 1), { context: {} });
    expect(seen).toHaveLength(2);
    for (const pt of seen) expect(pt.every((b) => b === 0)).toBe(true);
  });

  test('a shared key destroyed before use is fetched again, then the message is written', async () => {
    let calls = 0;
    const make = () =>
      new SharedDataKey(makeDataKey({ id: 'k', key: key.slice(), encryptedKeys: new Uint8Array([1, 2, 3]) }));
    const keys = {
      createDataKey: async () => {
        const dk = make();
        if (calls++ === 0) dk.destroy();
        return dk;
      },
      decryptDataKey: async () => make(),
    };
    const envelope = new Envelope({ keys });
    const ct = await envelope.encrypt('hello', { context: {} });
    expect(calls).toBe(2);
    expect(await envelope.decryptToString(ct)).toBe('hello');
  });
});
