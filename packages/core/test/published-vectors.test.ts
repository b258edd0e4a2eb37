/**
 * The vectors this package publishes (vectors/vectors.json, computed by scripts/vectors.mjs with
 * node:crypto and code written from the format guide): our code against every one of them, on
 * every backend, and the script against the file, so that neither can drift from the other.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  type AeadBackend,
  BlindIndex,
  DecryptionError,
  decodeLeb128u32,
  Envelope,
  encodeLeb128u32,
  FormatError,
  fastBackend,
  fieldAad,
  inspect,
  type KeyProvider,
  makeDataKey,
  portableBackend,
  SharedDataKey,
  serializeFormatA,
  webBackend,
} from '@vault-envelope/core';
import { describe, expect, test } from 'vitest';
import { b64, FixedKeyProvider, hex, toHex } from './_helpers.js';
import type { GcmCase, GcmGroup } from './_wycheproof.js';

interface MessageVector {
  id: string;
  layout: 'A' | 'A-dotnet' | 'legacy' | 'B';
  dataKey: string;
  encryptedKeys: string;
  iv: string;
  aadHex: string | null;
  tenant?: string;
  callerAad?: string;
  field?: { tenant?: string; namespace?: string; id: string; field: string };
  plaintext?: string;
  plaintextHex?: string;
  ciphertext: string;
  tag: string;
  message: string;
  source: string;
}
type Id = { string: string } | { number: number } | { bigint: string };
interface Vectors {
  sources: Record<string, { licence: string; what: string }>;
  messages: MessageVector[];
  leb128: { valid: { value: number; hex: string }[]; invalid: { hex: string; reason: string }[] };
  fieldAad: {
    tenant?: string;
    namespace?: string;
    id: Id;
    field: string;
    aad: string;
    aadHex: string;
    source: string;
  }[];
  messageAad: { tenant: string; aad: string | null; aadHex: string; source: string }[];
  blindIndex: {
    key: string;
    name?: string;
    tenant?: string;
    version?: number;
    bits: number;
    value: string;
    index: string;
    source: string;
  }[];
  aesGcm: {
    source: string;
    groups: (Pick<GcmGroup, 'ivSize'> & { tests: GcmCase[] })[];
  };
}

const file = fileURLToPath(new URL('../vectors/vectors.json', import.meta.url));
const v = JSON.parse(readFileSync(file, 'utf8')) as Vectors;
const backends: AeadBackend[] = [fastBackend()!, portableBackend(), webBackend()!];
const enc = new TextEncoder();
const plaintextOf = (m: MessageVector): Uint8Array =>
  m.plaintextHex === undefined ? enc.encode(m.plaintext!) : hex(m.plaintextHex);
const idOf = (id: Id): string | number | bigint =>
  'string' in id ? id.string : 'number' in id ? id.number : BigInt(id.bigint);

test('scripts/vectors.mjs writes exactly this file', () => {
  const script = fileURLToPath(new URL('../scripts/vectors.mjs', import.meta.url));
  expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
});

test('every vector names a source the file describes, with its licence', () => {
  const all = [...v.messages, ...v.fieldAad, ...v.messageAad, ...v.blindIndex, v.aesGcm];
  for (const x of all) expect(v.sources[x.source], JSON.stringify(x).slice(0, 80)).toBeDefined();
  for (const s of Object.values(v.sources)) expect(s.licence).toMatch(/^(MIT|Apache-2\.0)/);
  expect(new Set(v.messages.map((m) => m.layout))).toEqual(new Set(['A', 'A-dotnet', 'legacy', 'B']));
});

describe('messages', () => {
  for (const m of v.messages) {
    const format = m.layout === 'A-dotnet' ? 'A' : m.layout;
    const aad = m.aadHex === null ? undefined : hex(m.aadHex);
    test(`${m.id}: inspect reads its layout and parts`, () => {
      const info = inspect(m.message, m.layout === 'B' ? { format: 'B' } : {});
      expect(info.format).toBe(format);
      expect(toHex(info.iv)).toBe(m.iv);
      expect(toHex(info.tag)).toBe(m.tag);
      expect(info.encryptedKeys).toEqual(b64(m.encryptedKeys));
      expect(info.keyBlobEncoding).toBe(m.layout === 'A-dotnet' ? 'base64-text' : 'binary');
      expect(info.ciphertextLength).toBe(plaintextOf(m).length);
    });
    for (const backend of backends) {
      test(`${m.id}: decrypts on the ${backend.name} backend, and refuses another AAD`, async () => {
        const keys = new FixedKeyProvider(b64(m.dataKey), b64(m.encryptedKeys));
        const envelope = new Envelope({ keys, backend });
        const forced = m.layout === 'B' ? { format: 'B' as const } : {};
        // The AAD as a caller gives it: the tenant and its AAD, or the field's parts, or the bytes.
        const opts =
          m.tenant !== undefined
            ? { ...forced, tenant: m.tenant, ...(m.callerAad === undefined ? {} : { aad: m.callerAad }) }
            : m.field !== undefined
              ? { ...forced, aad: fieldAad(m.field) }
              : { ...forced, ...(aad === undefined ? {} : { aad }) };
        expect(await envelope.decrypt(m.message, opts)).toEqual(plaintextOf(m));
        // The exact AAD bytes, given as bytes.
        expect(
          await envelope.decrypt(m.message, { ...forced, ...(aad === undefined ? {} : { aad }) }),
        ).toEqual(plaintextOf(m));
        await expect(envelope.decrypt(m.message, { ...forced, aad: 'another' })).rejects.toBeInstanceOf(
          DecryptionError,
        );
        if (m.field !== undefined) {
          const row = { id: m.field.id, [m.field.field]: m.message };
          const back = await envelope.decryptFields(row, {
            fields: [m.field.field],
            id: m.field.id,
            ...(m.field.tenant === undefined ? {} : { tenant: m.field.tenant }),
            ...(m.field.namespace === undefined ? {} : { namespace: m.field.namespace }),
          });
          expect(back[m.field.field]).toBe(m.plaintext);
        }
      });
      if (format === 'A') {
        test(`${m.id}: encrypting with its IV on the ${backend.name} backend writes its bytes`, () => {
          const pt = plaintextOf(m);
          const key = backend.prepare(b64(m.dataKey));
          const out = new Uint8Array(pt.length + 16);
          backend.encrypt(key, hex(m.iv), pt, aad, out, 0, pt.length);
          key.destroy();
          expect(toHex(out)).toBe(m.ciphertext + m.tag);
          const k = m.layout === 'A-dotnet' ? enc.encode(m.encryptedKeys) : b64(m.encryptedKeys);
          const message = serializeFormatA({
            iv: hex(m.iv),
            tag: out.subarray(pt.length),
            encryptedKeys: k,
            ciphertext: out.subarray(0, pt.length),
          });
          expect(Buffer.from(message).toString('base64')).toBe(m.message);
        });
      }
    }
  }

  test('the .NET vector is what an Envelope with keyBlobEncoding base64-text lays out around its key', async () => {
    const m = v.messages.find((x) => x.layout === 'A-dotnet')!;
    const { shared } = SharedDataKey.create(
      makeDataKey({ id: 'v', key: b64(m.dataKey), encryptedKeys: b64(m.encryptedKeys) }),
    );
    const keys: KeyProvider = { createDataKey: async () => shared, decryptDataKey: async () => shared };
    const written = await new Envelope({ keys, keyBlobEncoding: 'base64-text' }).encryptToBytes(
      plaintextOf(m),
      {
        context: {},
        aad: hex(m.aadHex!),
      },
    );
    // Same layout and K; the IV is fresh, so the rest differs.
    const ours = inspect(written);
    const theirs = inspect(m.message);
    expect(ours.keyBlobEncoding).toBe('base64-text');
    expect(ours.encryptedKeys).toEqual(theirs.encryptedKeys);
    const header = (b: Uint8Array) => toHex(b.subarray(28, 28 + 2 + m.encryptedKeys.length));
    expect(header(written)).toBe(header(Buffer.from(m.message, 'base64')));
    expect(written.length).toBe(Buffer.from(m.message, 'base64').length);
  });
});

describe('associated data', () => {
  for (const f of v.fieldAad) {
    test(`field AAD v1 of ${JSON.stringify([f.tenant, f.namespace, f.id, f.field])}`, () => {
      const got = fieldAad({
        id: idOf(f.id),
        field: f.field,
        ...(f.tenant === undefined ? {} : { tenant: f.tenant }),
        ...(f.namespace === undefined ? {} : { namespace: f.namespace }),
      });
      expect(got).toBe(f.aad);
      expect(toHex(enc.encode(got))).toBe(f.aadHex);
    });
  }
  for (const a of v.messageAad) {
    test(`message AAD of tenant ${JSON.stringify(a.tenant)} and AAD ${JSON.stringify(a.aad)}`, async () => {
      // A message sealed under exactly these AAD bytes opens with { tenant, aad }, on each backend.
      const key = new Uint8Array(32).fill(9);
      const blob = enc.encode('VE.MEM.v1\0vector');
      for (const backend of backends) {
        const k = backend.prepare(key);
        const pt = enc.encode('under the message AAD');
        const out = new Uint8Array(pt.length + 16);
        const iv = new Uint8Array(12).fill(1);
        backend.encrypt(k, iv, pt, hex(a.aadHex), out, 0, pt.length);
        k.destroy();
        const message = serializeFormatA({
          iv,
          tag: out.subarray(pt.length),
          encryptedKeys: blob,
          ciphertext: out.subarray(0, pt.length),
        });
        const envelope = new Envelope({ keys: new FixedKeyProvider(key, blob), backend });
        const opts = { tenant: a.tenant, ...(a.aad === null ? {} : { aad: a.aad }) };
        expect(await envelope.decryptToString(message, opts)).toBe('under the message AAD');
        await expect(envelope.decrypt(message, { ...opts, tenant: `${a.tenant}x` })).rejects.toBeInstanceOf(
          DecryptionError,
        );
      }
    });
  }
});

describe('LEB128u32', () => {
  for (const { value, hex: h } of v.leb128.valid) {
    test(`${value} <-> ${h}`, () => {
      expect(toHex(encodeLeb128u32(value))).toBe(h);
      expect(decodeLeb128u32(hex(h), 0)).toEqual({ value, length: h.length / 2 });
    });
  }
  for (const { hex: h, reason } of v.leb128.invalid) {
    test(`${h || '(empty)'} is refused: ${reason}`, () => {
      expect(() => decodeLeb128u32(hex(h), 0)).toThrow(FormatError);
      expect(() => decodeLeb128u32(hex(h), 0)).toThrow(reason);
    });
  }
});

describe('blind indexes', () => {
  for (const b of v.blindIndex) {
    test(`${b.name ?? 'key'}${b.tenant === undefined ? '' : ` for ${b.tenant}`}${b.version === undefined ? '' : ` v${b.version}`}, ${b.bits} bits`, () => {
      const index = new BlindIndex({
        key: hex(b.key),
        bits: b.bits,
        ...(b.name === undefined ? {} : { name: b.name }),
        ...(b.version === undefined ? {} : { version: b.version }),
      });
      const used = b.tenant === undefined ? index : index.forTenant(b.tenant);
      expect(used.compute(b.value)).toBe(b.index);
    });
  }
});

describe('AES-GCM (Wycheproof), every backend and the web backend’s WebCrypto side', () => {
  for (const g of v.aesGcm.groups) {
    test(`IV ${g.ivSize} bits: ${g.tests.length} cases`, async () => {
      for (const backend of backends) {
        for (const t of g.tests) {
          const key = backend.prepare(hex(t.key));
          await backend.prepareAsync?.(key);
          const iv = hex(t.iv);
          const aad = t.aad === '' ? undefined : hex(t.aad);
          const ct = hex(t.ct);
          const tag = hex(t.tag);
          if (t.result === 'invalid') {
            expect(() => backend.decrypt(key, iv, ct, tag, aad), `tcId ${t.tcId}`).toThrow(DecryptionError);
            if (backend.decryptAsync !== undefined) {
              await expect(backend.decryptAsync(key, iv, ct, tag, aad)).rejects.toBeInstanceOf(
                DecryptionError,
              );
            }
          } else {
            const msg = hex(t.msg);
            const out = new Uint8Array(msg.length + 16);
            backend.encrypt(key, iv, msg, aad, out, 0, msg.length);
            expect(toHex(out), `tcId ${t.tcId} on ${backend.name}`).toBe(t.ct + t.tag);
            expect(toHex(backend.decrypt(key, iv, ct, tag, aad))).toBe(t.msg);
            if (backend.encryptAsync !== undefined && backend.decryptAsync !== undefined) {
              const a = new Uint8Array(msg.length + 16);
              await backend.encryptAsync(key, iv, msg, aad, a, 0, msg.length);
              expect(toHex(a)).toBe(t.ct + t.tag);
              expect(toHex(await backend.decryptAsync(key, iv, ct, tag, aad))).toBe(t.msg);
            }
          }
          key.destroy();
        }
      }
    });
  }
});
