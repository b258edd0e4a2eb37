/**
 * Number and table formatting for the stdout report.
 * @module
 */

/**
 * A duration in the unit that suits it.
 * @param ns - Nanoseconds.
 * @returns E.g. `"84 ns"`, `"5.12 µs"`, `"3.4 ms"`.
 */
export function formatNs(ns: number): string {
  if (ns < 1_000) return `${ns.toFixed(ns < 10 ? 2 : 0)} ns`;
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(ns < 10_000 ? 2 : 1)} µs`;
  return `${(ns / 1_000_000).toFixed(ns < 10_000_000 ? 2 : 1)} ms`;
}

/**
 * A rate with thousands separators.
 * @param perSec - Events per second.
 * @returns E.g. `"194,332/s"`.
 */
export function formatRate(perSec: number): string {
  return `${Math.round(perSec).toLocaleString('en-US')}/s`;
}

/**
 * A ratio with two significant decimals below 10.
 * @param r - The ratio.
 * @returns E.g. `"1.07×"`, `"38×"`.
 */
export function formatRatio(r: number): string {
  return `${r < 10 ? r.toFixed(2) : r.toFixed(0)}×`;
}

/**
 * A byte size.
 * @param bytes - Bytes.
 * @returns E.g. `"32 B"`, `"16 KiB"`, `"1 MiB"`.
 */
export function formatSize(bytes: number): string {
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes >> 20} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes >> 10} KiB`;
  return `${bytes} B`;
}

/**
 * Lays out rows as an aligned plain-text table (the first row is the header).
 * @param rows - Cells; every row the same length.
 * @param rightAlign - Column indexes to right-align (numbers).
 * @returns The table, one line per row, with a rule under the header.
 */
export function table(
  rows: readonly (readonly string[])[],
  rightAlign: ReadonlySet<number> = new Set(),
): string {
  const widths: number[] = [];
  for (const r of rows) {
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.length);
    });
  }
  const line = (r: readonly string[]): string =>
    r
      .map((c, i) => (rightAlign.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = rows.map(line);
  out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return out.join('\n');
}
