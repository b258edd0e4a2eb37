/**
 * PostgreSQL adapters: {@link postgresAdapter} over node-postgres (`pg`: a `Client` or a `Pool`)
 * and {@link pgliteAdapter} over PGlite, PostgreSQL compiled to WebAssembly and embedded in the
 * process. Both run the same SQL; the engine's `?` placeholders become `$1, $2, ...` here.
 * Parameters are sent untyped, so the server infers each from its column (a 64-bit key read back
 * as a string compares as a bigint again); `bigint` values are sent as their decimal text and
 * bytes as Node Buffers.
 *
 * One PGlite data directory must never be opened by two processes at once (it is not a server;
 * two writers corrupt it): close the application's instance before pointing the CLI at it.
 * @module
 */
import type { Row, SqlRunner, SqlValue, TableAdapter, TableInfo } from './adapter.js';
import { quoteIdent } from './adapter.js';

/** `?` placeholders to `$n`, outside quoted identifiers and string literals. */
export function numberPlaceholders(sql: string): string {
  let out = '';
  let n = 0;
  let quote = '';
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (quote !== '') {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '?') {
      out += `$${++n}`;
      continue;
    }
    out += c;
  }
  return out;
}

function bindOne(p: unknown): unknown {
  if (typeof p === 'bigint') return p.toString();
  if (p instanceof Uint8Array && !Buffer.isBuffer(p)) return Buffer.from(p.buffer, p.byteOffset, p.length);
  // An array parameter (the engine's batched update): its elements bound the same way.
  if (Array.isArray(p)) return p.map(bindOne);
  return p;
}

function bind(params: readonly SqlValue[]): unknown[] {
  return params.map(bindOne);
}

const DESCRIBE_COLUMNS = `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
FROM pg_attribute a WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`;
const DESCRIBE_KEY = `SELECT a.attname AS name FROM pg_index i
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
WHERE i.indrelid = to_regclass(?) AND i.indisprimary
ORDER BY array_position(i.indkey::int2[], a.attnum)`;

/** What both PostgreSQL drivers reduce to: one query function with `$n` parameters. */
type Query = (sql: string, params: unknown[]) => Promise<{ rows: Row[]; count: number }>;

function adapterOver(
  query: Query,
  transaction: <T>(fn: (q: Query) => Promise<T>) => Promise<T>,
  close: () => Promise<void>,
): TableAdapter {
  const runnerOf = (q: Query): SqlRunner => ({
    async all(sql, params = []) {
      return (await q(numberPlaceholders(sql), bind(params))).rows;
    },
    async run(sql, params = []) {
      return (await q(numberPlaceholders(sql), bind(params))).count;
    },
  });
  const runner = runnerOf(query);
  return {
    dialect: 'postgres',
    all: runner.all,
    run: runner.run,
    async describe(table: string): Promise<TableInfo | undefined> {
      const name = quoteIdent(table, true);
      const cols = (await runner.all(DESCRIBE_COLUMNS, [name])) as { name: string; type: string }[];
      if (cols.length === 0) return undefined;
      const key = (await runner.all(DESCRIBE_KEY, [name])) as { name: string }[];
      return { columns: cols, primaryKey: key.map((k) => k.name) };
    },
    transaction: (fn) => transaction((q) => fn(runnerOf(q))),
    close,
  };
}

/** The part of a node-postgres `Client` the adapter uses. */
export interface PgClient {
  query(sql: string, params?: unknown[]): Promise<{ rows: Row[]; rowCount: number | null }>;
}

/** The part of a node-postgres `Pool` the adapter uses. */
export interface PgPool extends PgClient {
  connect(): Promise<PgClient & { release(error?: Error | boolean): void }>;
  readonly totalCount: number;
  end(): Promise<void>;
}

/** Options of {@link postgresAdapter}. */
export interface PostgresAdapterOptions {
  /** End the client or pool in `close()`. @default false (the caller's connection stays open) */
  owned?: boolean;
}

