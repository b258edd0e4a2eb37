/**
 * The lock on a data directory: one server at a time. Two servers writing one database each keep
 * their own in-memory state (cached key-encryption keys, idempotency records in flight, the
 * rate limit), so they can not both be right; the second one refuses to start instead.
 *
 * The lock is an operating-system lock, not a pid file: an exclusive SQLite transaction held on
 * `vault.lock` for the life of the server (SQLite takes it with `fcntl` on POSIX and
 * `LockFileEx` on Windows). The OS drops it when the process ends in any way, `kill -9` and a
 * crash included, so it never goes stale and nothing has to be cleaned up; a pid file would need
 * a liveness check that a reused pid, or a container where every server is pid 1, fools. Holding
 * it through SQLite, rather than with a lock call of our own, also keeps its POSIX semantics
 * safe inside one process: SQLite tracks locks per file across its connections, so a second
 * handler in the same process is refused too, and closing that second handler's connection does
 * not release the first one's lock (a bare `fcntl` lock would be dropped by any `close` of the
 * file in the process). The lock file stays empty. On a network file system whose locks do not
 * work, the lock does not either: keep the data directory on a local disk.
 * @module
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DatabaseError } from './errors.js';

/** File name of the lock inside the data directory. */
export const LOCK_FILE = 'vault.lock';

/** A held lock. */
export interface DirLock {
  /** Releases the lock (idempotent). */
  release(): void;
}

/**
 * Takes the lock on `dataDir`, or refuses at once (it never waits).
 * @param dataDir - An existing directory.
 * @returns The held lock.
 * @throws DatabaseError when another server holds it, or the lock file can not be opened
 *   (`cannot open the Vault database`, as for the database file).
 */
export function lockDataDir(dataDir: string): DirLock {
  const path = join(dataDir, LOCK_FILE);
  let db: Database.Database;
  try {
    db = new Database(path);
  } catch (cause) {
    // The same words as for the database itself: for a user both are "the storage can not be
    // opened" (no native addon, no permission), and the cause names the file.
    throw new DatabaseError('cannot open the Vault database', { cause });
  }
  try {
    db.pragma('busy_timeout = 0');
    // Held, never committed: the exclusive lock lasts until the connection closes.
    db.exec('BEGIN EXCLUSIVE');
  } catch (cause) {
    db.close();
    if ((cause as { code?: unknown }).code === 'SQLITE_BUSY') {
      throw new DatabaseError(
        `another vault-envelope-server is using the data directory ${dataDir} (it holds ${path}): ` +
          'stop it, or give this one another data directory',
        { cause },
      );
    }
    throw new DatabaseError(`cannot lock the data directory ${dataDir}`, { cause });
  }
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      db.close();
    },
  };
}
