/**
 * The SQLite database (better-sqlite3): opening it in WAL mode and bringing its schema up to date
 * with the migrations below, versioned in `PRAGMA user_version`. Each migration runs in its own
 * transaction; a database newer than this code is refused rather than guessed at.
 *
 * Durability: WAL with `synchronous = NORMAL` makes every committed transaction survive the
 * process being killed (`kill -9`): the commit is in the WAL file, in the OS's hands, before the
 * response is sent. Only a power loss can take the last few commits (never corrupting the file).
 *
 * Integrity: a file is checked with `PRAGMA quick_check` when it is opened, so a damaged one is
 * refused at start rather than accepting writes and then failing reads with "database disk image
 * is malformed". `quick_check` reads every page and checks the structure of every b-tree (it
 * skips only the check that indexes match their tables, which `integrity_check` adds at several
 * times the cost): a start costs one read of the file.
 * @module
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DatabaseError } from './errors.js';

/** A better-sqlite3 connection. */
export type Db = Database.Database;

/** File name of the database inside the data directory. */
export const DB_FILE = 'vault.sqlite';

/** Schema migrations; index + 1 is the schema version they produce. Append only, never edit. */
const MIGRATIONS: readonly string[] = [
  // 1: keys, objects with versions, tombstones for list cursors, idempotency records.
  `
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT;
  CREATE TABLE keks (
    id          TEXT PRIMARY KEY,
    entry_name  TEXT NOT NULL,
    entry_value TEXT NOT NULL,
    wrapped     BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (entry_name, entry_value)
  ) STRICT;
  CREATE TABLE objects (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL UNIQUE,
    context         TEXT NOT NULL,
    current_version TEXT NOT NULL,
    version_count   INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    updated_by_id   TEXT NOT NULL,
    updated_by_name TEXT NOT NULL
  ) STRICT;
  CREATE INDEX objects_updated_at ON objects (updated_at);
  CREATE TABLE versions (
    id         TEXT PRIMARY KEY,
    object_seq INTEGER NOT NULL REFERENCES objects (seq) ON DELETE CASCADE,
    number     INTEGER NOT NULL,
    key_id     TEXT NOT NULL,
    ciphertext BLOB NOT NULL,
    size       INTEGER NOT NULL,
    etag       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (object_seq, number)
  ) STRICT;
  CREATE TABLE tombstones (
    id  TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE idempotency (
    scope       TEXT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status      INTEGER NOT NULL,
    body        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
  ) STRICT;
  `,
];

/** The schema version this code writes. */
export const SCHEMA_VERSION: number = MIGRATIONS.length;

/**
 * Opens (creating if needed) the database, checks its integrity and migrates it.
 * @param dataDir - The data directory (existing, and locked by the caller), or `undefined` for an
 *   in-memory database.
 * @returns The open connection.
 * @throws DatabaseError when the database cannot be opened, is not a SQLite file, fails its
 *   integrity check, or is newer than this code.
 */
export function openDatabase(dataDir: string | undefined): Db {
  let db: Db;
  try {
    db = new Database(dataDir === undefined ? ':memory:' : join(dataDir, DB_FILE));
  } catch (cause) {
    throw new DatabaseError('cannot open the Vault database', { cause });
  }
  try {
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      checkIntegrity(db);
    } catch (cause) {
      if (DatabaseError.is(cause)) throw cause;
      if (String((cause as { code?: unknown }).code).startsWith('SQLITE_CORRUPT')) {
        throw new DatabaseError('the Vault database is damaged (PRAGMA quick_check failed)', { cause });
      }
      throw new DatabaseError('the Vault database is damaged or not a SQLite database', { cause });
    }
    migrate(db);
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}

/** @throws DatabaseError when `PRAGMA quick_check` finds damage (its first finding is the cause). */
function checkIntegrity(db: Db): void {
  const findings = db.pragma('quick_check', { simple: false }) as { quick_check: string }[];
  if (findings.length === 1 && findings[0]!.quick_check === 'ok') return;
  throw new DatabaseError('the Vault database is damaged (PRAGMA quick_check failed)', {
    cause: new Error(findings[0]?.quick_check ?? 'no result'),
  });
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new DatabaseError(
      `the database has schema version ${current}; this server knows up to ${MIGRATIONS.length}`,
    );
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
