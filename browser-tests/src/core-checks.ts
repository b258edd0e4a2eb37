/**
 * The core checks, run inside the bundle: backend selection without `node:crypto`, round trips on
 * the portable and the web (WebCrypto) backends, the WorkOS vectors and Wycheproof on the web
 * backend, its bytes against the portable backend's, the Buffer-free base64 path, and values made
 * here for the Node side to check against its own core (a ciphertext, a blind index).
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
  webBackend,
} from '@vault-envelope/core';
import { FixedKeyProvider } from './_fixed-provider.js';
import { describeError, errorName, fromBase64Web, fromHex, toHex } from './_util.js';
import type { CoreReport, GcmGroup, WorkosVector } from './types.js';

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
  Pick<CoreReport, 'autoBackend' | 'envelopeDefaultBackend' | 'fastAvailable' | 'fastError' | 'webAvailable'>
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
    webAvailable: webBackend() !== undefined,
  };
}

async function sizedRoundTrips(envelope: Envelope): Promise<CoreReport['roundTripSizes']> {
  const out: CoreReport['roundTripSizes'] = [];
  for (const size of ROUND_TRIP_SIZES) {
    const pt = randomBytes(size);
    const ct = await envelope.encrypt(pt, { context: CONTEXT, aad: `blob/${size}` });
    const back = await envelope.decrypt(ct, { aad: `blob/${size}` });
    out.push({ size, equal: equalBytes(pt, back), format: inspect(ct).format });
  }
  return out;
}

async function roundTrips(): Promise<
  Pick<
    CoreReport,
    'roundTripSizes' | 'webRoundTripSizes' | 'unicode' | 'wrongAad' | 'tampered' | 'garbage' | 'batch'
  >
> {
  const envelope = new Envelope({ keys: new MemoryKeyProvider(), backend: 'portable' });
  const roundTripSizes = await sizedRoundTrips(envelope);
  const webRoundTripSizes = await sizedRoundTrips(
    new Envelope({ keys: new MemoryKeyProvider(), backend: 'web' }),
  );
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
  return {
    roundTripSizes,
    webRoundTripSizes,
    unicode,
    wrongAad,
    tampered,
    garbage,
    batch: { items: items.length, ok },
  };
}

async function vectorChecks(vectors: WorkosVector[]): Promise<CoreReport['vectors']> {
  const backend = portableBackend();
  const web = selectBackend('web');
  const out: CoreReport['vectors'] = [];
  for (const v of vectors) {
    const keys = new FixedKeyProvider(fromBase64Web(v.data_key), fromBase64Web(v.encrypted_keys));
    const envelope = new Envelope({ keys, backend: 'portable' });
    const onWeb = new Envelope({ keys, backend: 'web' });
    const format = v.format === 'B' ? { format: 'B' as const } : {};
    const aad = v.aad === null ? {} : { aad: v.aad };
    const plaintext = await envelope.decryptToString(v.ciphertext_b64, { ...format, ...aad });
    const wrongAad = await errorName(() => envelope.decrypt(v.ciphertext_b64, { ...format, aad: 'wrong' }));
    const webPlaintext = await onWeb.decryptToString(v.ciphertext_b64, { ...format, ...aad });
    const webWrongAad = await errorName(() => onWeb.decrypt(v.ciphertext_b64, { ...format, aad: 'wrong' }));
    const entry: CoreReport['vectors'][number] = {
      name: v.name,
      plaintext,
      wrongAad,
      webPlaintext,
      webWrongAad,
    };
    if (v.format === 'A') {
      const key = backend.prepare(fromBase64Web(v.data_key));
      const pt = new TextEncoder().encode(v.plaintext);
      const sealed = new Uint8Array(pt.length + 16);
      const aadBytes = v.aad === null ? undefined : new TextEncoder().encode(v.aad);
      backend.encrypt(key, fromHex(v.iv_hex), pt, aadBytes, sealed, 0, pt.length);
      key.destroy();
      entry.ciphertextHex = toHex(sealed.subarray(0, pt.length));
      entry.tagHex = toHex(sealed.subarray(pt.length));
      const webKey = web.prepare(fromBase64Web(v.data_key));
      await web.prepareAsync?.(webKey);
      const webSealed = new Uint8Array(pt.length + 16);
      await web.encryptAsync!(webKey, fromHex(v.iv_hex), pt, aadBytes, webSealed, 0, pt.length);
      webKey.destroy();
      entry.webSealedHex = toHex(webSealed);
    }
    out.push(entry);
  }
  return out;
}

/** Wycheproof on the web backend: WebCrypto (`encryptAsync`/`decryptAsync`) and its noble side. */
async function wycheproofChecks(groups: GcmGroup[]): Promise<CoreReport['wycheproof']> {
  const web = selectBackend('web');
  const out: CoreReport['wycheproof'] = [];
  for (const g of groups) {
    let validMatched = 0;
    let invalidRefused = 0;
    const failures: string[] = [];
    for (const t of g.tests) {
      const key = web.prepare(fromHex(t.key));
      await web.prepareAsync?.(key);
      const iv = fromHex(t.iv);
      const aad = t.aad === '' ? undefined : fromHex(t.aad);
      const msg = fromHex(t.msg);
      const ct = fromHex(t.ct);
      const tag = fromHex(t.tag);
      if (t.result === 'valid' || t.result === 'acceptable') {
        const sealed = new Uint8Array(msg.length + 16);
        await web.encryptAsync!(key, iv, msg, aad, sealed, 0, msg.length);
        const sync = new Uint8Array(msg.length + 16);
        web.encrypt(key, iv, msg, aad, sync, 0, msg.length);
        const opened = toHex(await web.decryptAsync!(key, iv, ct, tag, aad));
        const ok = toHex(sealed) === t.ct + t.tag && toHex(sync) === t.ct + t.tag && opened === t.msg;
        if (ok && toHex(web.decrypt(key, iv, ct, tag, aad)) === t.msg) validMatched++;
        else failures.push(`tcId ${t.tcId}: different bytes`);
      } else {
        const a = await errorName(() => web.decryptAsync!(key, iv, ct, tag, aad));
        const b = await errorName(async () => web.decrypt(key, iv, ct, tag, aad));
        if (a === 'DecryptionError' && b === 'DecryptionError') invalidRefused++;
        else failures.push(`tcId ${t.tcId}: ${a} / ${b}`);
      }
      key.destroy();
    }
    out.push({ ivSize: g.ivSize, tests: g.tests.length, validMatched, invalidRefused, failures });
  }
  return out;
}

