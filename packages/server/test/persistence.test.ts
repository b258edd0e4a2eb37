/**
 * Storage: restart with a data directory keeps objects and keys; an acknowledged write survives
 * `kill -9` of the CLI process; the master key file is private and checked, and never made beside
 * an existing database; a damaged database is refused at start; one server at a time holds a data
 * directory, and its lock survives no crash; no value or data key is ever written to disk in
 * plaintext, nor kept in memory as text for replays.
 */
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createVaultHandler,
  DatabaseError,
  MasterKeyError,
  startServer,
  VaultServerError,
} from '@vault-envelope/server';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, test } from 'vitest';
import { call, client, exited, spawnCli } from './_helpers.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'vault-server-test-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const KV = '/vault/v1/kv';
const options = (dataDir: string) => ({ port: 0, dataDir, apiKeys: ['sk_test'], rateLimit: false as const });

/** Every byte the server wrote under `dir`. */
function diskBytes(dir: string): Buffer {
  return Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));
}

/** Each file of `dir` with its bytes and modification time, to tell that nothing was written. */
function snapshot(dir: string): Record<string, { bytes: string; mtime: number }> {
  return Object.fromEntries(
    readdirSync(dir).map((f) => [
      f,
      {
        bytes: createHash('sha256')
          .update(readFileSync(join(dir, f)))
          .digest('hex'),
        mtime: statSync(join(dir, f)).mtimeMs,
      },
    ]),
  );
}

/** A data directory with one object in it, the server closed. */
async function populated(extra: { masterKey?: Uint8Array } = {}): Promise<{ dir: string; id: string }> {
  const dir = tempDir();
  const a = await startServer({ ...options(dir), ...extra });
  const m = (await client(a)('POST', KV, { name: 'kept', value: 'kept-value', key_context: { org: 'o' } }))
    .body;
  await a.close();
  return { dir, id: m.id };
}

