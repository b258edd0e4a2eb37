/**
 * The SQLite database (better-sqlite3): opening it in WAL mode and bringing its schema up to date
 * with the migrations below, versioned in `PRAGMA user_version`. Each migration runs in its own
 * transaction; a database newer than this code is refused rather than guessed at.
 *
 * Durability: WAL with `synchronous = NORMAL` makes every committed transaction survive the
 * process being killed (`kill -9`): the commit is in the WAL file, in the OS's hands, before the
 * response is sent. Only a power loss can take the last few commits (never corrupting the file).
 * @module
 */
import { mkdirSync } from 'node:fs';
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
 * Opens (creating if needed) the database and migrates it.
 * @param dataDir - The data directory, or `undefined` for an in-memory database.
 * @returns The open connection.
 * @throws DatabaseError when the database is newer than this code or cannot be opened.
 */
export function openDatabase(dataDir: string | undefined): Db {
  let db: Db;
  try {
    if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    db = new Database(dataDir === undefined ? ':memory:' : join(dataDir, DB_FILE));
  } catch (cause) {
    throw new DatabaseError('cannot open the Vault database', { cause });
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db);
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
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
