/**
 * Order statistics for benchmark rounds: medians, quantiles and the spread of a set of values.
 * Medians rather than means throughout, because the machine is shared and noise is one-sided
 * (a round is only ever slowed down, never sped up, by a neighbour's build).
 * @module
 */

/**
 * The q-quantile of `values` (linear interpolation between order statistics).
 * @param values - At least one number; not modified.
 * @param q - In [0, 1].
 * @returns The quantile.
 * @throws RangeError when `values` is empty or `q` is outside [0, 1].
 */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new RangeError('quantile of no values');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`q must be in [0, 1], got ${q}`);
  const s = [...values].sort((a, b) => a - b);
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (at - lo);
}

/**
 * The median of `values`.
 * @param values - At least one number.
 * @returns The median.
 * @throws RangeError when `values` is empty.
 */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** How far a set of per-round values spreads around its median. */
export interface Spread {
  /** Smallest value. */
  min: number;
  /** Largest value. */
  max: number;
  /** Interquartile range divided by the median, in percent. */
  iqrPct: number;
}

/**
 * The spread of per-round values.
 * @param values - At least one number.
 * @returns Min, max and the relative interquartile range.
 * @throws RangeError when `values` is empty.
 */
export function spread(values: readonly number[]): Spread {
  const m = median(values);
  const iqr = quantile(values, 0.75) - quantile(values, 0.25);
  return {
    min: Math.min(...values),
    max: Math.max(...values),
    iqrPct: m === 0 ? 0 : (100 * iqr) / m,
  };
}
