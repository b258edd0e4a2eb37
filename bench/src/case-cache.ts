/**
 * Case 2: the key cache on its own. A hit against `Map.get`, a miss against the provider it
 * wraps, and a cold burst of 1000 concurrent requests for one key against the local server
 * (how many remote calls it costs, with and without the cache).
 * @module
 */
import { randomBytes } from 'node:crypto';
import { cachedKeyProvider } from '@vault-envelope/cache';
import { type DataKey, type KeyProvider, makeDataKey } from '@vault-envelope/core';
import { VaultClient } from '@vault-envelope/remote';
import { type RunContext, type Skipped, serverOf } from './_context.js';
import { CONTEXT } from './_fixtures.js';
import { type Contender, type Measurement, type MeasureSettings, measureGroup } from './_measure.js';
import { BENCH_API_KEY } from './_server.js';
import { median } from './_stats.js';

/** The decrypt-side route the burst counts. */
export const DECRYPT_ROUTE = 'POST /vault/v1/keys/decrypt';

/** One cold burst. */
export interface BurstResult {
  /** With or without the cache in front of the client. */
  mode: 'cache' | 'no-cache';
  /** Concurrent requests for the one key. */
  requests: number;
  /** Median over the repetitions of the time until all requests settled, in ms. */
  medianMs: number;
  /** Calls the key service received per burst (each repetition; they should all agree). */
  keyServiceCalls: number[];
  /** The cache's own count of provider calls per burst (cache mode). */
  cacheRemoteCalls?: number[];
}

/** The result of case 2. */
export interface CacheResult {
  /** Hits and `Map.get`, each called (sync) and awaited. */
  hit: Measurement[];
  /** Misses and the bare provider they wrap. */
  miss: Measurement[];
  burst: BurstResult[];
  skipped: Skipped[];
}

/** Makes `count` distinct 110-byte blobs, each a view into a larger buffer as a parsed message gives. */
function blobs(count: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const buf = randomBytes(200);
    buf.write('WOS.EKM.v1\0', 20, 'latin1');
    out.push(new Uint8Array(buf.buffer, buf.byteOffset + 20, 110));
  }
  return out;
}

/** A provider that answers at once, with a fresh copy of one key for any blob or context. */
function instantProvider(): KeyProvider {
  const key = randomBytes(32);
  const blob = blobs(1)[0]!;
  const dk = (encryptedKeys: Uint8Array): DataKey =>
    makeDataKey({
      id: 'k',
      key: Uint8Array.from(key),
      encryptedKeys: encryptedKeys.slice(),
      context: CONTEXT,
    });
  return {
    createDataKey: async () => dk(blob),
    decryptDataKey: async (b) => dk(b),
  };
}

/** Hit cost: each loop is written out on its own so that no call site is shared between them. */
async function measureHits(settings: MeasureSettings): Promise<Measurement[]> {
  const [blob] = blobs(1) as [Uint8Array];
  const cache = cachedKeyProvider(instantProvider(), { maxAge: 60 * 60_000, maxMessages: 2 ** 32 });
  const warm = await cache.decryptDataKey(blob.slice());
  const encWarm = await cache.createDataKey(CONTEXT, { usage: { messages: 1, bytes: 256 } });
  // The lookup gets another view of the same bytes, as Envelope.decrypt passes a view of the message.
  const lookup = Uint8Array.from(blob);
  const usage = { usage: { messages: 1, bytes: 256 } };
  const map = new Map<string, DataKey>([[Buffer.from(blob).toString('base64'), warm]]);
  const mapKey = Buffer.from(blob).toString('base64');
  if ((await cache.decryptDataKey(lookup)) !== warm) throw new Error('the cache did not hit');
  if ((await cache.createDataKey(CONTEXT, usage)) !== encWarm) throw new Error('the cache did not hit');
  if (map.get(mapKey) !== warm) throw new Error('Map.get missed');
  const before = cache.stats();
  let sink: unknown;
  const contenders: Contender[] = [
    {
      id: 'map-get',
      label: 'Map.get (string key), called',
      loop: (n) => {
        for (let i = 0; i < n; i++) sink = map.get(mapKey);
        return sink;
      },
    },
    {
      id: 'cache-hit-decrypt',
      label: 'cache hit, decryptDataKey(blob), called',
      loop: (n) => {
        for (let i = 0; i < n; i++) sink = cache.decryptDataKey(lookup);
        return sink === undefined ? 0 : 1;
      },
    },
    {
      id: 'cache-hit-encrypt',
      label: 'cache hit, createDataKey(context), called',
      loop: (n) => {
        for (let i = 0; i < n; i++) sink = cache.createDataKey(CONTEXT, usage);
        return sink === undefined ? 0 : 1;
      },
    },
    {
      id: 'map-get-awaited',
      label: 'await Map.get (string key)',
      loop: async (n) => {
        for (let i = 0; i < n; i++) sink = await map.get(mapKey);
      },
    },
    {
      id: 'cache-hit-decrypt-awaited',
      label: 'await cache hit, decryptDataKey(blob)',
      loop: async (n) => {
        for (let i = 0; i < n; i++) sink = await cache.decryptDataKey(lookup);
      },
    },
  ];
  const measured = await measureGroup(contenders, settings);
  const after = cache.stats();
  if (after.misses !== before.misses)
    throw new Error(`the hit loops missed ${after.misses - before.misses} times`);
  await cache.close();
  return measured;
}

