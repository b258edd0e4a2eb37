/**
 * The databases the suites run on: SQLite (better-sqlite3, a file per test so a second connection
 * can play the application) and PostgreSQL: PGlite in the default run (one instance per test
 * file: it starts in seconds and takes hundreds of MB), the real server of `pnpm test:services`
 * when that runs (a fresh database per test file).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import {
  pgliteAdapter,
  postgresAdapter,
  type SqlValue,
  sqliteAdapter,
  type TableAdapter,
} from '@vault-envelope/migrate';
import { createDatabase, servicesPostgresUrl } from '@vault-envelope/test-services';
import Database from 'better-sqlite3';
import pg from 'pg';

/** A database for one suite: `table()` gives a fresh table name, `adapter` runs SQL. */
export interface TestDb {
  kind: 'sqlite' | 'pglite' | 'postgres';
  adapter: TableAdapter;
  /** A second connection, as the application would have (PGlite: the same one). */
  app: TableAdapter;
  bytesType: string;
  /** A connection string the CLI can open (undefined for PGlite, which one process owns). */
  url: string | undefined;
  close(): Promise<void>;
}

let tables = 0;
/** A table name unique in this process. */
export const tableName = (base = 'users'): string => `${base}_${process.pid}_${++tables}`;

export async function openSqlite(): Promise<TestDb> {
  const dir = mkdtempSync(join(tmpdir(), 've-migrate-'));
  const file = join(dir, 'test.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  const app = new Database(file);
  app.pragma('busy_timeout = 2000');
  return {
    kind: 'sqlite',
    adapter: sqliteAdapter(db, { owned: true }),
    app: sqliteAdapter(app, { owned: true }),
    bytesType: 'BLOB',
    url: `sqlite:${file}`,
    async close() {
      db.close();
      app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let databases = 0;

/** PostgreSQL: the services server when `pnpm test:services` runs, else PGlite in memory. */
export async function openPostgres(): Promise<TestDb> {
  const server = servicesPostgresUrl();
  if (server === undefined) {
    const db = new PGlite();
    await db.waitReady;
    const adapter = pgliteAdapter(db, { owned: true });
    return {
      kind: 'pglite',
      adapter,
      app: adapter,
      bytesType: 'BYTEA',
      url: undefined,
      close: () => adapter.close(),
    };
  }
  const url = await createDatabase(server, `t_${process.pid}_${++databases}`);
  const a = new pg.Client({ connectionString: url });
  const b = new pg.Client({ connectionString: url });
  await a.connect();
  await b.connect();
  return {
    kind: 'postgres',
    adapter: postgresAdapter(a, { owned: true }),
    app: postgresAdapter(b, { owned: true }),
    bytesType: 'BYTEA',
    url,
    async close() {
      await a.end();
      await b.end();
    },
  };
}

/** One generated user: deterministic from its id. */
export function user(i: number, orgs = 3) {
  return {
    id: i,
    org_id: `org_${(i % orgs) + 1}`,
    ssn: `${String(100 + (i % 800)).padStart(3, '0')}-${String(i % 100).padStart(2, '0')}-${String(i).padStart(4, '0')}`,
    email: `user.${i}@Example.com`,
  };
}

/** Creates a users table with `n` rows (ids 1..n); every 10th ssn is NULL. */
export async function usersTable(db: TestDb, n: number, orgs = 3): Promise<string> {
  const t = tableName();
  await db.adapter.run(
    `CREATE TABLE ${t} (id BIGINT PRIMARY KEY, org_id TEXT, ssn TEXT, email TEXT, email_idx TEXT, photo ${db.bytesType})`,
  );
  await db.adapter.transaction(async (tx) => {
    for (let i = 1; i <= n; i++) {
      const u = user(i, orgs);
      await tx.run(`INSERT INTO ${t} (id, org_id, ssn, email, photo) VALUES (?, ?, ?, ?, ?)`, [
        u.id,
        u.org_id,
        i % 10 === 0 ? null : u.ssn,
        u.email,
        i % 4 === 0 ? new Uint8Array([i & 255, 1, 2, 3]) : null,
      ] as SqlValue[]);
    }
  });
  return t;
}

/** All rows of a table by id, as plain values. */
export async function rowsOf(db: TestDb, table: string): Promise<Record<string, unknown>[]> {
  const rows = await db.adapter.all(`SELECT * FROM ${table} ORDER BY id`);
  return rows.map((r) => ({ ...r, id: Number(r['id']) }));
}
