/**
 * The measuring engine. tinybench takes the samples; this file decides how they are taken so
 * that ratios stay meaningful on a shared, noisy machine:
 *
 * - **Batches.** Each sample runs the operation `batch` times, with `batch` calibrated so that a
 *   sample lasts about {@link MeasureSettings.sampleNs}; the clock's own cost then vanishes even
 *   for operations of a few nanoseconds.
 * - **Rounds.** Every contender of a group is measured once per round, in a rotated order, and
 *   the rounds repeat. A burst of load from a neighbour hits one round of every contender rather
 *   than all rounds of one.
 * - **Medians.** A round's value is the median sample; the result is the median of the rounds,
 *   with the rounds' spread. A ratio is the median of the per-round ratios (paired), so load that
 *   slows a whole round cancels out.
 * - **Warm-up.** A calibration pass before the rounds, and tinybench's warm-up in every round.
 * @module
 */
import { Bench, hrtimeNow } from 'tinybench';
import { median, type Spread, spread } from './_stats.js';

/** One thing to time. */
export interface Contender {
  /** Stable id, used in the JSON. */
  id: string;
  /** Human-readable name, used in tables and charts. */
  label: string;
  /**
   * Runs the operation `n` times; returns a promise when the operation is asynchronous (each call
   * is then awaited before the next, as a caller would).
   */
  loop: (n: number) => unknown;
}

/** How long and how often to measure. */
export interface MeasureSettings {
  /** Rounds per group. */
  rounds: number;
  /** Time per contender per round, in ms. */
  timeMs: number;
  /** Warm-up per contender per round, in ms. */
  warmupMs: number;
  /** Target duration of one sample, in ns (sets the batch size). */
  sampleNs: number;
  /**
   * What a sample's duration is: `'wall'` (elapsed time, the default and the right measure on a
   * quiet machine) or `'cpu'` (this process's CPU time, which time spent descheduled on a loaded
   * machine does not inflate; wrong for anything that waits on another process).
   */
  clock?: 'wall' | 'cpu';
}

/** This process's CPU time (user + system, all threads), in ms. */
function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** What was measured for one contender. */
export interface Measurement {
  id: string;
  label: string;
  /** Median time per operation in each round, in ns. */
  roundsNs: number[];
  /** Median of `roundsNs`. */
  medianNs: number;
  /** Spread of `roundsNs`. */
  spread: Spread;
  /** Operations per sample. */
  batch: number;
  /** Samples taken over all rounds. */
  samples: number;
}

// A scavenge between contenders (with --expose-gc), so that young garbage one leaves behind is
// not collected on another's time. Never a full collection: V8's forced full GC flushes compiled
// code, and every contender would then spend its next short round re-optimising (measured: pure
// JavaScript AES ran 5x slower).
const gc = (globalThis as { gc?: (options: { type: 'minor' }) => void }).gc;

/** Runs `loop(n)` and returns the elapsed time in ns, awaiting it when it returns a promise. */
async function timeLoop(loop: (n: number) => unknown, n: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  const r = loop(n);
  if (r instanceof Promise) await r;
  return Number(process.hrtime.bigint() - t0);
}

/**
 * Finds the batch size that makes one sample last about `sampleNs`, running the operation for
 * at least `warmupMs` on the way (which doubles as a first warm-up).
 */
async function calibrate(c: Contender, sampleNs: number, warmupMs: number): Promise<number> {
  let n = 1;
  let spent = 0;
  let perOp = Number.POSITIVE_INFINITY;
  const budget = warmupMs * 1e6;
  while (spent < budget || n === 1) {
    const ns = await timeLoop(c.loop, n);
    spent += ns;
    perOp = Math.min(perOp, ns / n);
    if (ns < sampleNs / 4) n = Math.min(n * 4, 1_000_000);
    else if (spent >= budget) break;
  }
  return Math.max(1, Math.min(1_000_000, Math.round(sampleNs / perOp)));
}

/**
 * Measures a group of contenders that do the same work, in interleaved rounds.
 * @param contenders - The group; each must already have passed validation.
 * @param settings - Rounds, time per round, warm-up and sample length.
 * @param onProgress - Called after each round.
 * @returns One measurement per contender, in the given order.
 * @throws Error when a contender throws while being timed (tinybench's `throws`).
 */
