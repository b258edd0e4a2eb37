// @ts-check
/**
 * The workerd half of the browser bench: the Worker of `src/bench-worker.ts` (the browser bench's
 * own contenders) in workerd, timed from Node.
 *
 * Why from outside: on Cloudflare a Worker's `Date.now()` and `performance.now()` do not move
 * while it computes (only on I/O), so the browser bench's in-page timer would read 0 there; the
 * local workerd lets them move, but in whole milliseconds. So every request runs one contender `n`
 * times in the Worker, `n` calibrated for a request of about `roundMs` of work, and Node takes
 * the request's wall time with `process.hrtime` and subtracts the median empty request (the same
 * request with `n` = 0) of the same rounds. Rounds interleave the contenders and the empty request
 * in a rotating order, and ratios are paired by round, as in Chromium. The Worker's own clock is
 * read around each loop too and reported, so each run says whether it was frozen and, where it
 * moved, whether it agrees with Node's.
 *
 * Bounded: at most 2^20 calls a request, calibration by at most 21 doublings, a timeout on every
 * request and a deadline on the whole run; the Worker listens on 127.0.0.1 and may reach nothing.
 * @module
 */
import { COMPATIBILITY_DATE, startWorkerd } from './workerd.mjs';

/** @typedef {import('../src/bench.js').BenchConfig} BenchConfig */
/** @typedef {import('../src/bench.js').BenchReport} BenchReport */
/** @typedef {'encrypt' | 'decrypt'} Op */
/** @typedef {{ group: 'main' | 'crossover', op: Op, size: number, id: string }} Key */

/** As the Worker's limit. */
const MAX_CALLS = 1 << 20;
/** No request may take longer. */
const REQUEST_TIMEOUT_MS = 60_000;
/** The ids of the main table, as `bench.ts` names them. */
const MAIN_IDS = ['envelope-auto', 'envelope-portable', 'raw-webcrypto', 'raw-noble'];
/** The crossover's. */
const CROSSOVER_IDS = ['subtle', 'noble'];
/** Requests shorter than this (net) do not count in the clock check: too short for a 1 ms clock. */
const CLOCK_CHECK_FROM_US = 10_000;

/**
 * @typedef {object} WorkerdTiming
 * @property {'outside'} method - Timed from Node, the Worker's clock not used.
 * @property {string} workerdVersion - The workerd release.
 * @property {string} compatibilityDate - The Worker's compatibility date.
 * @property {number} emptyRequestUs - Median wall time of an empty request before the run.
 * @property {[number, number]} emptyRequestQuartilesUs - Its first and third quartiles (its spread).
 * @property {{ requests: number, frozen: number, insideOverOutside: number | null }} insideClock -
 *   Over the requests of at least 10 ms of work: how many, in how many the Worker's `Date.now()`
 *   did not move, and the median of its reading over Node's.
 */

/**
 * @param {number[]} xs
 * @returns {number}
 */
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] ?? Number.NaN) : ((s[m - 1] ?? Number.NaN) + (s[m] ?? Number.NaN)) / 2;
};

/**
 * The `q` quantile, nearest rank.
 * @param {number[]} xs
 * @param {number} q
 * @returns {number}
 */
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? Number.NaN;
};

/**
 * Runs the bench in workerd.
 * @param {string} code - The bundle of `src/bench-worker.ts` (an ES module with a default `fetch`).
 * @param {BenchConfig} config - Sizes, crossover sizes, rounds, round length.
 * @param {{ deadlineMs: number }} limits - How long the whole run may take.
 * @returns {Promise<{ report: BenchReport, timing: WorkerdTiming }>} The report (the browser
 *   bench's shape; rows also carry `callsPerRequest`, `requestWorkMs`, the median work of a
 *   request less the empty one, and `emptyRequestUs`) and how it was timed.
 * @throws {Error} When workerd does not start, the Worker answers an error, a request times out
 *   or the deadline passes.
 * @example
 * ```js
 * const { report } = await runWorkerdBench(code, { sizes: [256], crossoverSizes: [0], rounds: 7, roundMs: 30 }, { deadlineMs: 300_000 });
 * ```
 */
