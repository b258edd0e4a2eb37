// `pnpm demo`: the three jobs vault-envelope is for, end to end, on one machine.
//
//  1. Encrypt fields before database writes: generated users of five organizations into a real
//     SQLite database, with ssn, dob and email encrypted (AAD bound to the organization, table,
//     row id and column) and a blind index on email keyed per organization.
//  2. Decrypt in request handlers: an HTTP server answering GET /users/:id (decrypts in the
//     handler) and GET /users?email= (finds the row through the blind index), under load. Each
//     request names its organization (a header standing in for the authenticated session): that,
//     never the row's own org_id column, is the tenant the handler decrypts with.
//  3. Key caching: the same load with the cache off and on, side by side.
//
// No WorkOS account and no network: the local Vault-compatible server runs in-process on SQLite
// in a temp dir, unless WORKOS_API_KEY / VAULT_BASE_URL point elsewhere.
//
//   node examples/demo.mjs [--records 10000] [--requests 3000] [--concurrency 32] [--db users.db]
//                          [--vault-latency MS]   (local server only: add a network's round trip,
//                                                  e.g. 20; real deployments see 20-300 ms)
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cachedKeyProvider } from '@vault-envelope/cache';
import { BlindIndex, decodeBase64, Envelope, encodeBase64 } from '@vault-envelope/core';
import { NotFoundError } from '@vault-envelope/remote';
import Database from 'better-sqlite3';
import { ConfigError, load, openVault, progress, run, user } from './_setup.mjs';

const FIELDS = ['ssn', 'dob', 'email'];
const INDEX_KEY_NAME = 'vault-envelope-demo/blind-index-key';

function options() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        records: { type: 'string', default: '10000' },
        requests: { type: 'string', default: '3000' },
        concurrency: { type: 'string', default: '32' },
        'vault-latency': { type: 'string', default: '0' },
        db: { type: 'string' },
      },
    }));
  } catch (e) {
    throw new ConfigError(e.message);
  }
  const int = (name, min) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min)
      throw new ConfigError(`--${name} must be an integer >= ${min}, got ${values[name]}`);
    return n;
  };
  return {
    records: int('records', 1),
    requests: int('requests', 1),
    concurrency: int('concurrency', 1),
    vaultLatency: int('vault-latency', 0),
    db: values.db,
  };
}

/** A KeyProvider that counts the calls reaching the key service. */
function counting(provider) {
  const calls = { create: 0, decrypt: 0 };
  return {
    calls,
    createDataKey: (context, opts) => {
      calls.create++;
      return provider.createDataKey(context, opts);
    },
    decryptDataKey: (blob, opts) => {
      calls.decrypt++;
      return provider.decryptDataKey(blob, opts);
    },
  };
}

/** The blind-index root key lives in Vault as an object, created on first run. */
async function blindIndexKey(client) {
  try {
    return decodeBase64((await client.readObjectByName(INDEX_KEY_NAME)).value);
  } catch (e) {
    if (!(e instanceof NotFoundError)) throw e;
  }
  const key = crypto.getRandomValues(new Uint8Array(32));
  await client.createObject({
    name: INDEX_KEY_NAME,
    value: encodeBase64(key),
    context: { purpose: 'blind-index' },
  });
  return key;
}

function openDb(path) {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(`CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY, org_id TEXT NOT NULL, name TEXT NOT NULL,
    ssn TEXT NOT NULL, dob TEXT NOT NULL, email TEXT NOT NULL, email_idx TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS users_email_idx ON users (email_idx);
    DELETE FROM users;`);
  return db;
}

/** The blind index of each organization, derived once (HKDF from the root index key). */
function perTenant(emailIndex) {
  const byOrg = new Map();
  const of = (org) => {
    let idx = byOrg.get(org);
    if (idx === undefined) {
      idx = emailIndex.forTenant(org);
      byOrg.set(org, idx);
    }
    return idx;
  };
  of.destroy = () => {
    for (const idx of byOrg.values()) idx.destroy();
    emailIndex.destroy();
  };
  return of;
}

