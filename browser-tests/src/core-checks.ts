/**
 * The core checks, run inside the bundle: backend selection without `node:crypto`, round trips on
 * the portable backend, the WorkOS vectors, the Buffer-free base64 path, and values made here for
 * the Node side to check against its own core (a ciphertext, a blind index).
 * @module
 */
import {
  BlindIndex,
  decodeBase64,
  Envelope,
  encodeBase64,
  fastBackend,
  inspect,
  MemoryKeyProvider,
  portableBackend,
  selectBackend,
} from '@vault-envelope/core';
import { FixedKeyProvider } from './_fixed-provider.js';
import { describeError, errorName, fromBase64Web, fromHex, toHex } from './_util.js';
import type { CoreReport, WorkosVector } from './types.js';

const ROUND_TRIP_SIZES = [0, 1, 15, 16, 17, 255, 1000, 65_536 + 3];
const CONTEXT = { organization_id: 'org_browser' } as const;

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  // getRandomValues fills at most 65,536 bytes a call.
  for (let i = 0; i < n; i += 65_536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65_536)));
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

async function backendFacts(): Promise<
  Pick<CoreReport, 'autoBackend' | 'envelopeDefaultBackend' | 'fastAvailable' | 'fastError'>
> {
  let fastError = 'none';
  try {
    selectBackend('fast');
  } catch (e) {
    fastError = describeError(e);
  }
  return {
    autoBackend: selectBackend('auto').name,
    envelopeDefaultBackend: new Envelope({ keys: new MemoryKeyProvider() }).backend,
    fastAvailable: fastBackend() !== undefined,
    fastError,
  };
}

async function roundTrips(): Promise<
  Pick<CoreReport, 'roundTripSizes' | 'unicode' | 'wrongAad' | 'tampered' | 'garbage' | 'batch'>
> {
  const envelope = new Envelope({ keys: new MemoryKeyProvider(), backend: 'portable' });
  const roundTripSizes: CoreReport['roundTripSizes'] = [];
  for (const size of ROUND_TRIP_SIZES) {
    const pt = randomBytes(size);
    const ct = await envelope.encrypt(pt, { context: CONTEXT, aad: `blob/${size}` });
    const back = await envelope.decrypt(ct, { aad: `blob/${size}` });
    roundTripSizes.push({ size, equal: equalBytes(pt, back), format: inspect(ct).format });
  }
  const text = 'Grüße, 東京 🔐 — naïve café';
  const ct = await envelope.encrypt(text, { context: CONTEXT, aad: 'users/42/note' });
  const unicode = await envelope.decryptToString(ct, { aad: 'users/42/note' });
  const wrongAad = await errorName(() => envelope.decrypt(ct, { aad: 'users/43/note' }));
  const bytes = decodeBase64(ct);
  bytes[bytes.length - 1]! ^= 1;
  const tampered = await errorName(() => envelope.decrypt(encodeBase64(bytes), { aad: 'users/42/note' }));
  const garbage = await errorName(() => envelope.decrypt('AAAA'));

  const items = Array.from({ length: 12 }, (_, i) => ({
    plaintext: `item ${i}`,
    context: { organization_id: `org_${i % 3}` },
    aad: `batch/${i}`,
  }));
  const sealed = await envelope.encryptMany(items);
  const opened = await envelope.decryptMany(
    sealed.map((r, i) => ({ ciphertext: r.ok ? r.value : '', aad: `batch/${i}` })),
  );
  const decoder = new TextDecoder();
  const ok = opened.filter((r, i) => r.ok && decoder.decode(r.value) === `item ${i}`).length;
  return { roundTripSizes, unicode, wrongAad, tampered, garbage, batch: { items: items.length, ok } };
}

