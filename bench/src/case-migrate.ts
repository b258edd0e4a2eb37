/**
 * Case 6: migrating a plaintext table to ciphertext. `encrypt` of 1,000,000 rows on SQLite with
 * one and three encrypted columns (200,000 rows on a real PostgreSQL server when one can be
 * started from Debian's binaries), by the engine and by the naive loop beside it, each in a
 * process of its own (`_migrate-child.ts`) over a fresh copy of the table: rows/s, Vault calls
 * (the local server's request counters) and the process's peak RSS (VmHWM).
 * @module
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createDatabase, startPostgres } from '@vault-envelope/test-services';
import Database from 'better-sqlite3';
import pg from 'pg';
import { type RunContext, serverOf } from './_context.js';
import { formatRate, table } from './_format.js';
import { BENCH_API_KEY } from './_server.js';
import type { TargetCheck } from './_targets.js';

const run = promisify(execFile);

/** One measured run. */
export interface MigrateRow {
  db: 'sqlite' | 'postgres';
  how: 'engine' | 'naive';
  columns: number;
  rows: number;
  seconds: number;
  rowsPerSec: number;
  vaultCalls: number;
  peakRssMb: number;
}

/** The case's result. */
export interface MigrateResult {
  rows: MigrateRow[];
  /** Why the PostgreSQL runs are missing, when they are. */
  postgres: string | undefined;
}

const COLUMNS = ['ssn', 'dob', 'email'];

function value(i: number, column: string): string {
  if (column === 'ssn')
    return `${String(100 + (i % 800)).padStart(3, '0')}-${String(i % 100).padStart(2, '0')}-${String(i % 10000).padStart(4, '0')}`;
  if (column === 'dob') return `19${String(40 + (i % 60))}-0${1 + (i % 9)}-1${i % 10}`;
  return `user.${i}@example.com`;
}

function sqliteTable(file: string, n: number): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec(
    'CREATE TABLE users (id INTEGER PRIMARY KEY, org_id TEXT NOT NULL, name TEXT, ssn TEXT, dob TEXT, email TEXT)',
  );
  const insert = db.prepare('INSERT INTO users VALUES (?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (let i = 1; i <= n; i++)
      insert.run(i, `org_${(i % 5) + 1}`, `user ${i}`, value(i, 'ssn'), value(i, 'dob'), value(i, 'email'));
  })();
  db.close();
}

async function postgresTable(url: string, n: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('DROP TABLE IF EXISTS users');
  await client.query(
    'CREATE TABLE users (id BIGINT PRIMARY KEY, org_id TEXT NOT NULL, name TEXT, ssn TEXT, dob TEXT, email TEXT)',
  );
  for (let from = 1; from <= n; from += 50_000) {
    const ids = Array.from({ length: Math.min(50_000, n - from + 1) }, (_, j) => from + j);
    await client.query(
      'INSERT INTO users SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])',
      [
        ids,
        ids.map((i) => `org_${(i % 5) + 1}`),
        ids.map((i) => `user ${i}`),
        ids.map((i) => value(i, 'ssn')),
        ids.map((i) => value(i, 'dob')),
        ids.map((i) => value(i, 'email')),
      ],
    );
  }
  await client.query('VACUUM ANALYZE users');
  await client.end();
}

async function child(
  ctx: RunContext,
  args: object,
): Promise<{ rows: number; seconds: number; rowsPerSec: number; peakRssMb: number }> {
  const { stdout } = await run(
    process.execPath,
    [new URL('./_migrate-child.js', import.meta.url).pathname, JSON.stringify(args)],
    {
      maxBuffer: 1024 * 1024,
      timeout: 30 * 60_000,
    },
  );
  ctx.log(`  ${stdout.trim()}`);
  return JSON.parse(stdout.trim());
}

/**
 * Runs the case.
 * @param ctx - The run (needs the local server).
 * @returns The measured rows.
 */
