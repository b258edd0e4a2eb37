/**
 * Case 3: key caching end to end. A request handler that reads one encrypted field per request
 * (a row lookup, `decryptToString`, a JSON body) is driven at a fixed concurrency, with its data
 * keys coming from the local server over loopback: straight from `VaultClient`, and through
 * `@vault-envelope/cache`. Requests per second, p50/p99 latency, and the calls the key service
 * received, which with the cache must be one per distinct key per `maxAge`.
 * @module
 */
import { cachedKeyProvider } from '@vault-envelope/cache';
import { Envelope, fieldAad, type KeyProvider } from '@vault-envelope/core';
import { VaultClient } from '@vault-envelope/remote';
import type { RunContext } from './_context.js';
import { serverOf } from './_context.js';
import { BENCH_API_KEY, type ServerHandle } from './_server.js';
import { median, quantile } from './_stats.js';
import { DECRYPT_ROUTE } from './case-cache.js';

/** One timed run of the handler. */
export interface HandlerRun {
  mode: HandlerMode;
  durationMs: number;
  requests: number;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Decrypt calls the key service received during the run. */
  keyServiceCalls: number;
  /** Calls expected at most: distinct keys × ⌈duration / maxAge⌉ with the cache, one per request without. */
  expectedCalls: number;
}

/** How the handler gets its keys. */
export type HandlerMode = 'no-cache' | 'cache' | 'cache-short-maxage';

/** The result of case 3. */
export interface HandlerResult {
  concurrency: number;
  distinctKeys: number;
  rows: number;
  maxAgeMs: number;
  shortMaxAgeMs: number;
  runs: HandlerRun[];
  /** Median requests/s of the cache runs over that of the no-cache runs (paired by round). */
  speedup: number;
  /** Whether every cache run made at most its expected number of key calls. */
  oneCallPerKeyPerMaxAge: boolean;
}

const DISTINCT_KEYS = 10;
const ROWS = 1000;

interface Row {
  id: number;
  ssn: string;
}

async function makeRows(server: ServerHandle): Promise<Row[]> {
  // Through a cache, so that the rows share DISTINCT_KEYS data keys (one per organisation).
  const keys = cachedKeyProvider(new VaultClient({ apiKey: BENCH_API_KEY, baseUrl: server.url }), {
    maxAge: 60_000,
  });
  const envelope = new Envelope({ keys });
  const rows: Row[] = [];
  for (let id = 0; id < ROWS; id++) {
    const ssn = `${String(100 + (id % 900)).padStart(3, '0')}-${String(id % 100).padStart(2, '0')}-${String(id).padStart(4, '0')}`;
    const context = { organization_id: `org_${id % DISTINCT_KEYS}` };
    rows.push({
      id,
      ssn: await envelope.encrypt(ssn, { context, aad: fieldAad({ id, field: 'ssn', namespace: 'users' }) }),
    });
  }
  await keys.close();
  return rows;
}

/** The handler under test: one row, one field decrypted, a JSON body out. */
function handlerFor(rows: readonly Row[], keys: KeyProvider): (id: number) => Promise<string> {
  const envelope = new Envelope({ keys });
  return async (id) => {
    const row = rows[id % rows.length]!;
    const ssn = await envelope.decryptToString(row.ssn, {
      aad: fieldAad({ id: row.id, field: 'ssn', namespace: 'users' }),
    });
    return JSON.stringify({ id: row.id, ssnLast4: ssn.slice(-4) });
  };
}

/** Drives `handle` with `concurrency` workers for `durationMs`; returns the latencies in ms. */
async function drive(
  handle: (id: number) => Promise<string>,
  concurrency: number,
  durationMs: number,
): Promise<{ latencies: number[]; elapsedMs: number }> {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  const end = start + durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const id = next++;
      const t0 = performance.now();
      const body = await handle(id);
      latencies.push(performance.now() - t0);
      if (body.length === 0) throw new Error('empty response');
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies, elapsedMs: performance.now() - start };
}

async function timedRun(
  server: ServerHandle,
  rows: readonly Row[],
  mode: HandlerMode,
  concurrency: number,
  durationMs: number,
  maxAgeMs: number,
): Promise<HandlerRun> {
  // The bench server has no rate limit, and the client's budget would pace the runs: off.
  const client = new VaultClient({ apiKey: BENCH_API_KEY, baseUrl: server.url, rateLimit: false });
  // A fresh, cold cache per run: its key calls are counted from the first request.
  const cache = mode === 'no-cache' ? undefined : cachedKeyProvider(client, { maxAge: maxAgeMs });
  const handle = handlerFor(rows, cache ?? client);
  // Every 7th row first, to check the handler before timing it.
  for (let id = 0; id < ROWS; id += 7) {
    const body = JSON.parse(await handle(id)) as { ssnLast4: string };
    if (body.ssnLast4 !== String(id).padStart(4, '0')) throw new Error(`row ${id} decrypted wrong`);
  }
  cache?.clear();
  await server.resetStats();
  const { latencies, elapsedMs } = await drive(handle, concurrency, durationMs);
  const calls = (await server.stats()).requests[DECRYPT_ROUTE] ?? 0;
  await cache?.close();
  return {
    mode,
    durationMs: elapsedMs,
    requests: latencies.length,
    requestsPerSec: (latencies.length * 1000) / elapsedMs,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    keyServiceCalls: calls,
    expectedCalls: mode === 'no-cache' ? latencies.length : DISTINCT_KEYS * Math.ceil(elapsedMs / maxAgeMs),
  };
}

/**
 * Runs case 3 (needs the local server).
 * @param ctx - The run.
 * @returns The runs, the speed-up and whether the call bound held.
 * @throws Error when there is no server, or a row decrypts wrong.
 */
export async function runHandlerCase(ctx: RunContext): Promise<HandlerResult> {
  const server = serverOf(ctx);
  if (server === undefined) throw new Error('case 3 needs the local server');
  const concurrency = 32;
  const durationMs = ctx.quick ? 1_500 : 4_000;
  const rounds = ctx.quick ? 2 : 3;
  const maxAgeMs = 5 * 60_000;
  const shortMaxAgeMs = Math.round(durationMs / 3);
  const rows = await makeRows(server);
  // Warm-up (JIT, connection pool), not recorded.
  await timedRun(server, rows, 'no-cache', concurrency, 500, maxAgeMs);
  await timedRun(server, rows, 'cache', concurrency, 500, maxAgeMs);
  const runs: HandlerRun[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    ctx.log(`  round ${r + 1}/${rounds}`);
    const plain = await timedRun(server, rows, 'no-cache', concurrency, durationMs, maxAgeMs);
    const cached = await timedRun(server, rows, 'cache', concurrency, durationMs, maxAgeMs);
    runs.push(plain, cached);
    ratios.push(cached.requestsPerSec / plain.requestsPerSec);
  }
  ctx.log('  cache with a short maxAge');
  runs.push(await timedRun(server, rows, 'cache-short-maxage', concurrency, durationMs, shortMaxAgeMs));
  return {
    concurrency,
    distinctKeys: DISTINCT_KEYS,
    rows: ROWS,
    maxAgeMs,
    shortMaxAgeMs,
    runs,
    speedup: median(ratios),
    oneCallPerKeyPerMaxAge: runs.every((r) => r.mode === 'no-cache' || r.keyServiceCalls <= r.expectedCalls),
  };
}
