import { hkdfSync } from 'node:crypto';
import {
  BlindIndex,
  DecryptionError,
  decodeLeb128u32,
  Envelope,
  encodeLeb128u32,
  FormatError,
  inspect,
  LEB128_U32_MAX,
  portableBackend,
  selectBackend,
} from '@vault-envelope/core';
import { describe, expect, test } from 'vitest';
import { b64, FixedKeyProvider, hex, loadJson, toHex } from './_helpers.js';
import type { WorkosVector } from './_workos-vector.js';
import type { GcmGroup } from './_wycheproof.js';

const backends = [selectBackend('fast'), portableBackend()];

describe('WorkOS vectors', () => {
  const vectors = loadJson<WorkosVector[]>('workos_vectors.json');
  test('the file has A, B and legacy vectors', () => {
    expect(new Set(vectors.map((v) => v.format))).toEqual(new Set(['A', 'B', 'legacy-iv32']));
  });
  for (const v of vectors) {
    const format = v.format === 'legacy-iv32' ? 'legacy' : v.format;
    const aad = v.aad === null ? {} : { aad: v.aad };
    test(`${v.name}: inspect reads the layout`, () => {
      const info = inspect(v.ciphertext_b64, format === 'B' ? { format: 'B' } : {});
      expect(info.format).toBe(format);
      expect(toHex(info.iv)).toBe(v.iv_hex);
      expect(toHex(info.tag)).toBe(v.tag_hex);
      expect(info.encryptedKeys).toEqual(b64(v.encrypted_keys));
      expect(info.ciphertextLength).toBe(Buffer.byteLength(v.plaintext));
    });
    for (const backend of backends) {
      test(`${v.name}: decrypts on the ${backend.name} backend`, async () => {
        const keys = new FixedKeyProvider(b64(v.data_key), b64(v.encrypted_keys));
        const envelope = new Envelope({ keys, backend });
        const opts = format === 'B' ? { ...aad, format: 'B' as const } : aad;
        expect(await envelope.decryptToString(v.ciphertext_b64, opts)).toBe(v.plaintext);
        expect(keys.calls.decrypt).toBe(1);
        await expect(envelope.decrypt(v.ciphertext_b64, { ...opts, aad: 'wrong' })).rejects.toBeInstanceOf(
          DecryptionError,
        );
      });
      if (format === 'A') {
        test(`${v.name}: encrypting with the vector's IV on the ${backend.name} backend gives its bytes`, () => {
          const key = backend.prepare(b64(v.data_key));
          const pt = new TextEncoder().encode(v.plaintext);
          const out = new Uint8Array(pt.length + 16);
          const aadBytes = v.aad === null ? undefined : new TextEncoder().encode(v.aad);
          backend.encrypt(key, hex(v.iv_hex), pt, aadBytes, out, 0, pt.length);
          expect(toHex(out.subarray(0, pt.length))).toBe(v.ciphertext_hex);
          expect(toHex(out.subarray(pt.length))).toBe(v.tag_hex);
        });
      }
    }
  }
  test('L1, a real legacy ciphertext, is detected without naming the format (WOS.EKM. magic)', () => {
    const l1 = vectors.find((v) => v.format === 'legacy-iv32')!;
    const info = inspect(l1.ciphertext_b64);
    expect(info.format).toBe('legacy');
    expect(info.workosKeyBlob).toBe(true);
  });
});

describe('Wycheproof AES-GCM (keySize 256, tagSize 128, IV 96 and 256 bits)', () => {
  const groups = loadJson<{ testGroups: GcmGroup[] }>('aes_gcm_test.json').testGroups.filter(
    (g) => g.keySize === 256 && g.tagSize === 128 && (g.ivSize === 96 || g.ivSize === 256),
  );
  test('the groups we rely on are present', () => {
    expect(groups.map((g) => g.ivSize).sort()).toEqual([256, 96]);
    expect(groups.reduce((n, g) => n + g.tests.length, 0)).toBeGreaterThan(30);
  });
  for (const backend of backends) {
    for (const g of groups) {
      test(`${backend.name} backend, IV ${g.ivSize} bits: ${g.tests.length} cases`, () => {
        let valid = 0;
        for (const t of g.tests) {
          const key = backend.prepare(hex(t.key));
          const iv = hex(t.iv);
          const aad = t.aad === '' ? undefined : hex(t.aad);
          const msg = hex(t.msg);
          const ct = hex(t.ct);
          const tag = hex(t.tag);
          if (t.result === 'valid' || t.result === 'acceptable') {
            const out = new Uint8Array(msg.length + 16);
            backend.encrypt(key, iv, msg, aad, out, 0, msg.length);
            expect(toHex(out.subarray(0, msg.length)), `tcId ${t.tcId}`).toBe(t.ct);
            expect(toHex(out.subarray(msg.length)), `tcId ${t.tcId}`).toBe(t.tag);
            expect(toHex(backend.decrypt(key, iv, ct, tag, aad)), `tcId ${t.tcId}`).toBe(t.msg);
            valid++;
          } else {
            expect(() => backend.decrypt(key, iv, ct, tag, aad), `tcId ${t.tcId}`).toThrow(DecryptionError);
          }
          key.destroy();
        }
        expect(valid).toBeGreaterThan(0);
      });
    }
  }
});

