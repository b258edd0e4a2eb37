/**
 * The assertions on a report, shared by the Chromium and the edge-like run: each group becomes
 * vitest tests that read the report collected once in `beforeAll`. Where a value was made in the
 * other runtime (a ciphertext, a blind index, base64 text), Node's own core recomputes it.
 * @module
 */
import { BlindIndex, Envelope, selectBackend } from '@vault-envelope/core';
import { expect, test } from 'vitest';
import { FixedKeyProvider } from '../src/_fixed-provider.js';
import { NODE_GLOBALS } from '../src/_util.js';
import type { GcmGroup, Report, Section, WorkosVector } from '../src/types.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

/** The value of a section, or a failure that shows the error raised inside the runtime. */
export function ok<T>(s: Section<T> | undefined, title: string): T {
  if (s === undefined) throw new Error(`${title}: the section was not run`);
  if (!s.ok) throw new Error(`${title} failed inside the runtime: ${s.error}`);
  return s.value;
}

/** What differs between the runtimes. */
export interface ReportExpectations {
  /** Whether the run includes the CORS-off server (browser only). */
  corsOff: boolean;
  /** What `navigator.userAgent` says in this runtime. */
  userAgent: RegExp;
}

/**
 * Defines the report tests.
 * @param report - Returns the report (collected in the caller's `beforeAll`).
 * @param vectors - The vectors the checks were given.
 * @param expectations - Runtime differences.
 * @param gcmGroups - The Wycheproof groups the checks were given.
 */
