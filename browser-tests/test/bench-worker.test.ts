/**
 * The workerd bench's Worker (`src/bench-worker.ts`) answers as the bench expects, so that
 * `pnpm bench:browser` keeps working when core changes: its validation passes for the real
 * contenders (every message read by every contender, a flipped bit refused), a run makes the
 * calls it was asked for, and a malformed request is refused. Nothing here is timed.
 * @module
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildBundle, CORE_NODE_MODULES } from '../scripts/bundle.mjs';
import { type RunningWorkerd, startWorkerd } from '../scripts/workerd.mjs';

let worker: RunningWorkerd;

const post = (path: string, body: unknown) =>
  fetch(`${worker.url}${path}`, { method: 'POST', body: JSON.stringify(body) });

beforeAll(async () => {
  const { code } = await buildBundle({
    entry: new URL('../src/bench-worker.ts', import.meta.url).pathname,
    nodePaths: [CORE_NODE_MODULES],
  });
  worker = await startWorkerd({ modules: { 'bench.js': code } });
}, 120_000);

afterAll(async () => {
  await worker?.close();
});

describe('the workerd bench Worker', () => {
  test('a run before the setup is refused with 409', async () => {
    const res = await post('/run', { group: 'main', op: 'encrypt', size: 32, id: 'raw-noble', n: 1 });
    expect(res.status).toBe(409);
  });

  test("the setup validates every contender at every size, and 'auto' picks the web backend", async () => {
    const res = await post('/setup', { sizes: [0, 32, 1000], crossoverSizes: [0, 64] });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ userAgent: 'Cloudflare-Workers', backend: 'web', invalid: [] });
  });

  test('a run makes the calls asked for, of every contender and every crossover operation', async () => {
    for (const id of ['envelope-auto', 'envelope-portable', 'raw-webcrypto', 'raw-noble']) {
      for (const op of ['encrypt', 'decrypt']) {
        const res = await post('/run', { group: 'main', op, size: 32, id, n: 3 });
        expect(res.status).toBe(200);
        const body = (await res.json()) as { n: number; insideMs: number };
        expect(body.n).toBe(3);
        expect(body.insideMs).toBeGreaterThanOrEqual(0);
      }
    }
    for (const id of ['subtle', 'noble']) {
      const res = await post('/run', { group: 'crossover', op: 'decrypt', size: 64, id, n: 2 });
      expect(res.status).toBe(200);
    }
  });

  test('an unknown operation answers 404, a call count out of range 400', async () => {
    expect(
      (await post('/run', { group: 'main', op: 'encrypt', size: 33, id: 'raw-noble', n: 1 })).status,
    ).toBe(404);
    expect((await post('/run', { group: 'main', op: 'encrypt', size: 32, id: 'nobody', n: 1 })).status).toBe(
      404,
    );
    for (const n of [-1, 1.5, 2 ** 20 + 1, '1']) {
      expect(
        (await post('/run', { group: 'main', op: 'encrypt', size: 32, id: 'raw-noble', n })).status,
      ).toBe(400);
    }
    expect((await post('/setup', { sizes: [-1], crossoverSizes: [] })).status).toBe(400);
  });
});