describe('restart', () => {
  test('objects, versions and data keys survive a restart with the same data directory', async () => {
    const dir = tempDir();
    const a = await startServer(options(dir));
    const api = client(a);
    const m = (await api('POST', KV, { name: 'persist', value: 'first', key_context: { org: 'o' } })).body;
    await api('PUT', `${KV}/${m.id}`, { value: 'second' });
    const dk = (await api('POST', '/vault/v1/keys/data-key', { context: { org: 'o' } })).body;
    await a.close();

    const b = await startServer(options(dir));
    try {
      const api2 = client(b);
      const read = await api2('GET', `${KV}/${m.id}`);
      expect(read.body.value).toBe('second');
      expect((await api2('GET', `${KV}/${m.id}/versions`)).body.data).toHaveLength(2);
      expect((await api2('GET', `/vault/object/version?id=${m.id}&version=1`)).body.value).toBe('first');
      const d = await api2('POST', '/vault/v1/keys/decrypt', { keys: dk.encrypted_keys });
      expect(d.body).toEqual({ id: dk.id, data_key: dk.data_key });
    } finally {
      await b.close();
    }
  });

  test('the generated master key file is mode 0600; another master key is refused', async () => {
    const dir = tempDir();
    const a = await startServer(options(dir));
    await a.close();
    expect(statSync(join(dir, 'master.key')).mode & 0o777).toBe(0o600);
    const wrong = Buffer.alloc(32, 9).toString('base64');
    await expect(startServer({ ...options(dir), masterKey: wrong })).rejects.toThrow(MasterKeyError);
    const refused = await startServer({ ...options(dir), masterKey: wrong }).catch((e: unknown) => e);
    expect(MasterKeyError.is(refused) && !DatabaseError.is(refused)).toBe(true);
    expect((refused as MasterKeyError).code).toBe('MASTER_KEY');
    expect((refused as Error).message).toBe('the master key does not match this data directory');
    await expect(startServer({ ...options(dir), masterKey: 'short' })).rejects.toThrow(RangeError);
  });

  test('a configured master key is used and required on the next start', async () => {
    const dir = tempDir();
    const key = new Uint8Array(32).fill(3);
    const a = await startServer({ ...options(dir), masterKey: key });
    const dk = (await client(a)('POST', '/vault/v1/keys/data-key', { context: {} })).body;
    await a.close();
    expect(readdirSync(dir)).not.toContain('master.key');
    const b = await startServer({ ...options(dir), masterKey: Buffer.from(key).toString('base64') });
    try {
      expect((await client(b)('POST', '/vault/v1/keys/decrypt', { keys: dk.encrypted_keys })).status).toBe(
        200,
      );
    } finally {
      await b.close();
    }
  });

  test('no value or data key is ever on disk in plaintext', async () => {
    const dir = tempDir();
    const a = await startServer(options(dir));
    const api = client(a);
    const value = 'PLAINTEXT-MARKER-7f3a9c';
    const m = (await api('POST', KV, { name: 'at-rest', value, key_context: { org: 'o' } })).body;
    await api('PUT', `${KV}/${m.id}`, { value: `${value}-v2` });
    await api('POST', '/vault/object/create', { name: 'seed-at-rest', data: { ssn: value } });
    const dk = (await api('POST', '/vault/v1/keys/data-key', { context: { org: 'o' } })).body;
    const keyBytes = Buffer.from(dk.data_key, 'base64');
    // Read the files while the server runs (WAL not checkpointed) and after it closes.
    for (const bytes of [diskBytes(dir), await a.close().then(() => diskBytes(dir))]) {
      expect(bytes.includes(Buffer.from(value))).toBe(false);
      expect(bytes.includes(Buffer.from(dk.data_key))).toBe(false);
      expect(bytes.includes(keyBytes)).toBe(false);
    }
  });

  test('the schema is versioned: a database from a newer server is refused, not guessed at', async () => {
    const dir = tempDir();
    await (await startServer(options(dir))).close();
    const db = new Database(join(dir, 'vault.sqlite'));
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    db.pragma('user_version = 99');
    db.close();
    const refused = await startServer(options(dir)).catch((e: unknown) => e);
    expect(DatabaseError.is(refused) && !MasterKeyError.is(refused)).toBe(true);
    expect((refused as Error).message).toBe('the database has schema version 99; this server knows up to 1');
  });

  test('a data directory that can not be created is a DatabaseError', async () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'not a directory');
    const refused = await startServer(options(join(file, 'data'))).catch((e: unknown) => e);
    expect(DatabaseError.is(refused)).toBe(true);
    expect(VaultServerError.is(refused)).toBe(true);
    expect((refused as DatabaseError).code).toBe('DATABASE');
    expect((refused as Error).message).toBe('cannot open the Vault database');
    expect((refused as Error).cause).toMatchObject({ code: 'ENOTDIR' });
  });

  test('a stored value whose key-encryption key is gone fails as a KeyProviderError, answered 500', async () => {
    const dir = tempDir();
    const a = await startServer(options(dir));
    const m = (await client(a)('POST', KV, { name: 'orphan', value: 'v', key_context: { org: 'o' } })).body;
    await a.close();
    const db = new Database(join(dir, 'vault.sqlite'));
    db.prepare('DELETE FROM keks').run();
    db.close();
    const lines: string[] = [];
    const b = await startServer({ ...options(dir), log: (l) => lines.push(l) });
    try {
      const r = await client(b)('GET', `${KV}/${m.id}`);
      expect(r.status).toBe(500);
      expect(r.body).toEqual({ error: 'Internal server error' });
      expect(
        lines.some((l) => / error req_\S+ KeyProviderError: the stored key blob does not unwrap$/.test(l)),
      ).toBe(true);
    } finally {
      await b.close();
    }
  });

  test('--memory writes no files', async () => {
    const dir = tempDir();
    const a = await startServer({ ...options(dir), memory: true });
    await client(a)('POST', KV, { name: 'mem', value: 'v', key_context: {} });
    await a.close();
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('refusing to start (F5)', () => {
  test('master.key missing beside a database: MasterKeyError, and nothing in the directory is written', async () => {
    const { dir, id } = await populated();
    const key = readFileSync(join(dir, 'master.key'));
    unlinkSync(join(dir, 'master.key'));
    const before = snapshot(dir);
    const refused = await startServer(options(dir)).catch((e: unknown) => e);
    expect(MasterKeyError.is(refused)).toBe(true);
    expect((refused as Error).message).toBe(
      `the data directory ${dir} holds a database but no master key file ${join(dir, 'master.key')}: ` +
        'restore that file, or pass the key it was created with (VAULT_MASTER_KEY); no new key is made',
    );
    expect(existsSync(join(dir, 'master.key'))).toBe(false);
    expect(snapshot(dir)).toEqual(before);
    // With the key back, the data is there.
    writeFileSync(join(dir, 'master.key'), key, { mode: 0o600 });
    const b = await startServer(options(dir));
    try {
      expect((await client(b)('GET', `${KV}/${id}`)).body.value).toBe('kept-value');
    } finally {
      await b.close();
    }
  });

  test('the master key check value gone: a wrong key is refused, the right one is verified by a stored key', async () => {
    const right = new Uint8Array(32).fill(5);
    const { dir, id } = await populated({ masterKey: right });
    const db = new Database(join(dir, 'vault.sqlite'));
    db.prepare("DELETE FROM meta WHERE key = 'master_check'").run();
    db.close();
    const wrong = await startServer({ ...options(dir), masterKey: new Uint8Array(32).fill(6) }).catch(
      (e: unknown) => e,
    );
    expect(MasterKeyError.is(wrong)).toBe(true);
    expect((wrong as Error).message).toBe('the master key does not match this data directory');
    const b = await startServer({ ...options(dir), masterKey: right });
    try {
      expect((await client(b)('GET', `${KV}/${id}`)).body.value).toBe('kept-value');
    } finally {
      await b.close();
    }
    // The check value is back, so a wrong key is refused by it again.
    const check = new Database(join(dir, 'vault.sqlite'), { readonly: true });
    expect(check.prepare("SELECT count(*) AS n FROM meta WHERE key = 'master_check'").get()).toEqual({
      n: 1,
    });
    check.close();
  });

  test('objects but neither a check value nor a key-encryption key: the key can not be verified and is refused', async () => {
    const { dir } = await populated();
    const db = new Database(join(dir, 'vault.sqlite'));
    db.exec("DELETE FROM meta WHERE key = 'master_check'; DELETE FROM keks;");
    db.close();
    const refused = await startServer(options(dir)).catch((e: unknown) => e);
    expect(MasterKeyError.is(refused)).toBe(true);
    expect((refused as Error).message).toMatch(/^the master key can not be verified/);
  });

  test('a damaged database file is refused at start (PRAGMA quick_check), and so is a file that is not SQLite', async () => {
    const { dir } = await populated();
    const file = join(dir, 'vault.sqlite');
    const db = new Database(file, { readonly: true });
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const { rootpage } = db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'objects'").get() as {
      rootpage: number;
    };
    db.close();
    // Garbage over the header of the objects table's root page: nothing the start-up reads
    // touches that table, so only an integrity check notices.
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(64, 0xa5), 0, 64, (rootpage - 1) * pageSize);
    closeSync(fd);
    const damaged = await startServer(options(dir)).catch((e: unknown) => e);
    expect(DatabaseError.is(damaged)).toBe(true);
    expect((damaged as Error).message).toBe('the Vault database is damaged (PRAGMA quick_check failed)');

    const other = tempDir();
    writeFileSync(join(other, 'vault.sqlite'), Buffer.alloc(8192, 0x42));
    writeFileSync(join(other, 'master.key'), `${Buffer.alloc(32, 1).toString('base64')}\n`, { mode: 0o600 });
    const garbage = await startServer(options(other)).catch((e: unknown) => e);
    expect(DatabaseError.is(garbage)).toBe(true);
    expect((garbage as Error).message).toBe('the Vault database is damaged or not a SQLite database');
  });
});