/** Miss cost: 1024 distinct blobs cycled through a cache of 256, so every lookup misses. */
async function measureMisses(settings: MeasureSettings): Promise<Measurement[]> {
  const backing = instantProvider();
  const many = blobs(1024);
  const cache = cachedKeyProvider(backing, { maxAge: 60 * 60_000, capacity: 256 });
  let i = 0;
  let j = 0;
  const contenders: Contender[] = [
    {
      id: 'provider-direct',
      label: 'the wrapped provider alone (instant)',
      loop: async (n) => {
        for (let k = 0; k < n; k++) await backing.decryptDataKey(many[j++ & 1023]!);
      },
    },
    {
      id: 'cache-miss-decrypt',
      label: 'cache miss, decryptDataKey (fetch, insert, evict)',
      loop: async (n) => {
        for (let k = 0; k < n; k++) await cache.decryptDataKey(many[i++ & 1023]!);
      },
    },
  ];
  const before = cache.stats();
  const measured = await measureGroup(contenders, settings);
  const after = cache.stats();
  if (after.hits !== before.hits) throw new Error(`the miss loop hit ${after.hits - before.hits} times`);
  await cache.close();
  return measured;
}

async function burst(
  ctx: RunContext,
  mode: 'cache' | 'no-cache',
  requests: number,
  repetitions: number,
): Promise<BurstResult> {
  const server = serverOf(ctx)!;
  // The bench server has no rate limit, and the client's budget would pace the burst: off.
  const client = new VaultClient({ apiKey: BENCH_API_KEY, baseUrl: server.url, rateLimit: false });
  const { encryptedKeys } = await client.createDataKey(CONTEXT);
  const times: number[] = [];
  const calls: number[] = [];
  const cacheCalls: number[] = [];
  for (let r = 0; r < repetitions; r++) {
    const cache = mode === 'cache' ? cachedKeyProvider(client, { maxAge: 5 * 60_000 }) : undefined;
    const provider: KeyProvider = cache ?? client;
    await server.resetStats();
    const t0 = performance.now();
    const keys = await Promise.all(
      Array.from({ length: requests }, () => provider.decryptDataKey(encryptedKeys.slice())),
    );
    times.push(performance.now() - t0);
    const first = Uint8Array.from(keys[0]!.key);
    for (const k of keys) {
      const bytes = k.key;
      const same = Buffer.compare(bytes, first) === 0;
      bytes.fill(0);
      if (!same) throw new Error('the burst returned different keys');
    }
    first.fill(0);
    calls.push((await server.stats()).requests[DECRYPT_ROUTE] ?? 0);
    if (cache !== undefined) {
      cacheCalls.push(cache.stats().remoteCalls);
      await cache.close();
    }
  }
  const result: BurstResult = { mode, requests, medianMs: median(times), keyServiceCalls: calls };
  if (mode === 'cache') result.cacheRemoteCalls = cacheCalls;
  return result;
}

/**
 * Runs case 2.
 * @param ctx - The run.
 * @returns Hit and miss measurements and the burst counts.
 */
export async function runCacheCase(ctx: RunContext): Promise<CacheResult> {
  const small: MeasureSettings = {
    ...ctx.settings,
    sampleNs: ctx.settings.clock === 'cpu' ? 400_000 : 100_000,
  };
  ctx.log('  hit vs Map.get');
  const hit = await measureHits(small);
  ctx.log('  miss vs the bare provider');
  const miss = await measureMisses(small);
  const skipped: Skipped[] = [];
  const result: CacheResult = { hit, miss, burst: [], skipped };
  if (serverOf(ctx) === undefined) {
    skipped.push({
      id: 'cache-burst',
      reason: `no local server: ${(ctx.server as { unavailable: string }).unavailable}`,
    });
    return result;
  }
  const reps = ctx.quick ? 2 : 5;
  ctx.log('  cold burst of 1000, with and without the cache');
  result.burst.push(await burst(ctx, 'cache', 1000, reps));
  result.burst.push(await burst(ctx, 'no-cache', 1000, ctx.quick ? 1 : 2));
  return result;
}
