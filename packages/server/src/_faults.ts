/**
 * Fault injection: added latency, and a fraction of requests answered 429, 500 or 503, or
 * dropped (connection destroyed, no response). One random draw per request decides, from a
 * seeded generator when a seed is given, so a test sees the same sequence of faults every run.
 * @module
 */
import type { FaultOptions } from './options.js';

/** What to do with one request. */
export type FaultAction = 'none' | 'drop' | 429 | 500 | 503;

/** The decision for one request. */
export interface FaultDecision {
  /** Milliseconds to wait before handling. */
  latencyMs: number;
  /** The fault, if any. */
  action: FaultAction;
  /** `Retry-After` seconds of an injected 429. */
  retryAfterSeconds: number;
}

const NONE: FaultDecision = { latencyMs: 0, action: 'none', retryAfterSeconds: 1 };

/** mulberry32: a small, fast 32-bit generator; plenty for choosing which requests fail. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fraction(v: unknown, title: string): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new RangeError(`faults.${title} must be in [0, 1]`);
  return v;
}

function latency(v: FaultOptions['latencyMs']): [number, number] {
  if (v === undefined) return [0, 0];
  const [min, max] = typeof v === 'number' ? [v, v] : Array.isArray(v) ? v : [Number.NaN, Number.NaN];
  if (!(min >= 0 && max >= min && Number.isFinite(max))) {
    throw new RangeError('faults.latencyMs must be a number ≥ 0 or [min, max] with 0 ≤ min ≤ max');
  }
  return [min, max];
}

/** Checked, normalised fault settings. */
interface Plan {
  latency: [number, number];
  drop: number;
  r429: number;
  r500: number;
  r503: number;
  retryAfter: number;
  routes: string[] | undefined;
  random: () => number;
}

/**
 * Checks fault options.
 * @throws TypeError / RangeError on a malformed option, or fractions that add up to more than 1.
 */
function plan(f: FaultOptions): Plan {
  if (typeof f !== 'object' || f === null) throw new TypeError('faults must be an object');
  const p: Plan = {
    latency: latency(f.latencyMs),
    drop: fraction(f.dropRate, 'dropRate'),
    r429: fraction(f.rate429, 'rate429'),
    r500: fraction(f.rate500, 'rate500'),
    r503: fraction(f.rate503, 'rate503'),
    retryAfter: f.retryAfterSeconds ?? 1,
    routes: f.routes,
    random: f.seed === undefined ? Math.random : mulberry32(f.seed),
  };
  if (p.drop + p.r429 + p.r500 + p.r503 > 1 + 1e-9) {
    throw new RangeError('faults: dropRate + rate429 + rate500 + rate503 must not exceed 1');
  }
  if (!Number.isInteger(p.retryAfter) || p.retryAfter < 0) {
    throw new RangeError('faults.retryAfterSeconds must be an integer ≥ 0');
  }
  if (p.routes !== undefined && (!Array.isArray(p.routes) || p.routes.some((r) => typeof r !== 'string'))) {
    throw new TypeError('faults.routes must be an array of path prefixes');
  }
  return p;
}

/** Decides, per request, which fault to inject. */
export class FaultInjector {
  #plan: Plan | undefined;

  /** @param faults - Initial settings (none: no faults). */
  constructor(faults: FaultOptions | undefined) {
    this.set(faults);
  }

  /** Replaces the settings (and restarts the seeded sequence). @throws RangeError / TypeError. */
  set(faults: FaultOptions | undefined): void {
    this.#plan = faults === undefined ? undefined : plan(faults);
  }

  /** The decision for a request to `path`. */
  decide(path: string): FaultDecision {
    const p = this.#plan;
    if (p === undefined) return NONE;
    if (p.routes !== undefined && !p.routes.some((r) => path.startsWith(r))) return NONE;
    const [min, max] = p.latency;
    const latencyMs = max === 0 ? 0 : min + (max - min) * p.random();
    let action: FaultAction = 'none';
    if (p.drop + p.r429 + p.r500 + p.r503 > 0) {
      const r = p.random();
      if (r < p.drop) action = 'drop';
      else if (r < p.drop + p.r429) action = 429;
      else if (r < p.drop + p.r429 + p.r500) action = 500;
      else if (r < p.drop + p.r429 + p.r500 + p.r503) action = 503;
    }
    return { latencyMs, action, retryAfterSeconds: p.retryAfter };
  }
}
