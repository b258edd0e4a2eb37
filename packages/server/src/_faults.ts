/**
 * Fault injection: added latency, and a fraction of requests answered 429, 500 or 503, or
 * dropped (connection destroyed, no response). One random draw per request decides, from a
 * seeded generator when a seed is given, so a test sees the same sequence of faults every run.
 * The settings are checked where options are (`_options.ts`); this module only decides.
 * @module
 */
import { checkFaults, type FaultPlan } from './_options.js';
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

/** Decides, per request, which fault to inject. */
export class FaultInjector {
  #plan: FaultPlan | undefined;
  #random: () => number = Math.random;

  /** @param plan - Initial settings, already checked (none: no faults). */
  constructor(plan: FaultPlan | undefined) {
    this.#use(plan);
  }

  #use(plan: FaultPlan | undefined): void {
    this.#plan = plan;
    this.#random = plan?.seed === undefined ? Math.random : mulberry32(plan.seed);
  }

  /**
   * Replaces the settings (and restarts the seeded sequence).
   * @param faults - New settings; `undefined` turns faults off.
   * @throws TypeError / RangeError on malformed settings (the current ones then stay).
   */
  set(faults: FaultOptions | undefined): void {
    this.#use(faults === undefined ? undefined : checkFaults(faults));
  }

  /** The decision for a request to `path`. */
  decide(path: string): FaultDecision {
    const p = this.#plan;
    if (p === undefined) return NONE;
    if (p.routes !== undefined && !p.routes.some((r) => path.startsWith(r))) return NONE;
    const [min, max] = p.latency;
    const latencyMs = max === 0 ? 0 : min + (max - min) * this.#random();
    let action: FaultAction = 'none';
    if (p.drop + p.r429 + p.r500 + p.r503 > 0) {
      const r = this.#random();
      if (r < p.drop) action = 'drop';
      else if (r < p.drop + p.r429) action = 429;
      else if (r < p.drop + p.r429 + p.r500) action = 500;
      else if (r < p.drop + p.r429 + p.r500 + p.r503) action = 503;
    }
    return { latencyMs, action, retryAfterSeconds: p.retryAfter };
  }
}
