/**
 * `pnpm bench` and `pnpm bench:quick`: runs the cases, prints the tables and the targets, and
 * writes the JSON and the two SVG charts (`throughput.svg`, the record; `speedup.svg`, the summary)
 * to `bench/results/`.
 *
 * Options: `--quick` (fewer sizes, shorter rounds), `--cases=crypto,cache,handler,server,migrate,orm`
 * (a subset), `--out=DIR` (another results folder).
 * @module
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { speedupChart, throughputChart } from './_chart.js';
import type { RunContext, Skipped } from './_context.js';
import { FULL_SIZES, QUICK_SIZES } from './_fixtures.js';
import { machineInfo } from './_machine.js';
import type { MeasureSettings } from './_measure.js';
import { cacheTables, cryptoTables, handlerTable, serverTable, targetsTable } from './_report.js';
import { type ServerHandle, startServerProcess } from './_server.js';
import { checkTargets } from './_targets.js';
import { type CacheResult, runCacheCase } from './case-cache.js';
import { type CryptoResult, runCryptoCase } from './case-crypto.js';
import { type HandlerResult, runHandlerCase } from './case-handler.js';
import { type MigrateResult, migrateTable, migrateTargets, runMigrateCase } from './case-migrate.js';
import { type OrmResult, ormTable, ormTargets, runOrmCase } from './case-orm.js';
import { runServerCase, type ServerResult } from './case-server.js';

const CASES = ['crypto', 'cache', 'handler', 'server', 'migrate', 'orm'] as const;
type CaseId = (typeof CASES)[number];

function parseArgs(argv: readonly string[]): {
  quick: boolean;
  cases: Set<CaseId>;
  out: string;
  clock: 'wall' | 'cpu';
  sizes: number[] | undefined;
} {
  let quick = false;
  let sizes: number[] | undefined;
  let clock: 'wall' | 'cpu' = 'wall';
  let cases = new Set<CaseId>(CASES);
  let out = fileURLToPath(new URL('../results/', import.meta.url));
  for (const a of argv) {
    // pnpm 10 hands a `--` separator on to the script (`pnpm bench -- --cases=crypto`).
    if (a === '--') continue;
    if (a === '--quick') quick = true;
    else if (a.startsWith('--cases=')) {
      const names = a.slice('--cases='.length).split(',');
      for (const n of names)
        if (!(CASES as readonly string[]).includes(n)) throw new TypeError(`unknown case ${n}`);
      cases = new Set(names as CaseId[]);
    } else if (a.startsWith('--out=')) out = a.slice('--out='.length);
    else if (a === '--clock=cpu' || a === '--clock=wall') clock = a === '--clock=cpu' ? 'cpu' : 'wall';
    else if (a.startsWith('--sizes=')) {
      sizes = a.slice('--sizes='.length).split(',').map(Number);
      if (sizes.some((n) => !Number.isInteger(n) || n < 0)) throw new TypeError(`bad sizes in ${a}`);
    } else {
      throw new TypeError(
        `unknown option ${a} (known: --quick, --cases=${CASES.join(',')}, --sizes=N,N, --out=DIR, --clock=wall|cpu)`,
      );
    }
  }
  return { quick, cases, out, clock, sizes };
}

// Many short rounds rather than a few long ones: load from other processes comes in bursts of
// milliseconds to seconds, and short interleaved rounds spread each burst over every contender.
const FULL: MeasureSettings = { rounds: 25, timeMs: 20, warmupMs: 4, sampleNs: 100_000 };
const QUICK: MeasureSettings = { rounds: 11, timeMs: 6, warmupMs: 2, sampleNs: 100_000 };

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const machine = machineInfo();
  const log = (line: string): void => {
    process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${line}\n`);
  };
  log(
    `${args.quick ? 'quick' : 'full'} run on ${machine.cpu} (${machine.cores} cores), Node ${machine.node}, load ${machine.loadAtStart.toFixed(2)}`,
  );
  if ((globalThis as { gc?: unknown }).gc === undefined)
    log('note: run with --expose-gc for a collection between contenders');

  let server: ServerHandle | { unavailable: string };
  const needsServer =
    args.cases.has('handler') ||
    args.cases.has('server') ||
    args.cases.has('crypto') ||
    args.cases.has('cache') ||
    args.cases.has('migrate');
  try {
    server = needsServer ? await startServerProcess() : { unavailable: 'not needed' };
  } catch (error) {
    server = { unavailable: (error as Error).message };
    log(`local server unavailable: ${server.unavailable}`);
  }
  const ctx: RunContext = {
    quick: args.quick,
    // The CPU clock costs about 1 µs a reading: longer samples keep that below half a percent.
    settings: {
      ...(args.quick ? QUICK : FULL),
      clock: args.clock,
      ...(args.clock === 'cpu' ? { sampleNs: 400_000 } : {}),
    },
    sizes: args.sizes ?? (args.quick ? QUICK_SIZES : FULL_SIZES),
    server,
    log,
  };
  const skipped: Skipped[] = [];
  let crypto: CryptoResult | undefined;
  let cache: CacheResult | undefined;
  let handler: HandlerResult | undefined;
  let serverLoad: ServerResult | undefined;
  let migrate: MigrateResult | undefined;
  let orm: OrmResult | undefined;
  const sections: string[] = [];
  try {
    if (args.cases.has('crypto')) {
      log('cases 1 and 4: hot path and peers');
      crypto = await runCryptoCase(ctx);
      sections.push(
        '== 1 and 4: hot path with a cached key, and the peers (format A base64 out and in)',
        cryptoTables(crypto),
      );
    }
    if (args.cases.has('cache')) {
      log('case 2: cache');
      cache = await runCacheCase(ctx);
      sections.push('\n== 2: the key cache', cacheTables(cache));
    }
    if (args.cases.has('handler')) {
      if ('url' in server) {
        log('case 3: request handler, no cache vs cache');
        handler = await runHandlerCase(ctx);
        sections.push('\n== 3: request handler, one field decrypted per request', handlerTable(handler));
      } else skipped.push({ id: 'handler', reason: server.unavailable });
    }
    if (args.cases.has('server')) {
      if ('url' in server) {
        log('case 5: server key endpoints under load');
        serverLoad = await runServerCase(ctx);
        sections.push('\n== 5: local server, key endpoints', serverTable(serverLoad));
      } else skipped.push({ id: 'server', reason: server.unavailable });
    }
    if (args.cases.has('migrate')) {
      if ('url' in server) {
        log('case 6: migrating a plaintext column (engine and naive loop)');
        migrate = await runMigrateCase(ctx);
        sections.push('\n== 6: migrate encrypt, plaintext column to ciphertext', migrateTable(migrate));
      } else skipped.push({ id: 'migrate', reason: server.unavailable });
    }
    if (args.cases.has('orm')) {
      log('case 7: ORM integrations, a 1,000-row page');
      orm = await runOrmCase(ctx);
      sections.push('\n== 7: ORM integrations, a page of 1,000 rows read and decrypted', ormTable(orm));
    }
  } finally {
    if ('url' in server) await server.close();
  }
  const targets = [...checkTargets(crypto, cache, handler), ...migrateTargets(migrate), ...ormTargets(orm)];
  machine.loadAtEnd = os.loadavg()[0] ?? 0;
  sections.push('\n== performance targets, ratios paired within this run', targetsTable(targets));
  for (const s of skipped) sections.push(`skipped case ${s.id}: ${s.reason}`);
  const report = `${sections.join('\n')}\n`;
  process.stdout.write(report);

  await mkdir(args.out, { recursive: true });
  const suffix = args.quick ? '-quick' : '';
  const json = {
    schema: 1,
    mode: args.quick ? 'quick' : 'full',
    machine,
    settings: ctx.settings,
    sizes: ctx.sizes,
    durationS: (performance.now() - started) / 1000,
    cases: { crypto, cache, handler, server: serverLoad, migrate, orm },
    skipped,
    targets,
  };
  const jsonPath = join(args.out, `bench${suffix}.json`);
  await writeFile(jsonPath, `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(join(args.out, `bench${suffix}.txt`), report);
  if (crypto !== undefined) {
    const subtitle = `${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.date.slice(0, 10)}, ${json.mode} run, load ${machine.loadAtStart.toFixed(1)}`;
    await writeFile(join(args.out, `throughput${suffix}.svg`), await throughputChart(crypto.rows, subtitle));
    await writeFile(join(args.out, `speedup${suffix}.svg`), await speedupChart(crypto.rows, subtitle));
  }
  log(`wrote ${jsonPath} in ${json.durationS.toFixed(0)} s`);
}

await main();
