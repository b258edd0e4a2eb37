/**
 * The crash test on SQLite (the default run): 30,000 rows, the CLI killed with SIGKILL five
 * times at random moments, then resumed to completion; see _crash.ts for what is checked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningServer } from '@vault-envelope/server';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { localVault } from './_cli.js';
import { crashTest, secret } from './_crash.js';

let server: RunningServer;
let dir: string;
beforeAll(async () => {
  server = await localVault();
  dir = mkdtempSync(join(tmpdir(), 've-crash-'));
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('kill -9 at random points, resume: every row exactly once, decrypting to its value, none in clear', async () => {
  const rows = 30_000;
  const file = join(dir, 'crash.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, org_id TEXT NOT NULL, ssn TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO users VALUES (?, ?, ?)');
  db.transaction(() => {
    for (let i = 1; i <= rows; i++) insert.run(i, `org_${(i % 5) + 1}`, secret(i));
  })();
  db.close();
  const seed = Date.now() >>> 0;
  const figures = await crashTest({
    server,
    db: `sqlite:${file}`,
    table: 'users',
    rows,
    kills: 5,
    async done() {
      const d = new Database(file, { readonly: true, fileMustExist: true });
      try {
        const row = d
          .prepare("SELECT counts FROM vault_envelope_checkpoints WHERE job = 'encrypt:users:ssn'")
          .get() as { counts: string } | undefined;
        return row === undefined ? 0 : ((JSON.parse(row.counts) as { rows?: number }).rows ?? 0);
      } catch {
        return 0;
      } finally {
        d.close();
      }
    },
    batchSize: 200,
    seed,
    async readAll() {
      const d = new Database(file, { readonly: true });
      const all = d.prepare('SELECT id, ssn FROM users ORDER BY id').all() as { id: number; ssn: string }[];
      d.close();
      return all;
    },
    async counts() {
      const d = new Database(file, { readonly: true });
      const row = d
        .prepare("SELECT counts FROM vault_envelope_checkpoints WHERE job = 'encrypt:users:ssn'")
        .get() as {
        counts: string;
      };
      d.close();
      return JSON.parse(row.counts) as Record<string, number>;
    },
  });
  // Every kill must land while the job was running, or the test proves little.
  expect(figures.killedMidRun, `seed ${seed}`).toBe(5);
  console.log(
    `crash test (SQLite, ${rows} rows, seed ${seed}): ${figures.killedMidRun} kills mid-run, ${figures.runs} runs, ${figures.seconds.toFixed(1)} s`,
  );
}, 180_000);
