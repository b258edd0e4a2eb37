/**
 * The workerd bench's Worker (`pnpm bench:browser`, the workerd half): the browser bench's own
 * contenders, validation and crossover operations (`bench.ts`), run in workerd and timed from
 * outside.
 *
 * Why from outside: a Worker on Cloudflare sees `Date.now()` and `performance.now()` stand still
 * while it computes (they move only on I/O, a Spectre mitigation), so a timer read inside a Worker
 * says 0 for pure compute. The local workerd does let them move, but only in whole milliseconds.
 * So each request runs one operation `n` times, each call awaited (a synchronous result awaits
 * nothing, as in the browser bench), and the Node side times the request with its own clock,
 * subtracting an empty request (`n` = 0, the same path without the loop). The Worker also answers
 * the milliseconds its own clock moved during the loop, so the Node side can say whether that
 * clock was frozen and whether it agrees.
 *
 * Requests (POST, JSON):
 * - `/setup` `{ sizes, crossoverSizes }`: makes the contenders under a fresh key, validates them at
 *   every size (every message read by every contender, a flipped bit refused), prepares the
 *   crossover's inputs; answers `{ userAgent, backend, invalid }`.
 * - `/run` `{ group: 'main' | 'crossover', op, size, id, n }`: runs that operation `n` times;
 *   answers `{ n, insideMs }`.
 *
 * State lives in the isolate between requests; a `/run` before `/setup` answers 409.
 * @module
 */
import { type Contender, contenders, crossoverOps, plaintextOf, validate } from './bench.js';

/** The most calls one request may make. */
const MAX_CALLS = 1 << 20;

type Op = 'encrypt' | 'decrypt';

interface State {
  /** `main:<op>:<size>:<id>` and `crossover:<op>:<size>:<id>` → the operation. */
  ops: Map<string, () => unknown>;
}

let state: State | undefined;

function opsOf(list: readonly Contender[], size: number, shared: string, into: Map<string, () => unknown>) {
  const pt = plaintextOf(size);
  for (const c of list) {
    into.set(`main:encrypt:${size}:${c.id}`, () => c.encrypt(pt));
    into.set(`main:decrypt:${size}:${c.id}`, () => c.decrypt(shared));
  }
}

async function setup(body: { sizes: number[]; crossoverSizes: number[] }) {
  const { list, backend } = await contenders();
  const ops = new Map<string, () => unknown>();
  const invalid: string[] = [];
  for (const size of body.sizes) {
    const { shared, invalid: bad } = await validate(list, plaintextOf(size));
    invalid.push(...bad);
    opsOf(list, size, shared, ops);
  }
  const crossoverAt = await crossoverOps();
  for (const size of body.crossoverSizes) {
    const at = crossoverAt(size);
    for (const op of ['encrypt', 'decrypt'] as const) {
      for (const c of at[op]) ops.set(`crossover:${op}:${size}:${c.id}`, c.op);
    }
  }
  state = { ops };
  return { userAgent: navigator.userAgent, backend, invalid };
}

async function run(body: { group: string; op: Op; size: number; id: string; n: number }) {
  const op = state?.ops.get(`${body.group}:${body.op}:${body.size}:${body.id}`);
  if (op === undefined) return undefined;
  const n = body.n;
  const t0 = Date.now();
  for (let i = 0; i < n; i++) {
    const r = op();
    if (r instanceof Promise) await r;
  }
  return { n, insideMs: Date.now() - t0 };
}

const isSizes = (x: unknown): x is number[] =>
  Array.isArray(x) && x.every((s) => Number.isSafeInteger(s) && s >= 0 && s <= 1 << 24);

export default {
  /**
   * Answers `/setup` and `/run` (see the module header).
   * @param request - The request.
   * @returns The answer, JSON.
   */
  async fetch(request: Request): Promise<Response> {
    if (request.method !== 'POST') return new Response('POST /setup or /run', { status: 405 });
    const path = new URL(request.url).pathname;
    const body = (await request.json()) as Record<string, unknown>;
    if (path === '/setup') {
      if (!isSizes(body['sizes']) || !isSizes(body['crossoverSizes'])) {
        return new Response('sizes and crossoverSizes must be arrays of sizes', { status: 400 });
      }
      return Response.json(await setup({ sizes: body['sizes'], crossoverSizes: body['crossoverSizes'] }));
    }
    if (path === '/run') {
      const n = body['n'];
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > MAX_CALLS) {
        return new Response(`n must be an integer from 0 to ${MAX_CALLS}`, { status: 400 });
      }
      if (state === undefined) return new Response('POST /setup first', { status: 409 });
      const done = await run(body as { group: string; op: Op; size: number; id: string; n: number });
      return done === undefined ? new Response('no such operation', { status: 404 }) : Response.json(done);
    }
    return new Response('not found', { status: 404 });
  },
};
