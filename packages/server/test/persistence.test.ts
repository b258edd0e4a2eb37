/**
 * Storage: restart with a data directory keeps objects and keys; an acknowledged write survives
 * `kill -9` of the CLI process; the master key file is private and checked; no value or data key
 * is ever written to disk in plaintext.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DatabaseError, MasterKeyError, startServer, VaultServerError } from '@vault-envelope/server';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, test } from 'vitest';
import { call, client } from './_helpers.js';

const BIN = fileURLToPath(new URL('../bin/vault-envelope-server.js', import.meta.url));
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

/** Spawns the CLI and resolves with its URL (the first line it prints). */
async function spawnCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string; lines: string[] }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const rl = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    rl.on('line', (line) => {
      lines.push(line);
      if (lines.length === 1) resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`CLI exited with ${code}: ${stderr}`)));
  });
  return { child, url, lines };
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

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
});