interface MacGroup {
  keySize: number;
  tagSize: number;
  tests: { tcId: number; key: string; msg: string; tag: string; result: string }[];
}

describe('Wycheproof HMAC-SHA256 through BlindIndex', () => {
  const groups = loadJson<{ testGroups: MacGroup[] }>('hmac_sha256_test.json').testGroups;
  // BlindIndex refuses keys shorter than 32 bytes, so the 128-bit key groups do not apply.
  const usable = groups.filter((g) => g.keySize >= 256);
  test('groups with 256- and 520-bit keys and 128/256-bit tags are present', () => {
    expect(usable.length).toBe(4);
  });
  for (const g of usable) {
    test(`key ${g.keySize} bits, tag ${g.tagSize} bits: ${g.tests.length} cases`, () => {
      for (const t of g.tests) {
        const index = new BlindIndex({ key: hex(t.key), bits: g.tagSize });
        const got = index.compute(hex(t.msg));
        if (t.result === 'valid') expect(got, `tcId ${t.tcId}`).toBe(t.tag);
        else expect(got, `tcId ${t.tcId}`).not.toBe(t.tag);
      }
    });
  }
});

describe('HKDF-SHA256 per-index keys', () => {
  test('an index with a name uses HKDF-SHA256(root, salt "vault-envelope/blind-index/v1", info = name)', () => {
    const root = new Uint8Array(32).map((_, i) => i);
    const derived = new Uint8Array(
      hkdfSync('sha256', root, 'vault-envelope/blind-index/v1', 'users.email', 32) as ArrayBuffer,
    );
    const byName = new BlindIndex({ key: root, name: 'users.email', bits: 256 });
    const byKey = new BlindIndex({ key: derived, bits: 256 });
    expect(byName.compute('ada@example.com')).toBe(byKey.compute('ada@example.com'));
  });
});

describe('LEB128u32 vectors (docs/format.md)', () => {
  const cases: [number, string][] = [
    [0, '00'],
    [1, '01'],
    [127, '7f'],
    [128, '8001'],
    [300, 'ac02'],
    [16383, 'ff7f'],
    [16384, '808001'],
    [1000000, 'c0843d'],
    [2 ** 28 - 1, 'ffffff7f'],
    [2 ** 28, '8080808001'],
    [LEB128_U32_MAX, 'ffffffff0f'],
  ];
  for (const [value, encoding] of cases) {
    test(`${value} <-> ${encoding}`, () => {
      expect(toHex(encodeLeb128u32(value))).toBe(encoding);
      expect(decodeLeb128u32(hex(encoding), 0)).toEqual({ value, length: encoding.length / 2 });
    });
  }
  const bad: [string, string][] = [
    ['', 'truncated'],
    ['80', 'truncated'],
    ['ffffffff', 'truncated'],
    ['ffffffff10', 'exceeds 32 bits'],
    ['ffffffff1f', 'exceeds 32 bits'],
    ['8080808080', 'exceeds 32 bits'],
    ['808080808001', 'exceeds 32 bits'],
    ['8000', 'non-minimal'],
    ['ff00', 'non-minimal'],
    ['8080808000', 'non-minimal'],
  ];
  for (const [encoding, why] of bad) {
    test(`rejects ${encoding || '(empty)'}: ${why}`, () => {
      expect(() => decodeLeb128u32(hex(encoding), 0)).toThrow(FormatError);
      expect(() => decodeLeb128u32(hex(encoding), 0)).toThrow(why);
    });
  }
  test('encoding rejects values outside u32', () => {
    expect(() => encodeLeb128u32(-1)).toThrow(RangeError);
    expect(() => encodeLeb128u32(2 ** 32)).toThrow(RangeError);
    expect(() => encodeLeb128u32(1.5)).toThrow(TypeError);
  });
});
