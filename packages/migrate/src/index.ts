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
