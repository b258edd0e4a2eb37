import {
  __TESTS,
  type AeadBackend,
  decodeLeb128u32,
  Envelope,
  encodeLeb128u32,
  FormatError,
  inspect,
  makeDataKey,
  type PreparedKey,
  parseCiphertext,
  SharedDataKey,
  selectBackend,
} from '@vault-envelope/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { FixedKeyProvider } from './_helpers.js';

const key = new Uint8Array(32).fill(7);

/** The size of the scratch buffers: strings around it take both paths. */
const SCRATCH = __TESTS.SCRATCH_SIZE;

describe('the one LEB128 reader', () => {
  test('parseCiphertext reads the key blob length exactly as decodeLeb128u32 does (property)', () => {
    // Format A keeps the length at byte 28, after IV and tag; anything may follow it.
    const head = new Uint8Array(28).fill(1);
    // Random bytes (mostly malformed lengths) and valid lengths followed by a few bytes of blob.
    const tails = fc.oneof(
      fc.uint8Array({ maxLength: 12 }),
      fc
        .tuple(fc.nat(16), fc.uint8Array({ maxLength: 12 }))
        .map(([n, rest]) => new Uint8Array([...encodeLeb128u32(n), ...rest])),
    );
    let parsedOk = 0;
    fc.assert(
      fc.property(tails, (tail) => {
        const bytes = new Uint8Array([...head, ...tail]);
        let parsed: ReturnType<typeof parseCiphertext> | FormatError;
        try {
          parsed = parseCiphertext(bytes, 'A');
        } catch (e) {
          expect(e).toBeInstanceOf(FormatError);
          parsed = e as FormatError;
        }
        if (tail.length < 2) {
          expect((parsed as FormatError).message).toBe(
            `malformed ciphertext: too short for format A (${bytes.length} bytes)`,
          );
          return;
        }
        let n: number;
        try {
          n = decodeLeb128u32(tail, 0).value;
        } catch (e) {
          expect((parsed as FormatError).message).toBe(`malformed ciphertext: ${(e as Error).message}`);
          return;
        }
        if (parsed instanceof FormatError) {
          expect([
            'malformed ciphertext: empty encrypted key blob',
            'malformed ciphertext: encrypted key blob length exceeds the message',
          ]).toContain(parsed.message);
          expect(n === 0 || n > tail.length - encodeLeb128u32(n).length).toBe(true);
        } else {
          expect(parsed.encryptedKeys.length).toBe(n);
          parsedOk++;
        }
      }),
      { numRuns: 2000 },
    );
    expect(parsedOk).toBeGreaterThan(0);
  });

  test('reads every valid encoding back, and its length (property)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffff_ffff }), fc.nat(4), (n, at) => {
        const encoded = encodeLeb128u32(n);
        const bytes = new Uint8Array(at + encoded.length + 2).fill(0xff);
        bytes.set(encoded, at);
        expect(decodeLeb128u32(bytes, at)).toEqual({ value: n, length: encoded.length });
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
      SharedDataKey.create(
        makeDataKey({ id: 'k', key: key.slice(), encryptedKeys: new Uint8Array([1, 2, 3]) }),
      );
    const keys = {
      createDataKey: async () => {
        const dk = make();
        if (calls++ === 0) dk.destroy();
        return dk.shared;
      },
      decryptDataKey: async () => make().shared,
    };
    const envelope = new Envelope({ keys });
    const ct = await envelope.encrypt('hello', { context: {} });
    expect(calls).toBe(2);
    expect(await envelope.decryptToString(ct)).toBe('hello');
  });
});
