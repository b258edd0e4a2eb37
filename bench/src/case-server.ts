/**
 * Case 5: the local server under load. autocannon drives the two key endpoints at 50
 * connections (the server runs in its own process); requests per second and latency
 * percentiles, with every response checked to be a 2xx.
 * @module
 */

import { VaultClient } from '@vault-envelope/remote';
import autocannon from 'autocannon';
import type { RunContext } from './_context.js';
import { serverOf } from './_context.js';
import { CONTEXT } from './_fixtures.js';
import { BENCH_API_KEY } from './_server.js';

/** One endpoint under load. */
export interface EndpointRun {
  route: string;
  connections: number;
  durationS: number;
  requests: number;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  errors: number;
}

/** The result of case 5. */
export interface ServerResult {
  runs: EndpointRun[];
}

const CONNECTIONS = 50;

/**
 * Runs case 5 (needs the local server).
 * @param ctx - The run.
 * @returns One run per endpoint.
 * @throws Error when there is no server, or any response was not a 2xx.
 */
export async function runServerCase(ctx: RunContext): Promise<ServerResult> {
  const server = serverOf(ctx);
  if (server === undefined) throw new Error('case 5 needs the local server');
  const client = new VaultClient({ apiKey: BENCH_API_KEY, baseUrl: server.url });
  const { encryptedKeys } = await client.createDataKey(CONTEXT);
  const headers = { authorization: `Bearer ${BENCH_API_KEY}`, 'content-type': 'application/json' };
  const endpoints = [
    {
      route: 'POST /vault/v1/keys/data-key',
      path: '/vault/v1/keys/data-key',
      body: JSON.stringify({ context: CONTEXT }),
    },
    {
      route: 'POST /vault/v1/keys/decrypt',
      path: '/vault/v1/keys/decrypt',
      body: JSON.stringify({ keys: Buffer.from(encryptedKeys).toString('base64') }),
    },
  ];
  const durationS = ctx.quick ? 3 : 10;
  const runs: EndpointRun[] = [];
  for (const e of endpoints) {
    ctx.log(`  ${e.route}, ${CONNECTIONS} connections, ${durationS} s`);
    // A short warm-up first (JIT, SQLite statement cache), not recorded.
    await autocannon({
      url: server.url + e.path,
      method: 'POST',
      headers,
      body: e.body,
      connections: 10,
      duration: 1,
    });
    const r = await autocannon({
      url: server.url + e.path,
      method: 'POST',
      headers,
      body: e.body,
      connections: CONNECTIONS,
      duration: durationS,
    });
    if (r.non2xx > 0 || r.errors > 0) {
      throw new Error(`${e.route}: ${r.non2xx} non-2xx responses and ${r.errors} errors under load`);
    }
    runs.push({
      route: e.route,
      connections: CONNECTIONS,
      durationS: r.duration,
      requests: r.latency.totalCount,
      requestsPerSec: r.latency.totalCount / r.duration,
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      maxMs: r.latency.max,
      non2xx: r.non2xx,
      errors: r.errors,
    });
  }
  return { runs };
}
