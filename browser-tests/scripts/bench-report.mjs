// @ts-check
/**
 * The tables and the targets of the browser bench, the same for every runtime it runs in
 * (headless Chromium, workerd), so the two reports read alike: per size and direction the four
 * contenders and their ratios paired by round, the crossover of raw WebCrypto against raw noble,
 * and the issue's targets.
 * @module
 */

/** @typedef {import('../src/bench.js').BenchReport} BenchReport */

/**
 * What each contender includes, printed under the tables so that a figure is read for exactly
 * what it times.
 */
export const LEGEND = Object.freeze([
  "Envelope (auto)      envelope.encrypt(string) -> format A base64 and decryptToString(base64), backend 'auto' (web: WebCrypto), the key from a provider that always holds it (a cache hit)",
  "Envelope (portable)  the same on backend 'portable' (@noble/ciphers)",
  'raw WebCrypto        by hand: TextEncoder, a random IV, crypto.subtle.encrypt with a CryptoKey imported once, format A layout, toBase64; and back (fromBase64, crypto.subtle.decrypt, TextDecoder)',
  'raw noble            the same by hand with @noble/ciphers gcm() instead of crypto.subtle',
  'crossover            one crypto.subtle call awaited (CryptoKey imported once) against one noble gcm() call, random bytes, a fixed IV: no encoding, no layout',
]);

/**
 * Microseconds, readable.
 * @param {number} us - Microseconds.
 * @returns {string} `1.23 ms` or `45.6 µs` or `7.89 µs`.
 */
export const fmt = (us) =>
  us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(us < 10 ? 2 : 1)} µs`;

/**
 * The median.
 * @param {number[]} xs - Values.
 * @returns {number} Their median (NaN for none).
 */
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] ?? Number.NaN) : ((s[m - 1] ?? Number.NaN) + (s[m] ?? Number.NaN)) / 2;
};

/**
 * `of`'s throughput over `over`'s, paired by round: the median over rounds of the ratio within
 * a round.
 * @param {BenchReport} report - The report.
 * @param {string} op - `'encrypt'` or `'decrypt'`.
 * @param {number} size - The size.
 * @param {string} of - A contender's id.
 * @param {string} over - Another's.
 * @returns {number | null} The ratio (above 1: `of` is faster), or null when not measured.
 */
export function paired(report, op, size, of, over) {
  const a = report.rows.find((r) => r.op === op && r.size === size && r.id === of);
  const b = report.rows.find((r) => r.op === op && r.size === size && r.id === over);
  if (a === undefined || b === undefined) return null;
  return median(a.roundsUs.map((us, i) => /** @type {number} */ (b.roundsUs[i]) / us));
}

/**
 * The issue's targets, measured.
 * @param {BenchReport} report - The report.
 * @returns {{ name: string, got: number | null, want: number }[]} Each target.
 */
export function targetsOf(report) {
  return [
    {
      name: 'Envelope (auto), 1 MiB, encrypt, over raw crypto.subtle',
      got: paired(report, 'encrypt', 1 << 20, 'envelope-auto', 'raw-webcrypto'),
      want: 0.9,
    },
    {
      name: 'Envelope (auto), 1 MiB, decrypt, over raw crypto.subtle',
      got: paired(report, 'decrypt', 1 << 20, 'envelope-auto', 'raw-webcrypto'),
      want: 0.9,
    },
    {
      name: 'Envelope (auto), 256 B, encrypt, over raw @noble/ciphers',
      got: paired(report, 'encrypt', 256, 'envelope-auto', 'raw-noble'),
      want: 0.9,
    },
    {
      name: 'Envelope (auto), 256 B, decrypt, over raw @noble/ciphers',
      got: paired(report, 'decrypt', 256, 'envelope-auto', 'raw-noble'),
      want: 0.9,
    },
  ];
}

/**
 * The report as text: `header`, the tables, the crossover, the targets, the legend.
 * @param {BenchReport} report - The report.
 * @param {number[]} sizes - The sizes of the main table, in order.
 * @param {string[]} header - The lines above the tables (runtime, timing method, load).
 * @returns {string} The text, ending in a newline.
 * @example
 * ```js
 * process.stdout.write(formatReport(report, [256, 1 << 20], ['browser bench: ...']));
 * ```
 */
export function formatReport(report, sizes, header) {
  /** @type {string[]} */
  const lines = [...header];
  const out = (s = '') => lines.push(s);
  if (report.invalid.length > 0) out(`INVALID: ${report.invalid.join('; ')}`);
  out();
  out(
    'size      op       Envelope (auto)  Envelope (portable)  raw WebCrypto  raw noble   auto/raw WebCrypto  auto/raw noble  portable/raw noble',
  );
  for (const size of sizes) {
    for (const op of ['encrypt', 'decrypt']) {
      /** @param {string} id */
      const t = (id) =>
        fmt(report.rows.find((r) => r.op === op && r.size === size && r.id === id)?.medianUs ?? Number.NaN);
      /** @param {string} a @param {string} b */
      const x = (a, b) => `${paired(report, op, size, a, b)?.toFixed(2)}×`;
      out(
        `${String(size).padEnd(9)} ${op.padEnd(8)} ${t('envelope-auto').padStart(15)}  ${t('envelope-portable').padStart(19)}  ${t('raw-webcrypto').padStart(13)}  ${t('raw-noble').padStart(9)}   ${x('envelope-auto', 'raw-webcrypto').padStart(18)}  ${x('envelope-auto', 'raw-noble').padStart(14)}  ${x('envelope-portable', 'raw-noble').padStart(18)}`,
      );
    }
  }
  out();
  out(
    'crossover: raw crypto.subtle (awaited one call at a time) against raw @noble/ciphers, no base64, no layout',
  );
  out('size      op       subtle     noble      noble/subtle');
  for (const c of report.crossover) {
    out(
      `${String(c.size).padEnd(9)} ${c.op.padEnd(8)} ${fmt(c.subtleUs).padStart(9)}  ${fmt(c.nobleUs).padStart(9)}  ${(c.nobleUs / c.subtleUs).toFixed(1).padStart(11)}×`,
    );
  }
  const slower = report.crossover.filter((c) => c.subtleUs > c.nobleUs);
  out(
    slower.length === 0
      ? 'WebCrypto was faster at every size measured: the crossover is 0 (every message goes through WebCrypto).'
      : `noble was faster at: ${slower.map((c) => `${c.op} ${c.size} B`).join(', ')}`,
  );
  out();
  out('targets');
  for (const { name, got, want } of targetsOf(report)) {
    out(
      `${name.padEnd(60)} >= ${want}  ${got === null ? 'not measured' : `${got.toFixed(2)}×  ${got >= want ? 'met' : 'MISSED'}`}`,
    );
  }
  out();
  out('contenders');
  for (const l of LEGEND) out(l);
  return `${lines.join('\n')}\n`;
}

/**
 * The targets for the JSON file.
 * @param {BenchReport} report - The report.
 * @returns {{ name: string, want: number, got: number | null, met: boolean | null }[]} Each target and whether it was met.
 */
export function targetsJson(report) {
  return targetsOf(report).map(({ name, got, want }) => ({
    name,
    want,
    got,
    met: got === null ? null : got >= want,
  }));
}