export async function measureGroup(
  contenders: readonly Contender[],
  settings: MeasureSettings,
  onProgress?: (round: number) => void,
): Promise<Measurement[]> {
  const batches = new Map<string, number>();
  const isAsync = new Map<string, boolean>();
  for (const c of contenders) {
    const first = c.loop(1);
    isAsync.set(c.id, first instanceof Promise);
    await first;
    batches.set(c.id, await calibrate(c, settings.sampleNs, settings.warmupMs));
  }
  const rounds = new Map<string, number[]>(contenders.map((c) => [c.id, []]));
  const samples = new Map<string, number>(contenders.map((c) => [c.id, 0]));
  for (let r = 0; r < settings.rounds; r++) {
    const bench = new Bench({
      time: settings.timeMs,
      warmupTime: settings.warmupMs,
      // Slow contenders (a real key call, a 1 MiB message) get at least one sample per round.
      warmupIterations: 1,
      iterations: 1,
      now: settings.clock === 'cpu' ? cpuNow : hrtimeNow,
      throws: true,
      // A collection left over by the previous contender must not land on this one.
      setup: () => gc?.({ type: 'minor' }),
    });
    const n = contenders.length;
    for (let i = 0; i < n; i++) {
      const c = contenders[(i + r) % n]!;
      const batch = batches.get(c.id)!;
      const loop = c.loop;
      // An async function is recognised as such without being called; tinybench would otherwise
      // call a plain one once to find out, leaving its promise running into the warm-up.
      if (isAsync.get(c.id)) {
        bench.add(c.id, async () => {
          await loop(batch);
        });
      } else {
        bench.add(c.id, () => loop(batch));
      }
    }
    await bench.run();
    for (const task of bench.tasks) {
      const result = task.result;
      if (result === undefined || result.error !== undefined) {
        throw new Error(`${task.name} failed while timed`, { cause: result?.error });
      }
      const p50 = result.latency.p50;
      if (p50 === undefined) throw new Error(`${task.name} produced no samples`);
      rounds.get(task.name)!.push((p50 * 1e6) / batches.get(task.name)!);
      samples.set(task.name, samples.get(task.name)! + result.latency.samples.length);
    }
    onProgress?.(r);
  }
  return contenders.map((c) => {
    const roundsNs = rounds.get(c.id)!;
    return {
      id: c.id,
      label: c.label,
      roundsNs,
      medianNs: median(roundsNs),
      spread: spread(roundsNs),
      batch: batches.get(c.id)!,
      samples: samples.get(c.id)!,
    };
  });
}

/**
 * How many times the throughput of `a` that of `b` is, as the median of the per-round ratios
 * (both were timed in the same rounds, so load that slowed a round slowed both).
 * @param a - The contender of interest.
 * @param b - The reference.
 * @returns `b`'s time over `a`'s time; above 1 means `a` is faster.
 * @throws RangeError when the two were not measured in the same number of rounds.
 */
export function pairedRatio(a: Measurement, b: Measurement): number {
  if (a.roundsNs.length !== b.roundsNs.length) throw new RangeError('measurements from different groups');
  return median(a.roundsNs.map((ns, i) => b.roundsNs[i]! / ns));
}

/**
 * Builds the `loop` of a synchronous operation.
 * @param op - One operation.
 * @returns A loop that runs it `n` times and keeps the last result alive.
 */
export function syncLoop(op: () => unknown): (n: number) => unknown {
  return (n) => {
    let last: unknown;
    for (let i = 0; i < n; i++) last = op();
    return last === undefined ? 0 : 1;
  };
}

/**
 * Builds the `loop` of an asynchronous operation: each call is awaited before the next.
 * @param op - One operation.
 * @returns A loop that runs it `n` times.
 */
export function asyncLoop(op: () => Promise<unknown>): (n: number) => Promise<unknown> {
  return async (n) => {
    let last: unknown;
    for (let i = 0; i < n; i++) last = await op();
    return last;
  };
}
