/**
 * End to end: Envelope + cache + the remote VaultClient against the local Vault server over
 * HTTP, counting the key requests the server receives.
 */
import { cachedKeyProvider } from '@vault-envelope/cache';
import { Envelope } from '@vault-envelope/core';
import { VaultClient } from '@vault-envelope/remote';
import { type RunningServer, startServer } from '@vault-envelope/server';
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { FakeClock } from './_helpers.js';

const DATA_KEY = 'POST /vault/v1/keys/data-key';
const DECRYPT = 'POST /vault/v1/keys/decrypt';

let srv: RunningServer;

beforeAll(async () => {
  srv = await startServer({ port: 0, memory: true, apiKeys: ['sk_test'], rateLimit: false });
});

afterAll(async () => {
  await srv?.close();
});

beforeEach(() => {
  srv.setFaults(undefined);
  srv.resetStats();
});

function requests(): { dataKey: number; decrypt: number } {
  const r = srv.stats().requests;
  return { dataKey: r[DATA_KEY] ?? 0, decrypt: r[DECRYPT] ?? 0 };
}

const tenants = ['org_a', 'org_b', 'org_c'].map((organization_id) => ({ organization_id }));

function vault(): VaultClient {
  return new VaultClient({ apiKey: 'sk_test', baseUrl: srv.url, retry: 0 });
}

test('one key request per distinct key per maxAge, however many values and callers', async () => {
  const clock = new FakeClock();
  const keys = cachedKeyProvider(vault(), { maxAge: 60_000, clock: clock.read });
  const envelope = new Envelope({ keys });

  // 300 concurrent encryptions over 3 contexts: 3 data keys.
  const items = Array.from({ length: 300 }, (_, i) => ({
    value: `secret ${i}`,
    context: tenants[i % 3]!,
    aad: `row/${i}`,
  }));
  const cts = await Promise.all(
    items.map((it) => envelope.encrypt(it.value, { context: it.context, aad: it.aad })),
  );
  expect(requests()).toEqual({ dataKey: 3, decrypt: 0 });

  // Decrypting them with the same cache needs no request: the encrypt keys serve their own blobs.
  const pts = await Promise.all(cts.map((ct, i) => envelope.decryptToString(ct, { aad: items[i]!.aad })));
  expect(pts).toEqual(items.map((it) => it.value));
  expect(requests()).toEqual({ dataKey: 3, decrypt: 0 });

  // A cold cache (another process, say) unwraps each distinct blob once, concurrency and all.
  const cold = cachedKeyProvider(vault(), { maxAge: 60_000, clock: clock.read });
  const reader = new Envelope({ keys: cold });
  const again = await Promise.all(cts.map((ct, i) => reader.decryptToString(ct, { aad: items[i]!.aad })));
  expect(again).toEqual(pts);
  expect(requests()).toEqual({ dataKey: 3, decrypt: 3 });
  const s = cold.stats();
  expect(s.remoteCalls).toBe(3);
  expect(s.hits + s.coalesced).toBe(297);

  // Past maxAge every key is fetched again, once.
  clock.advance(60_001);
  await Promise.all(items.map((it) => envelope.encrypt(it.value, { context: it.context })));
  await Promise.all(cts.map((ct, i) => reader.decrypt(ct, { aad: items[i]!.aad })));
  expect(requests()).toEqual({ dataKey: 6, decrypt: 6 });
  expect(keys.stats().expirations).toBe(3);

  await keys.close();
  await cold.close();
});

test('maxMessages retires a key for encryption after exactly that many messages', async () => {
  const keys = cachedKeyProvider(vault(), { maxAge: 60_000, maxMessages: 10 });
  const envelope = new Envelope({ keys });
  for (let i = 0; i < 25; i++) await envelope.encrypt(`v${i}`, { context: tenants[0]! });
  expect(requests().dataKey).toBe(3); // 10 + 10 + 5
  expect(keys.stats()).toMatchObject({ retired: 2, size: 3 });
  await keys.close();
});

test('stale-if-error serves an expired decrypt key while the server answers 503', async () => {
  const clock = new FakeClock();
  const keys = cachedKeyProvider(vault(), { maxAge: 1000, staleIfError: 5000, clock: clock.read });
  const envelope = new Envelope({ keys });
  const ct = await envelope.encrypt('kept readable', { context: tenants[1]! });
  clock.advance(1500);
  srv.setFaults({ rate503: 1, routes: ['/vault/v1/keys'] });
  expect(await envelope.decryptToString(ct)).toBe('kept readable');
  expect(keys.stats().staleServes).toBe(1);
  // Encryption never uses an expired key: the 503 reaches the caller.
  await expect(envelope.encrypt('new', { context: tenants[1]! })).rejects.toMatchObject({ status: 503 });
  clock.advance(5000);
  await expect(envelope.decrypt(ct)).rejects.toMatchObject({ status: 503 });
  srv.setFaults(undefined);
  expect(await envelope.decryptToString(ct)).toBe('kept readable');
  await keys.close();
});