export async function runWorkerdBench(code, config, limits) {
  const worker = await startWorkerd({ modules: { 'bench.js': code }, outbound: 'none' });
  const deadline = Date.now() + limits.deadlineMs;
  /**
   * @param {string} path
   * @param {unknown} body
   * @returns {Promise<any>}
   */
  const post = async (path, body) => {
    if (Date.now() > deadline)
      throw new Error(`the workerd bench ran past its ${limits.deadlineMs} ms deadline`);
    const res = await fetch(`${worker.url}${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`the Worker answered ${res.status} to ${path}: ${text} ${worker.stderr()}`);
    return JSON.parse(text);
  };
  /**
   * One request of `n` calls: Node's wall time (µs) and the Worker's own (ms).
   * @param {Key} key
   * @param {number} n
   * @returns {Promise<{ us: number, insideMs: number }>}
   */
  const timed = async (key, n) => {
    const t0 = process.hrtime.bigint();
    const r = /** @type {{ n: number, insideMs: number }} */ (await post('/run', { ...key, n }));
    const us = Number(process.hrtime.bigint() - t0) / 1000;
    if (r.n !== n) throw new Error(`the Worker ran ${r.n} calls, asked for ${n}`);
    return { us, insideMs: r.insideMs };
  };
  /**
   * The median work (µs) of three requests of `n` calls.
   * @param {Key} key
   * @param {number} n
   * @param {number} emptyUs
   * @returns {Promise<number>}
   */
  const work3 = async (key, n, emptyUs) => {
    const nets = [];
    for (let i = 0; i < 3; i++) nets.push((await timed(key, n)).us - emptyUs);
    return median(nets);
  };
  /**
   * Calls per request for about `ms` of work: doubling from 1 (the warm-up too) until one request
   * reaches `ms`, then twice the median of three requests at the estimate, so that one slow
   * request during the warm-up (a collection, a first call that builds tables) can not leave `n`
   * far too small.
   * @param {Key} key
   * @param {number} ms
   * @param {number} emptyUs
   * @returns {Promise<number>}
   */
  const calibrate = async (key, ms, emptyUs) => {
    const estimate = (/** @type {number} */ n, /** @type {number} */ net) =>
      Math.min(MAX_CALLS, Math.max(1, Math.round((ms * 1000 * n) / Math.max(net, 1))));
    let n = 1;
    for (let step = 0; step < 20; step++) {
      const net = (await timed(key, n)).us - emptyUs;
      if (net >= ms * 1000) break;
      n *= 2;
    }
    for (let i = 0; i < 2; i++) n = estimate(n, await work3(key, n, emptyUs));
    return n;
  };
  /** @type {{ net: number, insideMs: number }[]} */
  const clock = [];
  /**
   * Times the contenders `ids` of one group, op and size in interleaved rounds with the empty
   * request among them.
   * @param {Omit<Key, 'id'>} at
   * @param {string[]} ids
   * @param {number} ms
   * @param {number} emptyUs - The empty request before the run, for calibration.
   * @returns {Promise<{ per: Map<string, number[]>, calls: Map<string, number>, workMs: Map<string, number>, emptyUs: number }>}
   */
  const timeGroup = async (at, ids, ms, emptyUs) => {
    /** @type {Map<string, number>} */
    const calls = new Map();
    for (const id of ids) calls.set(id, await calibrate({ ...at, id }, ms, emptyUs));
    /** @type {Map<string, { us: number, insideMs: number, n: number }[]>} */
    const samples = new Map(ids.map((id) => [id, []]));
    /** @type {number[]} */
    const empties = [];
    const order = ['', ...ids];
    for (let r = 0; r < config.rounds; r++) {
      for (let i = 0; i < order.length; i++) {
        const id = /** @type {string} */ (order[(i + r) % order.length]);
        if (id === '') {
          empties.push((await timed({ ...at, id: /** @type {string} */ (ids[0]) }, 0)).us);
        } else {
          const n = /** @type {number} */ (calls.get(id));
          samples.get(id)?.push({ ...(await timed({ ...at, id }, n)), n });
        }
      }
    }
    const empty = median(empties);
    /** @type {Map<string, number[]>} */
    const per = new Map();
    /** @type {Map<string, number>} */
    const workMs = new Map();
    for (const [id, ss] of samples) {
      per.set(
        id,
        ss.map((s) => (s.us - empty) / s.n),
      );
      workMs.set(id, median(ss.map((s) => (s.us - empty) / 1000)));
      for (const s of ss)
        if (s.us - empty >= CLOCK_CHECK_FROM_US) clock.push({ net: s.us - empty, insideMs: s.insideMs });
    }
    return { per, calls, workMs, emptyUs: empty };
  };

  try {
    const setup = /** @type {{ userAgent: string, backend: string, invalid: string[] }} */ (
      await post('/setup', { sizes: config.sizes, crossoverSizes: config.crossoverSizes })
    );
    // Warm the connection and the path, then the empty request alone.
    const probe = /** @type {Key} */ ({
      group: 'main',
      op: 'encrypt',
      size: config.sizes[0],
      id: MAIN_IDS[0],
    });
    for (let i = 0; i < 10; i++) await timed(probe, 0);
    /** @type {number[]} */
    const empties = [];
    for (let i = 0; i < 31; i++) empties.push((await timed(probe, 0)).us);
    const emptyUs = median(empties);

    /** @type {BenchReport['rows']} */
    const rows = [];
    for (const size of config.sizes) {
      for (const op of /** @type {const} */ (['encrypt', 'decrypt'])) {
        const g = await timeGroup({ group: 'main', op, size }, MAIN_IDS, config.roundMs, emptyUs);
        for (const [id, roundsUs] of g.per) {
          rows.push(
            /** @type {BenchReport['rows'][number]} */ ({
              op,
              size,
              id,
              medianUs: median(roundsUs),
              roundsUs,
              callsPerRequest: g.calls.get(id),
              requestWorkMs: g.workMs.get(id),
              emptyRequestUs: g.emptyUs,
            }),
          );
        }
      }
    }
    /** @type {BenchReport['crossover']} */
    const crossover = [];
    for (const size of config.crossoverSizes) {
      for (const op of /** @type {const} */ (['encrypt', 'decrypt'])) {
        const g = await timeGroup(
          { group: 'crossover', op, size },
          CROSSOVER_IDS,
          config.roundMs / 2,
          emptyUs,
        );
        crossover.push(
          /** @type {BenchReport['crossover'][number]} */ ({
            op,
            size,
            subtleUs: median(g.per.get('subtle') ?? []),
            nobleUs: median(g.per.get('noble') ?? []),
            callsPerRequest: Object.fromEntries(g.calls),
            requestWorkMs: Object.fromEntries(g.workMs),
            emptyRequestUs: g.emptyUs,
          }),
        );
      }
    }
    const moved = clock.filter((c) => c.insideMs > 0);
    return {
      report: { userAgent: setup.userAgent, backend: setup.backend, rows, crossover, invalid: setup.invalid },
      timing: {
        method: 'outside',
        workerdVersion: worker.version,
        compatibilityDate: COMPATIBILITY_DATE,
        emptyRequestUs: emptyUs,
        emptyRequestQuartilesUs: [quantile(empties, 0.25), quantile(empties, 0.75)],
        insideClock: {
          requests: clock.length,
          frozen: clock.length - moved.length,
          insideOverOutside:
            moved.length === 0 ? null : median(moved.map((c) => (c.insideMs * 1000) / c.net)),
        },
      },
    };
  } finally {
    await worker.close();
  }
}
