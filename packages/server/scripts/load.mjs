#!/usr/bin/env node
/**
 * Load figure for the local Vault server: requests/s and latency percentiles at 50 concurrent
 * connections over loopback, for `POST /vault/v1/keys/decrypt` and `GET /vault/v1/kv/{id}`.
 * The server runs as its own process (the CLI, in memory, no rate limit, no access log), so the
 * load generator (autocannon) does not share its event loop.
 *
 * Usage: pnpm run server:load [-- --duration 10 --connections 50 --tool wrk]
 * `--tool wrk` drives the load with wrk (Debian: `apt-get install -y wrk`), which takes far less CPU
 * than autocannon: on a 2-core machine the load generator competes with the server for cores.
 * Needs a build first (the root script does it).
 * @module
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    json: { type: 'boolean', default: false },
    tool: { type: 'string', default: 'autocannon' },
    warmup: { type: 'string', default: '2' },
  },
});
let duration = Number(values.duration);
const connections = Number(values.connections);
const KEY = 'sk_load_test';
const bin = fileURLToPath(new URL('../bin/vault-envelope-server.js', import.meta.url));

const child = spawn(process.execPath, [bin, '--port', '0', '--memory', '--quiet', '--rate-limit', '0'], {
  env: { ...process.env, VAULT_API_KEYS: KEY },
  stdio: ['ignore', 'pipe', 'inherit'],
});
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

function runAutocannon(title, { path, ...opts }) {
  return new Promise((resolve, reject) => {
    autocannon({ url: url + path, connections, duration, headers, ...opts }, (err, r) => {
      if (err) reject(err);
      else
        resolve({
          route: title,
          'req/s (mean)': Math.round(r.requests.average),
          'p50 ms': r.latency.p50,
          'p99 ms': r.latency.p99,
          'max ms': r.latency.max,
          requests: r.requests.total,
          errors: r.errors + r.timeouts,
          non2xx: r.non2xx,
        });
    });
  });
}

/** wrk with a Lua script that sets method, headers and body and counts non-2xx answers. */
function runWrk(title, { path, method, body }) {
  const dir = mkdtempSync(join(tmpdir(), 'vault-load-'));
  const script = join(dir, 'req.lua');
  writeFileSync(
    script,
    [
      `wrk.method = ${JSON.stringify(method)}`,
      `wrk.headers["Authorization"] = ${JSON.stringify(headers.Authorization)}`,
      `wrk.headers["Content-Type"] = "application/json"`,
      body === undefined ? '' : `wrk.body = ${JSON.stringify(body)}`,
    ].join('\n'),
  );
  const args = [
    '-t',
    '1',
    '-c',
    String(connections),
    '-d',
    `${duration}s`,
    '--latency',
    '-s',
    script,
    url + path,
  ];
  return new Promise((resolve, reject) => {
    execFile('wrk', args, (err, stdout) => {
      if (err) return reject(err);
      const ms = (label) => {
        const m = new RegExp(`${label}\\s+([\\d.]+)(us|ms|s)`).exec(stdout);
        if (m === null) return Number.NaN;
        return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]];
      };
      const num = (re) => Number(re.exec(stdout)?.[1] ?? 0);
      const requests = num(/(\d+) requests in/);
      const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
      resolve({
        route: title,
        'req/s (mean)': Math.round(num(/Requests\/sec:\s+([\d.]+)/)),
        'p50 ms': ms('50%'),
        'p99 ms': ms('99%'),
        'max ms': ms('Latency\\s+[\\d.]+\\w+\\s+[\\d.]+\\w+'),
        requests,
        errors: errors === null ? 0 : errors.slice(1).reduce((a, b) => a + Number(b), 0),
        non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
      });
    });
  });
}

const runTool = values.tool === 'wrk' ? runWrk : runAutocannon;
const warmup = Number(values.warmup);

/**
 * CPU seconds (user + system) the server process has used, from /proc (Linux); undefined elsewhere.
 * Divided by the requests of a run it gives the server's CPU cost per request, a figure that does
 * not depend on what else the machine is doing, unlike req/s and latency.
 */
function serverCpuSeconds() {
  try {
    const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
}

/** A short unmeasured run first, so that the JIT has compiled the route before it is timed. */
async function run(title, request) {
  if (warmup > 0) {
    const measured = duration;
    duration = warmup;
    await runTool(title, request);
    duration = measured;
  }
  const before = serverCpuSeconds();
  const row = await runTool(title, request);
  const after = serverCpuSeconds();
  if (before !== undefined && after !== undefined && row.requests > 0) {
    row['server CPU µs/req'] = Math.round(((after - before) * 1e6) / row.requests);
  }
  return row;
}

const runs = [
  await run('POST /vault/v1/keys/decrypt', {
    method: 'POST',
    path: '/vault/v1/keys/decrypt',
    body: JSON.stringify({ keys: dk.encrypted_keys }),
  }),
  await run('GET /vault/v1/kv/{id}', { method: 'GET', path: `/vault/v1/kv/${obj.id}`, body: undefined }),
  await run('POST /vault/v1/keys/data-key', {
    method: 'POST',
    path: '/vault/v1/keys/data-key',
    body: JSON.stringify({ context: { organization_id: 'org_load' } }),
  }),
];

child.kill('SIGTERM');

const rows = runs;
if (values.json) console.log(JSON.stringify(rows, null, 2));
else {
  console.log(`${values.tool}: ${connections} connections, ${duration} s per route, node ${process.version}`);
  console.table(rows);
}
const failed = rows.some((r) => r.errors > 0 || r.non2xx > 0);
process.exitCode = failed ? 1 : 0;
