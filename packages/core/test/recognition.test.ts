// isCiphertext: true only for a message that parses strictly AND whose key blob starts with a
// known header (or is the .NET SDK's base64 text of one). Measured here: zero false positives on
// 10^6 random base64 strings of 16 to 1,024 bytes and on a corpus of realistic plaintexts, and
// every message with a real key-blob header recognised, in every layout, binary and .NET text.
import { createHash, randomBytes, randomFillSync, randomInt, randomUUID } from 'node:crypto';
import {
  Envelope,
  encodeBase64,
  encodeLeb128u32,
  inspect,
  isCiphertext,
  type KeyProvider,
  MemoryKeyProvider,
  parseCiphertext,
  serializeFormatA,
} from '@vault-envelope/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { FixedKeyProvider, loadJson } from './_helpers.js';
import type { WorkosVector } from './_workos-vector.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const HEADERS = { workos: utf8('WOS.EKM.'), server: utf8('VES.EKM.v1\0'), memory: utf8('VE.MEM.v1\0') };
/** The .NET SDK's key blob: the UTF-8 bytes of the blob's base64 text. */
const dotnet = (blob: Uint8Array) => utf8(encodeBase64(blob));

const layouts = {
  A: (k: Uint8Array, ct: Uint8Array) =>
    serializeFormatA({ iv: randomBytes(12), tag: randomBytes(16), encryptedKeys: k, ciphertext: ct }),
  legacy: (k: Uint8Array, ct: Uint8Array) =>
    new Uint8Array([...randomBytes(32), ...randomBytes(16), ...encodeLeb128u32(k.length), ...k, ...ct]),
  B: (k: Uint8Array, ct: Uint8Array) =>
    new Uint8Array([...encodeLeb128u32(k.length), ...k, ...randomBytes(12), ...ct, ...randomBytes(16)]),
};

describe('every message with a real key-blob header is recognised', () => {
  test('L1, a real ciphertext of the live WorkOS API (legacy layout)', () => {
    const l1 = loadJson<WorkosVector[]>('workos_vectors.json').find((v) => v.format === 'legacy-iv32')!;
    expect(isCiphertext(l1.ciphertext_b64)).toBe(true);
    expect(inspect(l1.ciphertext_b64)).toMatchObject({
      format: 'legacy',
      keyBlobHeader: 'WOS.EKM.',
      keyBlobEncoding: 'binary',
      workosKeyBlob: true,
    });
  });

  test('any blob behind a known header, in any layout, binary or as .NET base64 text (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.values(HEADERS)),
        fc.uint8Array({ maxLength: 200 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom(...(Object.keys(layouts) as (keyof typeof layouts)[])),
        fc.boolean(),
        (header, tail, ct, layout, asText) => {
          const blob = new Uint8Array([...header, ...tail]);
          const k = asText ? dotnet(blob) : blob;
          const message = layouts[layout](k, ct);
          expect(isCiphertext(message)).toBe(true);
          expect(isCiphertext(encodeBase64(message))).toBe(true);
          const info = inspect(message);
          expect(info.format).toBe(layout);
          expect(info.keyBlobEncoding).toBe(asText ? 'base64-text' : 'binary');
          expect(info.encryptedKeys).toEqual(blob);
          expect(info.keyBlobHeader).toBe(String.fromCharCode(...header));
        },
      ),
      { numRuns: 500 },
    );
  });

  test('what the Envelope writes, in both key-blob encodings, with the memory provider', async () => {
    const keys = new MemoryKeyProvider();
    for (const keyBlobEncoding of ['binary', 'base64-text'] as const) {
      const envelope = new Envelope({ keys, keyBlobEncoding });
      const ct = await envelope.encrypt('hello', { context: { org: '1' } });
      expect(isCiphertext(ct)).toBe(true);
      expect(envelope.isCiphertext(ct)).toBe(true);
      expect(isCiphertext(await envelope.encryptToBytes('hello', { context: { org: '1' } }))).toBe(true);
      expect(inspect(ct)).toMatchObject({ keyBlobHeader: 'VE.MEM.v1\u0000', keyBlobEncoding });
    }
  });

  test('the SDK test vectors, whose blob has no real header, only with that header declared', () => {
    const vectors = loadJson<WorkosVector[]>('workos_vectors.json').filter((v) => v.format !== 'legacy-iv32');
    for (const v of vectors) {
      expect(isCiphertext(v.ciphertext_b64)).toBe(false);
      expect(isCiphertext(v.ciphertext_b64, { keyBlobHeaders: [utf8('test-encrypted-keys')] })).toBe(true);
      expect(isCiphertext(v.ciphertext_b64, { keyBlobHeaders: [utf8('test-e')] })).toBe(true);
    }
  });

  test('a changed header byte is not recognised', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.values(HEADERS)),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (header, at, flip) => {
          const blob = new Uint8Array([...header, ...randomBytes(40)]);
          blob[at % header.length]! ^= flip;
          expect(isCiphertext(layouts.A(blob, randomBytes(10)))).toBe(false);
        },
      ),
    );
  });
});

