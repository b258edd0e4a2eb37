import {
  __TESTS,
  DecryptionError,
  decodeBase64,
  Envelope,
  EnvelopeError,
  encodeBase64,
  FormatError,
  inspect,
  type KeyProvider,
  makeDataKey,
  parseCiphertext,
  SharedDataKey,
  serializeFormatA,
} from '@vault-envelope/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { base64Texts, strictBase64 } from './_base64.js';
import { FixedKeyProvider } from './_helpers.js';

const iv = new Uint8Array(12).fill(1);
const tag = new Uint8Array(16).fill(2);
const k = new TextEncoder().encode('key-blob');
const ct = new Uint8Array([9, 9, 9]);

/** A provider that fails the test if it is ever asked for a key. */
const untouchable: KeyProvider = {
  createDataKey: () => {
    throw new Error('createDataKey must not be called');
  },
  decryptDataKey: () => {
    throw new Error('decryptDataKey must not be called for a malformed message');
  },
};

describe('format A layout', () => {
  test('serializeFormatA writes IV ‖ TAG ‖ LEB128(len K) ‖ K ‖ CT', () => {
    const bytes = serializeFormatA({ iv, tag, encryptedKeys: k, ciphertext: ct });
    expect([...bytes]).toEqual([...iv, ...tag, k.length, ...k, ...ct]);
    const p = parseCiphertext(bytes);
    expect(p.format).toBe('A');
    expect(p.iv).toEqual(iv);
    expect(p.tag).toEqual(tag);
    expect(p.encryptedKeys).toEqual(k);
    expect(p.ciphertext).toEqual(ct);
  });

  test('a key blob of 300 bytes takes a two-byte length', () => {
    const big = new Uint8Array(300).fill(7);
    const bytes = serializeFormatA({ iv, tag, encryptedKeys: big, ciphertext: ct });
    expect([...bytes.subarray(28, 30)]).toEqual([0xac, 0x02]);
    expect(parseCiphertext(bytes).encryptedKeys).toEqual(big);
  });

  test('empty ciphertext (empty plaintext) is valid', () => {
    const bytes = serializeFormatA({ iv, tag, encryptedKeys: k, ciphertext: new Uint8Array(0) });
    expect(parseCiphertext(bytes).ciphertext.length).toBe(0);
  });

  test('serializeFormatA checks its parts', () => {
    expect(() => serializeFormatA({ iv: new Uint8Array(11), tag, encryptedKeys: k, ciphertext: ct })).toThrow(
      RangeError,
    );
    expect(() => serializeFormatA({ iv, tag: new Uint8Array(15), encryptedKeys: k, ciphertext: ct })).toThrow(
      RangeError,
    );
    expect(() => serializeFormatA({ iv, tag, encryptedKeys: new Uint8Array(0), ciphertext: ct })).toThrow(
      RangeError,
    );
    expect(() => serializeFormatA({ iv: new Uint8Array(11), tag, encryptedKeys: k, ciphertext: ct })).toThrow(
      new RangeError('iv must be 12 bytes, got 11'),
    );
    expect(() => serializeFormatA({ iv, tag: new Uint8Array(15), encryptedKeys: k, ciphertext: ct })).toThrow(
      new RangeError('tag must be 16 bytes, got 15'),
    );
    expect(() => serializeFormatA({ iv, tag, encryptedKeys: new Uint8Array(0), ciphertext: ct })).toThrow(
      new RangeError('encryptedKeys must not be empty'),
    );
    expect(() => serializeFormatA({ iv, tag, encryptedKeys: k, ciphertext: 'abc' as never })).toThrow(
      new TypeError('ciphertext must be a Uint8Array, got string'),
    );
    expect(() => serializeFormatA(undefined as never)).toThrow(
      new TypeError('format A parts must be an object, got undefined'),
    );
  });

  test('serializeFormatA and the Envelope write the same bytes for the same parts (property)', async () => {
    // The Envelope lays its messages out in place through the same header writer; rebuilding a
    // message from its parsed parts must give it back byte for byte, for any key blob length.
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.oneof(fc.string({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 })),
        async (blob, plaintext) => {
          const envelope = new Envelope({ keys: new FixedKeyProvider(new Uint8Array(32).fill(3), blob) });
          const message = await envelope.encryptToBytes(plaintext, { context: {} });
          const p = parseCiphertext(message, 'A');
          expect(p.encryptedKeys).toEqual(blob);
          expect(serializeFormatA(p)).toEqual(message);
          const text = await envelope.encrypt(plaintext, { context: {} });
          expect(encodeBase64(serializeFormatA(parseCiphertext(decodeBase64(text), 'A')))).toBe(text);
          // A SharedDataKey copies its blob into the message itself.
          const { shared } = SharedDataKey.create(
            makeDataKey({ id: 's', key: new Uint8Array(32).fill(4), encryptedKeys: blob.slice() }),
          );
          const viaShared = await new Envelope({
            keys: { createDataKey: async () => shared, decryptDataKey: async () => shared },
          }).encryptToBytes(plaintext, { context: {} });
          const q = parseCiphertext(viaShared, 'A');
          expect(q.encryptedKeys).toEqual(blob);
          expect(serializeFormatA(q)).toEqual(viaShared);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('malformed messages are FormatErrors', () => {
  const good = serializeFormatA({ iv, tag, encryptedKeys: k, ciphertext: ct });
  const cases: [string, Uint8Array, string][] = [
    ['empty', new Uint8Array(0), 'too short'],
    ['shorter than IV and tag', good.subarray(0, 27), 'too short'],
    ['key blob cut short', good.subarray(0, 30), 'exceeds the message'],
    [
      'empty key blob',
      serializeFormatA({ iv, tag, encryptedKeys: k, ciphertext: ct }).map((b, i) => (i === 28 ? 0 : b)),
      'empty encrypted key blob',
    ],
    ['key blob longer than the message', good.map((b, i) => (i === 28 ? 100 : b)), 'exceeds the message'],
    ['truncated LEB128', new Uint8Array([...iv, ...tag, 0x80]), 'too short'],
    [
      'LEB128 over 32 bits',
      new Uint8Array([...iv, ...tag, 0xff, 0xff, 0xff, 0xff, 0x1f, 1]),
      'exceeds 32 bits',
    ],
    ['non-minimal LEB128', new Uint8Array([...iv, ...tag, 0x88, 0x00, ...k]), 'non-minimal'],
  ];
  for (const [name, bytes, message] of cases) {
    test(name, async () => {
      expect(() => parseCiphertext(bytes)).toThrow(FormatError);
      expect(() => parseCiphertext(bytes)).toThrow(message);
      const envelope = new Envelope({ keys: untouchable });
      await expect(envelope.decrypt(bytes)).rejects.toBeInstanceOf(FormatError);
    });
  }

  test('format B needs room for nonce and tag after the key blob', () => {
    const b = new Uint8Array([k.length, ...k, ...iv, ...tag.subarray(0, 15)]);
    expect(() => parseCiphertext(b, 'B')).toThrow('exceeds the message');
  });

  test('an unknown forced format is a TypeError', () => {
    expect(() => parseCiphertext(good, 'C' as never)).toThrow(TypeError);
  });
});

describe('layout detection', () => {
  const magicBlob = new TextEncoder().encode('WOS.EKM.v1\0some-key-id');
  const plainBlob = new TextEncoder().encode('local-server-blob');
  const layouts = {
    A: (kb: Uint8Array) => new Uint8Array([...iv, ...tag, kb.length, ...kb, ...ct]),
    legacy: (kb: Uint8Array) =>
      new Uint8Array([...new Uint8Array(32).fill(3), ...tag, kb.length, ...kb, ...ct]),
    B: (kb: Uint8Array) => new Uint8Array([kb.length, ...kb, ...iv, ...ct, ...tag]),
  };
  for (const [format, make] of Object.entries(layouts)) {
    test(`a WOS.EKM. key blob identifies format ${format}`, () => {
      const p = parseCiphertext(make(magicBlob));
      expect(p.format).toBe(format);
      expect(p.encryptedKeys).toEqual(magicBlob);
      expect(p.ciphertext).toEqual(ct);
    });
    test(`format ${format} can be forced`, () => {
      const p = parseCiphertext(make(plainBlob), format as 'A');
      expect(p.format).toBe(format);
      expect(p.encryptedKeys).toEqual(plainBlob);
      expect(p.ciphertext).toEqual(ct);
      expect(p.tag).toEqual(tag);
    });
  }
  test('without the magic, format A is the default', () => {
    expect(parseCiphertext(layouts.A(plainBlob)).format).toBe('A');
  });
  test('inspect returns copies and says whether the blob is a WorkOS one', () => {
    const bytes = layouts.A(magicBlob);
    const info = inspect(bytes);
    expect(info).toMatchObject({ format: 'A', workosKeyBlob: true, ciphertextLength: 3 });
    info.iv.fill(0);
    expect(bytes.subarray(0, 12)).toEqual(iv);
    expect(inspect(encodeBase64(layouts.A(plainBlob))).workosKeyBlob).toBe(false);
  });
});

describe('strict base64', () => {
  test.each([
    ['length not a multiple of 4', 'QUJD' + 'QQ'],
    ['URL-safe alphabet', 'ab-_'],
    ['whitespace', 'QUJD QUJD'],
    ['non-zero padding bits', 'QR=='],
    ['non-zero padding bits (one =)', 'QUI='.replace('I', 'J')],
    ['padding in the middle', 'QQ==QUJD'],
    ['three =', 'Q==='],
    ['non-ASCII', 'QUJé'],
    // Buffer's decoder reads only the low byte of a UTF-16 code unit: U+0141 as 'A'.
    ['a character above U+00FF whose low byte is a base64 letter', 'QUJ\u0141'],
    ['one whose low byte is +', 'QU\u012bD'],
    ['one whose low byte is =', 'QQ=\u013d'],
    ['a lone surrogate whose low byte is a base64 letter', '\ud841UJD'],
  ])('rejects %s', (_, text) => {
    expect(() => decodeBase64(text)).toThrow(FormatError);
    expect(() => __TESTS.decodePublicBase64(text)).toThrow(FormatError);
    expect(() => __TESTS.decodeBase64Portable(text)).toThrow(FormatError);
  });
  test('the Node and portable decoders accept exactly the strict texts of the RFC, with their bytes (property)', () => {
    // The atob decoder is the one browsers and edge runtimes without Uint8Array.fromBase64 use;
    // the Node path (Buffer plus checks) must accept and reject exactly the same texts, and both
    // exactly what the RFC's strict reading accepts (the fromBase64 path: base64-paths.test.ts).
    const { decodeBase64Portable, decodePublicBase64 } = __TESTS;
    const run = (f: (t: string) => Uint8Array, t: string) => {
      try {
        return Buffer.from(f(t)).toString('hex');
      } catch (e) {
        expect(e).toBeInstanceOf(FormatError);
        return 'FormatError';
      }
    };
    fc.assert(
      fc.property(base64Texts, (t) => {
        const model = strictBase64(t);
        const expected = model === undefined ? 'FormatError' : Buffer.from(model).toString('hex');
        expect({ t, portable: run(decodeBase64Portable, t) }).toEqual({ t, portable: expected });
        expect({ t, node: run(decodeBase64, t) }).toEqual({ t, node: expected });
        expect({ t, pooled: run(decodePublicBase64, t) }).toEqual({ t, pooled: expected });
      }),
      { numRuns: 5000 },
    );
  });

  test('the portable UTF-8 length equals TextEncoder.encode on any string, across slice boundaries (property)', () => {
    // Used where Buffer is missing; it encodes 4,096 UTF-16 units at a time, so long strings of
    // multi-byte characters and surrogate pairs (lone ones included) cross slice boundaries here.
    const { utf8LengthPortable } = __TESTS;
    const encoder = new TextEncoder();
    const unit = fc.oneof(
      fc.constantFrom('a', '\u00e9', '\u20ac', '\u{1F600}', '\ud800', '\udc00', '\u0000'),
      fc.string({ unit: 'binary', maxLength: 3 }),
    );
    const texts = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 64 }),
      fc
        .tuple(fc.integer({ min: 16_380, max: 16_390 }), unit, fc.nat({ max: 3 }))
        .map(([n, u, k]) => 'x'.repeat(n) + u.repeat(k + 1) + 'y'),
      fc
        .tuple(fc.array(unit, { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 12_000 }))
        .map(([us, n]) => us.join('').repeat(n)),
    );
    fc.assert(
      fc.property(texts, (t) => {
        expect(utf8LengthPortable(t)).toBe(encoder.encode(t).length);
      }),
      { numRuns: 300 },
    );
    expect(utf8LengthPortable('')).toBe(0);
  });

  test('round trips any bytes, and equals Buffer encoding', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const text = encodeBase64(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64'));
        expect(decodeBase64(text)).toEqual(bytes);
      }),
    );
  });
});

