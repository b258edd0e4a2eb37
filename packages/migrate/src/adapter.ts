/**
 * The seam between the engine and a database: {@link TableAdapter}. The engine writes portable
 * SQL (double-quoted identifiers, `?` placeholders, row-value comparisons, `ON CONFLICT` upserts:
 * all valid in SQLite >= 3.35 and PostgreSQL >= 15) and runs it through an adapter, which binds
 * the parameters its driver's way, runs transactions on one connection and describes tables.
 * The two adapters here cover SQLite (better-sqlite3) and PostgreSQL (`pg`, and PGlite embedded);
 * another database needs only these few methods.
 * @module
 */

/** A value the engine binds as a parameter or reads from a row. */
export type SqlValue = string | number | bigint | Uint8Array | null;

/** A row as a driver returns it: column name to value. */
export type Row = Record<string, unknown>;

/** One column of a table. */
export interface ColumnInfo {
  /** The column's name, exactly as the database stores it. */
  readonly name: string;
  /** Its declared type as the database spells it (`TEXT`, `character varying(20)`, `bytea`). */
  readonly type: string;
}

/** What {@link TableAdapter.describe} finds out about a table. */
export interface TableInfo {
  /** The columns in table order. */
  readonly columns: readonly ColumnInfo[];
  /** The primary key's columns, in key order; empty when the table has none. */
  readonly primaryKey: readonly string[];
}

/** Runs SQL: what a transaction hands its function, and what an adapter is outside one. */
export interface SqlRunner {
  /**
   * Runs a statement that returns rows.
   * @param sql - SQL with `?` placeholders.
   * @param params - One value per placeholder.
   */
  all(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  /**
   * Runs a statement and returns how many rows it changed.
   * @param sql - SQL with `?` placeholders.
   * @param params - One value per placeholder.
   */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

/**
 * A database as the engine uses it. Implementations: {@link sqliteAdapter},
 * {@link postgresAdapter}, {@link pgliteAdapter}; {@link openDatabase} picks one from a
 * connection string.
 */
export interface TableAdapter extends SqlRunner {
  /** Which SQL the engine writes for it. */
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * Describes a table.
   * @param table - The table's name (`users`, or `schema.users` on PostgreSQL), matched exactly.
   * @returns Its columns and primary key, or `undefined` when there is no such table.
   */
  describe(table: string): Promise<TableInfo | undefined>;
  /**
   * Runs `fn` in one transaction on one connection: commits when it resolves, rolls back when it
   * throws (and rethrows). On SQLite the transaction takes the write lock at once
   * (`BEGIN IMMEDIATE`).
   * @param fn - The work; must use the runner it is given.
   */
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
  /** Closes the connection when the adapter opened it; leaves a caller's connection open. */
  close(): Promise<void>;
}

/**
 * Quotes an identifier for both dialects: in double quotes, with `"` doubled; `schema.table`
 * becomes `"schema"."table"`. The name is checked to be non-empty text first.
 * @internal
 */
export function quoteIdent(name: string, qualified = false): string {
  const parts = qualified ? name.split('.') : [name];
  return parts.map((p) => `"${p.replaceAll('"', '""')}"`).join('.');
}