export async function runMigrateCase(ctx: RunContext): Promise<MigrateResult> {
  const server = serverOf(ctx);
  if (server === undefined) throw new Error('the migration case needs the local server');
  const sqliteRows = ctx.quick ? 100_000 : 1_000_000;
  const postgresRows = ctx.quick ? 20_000 : 200_000;
  const dir = mkdtempSync(join(tmpdir(), 've-bench-migrate-'));
  const rows: MigrateRow[] = [];
  const measure = async (
    db: 'sqlite' | 'postgres',
    how: 'engine' | 'naive',
    columns: number,
    spec: string,
    n: number,
  ) => {
    await server.resetStats();
    ctx.log(`migrate: ${db}, ${how}, ${columns} column(s), ${n} rows`);
    const r = await child(ctx, {
      how,
      db: spec,
      table: 'users',
      columns: COLUMNS.slice(0, columns),
      vault: server.url,
      apiKey: BENCH_API_KEY,
      batchSize: 1000,
    });
    const stats = await server.stats();
    rows.push({
      db,
      how,
      columns,
      rows: r.rows,
      seconds: r.seconds,
      rowsPerSec: r.rowsPerSec,
      vaultCalls: stats.total,
      peakRssMb: r.peakRssMb,
    });
  };
  try {
    for (const columns of [1, 3]) {
      for (const how of ['engine', 'naive'] as const) {
        const file = join(dir, `${how}-${columns}.db`);
        sqliteTable(file, sqliteRows);
        await measure('sqlite', how, columns, `sqlite:${file}`, sqliteRows);
        rmSync(file, { force: true });
        rmSync(`${file}-wal`, { force: true });
        rmSync(`${file}-shm`, { force: true });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  let postgres: string | undefined;
  let pgServer: Awaited<ReturnType<typeof startPostgres>> | undefined;
  try {
    pgServer = await startPostgres({ fsync: true });
  } catch (error) {
    postgres = (error as Error).message;
    ctx.log(`migrate: no PostgreSQL server (${postgres})`);
  }
  if (pgServer !== undefined) {
    try {
      for (const how of ['engine', 'naive'] as const) {
        const url = await createDatabase(pgServer.url, `bench_${how}`);
        await postgresTable(url, postgresRows);
        await measure('postgres', how, 1, url, postgresRows);
      }
    } finally {
      await pgServer.stop();
    }
  }
  return { rows, postgres };
}

/**
 * The case's table: one line per run.
 * @param result - The case's result.
 * @returns The text.
 */
export function migrateTable(result: MigrateResult): string {
  const lines = [
    table(
      [
        ['database', 'how', 'columns', 'rows', 'rows/s', 'Vault calls', 'peak RSS'],
        ...result.rows.map((r) => [
          r.db,
          r.how === 'engine' ? 'engine (resumable, CAS)' : 'naive loop',
          String(r.columns),
          r.rows.toLocaleString('en-US'),
          formatRate(r.rowsPerSec),
          String(r.vaultCalls),
          `${r.peakRssMb.toFixed(0)} MB`,
        ]),
      ],
      new Set([2, 3, 4, 5, 6]),
    ),
  ];
  if (result.postgres !== undefined) lines.push(`PostgreSQL runs skipped: ${result.postgres}`);
  return lines.join('\n');
}

/**
 * The migration targets: at least 20,000 rows/s for one column on SQLite, at least the naive
 * loop's throughput for every column count and database, peak RSS under 300 MB.
 * @param result - The case's result, if run.
 * @returns The checks.
 */
export function migrateTargets(result: MigrateResult | undefined): TargetCheck[] {
  const find = (db: string, how: string, columns: number) =>
    result?.rows.find((r) => r.db === db && r.how === how && r.columns === columns);
  const one = find('sqlite', 'engine', 1);
  const checks: TargetCheck[] = [
    {
      id: 'migrate-sqlite-rate',
      description: 'migrate encrypt, SQLite, 1 column: rows/s',
      want: '>= 20000',
      got: one === undefined ? null : Math.round(one.rowsPerSec),
      met: one === undefined ? null : one.rowsPerSec >= 20_000,
      unit: 'rows/s',
    },
  ];
  for (const [db, columns] of [
    ['sqlite', 1],
    ['sqlite', 3],
    ['postgres', 1],
  ] as const) {
    const e = find(db, 'engine', columns);
    const n = find(db, 'naive', columns);
    const got = e === undefined || n === undefined ? null : e.rowsPerSec / n.rowsPerSec;
    checks.push({
      id: `migrate-${db}-${columns}-vs-naive`,
      description: `migrate encrypt, ${db}, ${columns} column(s): engine over the naive loop`,
      want: '>= 1',
      got,
      met: got === null ? null : got >= 1,
      unit: '×',
    });
  }
  const peak =
    result === undefined || result.rows.length === 0
      ? null
      : Math.max(...result.rows.filter((r) => r.how === 'engine').map((r) => r.peakRssMb));
  checks.push({
    id: 'migrate-rss',
    description: 'migrate encrypt: peak RSS of the engine process, MB',
    want: '< 300',
    got: peak === null ? null : Math.round(peak),
    met: peak === null ? null : peak < 300,
    unit: 'MB',
  });
  return checks;
}
