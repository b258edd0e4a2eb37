/**
 * {@link sqliteAdapter}: a {@link TableAdapter} over a better-sqlite3 `Database`. better-sqlite3
 * is synchronous, so every call completes before its promise is returned; statements are
 * prepared once per SQL text and kept. Integers are read as `bigint` (`safeIntegers`), so a
 * 64-bit primary key survives the cursor exactly; bytes are bound as Node Buffers, as the driver
 * requires.
 * @module
 */
import type { Row, SqlRunner, SqlValue, TableAdapter, TableInfo } from './adapter.js';

/** The part of a better-sqlite3 statement the adapter uses. */
export interface SqliteStatement {
  readonly reader: boolean;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): { changes: number };
  safeIntegers(toggle?: boolean): this;
}

/** The part of a better-sqlite3 `Database` the adapter uses (so no driver types are needed). */
export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): unknown;
  close(): unknown;
  readonly inTransaction: boolean;
}

/** Options of {@link sqliteAdapter}. */
export interface SqliteAdapterOptions {
  /** Close the database in `close()`. @default false (the caller's connection stays open) */
  owned?: boolean;
}

function bind(params: readonly SqlValue[]): unknown[] {
  const out: unknown[] = new Array(params.length);
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    out[i] =
      p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.length) : p;
  }
  return out;
}

/**
 * A TableAdapter over a better-sqlite3 database. Use WAL mode (`db.pragma('journal_mode = WAL')`)
 * so that the application's readers are never blocked while the engine writes a batch.
 * @param db - An open better-sqlite3 `Database`.
 * @param options - `owned`: close it with the adapter.
 * @returns The adapter.
 * @throws TypeError when `db` is not a better-sqlite3 database.
 * @example
 * ```ts
 * import Database from 'better-sqlite3';
 * const adapter = sqliteAdapter(new Database('app.db'));
 * ```
 */
export function sqliteAdapter(db: SqliteDatabase, options: SqliteAdapterOptions = {}): TableAdapter {
  if (
    typeof db !== 'object' ||
    db === null ||
    typeof db.prepare !== 'function' ||
    typeof db.exec !== 'function'
  ) {
    throw new TypeError(
      `sqliteAdapter needs a better-sqlite3 Database, got ${db === null ? 'null' : typeof db}`,
    );
  }
  const statements = new Map<string, SqliteStatement>();
  const prepared = (sql: string): SqliteStatement => {
    let s = statements.get(sql);
    if (s === undefined) {
      s = db.prepare(sql);
      if (s.reader) s.safeIntegers(true);
      statements.set(sql, s);
    }
    return s;
  };
  const runner: SqlRunner = {
    async all(sql, params = []) {
      return prepared(sql).all(...bind(params)) as Row[];
    },
    async run(sql, params = []) {
      const s = prepared(sql);
      if (s.reader) return s.all(...bind(params)).length;
      return s.run(...bind(params)).changes;
    },
  };
  return {
    dialect: 'sqlite',
    all: runner.all,
    run: runner.run,
    async describe(table: string): Promise<TableInfo | undefined> {
      const cols = db.prepare('SELECT name, type, pk FROM pragma_table_info(?)').all(table) as {
        name: string;
        type: string;
        pk: number;
      }[];
      if (cols.length === 0) return undefined;
      const primaryKey = cols
        .filter((c) => c.pk > 0)
        .sort((a, b) => a.pk - b.pk)
        .map((c) => c.name);
      return { columns: cols.map((c) => ({ name: c.name, type: c.type })), primaryKey };
    },
    async transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T> {
      db.exec('BEGIN IMMEDIATE');
      let result: T;
      try {
        result = await fn(runner);
      } catch (error) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw error;
      }
      db.exec('COMMIT');
      return result;
    },
    async close() {
      statements.clear();
      if (options.owned === true) db.close();
    },
  };
}