describe('one server per data directory (F6)', () => {
  test('a second server or handler on the same directory refuses to start; the first keeps working; close frees it', async () => {
    const dir = tempDir();
    const a = await startServer(options(dir));
    try {
      const message =
        `another vault-envelope-server is using the data directory ${dir} (it holds ${join(dir, 'vault.lock')}): ` +
        'stop it, or give this one another data directory';
      const second = await startServer(options(dir)).catch((e: unknown) => e);
      expect(DatabaseError.is(second)).toBe(true);
      expect((second as Error).message).toBe(message);
      expect(() => createVaultHandler({ dataDir: dir, apiKeys: ['sk_test'] })).toThrow(message);
      // A refused attempt closing its own connection to the lock file does not release the lock.
      expect(() => createVaultHandler({ dataDir: dir, apiKeys: ['sk_test'] })).toThrow(message);
      expect((await client(a)('POST', KV, { name: 'still', value: 'v', key_context: {} })).status).toBe(201);
    } finally {
      await a.close();
    }
    const h = createVaultHandler({ dataDir: dir, apiKeys: ['sk_test'] });
    h.close();
    // A closed handler releases the directory too.
    createVaultHandler({ dataDir: dir, apiKeys: ['sk_test'] }).close();
  });

  test('a claim left by a server killed mid-request does not block the key after a restart', async () => {
    const { dir } = await populated();
    const a = await startServer(options(dir));
    const scope = (await client(a)('GET', `${KV}?limit=1`)).body.data[0].id as string;
    const actor = (await client(a)('GET', `${KV}/${scope}/metadata`)).body.metadata.updated_by.id as string;
    await a.close();
    // What a kill -9 between the claim and the answer leaves: the request's row without an answer
    // (status 0), with the fingerprint of the request (SHA-256 of method, path and body).
    const body = JSON.stringify({ name: 'after-kill', value: 'v', key_context: {} });
    const print = createHash('sha256').update(`POST ${KV}\n${body}`).digest('base64');
    const db = new Database(join(dir, 'vault.sqlite'));
    db.prepare(
      'INSERT INTO idempotency (scope, key, fingerprint, status, body, created_at) VALUES (?, ?, ?, 0, ?, ?)',
    ).run(actor, 'k-killed', print, '', Date.now());
    db.close();
    const b = await startServer(options(dir));
    try {
      const r = await client(b)('POST', KV, body, { 'Idempotency-Key': 'k-killed' });
      expect(r.status).toBe(201);
      const again = await client(b)('POST', KV, body, { 'Idempotency-Key': 'k-killed' });
      expect(again.status).toBe(201);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
    } finally {
      await b.close();
    }
  });
});

