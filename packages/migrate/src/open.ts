/**
 * {@link openDatabase}: a {@link TableAdapter} from a connection string, for the CLI and scripts.
 * Each driver is an optional peer dependency, loaded only when a string names it, so that an
 * application installs the one it already uses (and compiles no native module it does not need).
 * @module
 */
import { existsSync } from 'node:fs';
import type { TableAdapter } from './adapter.js';
import { DriverMissingError } from './errors.js';
import { pgliteAdapter, postgresAdapter } from './postgres.js';
import { type SqliteDatabase, sqliteAdapter } from './sqlite.js';

/** What {@link openDatabase} recognises in a connection string. */
export interface DatabaseTarget {
  kind: 'sqlite' | 'postgres' | 'pglite';
  /** The file or directory (sqlite, pglite: `''` for in memory), or the URL (postgres). */
  location: string;
}

/**
 * Reads a connection string: `postgres://...` or `postgresql://...` (a server, through `pg`),
 * `pglite:<directory>` (embedded PostgreSQL; `pglite:` alone is in memory), `sqlite:<file>` or a
 * path ending in `.db`, `.sqlite` or `.sqlite3` (SQLite through better-sqlite3; `sqlite::memory:`
 * is in memory).
 * @param spec - The connection string.
 * @returns The kind of database and where it is.
 * @throws TypeError when the string names no known kind.
 * @example
 * ```ts
 * parseDatabase('sqlite:./app.db'); // { kind: 'sqlite', location: './app.db' }
 * ```
 */
export function parseDatabase(spec: string): DatabaseTarget {
  if (typeof spec !== 'string' || spec.length === 0) {
    throw new TypeError(
      `database must be a connection string, got ${typeof spec === 'string' ? 'an empty string' : typeof spec}`,
    );
  }
  if (/^postgres(ql)?:\/\//i.test(spec)) return { kind: 'postgres', location: spec };
  if (spec.startsWith('pglite:')) return { kind: 'pglite', location: spec.slice('pglite:'.length) };
  if (spec.startsWith('sqlite:')) {
    const location = spec.slice('sqlite:'.length);
    return { kind: 'sqlite', location: location === ':memory:' ? '' : location };
  }
  if (/\.(db|sqlite3?)$/i.test(spec)) return { kind: 'sqlite', location: spec };
  throw new TypeError(
    'database must be postgres://..., pglite:<directory>, sqlite:<file> or a file ending in .db, .sqlite or .sqlite3',
  );
}

async function load<T>(name: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND')
      throw new DriverMissingError(name, { cause });
    throw cause;
  }
}

/**
 * Opens a database from a connection string (see {@link parseDatabase}). The adapter owns the
 * connection: `close()` closes it. SQLite files are switched to WAL mode (`synchronous =
 * NORMAL`) and wait up to 5 s for a lock, so the application keeps reading and writing while a
 * job runs.
 * @param spec - The connection string.
 * @returns The adapter.
 * @throws TypeError for an unknown string or a SQLite file that does not exist;
 *   {@link DriverMissingError} when its driver is not
 *   installed; the driver's errors (a file that cannot be opened, a refused connection).
 * @example
 * ```ts
 * const db = await openDatabase('sqlite:./app.db');
 * try { await migrateTable({ db, keys, table: 'users', columns: ['ssn'], mode: 'verify' }); }
 * finally { await db.close(); }
 * ```
 */
export async function openDatabase(spec: string): Promise<TableAdapter> {
  const target = parseDatabase(spec);
  if (target.kind === 'sqlite') {
    if (target.location !== '' && !existsSync(target.location)) {
      throw new TypeError(`there is no SQLite database file at ${target.location}`);
    }
    const mod = await load<{ default: new (file: string, options?: object) => SqliteDatabase }>(
      'better-sqlite3',
    );
    const db = new mod.default(target.location === '' ? ':memory:' : target.location, {
      fileMustExist: target.location !== '',
    }) as SqliteDatabase & { pragma(s: string): unknown };
    db.pragma('journal_mode = WAL');
    // In WAL mode NORMAL never corrupts and survives a crash of the process; a power cut may
    // lose the last commits, and the checkpoint, committed with them, rolls back with them.
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    return sqliteAdapter(db, { owned: true });
  }
  if (target.kind === 'pglite') {
    const mod = await load<{
      PGlite: new (dir?: string) => Parameters<typeof pgliteAdapter>[0] & { waitReady: Promise<void> };
    }>('@electric-sql/pglite');
    const db = target.location === '' ? new mod.PGlite() : new mod.PGlite(target.location);
    await db.waitReady;
    return pgliteAdapter(db, { owned: true });
  }
  const mod = await load<{
    default: {
      Client: new (
        o: object,
      ) => Parameters<typeof postgresAdapter>[0] & { connect(): Promise<void>; end(): Promise<void> };
    };
  }>('pg');
  const client = new mod.default.Client({ connectionString: target.location });
  await client.connect();
  return postgresAdapter(client, { owned: true });
}