describe('declared headers', () => {
  const header = utf8('ACME.KMS');
  const provider: KeyProvider & { keyBlobHeaders: Uint8Array[] } = Object.assign(
    new FixedKeyProvider(new Uint8Array(32).fill(3), utf8('ACME.KMS/key-1')),
    { keyBlobHeaders: [header] },
  );

  test('a provider declares its headers; the Envelope recognises and detects by them', async () => {
    const envelope = new Envelope({ keys: provider });
    const ct = await envelope.encrypt('x', { context: {} });
    expect(isCiphertext(ct)).toBe(false); // not a built-in header
    expect(envelope.isCiphertext(ct)).toBe(true);
    expect(isCiphertext(ct, { keyBlobHeaders: [header] })).toBe(true);
    // Format B with that header is detected without naming the layout.
    const parts = parseCiphertext(Buffer.from(ct, 'base64'));
    const b = new Uint8Array([
      ...encodeLeb128u32(parts.encryptedKeys.length),
      ...parts.encryptedKeys,
      ...parts.iv,
      ...parts.ciphertext,
      ...parts.tag,
    ]);
    expect(await envelope.decryptToString(b)).toBe('x');
  });

  test('the Envelope option adds headers too; the provider is read once', async () => {
    let reads = 0;
    const counted = {
      createDataKey: provider.createDataKey.bind(provider),
      decryptDataKey: provider.decryptDataKey.bind(provider),
      get keyBlobHeaders() {
        reads++;
        return [];
      },
    };
    const envelope = new Envelope({ keys: counted, keyBlobHeaders: [header] });
    expect(reads).toBe(1);
    expect(envelope.isCiphertext(await envelope.encrypt('x', { context: {} }))).toBe(true);
    expect(reads).toBe(1);
  });

  test('a header shorter than 6 bytes, or not bytes, is refused', () => {
    expect(() => isCiphertext('', { keyBlobHeaders: [utf8('short')] })).toThrow(
      new RangeError('isCiphertext options.keyBlobHeaders[0] must be at least 6 bytes, got 5'),
    );
    expect(() => isCiphertext('', { keyBlobHeaders: ['ACME.KMS' as never] })).toThrow(
      new TypeError('isCiphertext options.keyBlobHeaders[0] must be a Uint8Array, got string'),
    );
    expect(() => isCiphertext('', { keyBlobHeaders: utf8('ACME.KMS') as never })).toThrow(
      new TypeError('isCiphertext options.keyBlobHeaders must be an array of Uint8Array, got Uint8Array'),
    );
    expect(() => isCiphertext('', { headers: [] } as never)).toThrow(
      new TypeError('isCiphertext options has an unknown option "headers"'),
    );
    expect(() => new Envelope({ keys: provider, keyBlobHeaders: [new Uint8Array(3)] })).toThrow(
      new RangeError('Envelope options.keyBlobHeaders[0] must be at least 6 bytes, got 3'),
    );
    const bad: KeyProvider = {
      createDataKey: (c) => provider.createDataKey(c),
      decryptDataKey: (b) => provider.decryptDataKey(b),
      keyBlobHeaders: [new Uint8Array(5)],
    };
    expect(() => new Envelope({ keys: bad })).toThrow(
      new RangeError('Envelope options.keys.keyBlobHeaders[0] must be at least 6 bytes, got 5'),
    );
  });

  test('the memory provider declares VE.MEM.v1\\0, in copies', () => {
    const keys = new MemoryKeyProvider();
    expect(keys.keyBlobHeaders).toEqual([HEADERS.memory]);
    keys.keyBlobHeaders[0]!.fill(0);
    expect(keys.keyBlobHeaders).toEqual([HEADERS.memory]);
  });

  test('never true for what is not a string or bytes', () => {
    for (const v of [null, undefined, 1, {}, [], new Uint16Array(40)]) expect(isCiphertext(v)).toBe(false);
  });
});

