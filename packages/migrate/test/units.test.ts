/**
 * The engine's small parts, on their own: the cursor's encoding in the checkpoint, templates,
 * placeholders, the concurrency limit, the progress views, and the error guards.
 */
import { Writable } from 'node:stream';
import { MemoryKeyProvider } from '@vault-envelope/core';
import {
  __TESTS,
  CheckpointError,
  DriverMissingError,
  MigrateError,
  migrateTable,
  parseContextTemplate,
  parseDatabase,
  parseTemplate,
  RowError,
  SchemaError,
  sqliteAdapter,
  TemplateError,
} from '@vault-envelope/migrate';
import { startPostgres } from '@vault-envelope/test-services';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

const { Limiter, progressView, decodeKey, encodeKey, numberPlaceholders } = __TESTS;

describe('the cursor in the checkpoint', () => {
  test('any key (strings, numbers, bigints, bytes, nulls) round-trips with its types (property)', () => {
    const value = fc.oneof(
      fc.string(),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
      fc.bigInt(),
      fc.uint8Array().map((b) => new Uint8Array(b)),
      fc.constant(null),
    );
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 4 }), (key) => {
        expect(decodeKey(encodeKey(key))).toEqual(key);
      }),
    );
  });

  test('text it did not write is refused', () => {
    expect(() => decodeKey('[{"q":1}]')).toThrow('not a key');
    expect(() => decodeKey('{}')).toThrow();
  });
});

describe('templates', () => {
  test('literal text with doubled braces and column references renders from the row (property)', () => {
    const lit = fc.string().filter((s) => !s.includes('{') && !s.includes('}'));
    fc.assert(
      fc.property(lit, lit, fc.string({ minLength: 1 }), (a, b, v) => {
        const t = parseTemplate(`${a}{{x}}{col}${b}`, 't');
        expect(t.columns).toEqual(['col']);
        expect(t.render({ col: v })).toBe(`${a}{x}${v}${b}`);
      }),
    );
  });

  test('a context template renders a checked key context; NULL and bad values fail the row', () => {
    const t = parseContextTemplate(['organization_id={org_id}', 'region=eu,tier={tier}'], 'context');
    expect(t.columns).toEqual(['org_id', 'tier']);
    expect(t.render({ org_id: 'org_1', tier: 3n })).toEqual({
      organization_id: 'org_1',
      region: 'eu',
      tier: '3',
    });
    expect(() => t.render({ org_id: null, tier: 1 })).toThrow(new RowError('column org_id is NULL'));
    expect(() => t.render({ org_id: new Uint8Array(1), tier: 1 })).toThrow(
      'column org_id holds bytes, not text',
    );
    expect(() => t.render({ org_id: 'x'.repeat(501), tier: 1 })).toThrow(RowError);
  });

  test.each([
    ['{org_id', 'context a has a { without its }: {org_id'],
    ['x}', 'context a has a } without its {: x} (write }} for a brace)'],
    ['{}', 'context a has an empty or nested {} reference: {}'],
  ])('malformed template %s is a TemplateError', (tpl, message) => {
    expect(() => parseContextTemplate(`a=${tpl}`, 'context')).toThrow(new TemplateError(message));
  });

  test('malformed entries are TemplateErrors', () => {
    expect(() => parseContextTemplate('noequals', 'context')).toThrow(
      'context entry must be name=template, got noequals',
    );
    expect(() => parseContextTemplate('a=1,a=2', 'context')).toThrow('context names a twice');
    expect(() => parseContextTemplate('a\u0000b=1', 'context')).toThrow(TemplateError);
  });
});

describe('SQL', () => {
  test('? becomes $n outside quotes', () => {
    expect(numberPlaceholders(`SELECT "a?" FROM t WHERE b = ? AND c = '?' AND d IN (?, ?)`)).toBe(
      `SELECT "a?" FROM t WHERE b = $1 AND c = '?' AND d IN ($2, $3)`,
    );
  });

  test('connection strings', () => {
    expect(parseDatabase('sqlite:./a.db')).toEqual({ kind: 'sqlite', location: './a.db' });
    expect(parseDatabase('sqlite::memory:')).toEqual({ kind: 'sqlite', location: '' });
    expect(parseDatabase('data/app.sqlite3')).toEqual({ kind: 'sqlite', location: 'data/app.sqlite3' });
    expect(parseDatabase('postgresql://u@h/db')).toEqual({
      kind: 'postgres',
      location: 'postgresql://u@h/db',
    });
    expect(parseDatabase('pglite:./pg')).toEqual({ kind: 'pglite', location: './pg' });
    expect(() => parseDatabase('app')).toThrow(TypeError);
  });
});