/** Job 1: encrypt and write. */
async function writeUsers(db, envelope, emailIndex, count) {
  const insert = db.prepare(
    'INSERT INTO users (id, org_id, name, ssn, dob, email, email_idx) VALUES (@id, @org_id, @name, @ssn, @dob, @email, @email_idx)',
  );
  const insertMany = db.transaction((rows) => {
    for (const r of rows) insert.run(r);
  });
  const bar = progress('writing users', count);
  const chunk = 500;
  const start = performance.now();
  for (let from = 1; from <= count; from += chunk) {
    const people = [];
    for (let i = from; i < Math.min(from + chunk, count + 1); i++) people.push(user(i));
    const rows = await Promise.all(
      people.map(async (p) => ({
        ...(await envelope.encryptFields(p, {
          fields: FIELDS,
          id: p.id,
          tenant: p.org_id,
          namespace: 'users',
          context: { organization_id: p.org_id },
        })),
        email_idx: emailIndex(p.org_id).compute(p.email),
      })),
    );
    insertMany(rows);
    bar.update(from - 1 + people.length);
  }
  return { seconds: (performance.now() - start) / 1000 };
}

/** Job 2: an HTTP app that decrypts in its handlers. */
function startApp(db, envelope, emailIndex) {
  const byId = db.prepare('SELECT * FROM users WHERE id = ? AND org_id = ?');
  const byEmailIdx = db.prepare('SELECT * FROM users WHERE email_idx = ? AND org_id = ?');
  // The tenant is the session's organization, never the row's org_id column.
  const open = (row, org) =>
    envelope.decryptFields(row, { fields: FIELDS, id: row.id, tenant: org, namespace: 'users' });
  const server = createServer(async (req, res) => {
    const send = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      const url = new URL(req.url ?? '/', 'http://app');
      // A stand-in for the authenticated session's organization.
      const org = req.headers['x-org-id'];
      if (typeof org !== 'string' || org === '') return send(401, { error: 'no organization' });
      const m = /^\/users\/(\d+)$/.exec(url.pathname);
      if (req.method === 'GET' && m) {
        const row = byId.get(Number(m[1]), org);
        if (row === undefined) return send(404, { error: 'not found' });
        const { email_idx, ...plain } = await open(row, org);
        return send(200, plain);
      }
      if (req.method === 'GET' && url.pathname === '/users' && url.searchParams.has('email')) {
        const email = url.searchParams.get('email');
        // The index narrows the search to a few rows; decrypting them filters false positives.
        for (const row of byEmailIdx.all(emailIndex(org).compute(email), org)) {
          const { email_idx, ...plain } = await open(row, org);
          if (plain.email === email) return send(200, plain);
        }
        return send(404, { error: 'not found' });
      }
      send(404, { error: 'no such route' });
    } catch {
      // Never echo an error that could carry data; the demo counts 500s as failures.
      send(500, { error: 'internal error' });
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({ url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

/** GET with a keep-alive agent: `node:http` costs far less per request than `fetch` on Node 20. */
function getJson(agent, url, headers) {
  return new Promise((resolve, reject) => {
    get(url, { agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}`));
        else resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      });
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** Sends the mixed load (4 in 5 by id, 1 in 5 by email) and checks every answer. */
async function drive(appUrl, records, requests, concurrency) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  try {
    return await load(requests, concurrency, async (i) => {
      const id = 1 + ((i * 7919) % records);
      const expected = user(id);
      const byEmail = i % 5 === 4;
      const body = await getJson(
        agent,
        byEmail ? `${appUrl}/users?email=${encodeURIComponent(expected.email)}` : `${appUrl}/users/${id}`,
        { 'x-org-id': expected.org_id },
      );
      const same =
        body.id === id &&
        body.ssn === expected.ssn &&
        body.dob === expected.dob &&
        body.email === expected.email;
      if (!same) throw new Error('wrong answer');
    });
  } finally {
    agent.destroy();
  }
}

const fmt = (n, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '-';

function table(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c === 0 ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c])))
        .join('  '),
    )
    .join('\n');
}

run(async () => {
  const opts = options();
  const vault = await openVault();
  const dir = opts.db === undefined ? mkdtempSync(join(tmpdir(), 'vault-envelope-demo-db-')) : undefined;
  const dbPath = opts.db ?? join(dir, 'users.db');
  let db;
  const cleanup = [];
  try {
    console.log(`vault-envelope demo: Vault at ${vault.where}`);
    if (opts.vaultLatency > 0) {
      if (vault.local === undefined)
        throw new ConfigError('--vault-latency needs the local server (unset WORKOS_API_KEY)');
      vault.local.setFaults({ latencyMs: opts.vaultLatency });
      console.log(`simulated network latency to Vault: ${opts.vaultLatency} ms per call`);
    }
    console.log(`database: ${dbPath}\n`);
    db = openDb(dbPath);

    const rootIndex = new BlindIndex({
      key: await blindIndexKey(vault.client),
      name: 'users.email',
      bits: 32,
      normalize: (s) => s.trim().toLowerCase(),
    });
    const emailIndex = perTenant(rootIndex);
    // Every call must name its tenant: a forgotten one is an error, not a value any tenant reads.
    const envelopeOptions = { requireTenant: true };

    // 1. Encrypt fields before the database write (the cache makes it one key per organization).
    console.log(`1. Encrypting ssn, dob and email of ${fmt(opts.records)} users into SQLite`);
    const writeKeys = counting(vault.client);
    const writeCache = cachedKeyProvider(writeKeys, { maxAge: 5 * 60_000 });
    cleanup.push(() => writeCache.close());
    const written = await writeUsers(
      db,
      new Envelope({ keys: writeCache, ...envelopeOptions }),
      emailIndex,
      opts.records,
    );
    const sample = db.prepare('SELECT ssn, email_idx FROM users WHERE id = 1').get();
    console.log(
      `   ${fmt(opts.records / written.seconds)} records/s; ${writeKeys.calls.create} data keys created`,
    );
    console.log(`   stored ssn of user 1: ${sample.ssn.slice(0, 40)}... (email_idx ${sample.email_idx})\n`);

    // 2 and 3. The same request handlers, without and with the key cache.
    console.log(
      `2. Decrypting in request handlers: ${fmt(opts.requests)} requests, ${opts.concurrency} at a time`,
    );
    const results = [];
    for (const mode of ['no cache', 'cache']) {
      const keys = counting(vault.client);
      const cache =
        mode === 'cache' ? cachedKeyProvider(keys, { maxAge: 5 * 60_000, capacity: 10_000 }) : undefined;
      if (cache) cleanup.push(() => cache.close());
      const app = await startApp(db, new Envelope({ keys: cache ?? keys, ...envelopeOptions }), emailIndex);
      const before = vault.local?.stats().requests['POST /vault/v1/keys/decrypt'] ?? 0;
      const r = await drive(app.url, opts.records, opts.requests, opts.concurrency);
      await app.close();
      const server =
        vault.local === undefined
          ? undefined
          : vault.local.stats().requests['POST /vault/v1/keys/decrypt'] - before;
      const s = cache?.stats();
      const hitRatio = s === undefined ? undefined : s.hits / Math.max(1, s.hits + s.misses);
      results.push({ mode, ...r, keyCalls: keys.calls.decrypt, serverCalls: server, hitRatio });
      console.log(
        `   ${mode}: ${fmt(r.rps)} req/s, p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms, ${keys.calls.decrypt} key-service calls, ${r.errors} errors`,
      );
      if (r.errors > 0) throw new Error(`${r.errors} requests failed, first: ${r.firstError?.message}`);
    }

    const [off, on] = results;
    console.log('\n3. Key caching, side by side\n');
    console.log(
      table([
        ['', 'requests/s', 'p50 ms', 'p99 ms', 'key-service calls', 'cache hit ratio', 'errors'],
        ...results.map((r) => [
          r.mode,
          fmt(r.rps),
          fmt(r.p50, 2),
          fmt(r.p99, 2),
          fmt(r.keyCalls),
          r.hitRatio === undefined ? '-' : `${fmt(r.hitRatio * 100, 1)}%`,
          r.errors,
        ]),
      ]),
    );
    console.log(
      `\nThe cache served ${fmt(on.rps / off.rps, 1)}x the requests per second with ${fmt(on.keyCalls)} key-service calls instead of ${fmt(off.keyCalls)}.`,
    );
    emailIndex.destroy();
  } finally {
    for (const f of cleanup) f();
    db?.close();
    await vault.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
});
