/**
 * The stdout report: one table per case, ratios included, and the targets at the end.
 * @module
 */
import { formatNs, formatRate, formatRatio, formatSize, table } from './_format.js';
import type { TargetCheck } from './_targets.js';
import type { CacheResult } from './case-cache.js';
import type { CryptoResult } from './case-crypto.js';
import type { HandlerResult } from './case-handler.js';
import type { ServerResult } from './case-server.js';

const R = (...cols: number[]): Set<number> => new Set(cols);

/**
 * Tables of cases 1 and 4: one per direction and size.
 * @param result - The rows.
 * @returns The text.
 */
export function cryptoTables(result: CryptoResult): string {
  const out: string[] = [];
  const keys = [...new Set(result.rows.map((r) => `${r.op}|${r.size}`))];
  for (const key of keys) {
    const [op, size] = key.split('|') as [string, string];
    const rows = result.rows.filter((r) => `${r.op}|${r.size}` === key);
    out.push(`\n${op}, ${formatSize(Number(size))}`);
    out.push(
      table(
        [
          ['contender', 'median', 'ops/s', 'rounds min..max', 'IQR', 'Envelope fast ×'],
          ...rows.map((r) => [
            r.label,
            formatNs(r.medianNs),
            formatRate(r.opsPerSec),
            `${formatNs(r.spread.min)}..${formatNs(r.spread.max)}`,
            `${r.spread.iqrPct.toFixed(1)}%`,
            formatRatio(r.oursOverThis),
          ]),
        ],
        R(1, 2, 3, 4, 5),
      ),
    );
  }
  for (const s of result.skipped) out.push(`skipped ${s.id}: ${s.reason}`);
  const failed = result.validation.flatMap((v) =>
    v.verdicts.filter((x) => !x.ok).map((x) => `${x.id} at ${v.size} B: ${x.failures.join('; ')}`),
  );
  for (const f of failed) out.push(`failed validation (not timed): ${f}`);
  return out.join('\n');
}

/**
 * Table of case 2.
 * @param result - Hits, misses, bursts.
 * @returns The text.
 */
export function cacheTables(result: CacheResult): string {
  const out: string[] = [];
  const mapGet = result.hit.find((m) => m.id === 'map-get')!;
  const mapAwait = result.hit.find((m) => m.id === 'map-get-awaited')!;
  out.push('\nhit cost');
  out.push(
    table(
      [
        ['operation', 'median', 'rounds min..max', 'over Map.get'],
        ...result.hit.map((m) => [
          m.label,
          formatNs(m.medianNs),
          `${formatNs(m.spread.min)}..${formatNs(m.spread.max)}`,
          formatRatio(m.medianNs / (m.id.endsWith('awaited') ? mapAwait : mapGet).medianNs),
        ]),
      ],
      R(1, 2, 3),
    ),
  );
  const direct = result.miss.find((m) => m.id === 'provider-direct')!;
  out.push('\nmiss cost');
  out.push(
    table(
      [
        ['operation', 'median', 'rounds min..max', 'over the provider alone'],
        ...result.miss.map((m) => [
          m.label,
          formatNs(m.medianNs),
          `${formatNs(m.spread.min)}..${formatNs(m.spread.max)}`,
          `+${formatNs(Math.max(0, m.medianNs - direct.medianNs))}`,
        ]),
      ],
      R(1, 2, 3),
    ),
  );
  if (result.burst.length > 0) {
    out.push('\ncold burst, 1000 concurrent decryptDataKey for one key, local server over loopback');
    out.push(
      table(
        [
          ['mode', 'median time to settle', 'key-service calls per burst'],
          ...result.burst.map((b) => [b.mode, `${b.medianMs.toFixed(1)} ms`, b.keyServiceCalls.join(', ')]),
        ],
        R(1),
      ),
    );
  }
  for (const s of result.skipped) out.push(`skipped ${s.id}: ${s.reason}`);
  return out.join('\n');
}

/**
 * Table of case 3.
 * @param result - The runs.
 * @returns The text.
 */
export function handlerTable(result: HandlerResult): string {
  return [
    `\n${result.rows} rows under ${result.distinctKeys} data keys, concurrency ${result.concurrency}, maxAge ${result.maxAgeMs / 1000} s (short: ${result.shortMaxAgeMs} ms)`,
    table(
      [
        ['mode', 'requests/s', 'p50', 'p99', 'requests', 'key-service calls', 'bound'],
        ...result.runs.map((r) => [
          r.mode,
          formatRate(r.requestsPerSec),
          `${r.p50Ms.toFixed(3)} ms`,
          `${r.p99Ms.toFixed(3)} ms`,
          String(r.requests),
          String(r.keyServiceCalls),
          String(r.expectedCalls),
        ]),
      ],
      R(1, 2, 3, 4, 5, 6),
    ),
    `speed-up with the cache (median of paired rounds): ${formatRatio(result.speedup)}`,
  ].join('\n');
}

/**
 * Table of case 5.
 * @param result - One run per endpoint.
 * @returns The text.
 */
export function serverTable(result: ServerResult): string {
  return [
    '',
    table(
      [
        ['endpoint', 'connections', 'requests/s', 'p50', 'p99', 'max', 'non-2xx'],
        ...result.runs.map((r) => [
          r.route,
          String(r.connections),
          formatRate(r.requestsPerSec),
          `${r.p50Ms} ms`,
          `${r.p99Ms} ms`,
          `${r.maxMs} ms`,
          String(r.non2xx),
        ]),
      ],
      R(1, 2, 3, 4, 5, 6),
    ),
  ].join('\n');
}

/**
 * The targets table.
 * @param checks - The checks.
 * @returns The text.
 */
export function targetsTable(checks: readonly TargetCheck[]): string {
  const verdict = (c: TargetCheck): string =>
    c.met !== null ? (c.met ? 'met' : 'MISSED') : c.got !== null && c.want === 'reported' ? 'no target' : '-';
  const got = (c: TargetCheck): string =>
    c.got === null
      ? 'not measured'
      : c.unit === 'ns'
        ? formatNs(c.got)
        : c.unit === '×'
          ? formatRatio(c.got)
          : c.unit === 'rows/s' || c.unit === 'MB'
            ? `${c.got} ${c.unit}`
            : String(c.got);
  return table(
    [['target', 'want', 'got', 'verdict'], ...checks.map((c) => [c.description, c.want, got(c), verdict(c)])],
    R(2),
  );
}
