/**
 * The checkpoint table: one row per job, in the same database as the table the job walks, and
 * written in the same transaction as each batch. So after a crash at any moment the checkpoint
 * says exactly which batches are in the table: a resumed job starts after the last committed
 * batch, and no row is processed twice or skipped.
 *
 * ```sql
 * CREATE TABLE vault_envelope_checkpoints (
 *   job TEXT PRIMARY KEY,      -- the job's name
 *   spec TEXT NOT NULL,        -- JSON of the job's settings (mode, table, columns, templates...)
 *   cursor TEXT,               -- JSON of the last key done (NULL: not started)
 *   done INTEGER NOT NULL,     -- 1 once the walk reached the end of the table
 *   counts TEXT NOT NULL,      -- JSON of the job's counters, summed over its runs
 *   started_at TEXT NOT NULL,  -- ISO-8601
 *   updated_at TEXT NOT NULL
 * )
 * ```
 * @module
 */
import { quoteIdent, type SqlRunner, type TableAdapter } from './adapter.js';
import { CheckpointError } from './errors.js';

/** The default checkpoint table. */
export const CHECKPOINT_TABLE = 'vault_envelope_checkpoints';

/** A job's row. */
export interface CheckpointRow {
  spec: string;
  cursor: string | null;
  done: boolean;
  counts: Record<string, number>;
  startedAt: string;
}

/** Reads and writes one job's row. */
export class Checkpoint {
  readonly #t: string;
  readonly #job: string;

  constructor(dialect: 'sqlite' | 'postgres', table: string, job: string) {
    this.#t = quoteIdent(table, dialect === 'postgres');
    this.#job = job;
  }

  /** Creates the table when it is missing. */
  async ensure(db: SqlRunner): Promise<void> {
    await db.run(
      `CREATE TABLE IF NOT EXISTS ${this.#t} (job TEXT PRIMARY KEY, spec TEXT NOT NULL, cursor TEXT, done INTEGER NOT NULL DEFAULT 0, counts TEXT NOT NULL, started_at TEXT NOT NULL, updated_at TEXT NOT NULL)`,
    );
  }

  /** The job's row, or undefined. @throws CheckpointError on a row this engine did not write. */
  async read(db: SqlRunner): Promise<CheckpointRow | undefined> {
    const rows = await db.all(`SELECT spec, cursor, done, counts, started_at FROM ${this.#t} WHERE job = ?`, [
      this.#job,
    ]);
    const r = rows[0];
    if (r === undefined) return undefined;
    try {
      const counts = JSON.parse(String(r['counts'])) as Record<string, number>;
      if (typeof counts !== 'object' || counts === null) throw new Error('counts');
      return {
        spec: String(r['spec']),
        cursor: r['cursor'] === null ? null : String(r['cursor']),
        done: Number(r['done']) === 1,
        counts,
        startedAt: String(r['started_at']),
      };
    } catch {
      throw new CheckpointError(`the checkpoint of job ${this.#job} is not one this engine wrote`);
    }
  }

  /** Starts the job afresh (a new row, or the old one reset). */
  async start(db: SqlRunner, spec: string, now: string): Promise<void> {
    await db.run(
      `INSERT INTO ${this.#t} (job, spec, cursor, done, counts, started_at, updated_at) VALUES (?, ?, NULL, 0, '{}', ?, ?) ON CONFLICT (job) DO UPDATE SET spec = excluded.spec, cursor = NULL, done = 0, counts = '{}', started_at = excluded.started_at, updated_at = excluded.updated_at`,
      [this.#job, spec, now, now],
    );
  }

  /** Records a committed batch: the new cursor and counters (inside the batch's transaction). */
  async advance(
    db: SqlRunner,
    cursor: string | null,
    counts: Record<string, number>,
    done: boolean,
    now: string,
  ): Promise<void> {
    const n = await db.run(
      `UPDATE ${this.#t} SET cursor = ?, counts = ?, done = ?, updated_at = ? WHERE job = ?`,
      [cursor, JSON.stringify(counts), done ? 1 : 0, now, this.#job],
    );
    if (n !== 1)
      throw new CheckpointError(`the checkpoint of job ${this.#job} disappeared while the job ran`);
  }
}

/** Whether the adapter's database has the checkpoint table (for read-only runs). */
export async function hasCheckpointTable(db: TableAdapter, table: string): Promise<boolean> {
  return (await db.describe(table)) !== undefined;
}
