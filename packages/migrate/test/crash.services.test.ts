/**
 * The crash test on a real PostgreSQL server (`pnpm test:services`): 50,000 rows, the CLI killed
 * with SIGKILL five times at random points, then resumed to completion; see _crash.ts.
 */
import type { RunningServer } from '@vault-envelope/server';
import { createDatabase, servicesPostgresUrl } from '@vault-envelope/test-services';
import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { localVault } from './_cli.js';
import { crashTest, secret } from './_crash.js';

let server: RunningServer;
let client: pg.Client;
let url: string;
beforeAll(async () => {
  const base = servicesPostgresUrl();
  if (base === undefined)
    throw new Error('the services crash test needs pnpm test:services (a PostgreSQL server)');
  server = await localVault();
  url = await createDatabase(base, `crash_${process.pid}`);
  client = new pg.Client({ connectionString: url });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
  await server?.close();
});

test('kill -9 at random points on PostgreSQL, 50,000 rows: every row exactly once, none in clear', async () => {
  const rows = 50_000;
  await client.query('CREATE TABLE users (id BIGINT PRIMARY KEY, org_id TEXT NOT NULL, ssn TEXT NOT NULL)');
  const ids = Array.from({ length: rows }, (_, i) => i + 1);
  await client.query('INSERT INTO users SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])', [
    ids,
    ids.map((i) => `org_${(i % 5) + 1}`),
    ids.map(secret),
  ]);
  const counts = async () => {
    const r = await client.query(
      "SELECT counts FROM vault_envelope_checkpoints WHERE job = 'encrypt:users:ssn'",
    );
    return r.rows.length === 0 ? {} : (JSON.parse(r.rows[0].counts) as Record<string, number>);
  };
  const seed = Date.now() >>> 0;
  const figures = await crashTest({
    server,
    db: url,
    table: 'users',
    rows,
    kills: 5,
    batchSize: 500,
    seed,
    done: async () => {
      const exists = await client.query("SELECT to_regclass('vault_envelope_checkpoints') IS NOT NULL AS e");
      return exists.rows[0].e ? ((await counts())['rows'] ?? 0) : 0;
    },
    async readAll() {
      const r = await client.query('SELECT id, ssn FROM users ORDER BY id');
      return r.rows.map((x: { id: string; ssn: string }) => ({ id: Number(x.id), ssn: x.ssn }));
    },
    counts,
  });
  expect(figures.killedMidRun, `seed ${seed}`).toBe(5);
  console.log(
    `crash test (PostgreSQL, ${rows} rows, seed ${seed}): ${figures.killedMidRun} kills mid-run, ${figures.runs} runs, ${figures.seconds.toFixed(1)} s`,
  );
}, 600_000);
