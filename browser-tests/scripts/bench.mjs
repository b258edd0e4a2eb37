// @ts-check
/**
 * `pnpm bench:browser`: the browser bench in headless Chromium, then in workerd (the Cloudflare
 * Workers runtime). The same contenders (`src/bench.ts`: the Envelope on 'auto' and 'portable'
 * against raw crypto.subtle and raw @noble/ciphers), sizes and targets in both.
 *
 * Chromium: Debian's `/usr/bin/chromium`, driven by playwright-core (never a Playwright
 * download), a page on 127.0.0.1 (a secure context, so `crypto.subtle` is there) that runs and
 * times the bench itself (`runBench`). workerd: the Worker of `src/bench-worker.ts`, timed from
 * Node because a Worker's clock does not move while it computes (`scripts/bench-workerd.mjs`).
 * Both bundles are built with esbuild for browsers (core through its `exports` map, as an
 * application gets it; @noble/ciphers for the raw baseline from core's own dependency).
 *
 * Prints the tables and the targets and writes `bench/results/browser.json` and `browser.txt`
 * (Chromium), `workerd.json` and `workerd.txt` (workerd).
 *
 *   pnpm bench:browser                      # both runtimes, 32 B to 1 MiB, 15 rounds of 40 ms
 *   pnpm bench:browser -- --quick           # 256 B and 1 MiB, 7 rounds of 30 ms
 *   pnpm bench:browser -- --only=workerd    # one runtime (or --only=chromium)
 * @module
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { formatReport, targetsJson } from './bench-report.mjs';
import { runWorkerdBench } from './bench-workerd.mjs';
import { buildBundle, CORE_NODE_MODULES } from './bundle.mjs';

const here = fileURLToPath(new URL('..', import.meta.url));
const results = fileURLToPath(new URL('../../bench/results/', import.meta.url));
const quick = process.argv.includes('--quick');
const onlyArg = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
if (onlyArg !== undefined && onlyArg !== 'chromium' && onlyArg !== 'workerd') {
  throw new TypeError(`--only must be chromium or workerd, got ${JSON.stringify(onlyArg)}`);
}
const runtimes = onlyArg === undefined ? ['chromium', 'workerd'] : [onlyArg];
/** @type {import('../src/bench.js').BenchConfig} */
const config = quick
  ? { sizes: [256, 1 << 20], crossoverSizes: [0, 256, 4096], rounds: 7, roundMs: 30 }
  : {
      sizes: [32, 256, 1024, 16 * 1024, 1 << 20],
      crossoverSizes: [0, 16, 64, 256, 1024, 4096, 16 * 1024],
      rounds: 15,
      roundMs: 40,
    };
const suffix = quick ? '-quick' : '';

/**
 * Bundles one entry of `src/` for browsers, with the checks of the test bundles (only our
 * packages and their dependencies, no `node:` import, no `require`).
 * @param {string} entry - The entry, relative to the package.
 * @returns {Promise<string>} The ES module.
 */
async function bundle(entry) {
  return (await buildBundle({ entry: join(here, entry), nodePaths: [CORE_NODE_MODULES] })).code;
}

/**
 * Prints and writes one runtime's results.
 * @param {string} name - `browser` or `workerd` (the file names).
 * @param {string} text - The text report.
 * @param {object} json - The JSON report.
 */
function write(name, text, json) {
  process.stdout.write(`${text}\n`);
  mkdirSync(results, { recursive: true });
  writeFileSync(join(results, `${name}${suffix}.json`), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(join(results, `${name}${suffix}.txt`), text);
}

/**
 * The bench in headless Chromium, timed in the page.
 * @returns {Promise<import('../src/bench.js').BenchReport>} The report.
 */
async function chromiumBench() {
  const code = await bundle('src/bench.ts');
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
  try {
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
    try {
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction(() => document.title === 'ready');
      return await page.evaluate((c) => /** @type {any} */ (window).runBench(c), config);
    } finally {
      await context.close();
    }
  } finally {
    rmSync(profile, { recursive: true, force: true });
    server.close();
  }
}

if (runtimes.includes('chromium')) {
  const loadStart = loadavg()[0] ?? 0;
  const report = await chromiumBench();
  const loadEnd = loadavg()[0] ?? 0;
  const text = formatReport(report, config.sizes, [
    `browser bench: ${report.userAgent}`,
    `Envelope backend 'auto' picked: ${report.backend}; load average ${loadStart.toFixed(2)} at start, ${loadEnd.toFixed(2)} at end`,
    `rounds ${config.rounds} × ${config.roundMs} ms per contender, interleaved; medians; ratios paired by round`,
  ]);
  write('browser', text, {
    date: new Date().toISOString(),
    config,
    loadAverage: { start: loadStart, end: loadEnd },
    ...report,
    targets: targetsJson(report),
  });
  if (report.invalid.length > 0) process.exitCode = 1;
}

if (runtimes.includes('workerd')) {
  const code = await bundle('src/bench-worker.ts');
  const loadStart = loadavg()[0] ?? 0;
  const { report, timing } = await runWorkerdBench(code, config, {
    deadlineMs: quick ? 10 * 60_000 : 30 * 60_000,
  });
  const loadEnd = loadavg()[0] ?? 0;
  const { requests, frozen, insideOverOutside } = timing.insideClock;
  const clock =
    frozen === requests
      ? `frozen: it read 0 ms in all ${requests} requests of at least 10 ms of work`
      : `moved in ${requests - frozen} of ${requests} requests of at least 10 ms of work (whole milliseconds), median ${insideOverOutside?.toFixed(3)} of Node's`;
  const text = formatReport(report, config.sizes, [
    `workerd bench: workerd ${timing.workerdVersion}, compatibility date ${timing.compatibilityDate}, no nodejs_compat; navigator.userAgent ${report.userAgent}`,
    `Envelope backend 'auto' picked: ${report.backend}; load average ${loadStart.toFixed(2)} at start, ${loadEnd.toFixed(2)} at end`,
    `timed from Node: a request runs one contender N times in the Worker (each call awaited), N calibrated for about ${config.roundMs} ms (crossover ${config.roundMs / 2} ms); time per call = (request wall time by process.hrtime - median empty request of the same rounds, N = 0) / N; empty request ${timing.emptyRequestUs.toFixed(0)} µs before the run`,
    `rounds ${config.rounds} per contender, interleaved with the empty request; medians; ratios paired by round`,
    `the Worker's own Date.now() around its loop: ${clock}`,
  ]);
  write('workerd', text, {
    date: new Date().toISOString(),
    runtime: 'workerd',
    config,
    timing,
    loadAverage: { start: loadStart, end: loadEnd },
    ...report,
    targets: targetsJson(report),
  });
  if (report.invalid.length > 0) process.exitCode = 1;
}