const isPool = (c: PgClient | PgPool): c is PgPool =>
  typeof (c as PgPool).connect === 'function' && typeof (c as PgPool).totalCount === 'number';

/**
 * A TableAdapter over node-postgres. With a `Pool`, each transaction takes one connection from it
 * and statements outside a transaction may use any; with a `Client`, everything runs on it.
 * @param client - A connected `pg.Client`, or a `pg.Pool`.
 * @param options - `owned`: end it with the adapter.
 * @returns The adapter.
 * @throws TypeError when `client` has no `query` method.
 * @example
 * ```ts
 * import pg from 'pg';
 * const adapter = postgresAdapter(new pg.Pool({ connectionString: process.env.DATABASE_URL }));
 * ```
 */
export function postgresAdapter(
  client: PgClient | PgPool,
  options: PostgresAdapterOptions = {},
): TableAdapter {
  if (typeof client !== 'object' || client === null || typeof client.query !== 'function') {
    throw new TypeError(
      `postgresAdapter needs a pg Client or Pool, got ${client === null ? 'null' : typeof client}`,
    );
  }
  const over =
    (c: PgClient): Query =>
    async (sql, params) => {
      const r = await c.query(sql, params);
      return { rows: r.rows, count: r.rowCount ?? 0 };
    };
  const run = async <T>(c: PgClient, fn: (q: Query) => Promise<T>): Promise<T> => {
    await c.query('BEGIN');
    let result: T;
    try {
      result = await fn(over(c));
    } catch (error) {
      await c.query('ROLLBACK').catch(() => {});
      throw error;
    }
    await c.query('COMMIT');
    return result;
  };
  return adapterOver(
    over(client),
    async (fn) => {
      if (!isPool(client)) return run(client, fn);
      const c = await client.connect();
      try {
        return await run(c, fn);
      } finally {
        c.release();
      }
    },
    async () => {
      if (options.owned !== true) return;
      const c = client as { end?: () => Promise<void> };
      if (typeof c.end === 'function') await c.end();
    },
  );
}

/** The part of a PGlite instance the adapter uses. */
export interface PgliteDatabase {
  query(sql: string, params?: unknown[]): Promise<{ rows: unknown[]; affectedRows?: number }>;
  exec(sql: string): Promise<unknown>;
  close(): Promise<void>;
}

/** Options of {@link pgliteAdapter}. */
export interface PgliteAdapterOptions {
  /** Close the instance in `close()`. @default false */
  owned?: boolean;
}

/**
 * A TableAdapter over PGlite (`@electric-sql/pglite`), PostgreSQL embedded in the process: the
 * same SQL as a server. One instance is one connection, so transactions are serial.
 * @param db - A PGlite instance.
 * @param options - `owned`: close it with the adapter.
 * @returns The adapter.
 * @throws TypeError when `db` has no `query` method.
 * @example
 * ```ts
 * import { PGlite } from '@electric-sql/pglite';
 * const adapter = pgliteAdapter(new PGlite('./pgdata'), { owned: true });
 * ```
 */
export function pgliteAdapter(db: PgliteDatabase, options: PgliteAdapterOptions = {}): TableAdapter {
  if (typeof db !== 'object' || db === null || typeof db.query !== 'function') {
    throw new TypeError(`pgliteAdapter needs a PGlite instance, got ${db === null ? 'null' : typeof db}`);
  }
  const query: Query = async (sql, params) => {
    const r = await db.query(sql, params);
    return { rows: r.rows as Row[], count: r.affectedRows ?? 0 };
  };
  return adapterOver(
    query,
    async <T>(fn: (q: Query) => Promise<T>): Promise<T> => {
      await db.exec('BEGIN');
      let result: T;
      try {
        result = await fn(query);
      } catch (error) {
        await db.exec('ROLLBACK').catch(() => {});
        throw error;
      }
      await db.exec('COMMIT');
      return result;
    },
    async () => {
      if (options.owned === true) await db.close();
    },
  );
}