describe('updated_by.id', () => {
  test('a keyed MAC of the API key: stable across restarts, unrelated to its hash, another per master key', async () => {
    const dir = tempDir();
    const idOf = async (dataDir: string, name: string) => {
      const s = await startServer(options(dataDir));
      try {
        return (await client(s)('POST', KV, { name, value: 'v', key_context: {} })).body.updated_by
          .id as string;
      } finally {
        await s.close();
      }
    };
    const first = await idOf(dir, 'a');
    expect(first).toMatch(/^key_[0-9a-f]{26}$/);
    expect(await idOf(dir, 'b')).toBe(first);
    expect(first).not.toBe(`key_${createHash('sha256').update('sk_test').digest('hex').slice(0, 26)}`);
    expect(await idOf(tempDir(), 'a')).not.toBe(first);
  });
});

describe('the CLI process', () => {
  test('an acknowledged write survives kill -9 and a restart', async () => {
    const dir = tempDir();
    const args = ['--port', '0', '--data-dir', dir, '--api-key', 'sk_test', '--quiet'];
    const first = await spawnCli(args);
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await call(first.url, 'POST', KV, {
        name: `k9-${i}`,
        value: `value-${i}`,
        key_context: { i: String(i) },
      });
      expect(r.status).toBe(201);
      ids.push(r.body.id);
    }
    const u = await call(first.url, 'PUT', `${KV}/${ids[0]}`, { value: 'updated' });
    expect(u.status).toBe(201);
    first.child.kill('SIGKILL');
    expect((await exited(first.child)).signal).toBe('SIGKILL');

    const second = await spawnCli(args);
    try {
      for (let i = 0; i < 20; i++) {
        const r = await call(second.url, 'GET', `${KV}/${ids[i]}`);
        expect(r.status).toBe(200);
        expect(r.body.value).toBe(i === 0 ? 'updated' : `value-${i}`);
      }
    } finally {
      second.child.kill('SIGKILL');
      await exited(second.child);
    }
  });

  test('SIGTERM stops gracefully with exit code 0; env variables configure it; no key: a dev key is printed', async () => {
    const run = await spawnCli([], { VAULT_PORT: '0', VAULT_MEMORY: '1', VAULT_API_KEYS: '' });
    expect(run.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await new Promise((r) => setTimeout(r, 50));
    const keyLine = run.lines.find((l) => l.startsWith('development API key: '));
    expect(keyLine).toMatch(/sk_dev_/);
    const key = keyLine!.slice('development API key: '.length);
    expect((await call(run.url, 'GET', KV, undefined, {}, key)).status).toBe(200);
    run.child.kill('SIGTERM');
    expect(await exited(run.child)).toEqual({ code: 0, signal: null });
  });

  test('VAULT_API_KEYS takes a comma-separated list', async () => {
    const run = await spawnCli(['--port', '0', '--memory'], { VAULT_API_KEYS: 'sk_a, sk_b' });
    try {
      expect((await call(run.url, 'GET', KV, undefined, {}, 'sk_b')).status).toBe(200);
      expect((await call(run.url, 'GET', KV, undefined, {}, 'sk_c')).status).toBe(401);
      expect(run.lines.join('\n')).not.toContain('sk_a');
    } finally {
      run.child.kill('SIGTERM');
      await exited(run.child);
    }
  });

  test('a second CLI on the same data directory exits with a clear message; the lock does not outlive kill -9', async () => {
    const dir = tempDir();
    const args = ['--port', '0', '--data-dir', dir, '--quiet'];
    const env = { VAULT_API_KEYS: 'sk_test' };
    const first = await spawnCli(args, env);
    const refused = await spawnCli(args, env).catch((e: unknown) => e);
    expect((refused as Error).message).toContain('CLI exited with 1');
    expect((refused as Error).message).toContain(
      `another vault-envelope-server is using the data directory ${dir}`,
    );
    first.child.kill('SIGKILL');
    await exited(first.child);
    const third = await spawnCli(args, env);
    try {
      expect((await call(third.url, 'GET', KV)).status).toBe(200);
    } finally {
      third.child.kill('SIGTERM');
      await exited(third.child);
    }
  });

  test('--api-key-file and VAULT_API_KEY_FILE: one key a line, comments skipped; --api-key warns', async () => {
    const dir = tempDir();
    const file = join(dir, 'keys');
    writeFileSync(file, '# local keys\nsk_file_one\n\n  sk_file_two  \n', { mode: 0o600 });
    const run = await spawnCli(['--port', '0', '--memory', '--api-key-file', file]);
    try {
      expect((await call(run.url, 'GET', KV, undefined, {}, 'sk_file_two')).status).toBe(200);
      expect((await call(run.url, 'GET', KV, undefined, {}, 'sk_file_one')).status).toBe(200);
      expect((await call(run.url, 'GET', KV, undefined, {}, '# local keys')).status).toBe(401);
      expect(run.lines).toContain('API keys: 2 configured');
      expect(run.stderr()).toBe('');
    } finally {
      run.child.kill('SIGTERM');
      await exited(run.child);
    }
    chmodSync(file, 0o644);
    const env = await spawnCli(['--port', '0', '--memory'], {
      VAULT_API_KEY_FILE: file,
      VAULT_API_KEYS: 'sk_env',
    });
    try {
      expect((await call(env.url, 'GET', KV, undefined, {}, 'sk_env')).status).toBe(200);
      expect((await call(env.url, 'GET', KV, undefined, {}, 'sk_file_one')).status).toBe(200);
      expect(env.stderr()).toContain(`warning: ${file} is readable by other users (mode 0644): chmod 600 it`);
    } finally {
      env.child.kill('SIGTERM');
      await exited(env.child);
    }
    const flag = await spawnCli(['--port', '0', '--memory', '--api-key', 'sk_flag_secret']);
    try {
      await new Promise((r) => setTimeout(r, 50));
      expect(flag.stderr()).toContain('warning: --api-key puts the key in the command line');
      expect(flag.stderr()).not.toContain('sk_flag_secret');
    } finally {
      flag.child.kill('SIGTERM');
      await exited(flag.child);
    }
    const missing = await spawnCli(['--port', '0', '--memory', '--api-key-file', join(dir, 'nope')]).catch(
      (e: unknown) => e,
    );
    expect((missing as Error).message).toContain(`cannot read --api-key-file ${join(dir, 'nope')}: ENOENT`);
    writeFileSync(join(dir, 'empty'), '# nothing\n', { mode: 0o600 });
    const empty = await spawnCli(['--port', '0', '--memory', '--api-key-file', join(dir, 'empty')]).catch(
      (e: unknown) => e,
    );
    expect((empty as Error).message).toContain(`--api-key-file ${join(dir, 'empty')} holds no API key`);
  });

  test('replays of the key routes keep no data key in memory as text (a heap snapshot of the server has none)', async () => {
    const cwd = tempDir();
    const run = await spawnCli(
      ['--port', '0', '--memory', '--quiet'],
      { VAULT_API_KEYS: 'sk_test' },
      {
        nodeArgs: ['--heapsnapshot-signal=SIGUSR2'],
        cwd,
      },
    );
    try {
      const body = { context: { org: 'heap' } };
      const first = await call(run.url, 'POST', '/vault/v1/keys/data-key', body, {
        'Idempotency-Key': 'heap-1',
      });
      const replay = await call(run.url, 'POST', '/vault/v1/keys/data-key', body, {
        'Idempotency-Key': 'heap-1',
      });
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.body.data_key).toBe(first.body.data_key);
      const unwrap = await call(
        run.url,
        'POST',
        '/vault/v1/keys/decrypt',
        { keys: first.body.encrypted_keys },
        {
          'Idempotency-Key': 'heap-2',
        },
      );
      expect(unwrap.body.data_key).toBe(first.body.data_key);
      run.child.kill('SIGUSR2');
      // The snapshot is JSON; it is complete once it parses.
      let text = '';
      for (let i = 0; i < 200; i++) {
        await new Promise((r) => setTimeout(r, 50));
        const file = readdirSync(cwd).find((f) => f.endsWith('.heapsnapshot'));
        if (file === undefined) continue;
        text = readFileSync(join(cwd, file), 'utf8');
        if (text.trimEnd().endsWith(']}')) break;
      }
      expect(text.length).toBeGreaterThan(100_000);
      // (Booleans, not toContain: a failure must not print a snapshot of several megabytes.)
      expect(text.includes('vault-envelope-server')).toBe(true);
      expect(text.includes(first.body.data_key)).toBe(false);
    } finally {
      run.child.kill('SIGKILL');
      await exited(run.child);
    }
  });
});