/** The web backend against the portable one: random keys, IVs (12 and 32 bytes), AAD and sizes. */
async function webAgreement(): Promise<CoreReport['webAgrees']> {
  const web = selectBackend('web');
  const portable = portableBackend();
  const result = { cases: 0, same: 0, decrypted: 0, tamperedRefused: 0 };
  for (let i = 0; i < 60; i++) {
    const keyBytes = randomBytes(32);
    const iv = randomBytes(i % 5 === 0 ? 32 : 12);
    const aad = i % 3 === 0 ? undefined : randomBytes(i % 40);
    const pt = randomBytes([0, 1, 15, 16, 17, 255, 4096, 70_000][i % 8]!);
    const pk = portable.prepare(keyBytes);
    const wk = web.prepare(keyBytes);
    await web.prepareAsync?.(wk);
    const a = new Uint8Array(pt.length + 16);
    portable.encrypt(pk, iv, pt, aad, a, 0, pt.length);
    const b = new Uint8Array(pt.length + 16);
    await web.encryptAsync!(wk, iv, pt, aad, b, 0, pt.length);
    result.cases++;
    if (equalBytes(a, b)) result.same++;
    const ct = b.subarray(0, pt.length);
    const tag = b.subarray(pt.length);
    if (equalBytes(await web.decryptAsync!(wk, iv, ct, tag, aad), pt)) result.decrypted++;
    tag[i % 16]! ^= 1;
    if ((await errorName(() => web.decryptAsync!(wk, iv, ct, tag, aad))) === 'DecryptionError')
      result.tamperedRefused++;
    pk.destroy();
    wk.destroy();
  }
  return result;
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
 * @param wycheproof - Wycheproof AES-GCM groups to run on the web backend.
 * @returns The observations; the Node side decides whether they are right.
 * @throws Whatever an unexpected failure throws (caught by the caller's `section`).
 * @example
 * ```ts
 * const report = await coreChecks(config.vectors);
 * report.autoBackend; // 'web' in a browser served from localhost or over https
 * ```
 */
export async function coreChecks(vectors: WorkosVector[], wycheproof: GcmGroup[] = []): Promise<CoreReport> {
  return {
    ...(await backendFacts()),
    ...(await roundTrips()),
    vectors: await vectorChecks(vectors),
    wycheproof: await wycheproofChecks(wycheproof),
    webAgrees: await webAgreement(),
    base64: await base64Checks(),
    ...(await madeHere()),
  };
}