async function vectorChecks(vectors: WorkosVector[]): Promise<CoreReport['vectors']> {
  const backend = portableBackend();
  const out: CoreReport['vectors'] = [];
  for (const v of vectors) {
    const keys = new FixedKeyProvider(fromBase64Web(v.data_key), fromBase64Web(v.encrypted_keys));
    const envelope = new Envelope({ keys, backend: 'portable' });
    const format = v.format === 'B' ? { format: 'B' as const } : {};
    const aad = v.aad === null ? {} : { aad: v.aad };
    const plaintext = await envelope.decryptToString(v.ciphertext_b64, { ...format, ...aad });
    const wrongAad = await errorName(() => envelope.decrypt(v.ciphertext_b64, { ...format, aad: 'wrong' }));
    const entry: CoreReport['vectors'][number] = { name: v.name, plaintext, wrongAad };
    if (v.format === 'A') {
      const key = backend.prepare(fromBase64Web(v.data_key));
      const pt = new TextEncoder().encode(v.plaintext);
      const sealed = new Uint8Array(pt.length + 16);
      const aadBytes = v.aad === null ? undefined : new TextEncoder().encode(v.aad);
      backend.encrypt(key, fromHex(v.iv_hex), pt, aadBytes, sealed, 0, pt.length);
      key.destroy();
      entry.ciphertextHex = toHex(sealed.subarray(0, pt.length));
      entry.tagHex = toHex(sealed.subarray(pt.length));
    }
    out.push(entry);
  }
  return out;
}

async function base64Checks(): Promise<CoreReport['base64']> {
  const samples: CoreReport['base64']['samples'] = [];
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const inputs = [all, ...Array.from({ length: 40 }, (_, n) => randomBytes(n))];
  for (const bytes of inputs) {
    const encoded = encodeBase64(bytes);
    samples.push({
      hex: toHex(bytes),
      encoded,
      btoa: btoa(String.fromCharCode(...bytes)),
      decodedHex: toHex(decodeBase64(encoded)),
    });
  }
  // Strict decoding: padding bits, length, the URL-safe alphabet, whitespace, stray padding.
  const bad = ['QR==', 'QQ=', 'QQ', '-_-_', 'QU I=', 'QQ==QQ==', 'Q===', '\u00e9AAA'];
  const rejected = [];
  for (const input of bad) {
    let error = 'none';
    try {
      decodeBase64(input);
    } catch (e) {
      error = e instanceof Error ? e.name : typeof e;
    }
    rejected.push({ input, error });
  }
  return { samples, rejected };
}

async function madeHere(): Promise<Pick<CoreReport, 'made' | 'blindIndex'>> {
  const key = randomBytes(32);
  const blob = new TextEncoder().encode('browser-made-blob');
  const envelope = new Envelope({ keys: new FixedKeyProvider(key, blob) });
  const plaintext = 'made in another runtime ✓';
  const aad = 'cross/runtime';
  const ciphertext = await envelope.encrypt(plaintext, { context: CONTEXT, aad });
  const indexKey = randomBytes(32);
  const index = new BlindIndex({ key: indexKey, name: 'users.email', bits: 64 });
  const value = 'ada@example.com';
  const computed = index.compute(value);
  index.destroy();
  return {
    made: { keyHex: toHex(key), encryptedKeysHex: toHex(blob), ciphertext, plaintext, aad },
    blindIndex: { keyHex: toHex(indexKey), name: 'users.email', value, index: computed },
  };
}

/**
 * Runs the core checks.
 * @param vectors - The WorkOS vectors to decrypt.
 * @returns The observations; the Node side decides whether they are right.
 * @throws Whatever an unexpected failure throws (caught by the caller's `section`).
 * @example
 * ```ts
 * const report = await coreChecks(config.vectors);
 * report.autoBackend; // 'portable' in a browser
 * ```
 */
export async function coreChecks(vectors: WorkosVector[]): Promise<CoreReport> {
  return {
    ...(await backendFacts()),
    ...(await roundTrips()),
    vectors: await vectorChecks(vectors),
    base64: await base64Checks(),
    ...(await madeHere()),
  };
}
