#!/usr/bin/env node
/**
 * Load figure for the local Vault server: requests/s and latency percentiles at 50 concurrent
 * connections over loopback, for `POST /vault/v1/keys/decrypt` and `GET /vault/v1/kv/{id}`.
 * The server runs as its own process (the CLI, in memory, no rate limit, no access log), so the
 * load generator (autocannon) does not share its event loop.
 *
 * Usage: pnpm run server:load [-- --duration 10 --connections 50]
 * Needs a build first (the root script does it).
 * @module
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    json: { type: 'boolean', default: false },
  },
});
const duration = Number(values.duration);
const connections = Number(values.connections);
const KEY = 'sk_load_test';
const bin = fileURLToPath(new URL('../bin/vault-envelope-server.js', import.meta.url));

const child = spawn(
  process.execPath,
  [bin, '--port', '0', '--memory', '--quiet', '--rate-limit', '0', '--api-key', KEY],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const url = await new Promise((resolve, reject) => {
  createInterface({ input: child.stdout }).once('line', resolve);
  child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
});

const headers = { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' };
async function post(path, body) {
  const res = await fetch(url + path, { method: 'POST', headers, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return res.json();
}

const dk = await post('/vault/v1/keys/data-key', { context: { organization_id: 'org_load' } });
const obj = await post('/vault/v1/kv', {
  name: 'load-object',
  value: 'x'.repeat(64),
  key_context: { organization_id: 'org_load' },
});

function run(title, { path, ...opts }) {
  return new Promise((resolve, reject) => {
    autocannon({ url: url + path, connections, duration, headers, ...opts }, (err, result) => {
      if (err) reject(err);
      else resolve({ title, result });
    });
  });
}

const runs = [
  await run('POST /vault/v1/keys/decrypt', {
    method: 'POST',
    path: '/vault/v1/keys/decrypt',
    body: JSON.stringify({ keys: dk.encrypted_keys }),
  }),
  await run('GET /vault/v1/kv/{id}', { method: 'GET', path: `/vault/v1/kv/${obj.id}` }),
  await run('POST /vault/v1/keys/data-key', {
    method: 'POST',
    path: '/vault/v1/keys/data-key',
    body: JSON.stringify({ context: { organization_id: 'org_load' } }),
  }),
];

child.kill('SIGTERM');

const rows = runs.map(({ title, result: r }) => ({
  route: title,
  'req/s (mean)': Math.round(r.requests.average),
  'p50 ms': r.latency.p50,
  'p99 ms': r.latency.p99,
  'max ms': r.latency.max,
  requests: r.requests.total,
  errors: r.errors + r.timeouts,
  non2xx: r.non2xx,
}));
if (values.json) console.log(JSON.stringify(rows, null, 2));
else {
  console.log(`${connections} connections, ${duration} s per route, node ${process.version}`);
  console.table(rows);
}
const failed = rows.some((r) => r.errors > 0 || r.non2xx > 0);
process.exitCode = failed ? 1 : 0;