export function reportTests(
  report: () => Report,
  vectors: WorkosVector[],
  expectations: ReportExpectations,
  gcmGroups: GcmGroup[],
): void {
  test('the runtime has WebCrypto and fetch, and no process, Buffer or require', () => {
    const { globals, getRandomValues } = report().runtime;
    expect(getRandomValues).toBe(true);
    for (const name of NODE_GLOBALS) expect(globals[name], name).toBe('undefined');
    expect(globals).toMatchObject({
      process: 'undefined',
      Buffer: 'undefined',
      fetch: 'function',
      crypto: 'object',
    });
  });

  test('the runtime is the one meant, and it refuses code generation from strings', () => {
    const { userAgent, codeFromStrings } = report().runtime;
    expect(userAgent).toMatch(expectations.userAgent);
    // Nothing in the three packages needs eval or new Function.
    expect(codeFromStrings).toBe(false);
  });

  test("backend 'auto' picks web (WebCrypto); 'fast' is unavailable and says why", () => {
    const core = ok(report().core, 'core');
    expect(core.autoBackend).toBe('web');
    expect(core.envelopeDefaultBackend).toBe('web');
    expect(core.webAvailable).toBe(true);
    expect(core.fastAvailable).toBe(false);
    expect(core.fastError).toBe(
      "TypeError: backend 'fast' needs node:crypto, which this runtime does not provide",
    );
  });

  test('bytes and strings round-trip on the portable and the web backends, in format A', () => {
    const core = ok(report().core, 'core');
    for (const sizes of [core.roundTripSizes, core.webRoundTripSizes]) {
      expect(sizes.map((r) => r.size)).toEqual([0, 1, 15, 16, 17, 255, 1000, 65_539]);
      for (const r of sizes) expect(r, `size ${r.size}`).toEqual({ size: r.size, equal: true, format: 'A' });
    }
    expect(core.unicode).toBe('Grüße, 東京 🔐 — naïve café');
    expect(core.batch).toEqual({ items: 12, ok: 12 });
  });

  test('Wycheproof AES-GCM passes on the web backend, WebCrypto and noble sides alike', () => {
    const { wycheproof } = ok(report().core, 'core');
    expect(wycheproof.map((g) => g.ivSize)).toEqual(gcmGroups.map((g) => g.ivSize));
    for (const [i, g] of wycheproof.entries()) {
      const tests = gcmGroups[i]!.tests;
      const valid = tests.filter((t) => t.result !== 'invalid').length;
      expect(g.failures, `IV ${g.ivSize}`).toEqual([]);
      expect(g.validMatched, `IV ${g.ivSize}`).toBe(valid);
      expect(g.invalidRefused, `IV ${g.ivSize}`).toBe(tests.length - valid);
    }
  });

  test("the web backend gives the portable backend's bytes, decrypts them, and refuses them tampered", () => {
    const { webAgrees } = ok(report().core, 'core');
    expect(webAgrees).toEqual({ cases: 60, same: 60, decrypted: 60, tamperedRefused: 60 });
  });

  test('a wrong AAD, a flipped bit and garbage are refused with typed errors', () => {
    const core = ok(report().core, 'core');
    expect(core.wrongAad).toBe('DecryptionError');
    expect(core.tampered).toBe('DecryptionError');
    expect(core.garbage).toBe('FormatError');
  });

  test('every WorkOS vector decrypts, refuses a wrong AAD, and format A re-encrypts to its bytes', () => {
    const core = ok(report().core, 'core');
    expect(core.vectors.map((v) => v.name)).toEqual(vectors.map((v) => v.name));
    for (const [i, v] of vectors.entries()) {
      const got = core.vectors[i]!;
      expect(got.plaintext, v.name).toBe(v.plaintext);
      expect(got.wrongAad, v.name).toBe('DecryptionError');
      expect(got.webPlaintext, v.name).toBe(v.plaintext);
      expect(got.webWrongAad, v.name).toBe('DecryptionError');
      if (v.format === 'A') {
        expect(got.ciphertextHex, v.name).toBe(v.ciphertext_hex);
        expect(got.tagHex, v.name).toBe(v.tag_hex);
        expect(got.webSealedHex, v.name).toBe(`${v.ciphertext_hex}${v.tag_hex}`);
      } else {
        expect(got.ciphertextHex, v.name).toBeUndefined();
      }
    }
    expect(new Set(vectors.map((v) => v.format))).toEqual(new Set(['A', 'B', 'legacy-iv32']));
  });

  test("the Buffer-free base64 codec agrees with Node's Buffer and with btoa, and stays strict", () => {
    const { samples, rejected } = ok(report().core, 'core').base64;
    expect(samples.length).toBe(41);
    for (const s of samples) {
      const expected = Buffer.from(s.hex, 'hex').toString('base64');
      expect(s.encoded, s.hex).toBe(expected);
      expect(s.btoa, s.hex).toBe(expected);
      expect(s.decodedHex, s.hex).toBe(s.hex);
    }
    expect(rejected.map((r) => r.input)).toEqual([
      'QR==',
      'QQ=',
      'QQ',
      '-_-_',
      'QU I=',
      'QQ==QQ==',
      'Q===',
      'éAAA',
    ]);
    for (const r of rejected) expect(r.error, JSON.stringify(r.input)).toBe('FormatError');
  });

  test("a ciphertext made there decrypts in Node on the fast backend, and a blind index matches Node's", async () => {
    const { made, blindIndex } = ok(report().core, 'core');
    const keys = new FixedKeyProvider(hex(made.keyHex), hex(made.encryptedKeysHex));
    const envelope = new Envelope({ keys, backend: selectBackend('fast') });
    expect(envelope.backend).toBe('fast');
    expect(await envelope.decryptToString(made.ciphertext, { aad: made.aad })).toBe(made.plaintext);
    await expect(envelope.decrypt(made.ciphertext, { aad: 'other' })).rejects.toMatchObject({
      name: 'DecryptionError',
    });
    const index = new BlindIndex({ key: hex(blindIndex.keyHex), name: blindIndex.name, bits: 64 });
    expect(blindIndex.index).toMatch(/^[0-9a-f]{16}$/);
    expect(index.compute(blindIndex.value)).toBe(blindIndex.index);
  });

  test('the cache serves repeated keys: one data key for every message, hits counted', () => {
    const cache = ok(report().cache, 'cache');
    expect(cache.allEqual).toBe(true);
    expect(cache.provider.created).toBe(1);
    // Decryptions of our own messages are answered by the cache, not the provider.
    expect(cache.provider.decrypted).toBe(0);
    expect(cache.stats['hits']).toBe(2 * cache.messages - 1);
    expect(cache.stats['remoteCalls']).toBe(1);
  });

  test('concurrent misses for one key share one provider call', () => {
    const { concurrent } = ok(report().cache, 'cache');
    expect(concurrent.providerDecrypted).toBe(1);
    expect(concurrent.stats['remoteCalls']).toBe(1);
    expect(concurrent.stats['coalesced']).toBe(concurrent.callers - 1);
  });

  test('VaultClient creates and unwraps a data key over HTTP', () => {
    const { dataKey } = ok(report().remote, 'remote');
    expect(dataKey.keyLength).toBe(32);
    expect(dataKey.encryptedKeysLength).toBeGreaterThan(32);
    expect(dataKey.sameKey).toBe(true);
    expect(dataKey.sameId).toBe(true);
  });

  test('an Envelope over cachedKeyProvider(VaultClient) round-trips through the server', () => {
    const { envelope } = ok(report().remote, 'remote');
    expect(envelope.allEqual).toBe(true);
    // The writer's cache used one data key for every message, so the reader, which had seen none,
    // unwrapped it once on the server and answered the other messages itself.
    expect(envelope.stats['remoteCalls']).toBe(1);
    expect(envelope.stats['hits']).toBe(envelope.messages - 1);
  });

  test('the object API works end to end and a deleted object is a typed 404', () => {
    const { objects } = ok(report().remote, 'remote');
    expect(objects).toEqual({
      created: true,
      readValue: 'v1 ✓',
      updatedValue: 'v2 ✓',
      versions: 2,
      afterDelete: 'NotFoundError 404',
    });
  });

  test('an unknown API key is a typed 401 that carries the request id', () => {
    const { badKey } = ok(report().remote, 'remote');
    expect(badKey).toEqual({ error: 'AuthenticationError', status: 401, hasRequestId: true });
  });

  if (expectations.corsOff) {
    test('a server with CORS off (its default) cannot be called from the page', () => {
      const { corsOff } = ok(report().remote, 'remote');
      expect(corsOff).toEqual({ error: 'NetworkError' });
    });
  }
}
