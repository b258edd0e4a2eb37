/**
 * One migration run of the bench, in a process of its own so that its peak memory (VmHWM) is its
 * own: the engine (`migrateTable`, encrypt mode) or the naive loop beside it (keyset pages of
 * 1,000 ids; per row one `encryptFields` and one autocommit UPDATE; SQLite in WAL mode), over a
 * table the parent made. Prints one JSON line: rows, seconds, peak RSS.
 *
 * Arguments: one JSON object `{ how, db, table, columns, vault, apiKey, batchSize }`.
 * @module
 */
import { readFileSync } from 'node:fs';
import { cachedKeyProvider } from '@vault-envelope/cache';
import { Envelope } from '@vault-envelope/core';
import { migrateTable, openDatabase } from '@vault-envelope/migrate';
import { VaultClient } from '@vault-envelope/remote';
import Database from 'better-sqlite3';
import pg from 'pg';

interface Args {
  how: 'engine' | 'naive';
  db: string;
  table: string;
  columns: string[];
  vault: string;
  apiKey: string;
  batchSize: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const vault = new VaultClient({ apiKey: args.apiKey, baseUrl: args.vault });
const keys = cachedKeyProvider(vault, { maxAge: 30 * 60_000 });

function peakRssMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m === null ? Number.NaN : Number(m[1]) / 1024;
}

const started = performance.now();
let rows = 0;
if (args.how === 'engine') {
  const db = await openDatabase(args.db);
  const report = await migrateTable({
    db,
    keys,
    mode: 'encrypt',
    table: args.table,
    columns: args.columns,
    context: 'organization_id={org_id}',
    namespace: 'users',
    batchSize: args.batchSize,
  });
  rows = report.rows;
  await db.close();
} else {
  // The naive loop talks to its driver directly (no adapter in between): the fastest loop a user
  // would write by hand, so the comparison is not flattered.
  const envelope = new Envelope({ keys });
  const t = args.table;
  const set = args.columns.map((c) => `"${c}" = $${args.columns.indexOf(c) + 1}`).join(', ');
  const cols = args.columns.map((c) => `"${c}"`).join(', ');
  const encryptRow = async (row: Record<string, unknown>) =>
    (await envelope.encryptFields(row, {
      fields: args.columns,
      id: row['id'] as number,
      namespace: 'users',
      context: { organization_id: String(row['org_id']) },
    })) as Record<string, unknown>;
  if (args.db.startsWith('postgres')) {
    const client = new pg.Client({ connectionString: args.db });
    await client.connect();
    let after = '0';
    for (;;) {
      const page = await client.query(
        `SELECT id, org_id, ${cols} FROM ${t} WHERE id > $1 ORDER BY id LIMIT 1000`,
        [after],
      );
      if (page.rows.length === 0) break;
      for (const row of page.rows as Record<string, unknown>[]) {
        const out = await encryptRow(row);
        const n = args.columns.length;
        await client.query(`UPDATE ${t} SET ${set} WHERE id = $${n + 1}`, [
          ...args.columns.map((c) => out[c]),
          row['id'],
        ]);
        rows++;
      }
      after = String(page.rows[page.rows.length - 1].id);
    }
    await client.end();
  } else {
    const db = new Database(args.db.replace(/^sqlite:/, ''));
    db.pragma('journal_mode = WAL');
    const read = db.prepare(`SELECT id, org_id, ${cols} FROM ${t} WHERE id > ? ORDER BY id LIMIT 1000`);
    const update = db.prepare(
      `UPDATE ${t} SET ${args.columns.map((c) => `"${c}" = ?`).join(', ')} WHERE id = ?`,
    );
    let after = 0;
    for (;;) {
      const page = read.all(after) as Record<string, unknown>[];
      if (page.length === 0) break;
      for (const row of page) {
        const out = await encryptRow(row);
        update.run(...args.columns.map((c) => out[c]), row['id']);
        rows++;
      }
      after = page[page.length - 1]!['id'] as number;
    }
    db.close();
  }
}
const seconds = (performance.now() - started) / 1000;
await keys.close();
process.stdout.write(
  `${JSON.stringify({ rows, seconds, rowsPerSec: rows / seconds, peakRssMb: peakRssMb() })}\n`,
);
