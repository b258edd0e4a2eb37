/**
 * Real database servers for the tests and the bench, on a fresh machine.
 *
 * `startPostgres()` runs Debian's PostgreSQL server binaries (the `postgresql` package puts them in
 * /usr/lib/postgresql/<major>/bin, which is not on PATH): `initdb` into a new temporary
 * directory, then `postgres` on a free loopback port, as a non-root user (the server refuses to
 * run as root; as root the directory is handed to the `postgres` user the package creates, and
 * the commands are spawned with that user's uid and gid). It waits until the server accepts connections and returns
 * its connection string and a `stop()` that shuts it down and removes the directory.
 *
 * A missing binary is an error that says what to install, never a silent skip: whoever asked for
 * a real server must get one or a failure.
 * @module
 */
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian's server binaries are looked for, newest major first. */
const PG_ROOT = '/usr/lib/postgresql';

/**
 * The directory of the PostgreSQL server binaries: `VAULT_ENVELOPE_PG_BIN`, else the newest
 * /usr/lib/postgresql/<major>/bin with an initdb (15 on Debian 12).
 * @returns {string}
 */
export function postgresBin() {
  const env = process.env.VAULT_ENVELOPE_PG_BIN;
  if (env) return env;
  const majors = existsSync(PG_ROOT)
    ? readdirSync(PG_ROOT)
        .filter((d) => /^\d+$/.test(d) && existsSync(join(PG_ROOT, d, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  return join(PG_ROOT, majors[0] ?? '15', 'bin');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

function idOf(flag) {
  const r = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error('there is no postgres user to run the server as: apt-get install postgresql creates it');
  }
  return Number(r.stdout.trim());
}

/**
 * Spawn options that run a command as the server's user: as root, the `postgres` user's uid and
 * gid (the child is the server process itself, so signals reach it); else the current user.
 */
function asServerUser() {
  return isRoot() ? { uid: idOf('-u'), gid: idOf('-g'), env: { ...process.env, HOME: tmpdir() } } : {};
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Starts a throwaway PostgreSQL server.
 * @param {{ bin?: string, fsync?: boolean, timeoutMs?: number }} [options]
 *   `bin`: the binaries' directory (default {@link postgresBin}); `fsync`: keep the server's
 *   durability settings (default false: tests need no crash safety of the server itself);
 *   `timeoutMs`: how long to wait for it (default 30 s).
 * @returns {Promise<import('./index.d.ts').RunningPostgres>}
 */
export async function startPostgres(options = {}) {
  const bin = options.bin ?? postgresBin();
  const timeoutMs = options.timeoutMs ?? 30_000;
  for (const tool of ['initdb', 'postgres', 'pg_isready']) {
    if (!existsSync(join(bin, tool))) {
      throw new Error(
        `PostgreSQL's ${tool} is not in ${bin}: install the server with apt-get install postgresql (or set VAULT_ENVELOPE_PG_BIN)`,
      );
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'vault-envelope-pg-'));
  const data = join(dir, 'data');
  const user = asServerUser();
  if (isRoot()) chownSync(dir, user.uid, user.gid);
  const init = spawnSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'],
    { encoding: 'utf8', cwd: dir, ...user },
  );
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (exit ${init.status}): ${(init.stderr || init.stdout || '').trim()}`);
  }
  const settings =
    options.fsync === true
      ? []
      : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'];
  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = spawn(
      join(bin, 'postgres'),
      ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', ...settings],
      { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir, ...user },
    );
    let log = '';
    child.stderr.on('data', (chunk) => {
      log = (log + chunk).slice(-4000);
    });
    let exited = false;
    child.on('exit', () => {
      exited = true;
    });
    const deadline = Date.now() + timeoutMs;
    let ready = false;
    while (!exited && Date.now() < deadline) {
      const r = spawnSync(join(bin, 'pg_isready'), [
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        'postgres',
        '-q',
      ]);
      if (r.status === 0) {
        ready = true;
        break;
      }
      await sleep(100);
    }
    if (ready) {
      let stopped;
      return {
        url: `postgres://postgres@127.0.0.1:${port}/postgres`,
        host: '127.0.0.1',
        port,
        user: 'postgres',
        database: 'postgres',
        dir,
        stop() {
          stopped ??= new Promise((resolve) => {
            const done = () => {
              rmSync(dir, { recursive: true, force: true });
              resolve();
            };
            if (exited) return done();
            child.on('exit', done);
            // SIGINT: PostgreSQL's fast shutdown (ends sessions, no recovery needed on restart).
            child.kill('SIGINT');
            setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
          });
          return stopped;
        },
      };
    }
    child.kill('SIGKILL');
    lastError = log.trim();
    // Another process took the port between the check and the bind: try another one.
    if (!/could not bind|address already in use/i.test(log)) break;
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`PostgreSQL did not start: ${lastError || 'no output'}`);
}

/**
 * Creates a database on a running server and returns its connection string (one per test file
 * keeps suites apart).
 * @param {string} url - A connection string of the server.
 * @param {string} name - The new database's name (letters, digits and underscores).
 * @returns {Promise<string>}
 */
export async function createDatabase(url, name) {
  if (!/^[a-z_][a-z0-9_]*$/.test(name))
    throw new TypeError('database name must be lowercase letters, digits and _');
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * The PostgreSQL server of `pnpm test:services`, when that is what is running: its connection
 * string (set by the services setup), else undefined (the default run, on PGlite).
 * @returns {string | undefined}
 */
export function servicesPostgresUrl() {
  return process.env.VAULT_ENVELOPE_TEST_POSTGRES_URL || undefined;
}