describe('the concurrency limit', () => {
  test('never more than n tasks in flight, every task runs, in order of arrival (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.nat(3), { maxLength: 30 }),
        async (n, delays) => {
          const limiter = new Limiter(n);
          let active = 0;
          let peak = 0;
          const started: number[] = [];
          await Promise.all(
            delays.map((d, i) =>
              limiter.run(async () => {
                started.push(i);
                active++;
                peak = Math.max(peak, active);
                for (let k = 0; k < d; k++) await Promise.resolve();
                active--;
              }),
            ),
          );
          expect(peak).toBeLessThanOrEqual(n);
          expect(started).toEqual(delays.map((_, i) => i));
        },
      ),
    );
  });

  test('the engine keeps key calls within its concurrency', async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, org TEXT, v TEXT)');
    for (let i = 1; i <= 60; i++) db.prepare('INSERT INTO t VALUES (?, ?, ?)').run(i, `org_${i}`, `v${i}`);
    const inner = new MemoryKeyProvider();
    let active = 0;
    let peak = 0;
    const keys = {
      async createDataKey(c: Record<string, string>) {
        active++;
        peak = Math.max(peak, active);
        await new Promise((r) => setTimeout(r, 2));
        active--;
        return inner.createDataKey(c);
      },
      decryptDataKey: (b: Uint8Array) => inner.decryptDataKey(b),
    };
    const r = await migrateTable({
      db: sqliteAdapter(db),
      keys,
      mode: 'encrypt',
      table: 't',
      columns: ['v'],
      context: 'organization_id={org}',
      concurrency: 3,
    });
    expect(r.keyCalls.createDataKey).toBe(60);
    expect(peak).toBe(3);
  });
});

describe('progress views', () => {
  const p = { rows: 500, total: 1000, changedRows: 500, failedRows: 0, elapsedMs: 250 };

  test('a bar with rows/s and ETA on a terminal', () => {
    let out = '';
    const stream = Object.assign(
      new Writable({
        write(chunk: Buffer, _e: string, cb: () => void) {
          out += chunk.toString();
          cb();
        },
      }),
      { isTTY: true, columns: 120, cursorTo() {}, clearLine() {}, moveCursor() {} },
    );
    const view = progressView('encrypt users', 'tty', () => {}, stream);
    view.update(p);
    view.update({ ...p, rows: 1000, elapsedMs: 500 });
    view.stop();
    expect(out).toMatch(/encrypt users \[.*\] 100% \| 1000\/1000 rows \| 2000 rows\/s \| ETA 0s/);
  });

  test('plain lines and JSON lines otherwise', () => {
    const lines: string[] = [];
    progressView('encrypt users', 'plain', (l) => lines.push(l)).update(p);
    expect(lines).toEqual(['encrypt users: 500/1000 rows (50%), 2000 rows/s, ETA 0s']);
    const json: string[] = [];
    progressView('x', 'json', (l) => json.push(l)).update(p);
    expect(JSON.parse(json[0]!)).toEqual({ type: 'progress', ...p, rate: 2000, eta: 0 });
  });
});

describe('the test services', () => {
  test('a machine without the PostgreSQL server binaries is a failure saying what to install, never a skip', async () => {
    await expect(startPostgres({ bin: '/nonexistent/postgresql/bin' })).rejects.toThrow(
      "PostgreSQL's initdb is not in /nonexistent/postgresql/bin: install the server with apt-get install postgresql (or set VAULT_ENVELOPE_PG_BIN)",
    );
  });
});

describe('errors', () => {
  test('each guard narrows to its class, works unbound and across copies (by brand)', () => {
    const errors = [
      new SchemaError('s'),
      new TemplateError('t'),
      new CheckpointError('c'),
      new DriverMissingError('pg'),
      new Error('other'),
    ];
    expect(errors.filter(MigrateError.is)).toHaveLength(4);
    expect(errors.filter(SchemaError.is)).toEqual([errors[0]]);
    expect(errors.filter(TemplateError.is)).toEqual([errors[1]]);
    expect(errors.filter(CheckpointError.is)).toEqual([errors[2]]);
    expect(errors.filter(DriverMissingError.is)).toEqual([errors[3]]);
    const foreign = Object.assign(new Error('x'), {
      code: 'SCHEMA',
      [Symbol.for('vault-envelope.MigrateError')]: true,
    });
    expect(SchemaError.is(foreign)).toBe(true);
    expect(SchemaError.is({ code: 'SCHEMA', name: 'SchemaError' })).toBe(false);
    expect(errors[3]!.message).toBe('this database needs the pg package: npm install pg');
  });
});
