// @ts-check
/**
 * `pnpm bench:browser`: the browser bench (src/bench.ts) in headless Chromium from Debian
 * (`/usr/bin/chromium`, driven by playwright-core; never a Playwright download). Builds the
 * bench bundle with esbuild for browsers (core through its `exports` map, as an application
 * gets it; @noble/ciphers for the raw baseline from core's own dependency), serves it from
 * 127.0.0.1 (a secure context, so `crypto.subtle` is there), runs it, prints the tables and the
 * targets, and writes `bench/results/browser.json` and `browser.txt`.
 *
 *   pnpm bench:browser               # 256 B to 1 MiB, 15 rounds of 40 ms
 *   pnpm bench:browser -- --quick    # 256 B and 1 MiB, 7 rounds
 * @module
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';

const here = fileURLToPath(new URL('..', import.meta.url));
const results = fileURLToPath(new URL('../../bench/results/', import.meta.url));
const quick = process.argv.includes('--quick');
const config = quick
  ? { sizes: [256, 1 << 20], crossoverSizes: [0, 256, 4096], rounds: 7, roundMs: 30 }
  : {
      sizes: [32, 256, 1024, 16 * 1024, 1 << 20],
      crossoverSizes: [0, 16, 64, 256, 1024, 4096, 16 * 1024],
      rounds: 15,
      roundMs: 40,
    };

const built = await esbuild.build({
  entryPoints: [join(here, 'src/bench.ts')],
  absWorkingDir: here,
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  write: false,
  logLevel: 'silent',
  // The raw baseline's @noble/ciphers: the copy core depends on.
  nodePaths: [fileURLToPath(new URL('../../packages/core/node_modules', import.meta.url))],
});
const code = built.outputFiles[0]?.text ?? '';

const files = new Map([
  [
    '/',
    [
      'text/html; charset=utf-8',
      '<!doctype html><meta charset="utf-8"><title>bench</title><script type="module" src="/main.js"></script>',
    ],
  ],
  [
    '/main.js',
    [
      'text/javascript',
      "import { runBench } from './bench.js'; window.runBench = runBench; document.title = 'ready';",
    ],
  ],
  ['/bench.js', ['text/javascript', code]],
]);
const server = createServer((req, res) => {
  const f = files.get(new URL(req.url ?? '/', 'http://x').pathname);
  if (f === undefined) {
    res.writeHead(404).end();
    return;
  }
  res
    .writeHead(200, {
      'content-type': f[0],
      'content-security-policy': "default-src 'none'; script-src 'self'",
    })
    .end(f[1]);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
const address = server.address();
const port = typeof address === 'object' && address !== null ? address.port : 0;

const profile = mkdtempSync(join(tmpdir(), 'vault-envelope-bench-'));
const loadStart = loadavg()[0] ?? 0;
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
  timeout: 60_000,
});
/** @type {import('../src/bench.js').BenchReport} */
let report;
try {
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForFunction(() => document.title === 'ready');
  report = await page.evaluate((c) => /** @type {any} */ (window).runBench(c), config);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
  server.close();
}
const loadEnd = loadavg()[0] ?? 0;

/** @param {number} us */
const fmt = (us) => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(us < 10 ? 2 : 1)} µs`);
/** @param {number[]} xs */
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] ?? Number.NaN) : ((s[m - 1] ?? Number.NaN) + (s[m] ?? Number.NaN)) / 2;
};
/**
 * `of`'s throughput over `over`'s, paired by round.
 * @param {string} op @param {number} size @param {string} of @param {string} over
 * @returns {number | null}
 */
function paired(op, size, of, over) {
  const a = report.rows.find((r) => r.op === op && r.size === size && r.id === of);
  const b = report.rows.find((r) => r.op === op && r.size === size && r.id === over);
  if (a === undefined || b === undefined) return null;
  return median(a.roundsUs.map((us, i) => /** @type {number} */ (b.roundsUs[i]) / us));
}
/** @type {string[]} */
const lines = [];
const out = (s = '') => lines.push(s);
out(`browser bench: ${report.userAgent}`);
out(
  `Envelope backend 'auto' picked: ${report.backend}; load average ${loadStart.toFixed(2)} at start, ${loadEnd.toFixed(2)} at end`,
);
out(
  `rounds ${config.rounds} × ${config.roundMs} ms per contender, interleaved; medians; ratios paired by round`,
);
if (report.invalid.length > 0) out(`INVALID: ${report.invalid.join('; ')}`);
out();
out(
  'size      op       Envelope (auto)  Envelope (portable)  raw WebCrypto  raw noble   auto/raw WebCrypto  auto/raw noble  portable/raw noble',
);
for (const size of config.sizes) {
  for (const op of ['encrypt', 'decrypt']) {
    /** @param {string} id */
    const t = (id) =>
      fmt(report.rows.find((r) => r.op === op && r.size === size && r.id === id)?.medianUs ?? Number.NaN);
    /** @param {string} a @param {string} b */
    const x = (a, b) => `${paired(op, size, a, b)?.toFixed(2)}×`;
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
/** @type {{ name: string, got: number | null, want: number }[]} */
const targets = [
  {
    name: 'Envelope (auto), 1 MiB, encrypt, over raw crypto.subtle',
    got: paired('encrypt', 1 << 20, 'envelope-auto', 'raw-webcrypto'),
    want: 0.9,
  },
  {
    name: 'Envelope (auto), 1 MiB, decrypt, over raw crypto.subtle',
    got: paired('decrypt', 1 << 20, 'envelope-auto', 'raw-webcrypto'),
    want: 0.9,
  },
  {
    name: 'Envelope (auto), 256 B, encrypt, over raw @noble/ciphers',
    got: paired('encrypt', 256, 'envelope-auto', 'raw-noble'),
    want: 0.9,
  },
  {
    name: 'Envelope (auto), 256 B, decrypt, over raw @noble/ciphers',
    got: paired('decrypt', 256, 'envelope-auto', 'raw-noble'),
    want: 0.9,
  },
];
out('targets');
for (const { name, got, want } of targets) {
  out(
    `${name.padEnd(60)} >= ${want}  ${got === null ? 'not measured' : `${got.toFixed(2)}×  ${got >= want ? 'met' : 'MISSED'}`}`,
  );
}
const text = `${lines.join('\n')}\n`;
process.stdout.write(text);
mkdirSync(results, { recursive: true });
const suffix = quick ? '-quick' : '';
writeFileSync(
  join(results, `browser${suffix}.json`),
  `${JSON.stringify({ date: new Date().toISOString(), config, loadAverage: { start: loadStart, end: loadEnd }, ...report, targets: targets.map(({ name, got, want }) => ({ name, want, got, met: got === null ? null : got >= want })) }, null, 2)}\n`,
);
writeFileSync(join(results, `browser${suffix}.txt`), text);
if (report.invalid.length > 0) process.exitCode = 1;