describe('parser totality (property)', () => {
  const provider = new FixedKeyProvider(new Uint8Array(32));
  const isTyped = (e: unknown) =>
    e instanceof FormatError || e instanceof DecryptionError || EnvelopeError.is(e);

  test('any string fed to decrypt yields only FormatError or DecryptionError (or a provider error), never plaintext', async () => {
    const envelope = new Envelope({ keys: untouchableUnlessWellFormed() });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string(), fc.base64String(), fc.string({ unit: 'binary' })),
        async (text) => {
          const outcome = await envelope.decrypt(text).then(
            () => 'plaintext',
            (e: unknown) => e,
          );
          expect(outcome).not.toBe('plaintext');
          expect(
            isTyped(outcome) || (outcome as Error).message === 'key lookup for a well-formed message',
          ).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  test('any bytes: parseCiphertext either throws FormatError or returns parts that add up', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 120 }),
        fc.constantFrom(undefined, 'A', 'legacy', 'B'),
        (bytes, format) => {
          let parts: ReturnType<typeof parseCiphertext>;
          try {
            parts = parseCiphertext(bytes, format as 'A' | undefined);
          } catch (e) {
            expect(e).toBeInstanceOf(FormatError);
            return;
          }
          expect(parts.encryptedKeys.length).toBeGreaterThan(0);
          expect(parts.tag.length).toBe(16);
          expect([12, 32]).toContain(parts.iv.length);
          const overhead =
            bytes.length - parts.ciphertext.length - parts.encryptedKeys.length - parts.iv.length - 16;
          expect(overhead).toBeGreaterThanOrEqual(1);
          expect(overhead).toBeLessThanOrEqual(5);
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('malformed input never reaches the key provider', async () => {
    const envelope = new Envelope({ keys: provider });
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 29 }), async (bytes) => {
        await expect(envelope.decrypt(bytes)).rejects.toBeInstanceOf(FormatError);
      }),
    );
    expect(provider.calls.decrypt).toBe(0);
  });
});

/** A provider that rejects with a recognisable error: only well-formed messages may reach it. */
function untouchableUnlessWellFormed(): KeyProvider {
  return {
    createDataKey: untouchable.createDataKey,
    decryptDataKey: async (blob) => {
      // The blob must be a non-empty view that the parser checked.
      expect(blob.length).toBeGreaterThan(0);
      throw new Error('key lookup for a well-formed message');
    },
  };
}

test('decodeBase64 returns memory of its own, never a view into a shared pool', () => {
  const bytes = decodeBase64(Buffer.from('sixteen byte key').toString('base64'));
  expect(bytes.constructor).toBe(Uint8Array);
  expect(bytes.byteOffset).toBe(0);
  expect(bytes.buffer.byteLength).toBe(16);
});
