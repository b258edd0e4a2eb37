// Migrating a live table: a SQLite `users` table holds social security numbers in clear while
// the "application" keeps writing to it. The table engine encrypts the column in batches,
// resumably, never overwriting the application's writes; then verifies it, rekeys it to a new
// key context, and backfills a blind index. Last, the `vault-envelope` command verifies the
// same file, as an operator would.
//
//   node examples/migrate-table.mjs [--rows 5000]
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { cachedKeyProvider } from '@vault-envelope/cache';
import { BlindIndex, Envelope, fieldAad } from '@vault-envelope/core';
import { migrateTable, openDatabase } from '@vault-envelope/migrate';
import Database from 'better-sqlite3';
import { openVault, progress, run, user } from './_setup.mjs';

run(async () => {
  const rows = Number(parseArgs({ options: { rows: { type: 'string', default: '5000' } } }).values.rows);
  const vault = await openVault();
  const dir = mkdtempSync(join(tmpdir(), 'vault-envelope-migrate-'));
  const file = join(dir, 'app.db');
  try {
    // The table as it is before encryption: plaintext.
    const app = new Database(file);
    app.pragma('journal_mode = WAL');
    app.exec(
      'CREATE TABLE users (id INTEGER PRIMARY KEY, org_id TEXT NOT NULL, ssn TEXT, email TEXT, email_idx TEXT)',
    );
    const insert = app.prepare('INSERT INTO users (id, org_id, ssn, email) VALUES (?, ?, ?, ?)');
    app.transaction(() => {
      for (let i = 1; i <= rows; i++) insert.run(i, user(i).org_id, user(i).ssn, user(i).email);
    })();
    console.log(`${rows} users with ssn in clear`);

    const keys = cachedKeyProvider(vault.client, { maxAge: 5 * 60_000 });
    const envelope = new Envelope({ keys });
    // The application, already on the new code: it writes ciphertext, while the backfill runs.
    let appWrites = 0;
    const writer = setInterval(async () => {
      const id = 1 + Math.floor(Math.random() * rows);
      const ssn = await envelope.encrypt(`999-00-${String(id).padStart(4, '0')}`, {
        context: { organization_id: user(id).org_id },
        aad: fieldAad({ id, field: 'ssn', namespace: 'users' }),
      });
      app.prepare('UPDATE users SET ssn = ? WHERE id = ?').run(ssn, id);
      appWrites++;
    }, 2);

    const db = await openDatabase(`sqlite:${file}`);
    const bar = progress('encrypting', rows);
    const report = await migrateTable({
      db,
      keys,
      mode: 'encrypt',
      table: 'users',
      columns: ['ssn'],
      context: 'organization_id={org_id}',
      namespace: 'users',
      batchSize: 250,
      onProgress: (p) => bar.update(p.rows),
    });
    clearInterval(writer);
    console.log(
      `encrypted ${report.values.changed} values (${report.values.encrypted} already written encrypted by the application, ${appWrites} application writes, ${report.conflicts} conflicts re-read)`,
    );

    const verified = await migrateTable({
      db,
      keys,
      mode: 'verify',
      table: 'users',
      columns: ['ssn'],
      namespace: 'users',
    });
    console.log(
      `verify: ${verified.values.ok} ok, ${verified.values.plaintext} in clear, ${verified.failedRows} rows with problems`,
    );

    // The cache passes rekey calls through to Vault: one per data key in each batch.
    const rekeyed = await migrateTable({
      db,
      keys,
      mode: 'rekey',
      table: 'users',
      columns: ['ssn'],
      context: 'organization_id={org_id},region=eu',
      namespace: 'users',
    });
    console.log(`rekeyed ${rekeyed.values.changed} values with ${rekeyed.keyCalls.rekeyDataKey} rekey calls`);

    const index = new BlindIndex({
      key: globalThis.crypto.getRandomValues(new Uint8Array(32)),
      name: 'users.email',
      normalize: (s) => s.trim().toLowerCase(),
      version: 1,
    });
    const indexed = await migrateTable({
      db,
      keys,
      mode: 'reindex',
      table: 'users',
      indexes: [{ column: 'email', into: 'email_idx', index }],
    });
    const found = app.prepare('SELECT id FROM users WHERE email_idx = ?').get(index.compute(user(7).email));
    console.log(`indexed ${indexed.values.changed} emails; lookup by email finds user ${found?.id}`);
    index.destroy();
    await db.close();
    app.close();
    await keys.close();

    // The same check from the command line, as an operator runs it.
    const bin = createRequire(import.meta.url)
      .resolve('@vault-envelope/migrate/package.json')
      .replace(/package\.json$/, 'bin/vault-envelope.js');
    const env = { ...process.env };
    if (vault.local !== undefined) {
      env.WORKOS_API_KEY = vault.local.apiKeys[0];
      env.VAULT_BASE_URL = vault.local.url;
    }
    // Not spawnSync: the local server runs in this process and must keep answering.
    const cli = await promisify(execFile)(
      process.execPath,
      [
        bin,
        'migrate',
        'verify',
        '--db',
        `sqlite:${file}`,
        '--table',
        'users',
        '--columns',
        'ssn',
        '--namespace',
        'users',
        '--quiet',
      ],
      { env },
    );
    console.log(`vault-envelope migrate verify: exit 0: ${cli.stdout.trim()}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await vault.close();
  }
});
