/**
 * `@vault-envelope/migrate`: encrypt, rekey, re-encrypt, reindex and verify the columns of a live
 * SQLite or PostgreSQL table, resumably and without overwriting the application's writes; and the
 * `vault-envelope` command line built on it. This file only composes and re-exports.
 * @module
 */
export type { ColumnInfo, Row, SqlRunner, SqlValue, TableAdapter, TableInfo } from './adapter.js';
export {
  type BlindIndexColumn,
  type MigrateOptions,
  type MigrationMode,
  type MigrationProgress,
  type MigrationReport,
  migrateTable,
  type Outcome,
  type RowProblem,
} from './engine.js';
export {
  CheckpointError,
  DriverMissingError,
  MigrateError,
  type MigrateErrorCode,
  SchemaError,
  TemplateError,
} from './errors.js';
export { type DatabaseTarget, openDatabase, parseDatabase } from './open.js';
export {
  type PgClient,
  type PgliteAdapterOptions,
  type PgliteDatabase,
  type PgPool,
  type PostgresAdapterOptions,
  pgliteAdapter,
  postgresAdapter,
} from './postgres.js';
export {
  type SqliteAdapterOptions,
  type SqliteDatabase,
  type SqliteStatement,
  sqliteAdapter,
} from './sqlite.js';
export {
  type ContextTemplate,
  parseContextTemplate,
  parseTemplate,
  RowError,
  type Template,
} from './template.js';

import { Limiter } from './_limit.js';
import { type ProgressView, progressView } from './_progress.js';
import { decodeKey, encodeKey } from './_sql.js';
import type { SqlValue } from './adapter.js';
import { numberPlaceholders } from './postgres.js';

/**
 * Internals of `@vault-envelope/migrate`, exported for its own tests only. **Unstable and outside
 * semver: not for applications.** Frozen.
 *
 * - `Limiter`: the bound on key-service calls in flight;
 * - `progressView`: the CLI's progress output (bar, plain lines, JSON lines);
 * - `encodeKey` / `decodeKey`: a key's encoding in the checkpoint's cursor;
 * - `numberPlaceholders`: `?` to `$n` for PostgreSQL.
 *
 * @example
 * ```ts
 * import { __TESTS } from '@vault-envelope/migrate';
 * __TESTS.numberPlaceholders('a = ? AND b = ?'); // 'a = $1 AND b = $2'
 * ```
 * @hidden (left out of the API reference)
 */
export const __TESTS: Readonly<{
  Limiter: typeof Limiter;
  progressView: (
    label: string,
    mode: 'tty' | 'plain' | 'json' | 'quiet',
    write: (line: string) => void,
    stream?: NodeJS.WritableStream,
  ) => ProgressView;
  encodeKey: (values: readonly SqlValue[]) => string;
  decodeKey: (text: string) => SqlValue[];
  numberPlaceholders: (sql: string) => string;
}> = /* @__PURE__ */ Object.freeze({ Limiter, progressView, encodeKey, decodeKey, numberPlaceholders });