describe('false positives', () => {
  test('zero in 10^6 random base64 strings of 16 to 1,024 bytes (half of which parse as format A)', () => {
    const n = 1_000_000;
    const pool = Buffer.alloc(32 << 20);
    randomFillSync(pool);
    let offset = 0;
    let recognised = 0;
    let parsesAsA = 0;
    for (let i = 0; i < n; i++) {
      const len = 16 + randomInt(1009);
      if (offset + len > pool.length) {
        randomFillSync(pool);
        offset = 0;
      }
      const text = pool.toString('base64', offset, offset + len);
      if (isCiphertext(text)) recognised++;
      // What `inspect` accepted before: a well-formed format A layout, whatever the blob.
      if (i % 100 === 0) {
        try {
          parseCiphertext(pool.subarray(offset, offset + len), 'A');
          parsesAsA++;
        } catch {}
      }
      offset += len;
    }
    expect(recognised).toBe(0);
    expect(parsesAsA).toBeGreaterThan(n / 100 / 3); // the layout alone says little
  });

  test('zero on a corpus of realistic plaintexts', () => {
    const corpus = realisticPlaintexts();
    expect(corpus.length).toBeGreaterThan(190_000);
    const hits = corpus.filter((v) => isCiphertext(v));
    expect(hits).toEqual([]);
  });
});

/** Emails, JWTs, API tokens, JSON, base64 images, UUIDs, hex digests and base64 of all of them. */
function realisticPlaintexts(): (string | Uint8Array)[] {
  const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const pick = (chars: string, n: number) => {
    let s = '';
    for (let i = 0; i < n; i++) s += chars[randomInt(chars.length)];
    return s;
  };
  const b64url = (b: Uint8Array | string) => Buffer.from(b).toString('base64url');
  const out: (string | Uint8Array)[] = [];
  const add = (s: string) => {
    out.push(s, Buffer.from(s).toString('base64'));
  };
  for (let i = 0; i < 5_000; i++) {
    add(
      `${pick('abcdefghijklmnopqrstuvwxyz.', 3 + randomInt(12))}@${pick('abcdefghij', 3 + randomInt(8))}.com`,
    );
    const jwtHeader = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
    const jwtBody = b64url(JSON.stringify({ sub: randomUUID(), org: `org_${pick(alnum, 20)}`, iat: i }));
    const jwtSig = b64url(randomBytes(32));
    add(`${jwtHeader}.${jwtBody}.${jwtSig}`);
    out.push(jwtBody, jwtSig, jwtHeader);
    for (const prefix of [
      'sk_live_',
      'sk_test_',
      'pk_live_',
      'rk_live_',
      'whsec_',
      'ghp_',
      'xoxb-',
      'AKIA',
    ]) {
      add(prefix + pick(alnum, 16 + randomInt(40)));
    }
    // Tokens that are valid base64 themselves: alphanumeric, length a multiple of 4.
    out.push(pick(alnum, 4 * (8 + randomInt(40))), pick(`${alnum}+/`, 4 * (8 + randomInt(200))));
    add(
      JSON.stringify({
        id: i,
        email: `user${i}@example.com`,
        roles: ['admin'],
        note: pick(alnum, randomInt(200)),
      }),
    );
    add(randomUUID());
    out.push(randomUUID().replaceAll('-', ''));
    out.push(
      createHash('sha256').update(String(i)).digest('hex'),
      createHash('sha1').update(String(i)).digest('hex'),
    );
    out.push(createHash('sha256').update(String(i)).digest('base64'), randomBytes(32).toString('base64'));
    add(`${randomInt(900) + 100}-${randomInt(90) + 10}-${randomInt(9000) + 1000}`);
    add(`4111 ${randomInt(9000) + 1000} ${randomInt(9000) + 1000} ${randomInt(9000) + 1000}`);
    if (i % 5 === 0) {
      const png = fakePng(100 + randomInt(4000));
      const jpeg = fakeJpeg(100 + randomInt(4000));
      out.push(png, jpeg, Buffer.from(png).toString('base64'), Buffer.from(jpeg).toString('base64'));
      out.push(`data:image/png;base64,${Buffer.from(png).toString('base64')}`);
    }
  }
  return out;
}

/** A PNG file: signature, IHDR, an IDAT of random (compressed-looking) bytes, IEND. */
function fakePng(size: number): Uint8Array {
  const chunk = (type: string, data: Uint8Array) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    return Buffer.concat([len, Buffer.from(type), data, randomBytes(4)]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(1 + randomInt(2000), 0);
  ihdr.writeUInt32BE(1 + randomInt(2000), 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', randomBytes(size)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** A JPEG file: SOI, a JFIF APP0 segment, random entropy-coded bytes, EOI. */
function fakeJpeg(size: number): Uint8Array {
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, randomBytes(size), Buffer.from([0xff, 0xd9])]);
}
