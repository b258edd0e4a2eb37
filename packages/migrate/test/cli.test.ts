/**
 * The `vault-envelope` command as a user runs it: jobs on a SQLite file and a PGlite directory
 * against the local server, single values through stdin, exit codes, and bad input as one line.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Envelope, fieldAad } from '@vault-envelope/core';
import { VaultClient } from '@vault-envelope/remote';
import type { RunningServer } from '@vault-envelope/server';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BIN, cli, envFor, localVault } from './_cli.js';
import { user } from './_db.js';

let server: RunningServer;
let dir: string;
let env: Record<string, string | undefined>;

beforeAll(async () => {
  server = await localVault();
  dir = mkdtempSync(join(tmpdir(), 've-cli-'));
  env = envFor(server);
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

let files = 0;
function sqliteUsers(n: number): string {
  const file = join(dir, `app-${++files}.db`);
  const db = new Database(file);
  db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, org_id TEXT, ssn TEXT, email TEXT, email_idx TEXT)');
  const insert = db.prepare('INSERT INTO users (id, org_id, ssn, email) VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (let i = 1; i <= n; i++) insert.run(i, user(i).org_id, user(i).ssn, user(i).email);
  })();
  db.close();
  return file;
}

const vault = () => new VaultClient({ apiKey: server.apiKeys[0]!, baseUrl: server.url });

describe('migrate on a SQLite file', () => {
  test('encrypt, verify, a plaintext value found by verify (exit 3), and a resumed run that finds the job done', async () => {
    const file = sqliteUsers(300);
    const base = ['--db', `sqlite:${file}`, '--table', 'users', '--namespace', 'users'];
    const enc = await cli(
      [
        'migrate',
        'encrypt',
        ...base,
        '--columns',
        'ssn,email',
        '--context',
        'organization_id={org_id}',
        '--batch-size',
        '100',
      ],
      env,
    );
    // Not a terminal: plain progress lines on stderr, the last one at 100%.
    expect(enc.stderr).toMatch(/^(encrypt users: \d+\/300 rows \(\d+%\), \d+ rows\/s, ETA \S+\n)+$/);
    expect(enc.stderr).toMatch(/300\/300 rows \(100%\)/);
    expect(enc.code).toBe(0);
    expect(enc.stdout).toMatch(
      /^encrypt users: 300 rows; values: 600 changed; 0 rows with problems; 0 conflicts; \d+ Vault calls; [\d.]+ s \(\d+ rows\/s\); complete\n$/,
    );
    const db = new Database(file);
    const row = db.prepare('SELECT ssn FROM users WHERE id = 5').get() as { ssn: string };
    const envelope = new Envelope({ keys: vault() });
    expect(
      await envelope.decryptToString(row.ssn, { aad: fieldAad({ id: 5, field: 'ssn', namespace: 'users' }) }),
    ).toBe(user(5).ssn);

    const ok = await cli(['migrate', 'verify', ...base, '--columns', 'ssn,email'], env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^verify users: 300 rows; values: 600 ok; 0 rows with problems;/);

    db.prepare('UPDATE users SET ssn = ? WHERE id = 42').run('123-45-6789');
    db.close();
    const bad = await cli(['migrate', 'verify', ...base, '--columns', 'ssn,email'], env);
    expect(bad.code).toBe(3);
    expect(bad.stdout).toMatch(/values: 599 ok, 1 not encrypted; 1 row with problems/);
    expect(bad.stderr).toMatch(/\n {2}row 42: ssn not encrypted\n$/);
    expect(bad.stdout + bad.stderr).not.toContain('123-45-6789');

    const json = await cli(['--json', 'migrate', 'verify', ...base, '--columns', 'ssn'], env);
    const report = JSON.parse(json.stdout) as {
      type: string;
      values: { plaintext: number };
      problems: { key: string[] }[];
    };
    expect(report.type).toBe('report');
    expect(report.values.plaintext).toBe(1);
    expect(report.problems[0]!.key).toEqual(['42']);
    expect(
      json.stderr
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).type),
    ).toContain('progress');
  });

  test('dry run, rekey and reencrypt', async () => {
    const file = sqliteUsers(120);
    const base = ['--db', file, '--table', 'users', '--columns', 'ssn', '--namespace', 'users'];
    const dry = await cli(
      ['migrate', 'encrypt', ...base, '--context', 'organization_id={org_id}', '--dry-run'],
      env,
    );
    expect(dry.stdout).toMatch(/^encrypt \(dry run\) users: 120 rows; values: 120 would change;/);
    expect(dry.stdout).toMatch(/; 0 Vault calls;/);
    await cli(['migrate', 'encrypt', ...base, '--context', 'organization_id={org_id}'], env);
    const rekey = await cli(
      ['migrate', 'rekey', ...base, '--context', 'organization_id={org_id},region=eu'],
      env,
    );
    expect(rekey.code).toBe(0);
    expect(rekey.stdout).toMatch(/values: 120 changed;/);
    const re = await cli(['migrate', 'reencrypt', ...base, '--context', 'organization_id={org_id}'], env);
    expect(re.code).toBe(0);
    expect(re.stdout).toMatch(/values: 120 changed;/);
    const v = await cli(['migrate', 'verify', ...base], env);
    expect(v.code).toBe(0);
  });

  test('index-key create stores a root key in Vault; reindex and verify use it', async () => {
    const file = sqliteUsers(50);
    const created = await cli(
      ['index-key', 'create', '--name', 'blind-index/users.email', '--context', 'app=test'],
      env,
    );
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^created blind-index\/users\.email \(object .+\)\n$/);
    const stored = await vault().readObjectByName('blind-index/users.email');
    expect(Buffer.from(stored.value, 'base64')).toHaveLength(32);
    expect(created.stdout).not.toContain(stored.value);
    const base = [
      '--db',
      file,
      '--table',
      'users',
      '--index',
      'email=email_idx',
      '--index-key-object',
      'blind-index/users.email',
      '--normalize',
      'trim-lowercase',
      '--index-version',
      '1',
    ];
    const ri = await cli(['migrate', 'reindex', ...base], env);
    expect(ri.code).toBe(0);
    expect(ri.stdout).toMatch(/values: 50 changed;/);
    const db = new Database(file);
    expect(
      (db.prepare('SELECT email_idx FROM users WHERE id = 1').get() as { email_idx: string }).email_idx,
    ).toMatch(/^v1:[0-9a-f]{16}$/);
    db.close();
    const v = await cli(['migrate', 'verify', ...base, '--columns', 'email'], env);
    expect(v.stdout).toMatch(/values: 50 ok, 50 not encrypted/);
    expect(v.code).toBe(3);
  });

  test('bad input is one line and exit code 2', async () => {
    const file = sqliteUsers(3);
    const base = ['--db', file, '--namespace', 'users'];
    const cases: [string[], Record<string, string | undefined>, string][] = [
      [
        ['migrate', 'verify', ...base, '--table', 'people', '--columns', 'ssn'],
        env,
        'table people does not exist',
      ],
      [
        ['migrate', 'verify', ...base, '--table', 'users', '--columns', 'ssn,phone'],
        env,
        'table users has no column phone',
      ],
      [
        [
          'migrate',
          'encrypt',
          ...base,
          '--table',
          'users',
          '--columns',
          'ssn',
          '--context',
          'organization_id={org}',
        ],
        env,
        'context template names column org, which table users does not have',
      ],
      [
        [
          'migrate',
          'encrypt',
          ...base,
          '--table',
          'users',
          '--columns',
          'ssn',
          '--context',
          'organization_id={org_id',
        ],
        env,
        'context organization_id has a { without its }: {org_id',
      ],
      [
        ['migrate', 'verify', ...base, '--table', 'users', '--columns', 'ssn'],
        envFor(undefined),
        'no API key: set WORKOS_API_KEY or pass --api-key-file <file>',
      ],
      [
        ['migrate', 'verify', '--api-key', 'sk_x', '--db', file, '--table', 'users', '--columns', 'ssn'],
        env,
        'the API key is never taken from the command line: set WORKOS_API_KEY or pass --api-key-file <file>',
      ],
      [
        ['migrate', 'verify', '--db', 'mysql://x', '--table', 'users', '--columns', 'ssn'],
        env,
        'database must be postgres://..., pglite:<directory>, sqlite:<file> or a file ending in .db, .sqlite or .sqlite3',
      ],
      [
        ['migrate', 'verify', '--table', 'users', '--columns', 'ssn'],
        env,
        'no database: pass --db <connection string> or set DATABASE_URL',
      ],
      [
        ['migrate', 'verify', ...base, '--table', 'users', '--columns', 'ssn', '--batch-size', 'lots'],
        env,
        '--batch-size must be an integer >= 1, got lots',
      ],
      [
        ['migrate', 'verify', '--db', join(dir, 'missing.db'), '--table', 'users', '--columns', 'ssn'],
        env,
        `there is no SQLite database file at ${join(dir, 'missing.db')}`,
      ],
      [['inspect', 'not a ciphertext'], env, 'not a ciphertext: ciphertext is not valid standard base64'],
      [
        ['migrate', 'verify', ...base, '--table', 'users'],
        env,
        "required option '--columns <list>' not specified",
      ],
    ];
    for (const [args, e, message] of cases) {
      const r = await cli(args, e);
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({
        args,
        code: 2,
        stderr: `vault-envelope: ${message}\n`,
      });
    }
  });

  test('an unreachable Vault is exit code 1 with one line, and the job resumes later', async () => {
    const file = sqliteUsers(10);
    const r = await cli(
      [
        'migrate',
        'encrypt',
        '--db',
        file,
        '--table',
        'users',
        '--namespace',
        'users',
        '--columns',
        'ssn',
        '--context',
        'organization_id={org_id}',
      ],
      envFor(server, { VAULT_BASE_URL: 'http://127.0.0.1:1' }),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^vault-envelope: NetworkError: [^\n]+\n$/);
    const again = await cli(
      [
        'migrate',
        'encrypt',
        '--db',
        file,
        '--table',
        'users',
        '--namespace',
        'users',
        '--columns',
        'ssn',
        '--context',
        'organization_id={org_id}',
      ],
      env,
    );
    expect(again.stdout).toMatch(/10 rows \(resumed\); values: 10 changed/);
  });
  test('without --namespace a note says what the integrations bind; none with it, with --quiet or --json', async () => {
    const file = sqliteUsers(5);
    const args = ['migrate', 'encrypt', '--db', file, '--table', 'users', '--columns', 'ssn'];
    args.push('--context', 'organization_id={org_id}', '--dry-run');
    const note = /^vault-envelope: note: no --namespace, .*pass --namespace users for a column they read\n/;
    const bare = await cli(args, env);
    expect(bare.code).toBe(0);
    expect(bare.stderr).toMatch(note);
    const named = await cli([...args, '--namespace', 'users'], env);
    expect(named.code).toBe(0);
    expect(named.stderr).not.toContain('note:');
    const quiet = await cli(['--quiet', ...args], env);
    expect(quiet.stderr).not.toContain('note:');
    const json = await cli(['--json', ...args], env);
    expect(json.stderr).not.toContain('note:');
  });
});

describe('signals', () => {
  test('SIGTERM stops after the batch in progress: exit 130, and the next run resumes where it stopped', async () => {
    const file = sqliteUsers(20_000);
    const args = [
      'migrate',
      'encrypt',
      '--db',
      file,
      '--table',
      'users',
      '--columns',
      'ssn',
      '--context',
      'organization_id={org_id}',
      '--batch-size',
      '100',
    ];
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
      // The first progress line: the job is under way.
      // SIGTERM, as a supervisor sends it; Ctrl-C's SIGINT takes the same path.
      if (/rows \(/.test(stderr) && !child.killed) child.kill('SIGTERM');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(130);
    expect(stdout).toMatch(/; stopped; run again to resume\n$/);
    const done = Number(/^encrypt users: (\d+) rows/.exec(stdout)?.[1]);
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(20_000);
    expect(done % 100).toBe(0); // whole batches only
    const rest = await cli(args, env);
    expect(rest.code).toBe(0);
    expect(rest.stdout).toMatch(new RegExp(`^encrypt users: ${20_000 - done} rows \\(resumed\\)`));
  });
});

describe('single values', () => {
  test('encrypt from stdin, inspect, decrypt, rekey; a wrong AAD is exit code 3', async () => {
    const ct = await cli(
      ['encrypt', '--context', 'organization_id=org_1', '--aad', 'users/1/ssn'],
      env,
      '123-45-6789',
    );
    expect(ct.code).toBe(0);
    const text = ct.stdout.trim();
    const info = await cli(['inspect', text], env);
    expect(info.stdout).toMatch(/^format {12}A\n/);
    expect(info.stdout).toMatch(/keyBlobHeader {5}VES\.EKM\.v1\\x00/);
    expect(info.stdout).not.toContain('123-45-6789');
    const pt = await cli(['decrypt', '--aad', 'users/1/ssn'], env, text);
    expect(pt).toEqual({ code: 0, stdout: '123-45-6789', stderr: '' });
    const moved = await cli(['rekey', text, '--context', 'organization_id=org_2'], env);
    expect(moved.code).toBe(0);
    expect((await cli(['decrypt', moved.stdout.trim(), '--aad', 'users/1/ssn'], env)).stdout).toBe(
      '123-45-6789',
    );
    const wrong = await cli(['decrypt', text, '--aad', 'users/2/ssn'], env);
    expect(wrong).toEqual({
      code: 3,
      stdout: '',
      stderr: 'vault-envelope: decryption failed: wrong key, wrong AAD or a modified ciphertext\n',
    });
    const keyFile = join(dir, 'key.txt');
    writeFileSync(keyFile, `${server.apiKeys[0]}\n`);
    const viaFile = await cli(
      ['--api-key-file', keyFile, '--base-url', server.url, 'decrypt', text, '--aad', 'users/1/ssn'],
      envFor(undefined),
    );
    expect(viaFile.stdout).toBe('123-45-6789');
  });
});

describe('migrate on a PGlite directory', () => {
  test('the CLI opens the directory the test closed, and the test reads it back after', async () => {
    const data = join(dir, 'pgdata');
    const pg = new PGlite(data);
    await pg.exec('CREATE TABLE users (id BIGINT PRIMARY KEY, org_id TEXT NOT NULL, ssn TEXT)');
    for (let i = 1; i <= 30; i++)
      await pg.query('INSERT INTO users VALUES ($1, $2, $3)', [i, user(i).org_id, user(i).ssn]);
    await pg.close();
    const r = await cli(
      [
        'migrate',
        'encrypt',
        '--db',
        `pglite:${data}`,
        '--table',
        'users',
        '--columns',
        'ssn',
        '--context',
        'organization_id={org_id}',
        '--namespace',
        'users',
      ],
      env,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/values: 30 changed;.*complete/);
    const back = new PGlite(data);
    const rows = (await back.query<{ id: number; ssn: string }>('SELECT id, ssn FROM users ORDER BY id'))
      .rows;
    await back.close();
    const envelope = new Envelope({ keys: vault() });
    expect(
      await envelope.decryptToString(rows[9]!.ssn, {
        aad: fieldAad({ id: 10, field: 'ssn', namespace: 'users' }),
      }),
    ).toBe(user(10).ssn);
  }, 60_000);
});
