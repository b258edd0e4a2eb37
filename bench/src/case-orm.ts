/**
 * Case 7: the ORM integrations. A page of 1,000 rows (three encrypted text columns each) read
 * from SQLite through each adapter (`@vault-envelope/drizzle`'s `read`, `@vault-envelope/kysely`'s
 * tenant plugin) beside the same query decrypted by hand, row by row, with `decryptFields`
 * (all rows at once, `Promise.all`), and in one `decryptFieldsMany` call, with a warm key cache,
 * in two layouts:
 *
 * - **one data key per row** (each row written on its own, uncached): nothing to share, so this
 *   is the adapter's overhead over the hand-written loop; target: at most 10% more.
 * - **many rows per data key** (the rows written in batches of 100, ten data keys): the adapter
 *   decrypts the page in one batch, one key lookup per data key, where the hand-written loop
 *   asks the cache once per row; target: faster than the hand-written loop.
 *
 * The hand-written path uses the same ORM with the columns declared as plain text (what a Drizzle
 * or Kysely application does without an integration), so both sides pay the ORM's own cost. A
 * third contender per ORM decrypts the same plain query's page in one `decryptFieldsMany` call
 * (one batch, as the adapters do), what an application without an integration can write instead
 * of the loop.
 * @module
 */
import { cachedKeyProvider } from '@vault-envelope/cache';
import { Envelope, type KeyProvider, MemoryKeyProvider } from '@vault-envelope/core';
import { DrizzleVault } from '@vault-envelope/drizzle';
import { encryptedText } from '@vault-envelope/drizzle/sqlite-core';
import { KyselyVault } from '@vault-envelope/kysely';
import Database from 'better-sqlite3';
import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { Kysely, SqliteDialect } from 'kysely';
import type { RunContext } from './_context.js';
import { formatNs, formatRatio, table } from './_format.js';
import { type Contender, type MeasureSettings, measureGroup, pairedRatio } from './_measure.js';
import type { TargetCheck } from './_targets.js';

/** One contender's figure in one layout. */
export interface OrmRow {
  layout: OrmLayout;
  id: string;
  label: string;
  /** Median time to read and decrypt the page, in ns. */
  pageNs: number;
  /** Its time over the hand-written path of the same ORM, paired by round. */
  vsHand: number | undefined;
}

/** How the page's rows share data keys. */
export type OrmLayout = 'key-per-row' | 'rows-per-key';

/** The result of case 7. */
export interface OrmResult {
  rows: number;
  columns: number;
  rowsPerKey: Record<OrmLayout, number>;
  results: OrmRow[];
}

const ROWS = 1000;
const FIELDS = ['ssn', 'dob', 'email'] as const;
const TENANT = 'org_1';

const users = sqliteTable('users', {
  id: integer('id').primaryKey(),
  orgId: text('org_id').notNull(),
  name: text('name').notNull(),
  ssn: encryptedText('ssn').notNull(),
  dob: encryptedText('dob').notNull(),
  email: encryptedText('email').notNull(),
});
/** The same table with the columns as plain text: the hand-written path. */
const usersPlain = sqliteTable('users', {
  id: integer('id').primaryKey(),
  orgId: text('org_id').notNull(),
  name: text('name').notNull(),
  ssn: text('ssn').notNull(),
  dob: text('dob').notNull(),
  email: text('email').notNull(),
});

interface DB {
  users: { id: number; org_id: string; name: string; ssn: string; dob: string; email: string };
}

/** Fills a database with ROWS rows, `perKey` rows under each data key. */
async function fill(keys: KeyProvider, perKey: number): Promise<Database.Database> {
  const db = new Database(':memory:');
  db.exec(
    'CREATE TABLE users (id INTEGER PRIMARY KEY, org_id TEXT NOT NULL, name TEXT NOT NULL, ssn TEXT NOT NULL, dob TEXT NOT NULL, email TEXT NOT NULL)',
  );
  const insert = db.prepare('INSERT INTO users VALUES (@id, @org_id, @name, @ssn, @dob, @email)');
  const tables = new KyselyVault({ keys, tables: [declaration] });
  const scope = tables.forTenant(TENANT);
  for (let start = 0; start < ROWS; start += perKey) {
    const batch = Array.from({ length: perKey }, (_, j) => {
      const i = start + j;
      return {
        id: i,
        org_id: TENANT,
        name: `User ${i}`,
        ssn: `${100 + (i % 800)}-${10 + (i % 89)}-${String(i).padStart(4, '0')}`,
        dob: `19${40 + (i % 60)}-0${1 + (i % 9)}-1${i % 9}`,
        email: `user.${i}@example.com`,
      };
    });
    // One encrypt call per batch: one data key each (the provider is not cached).
    for (const row of await scope.encrypt('users', batch)) insert.run(row);
  }
  return db;
}

const declaration = {
  table: 'users',
  id: 'id',
  tenant: 'org_id',
  context: ({ tenant }: { tenant: string | undefined }) => ({ organization_id: tenant! }),
  columns: { ssn: 'text', dob: 'text', email: 'text' },
} as const;

/** The contenders of one layout, each checked to return the page's plaintexts. */
async function contenders(db: Database.Database, keys: KeyProvider): Promise<Contender[]> {
  const envelope = new Envelope({ keys, requireTenant: true });
  const ddb = drizzle({ client: db });
  const dvault = new DrizzleVault({
    keys,
    tables: [{ table: users, tenant: users.orgId, context: declaration.context }],
  }).forTenant(TENANT);
  const kvault = new KyselyVault<DB>({ keys, tables: [declaration] });
  const kdb = new Kysely<DB>({ dialect: new SqliteDialect({ database: db }) });
  const kplugin = kdb.withPlugin(kvault.forTenant(TENANT).plugin());

  type Stored = { id: number; ssn: string; dob: string; email: string };
  const byHand = (rows: Stored[]) =>
    Promise.all(
      rows.map((r) =>
        envelope.decryptFields(r, {
          fields: FIELDS,
          id: r.id,
          tenant: TENANT,
          namespace: 'users',
        }),
      ),
    );
  // The same rows in one call: one batch for the page, as the adapters decrypt it.
  const inOneCall = async (rows: Stored[]) =>
    (
      await envelope.decryptFieldsMany(rows, {
        fields: FIELDS,
        id: 'id',
        tenant: TENANT,
        namespace: 'users',
      })
    ).map((r) => {
      if (!r.ok) throw r.error;
      return r.value;
    });
  const pages: [string, string, () => Promise<{ id: number; ssn: string }[]>][] = [
    [
      'drizzle-hand',
      'Drizzle, decryptFields per row',
      async () => byHand(await ddb.select().from(usersPlain).where(eq(usersPlain.orgId, TENANT))),
    ],
    [
      'drizzle-many',
      'Drizzle, decryptFieldsMany',
      async () => inOneCall(await ddb.select().from(usersPlain).where(eq(usersPlain.orgId, TENANT))),
    ],
    [
      'drizzle',
      'Drizzle, vault.read',
      () => dvault.read(ddb.select().from(users).where(eq(users.orgId, TENANT))),
    ],
    [
      'kysely-hand',
      'Kysely, decryptFields per row',
      async () => byHand(await kdb.selectFrom('users').selectAll().where('org_id', '=', TENANT).execute()),
    ],
    [
      'kysely-many',
      'Kysely, decryptFieldsMany',
      async () => inOneCall(await kdb.selectFrom('users').selectAll().where('org_id', '=', TENANT).execute()),
    ],
    [
      'kysely',
      'Kysely, tenant plugin',
      () => kplugin.selectFrom('users').selectAll().where('org_id', '=', TENANT).execute(),
    ],
  ];
  // Bench only what works: every contender returns the same plaintexts.
  const expected = (await pages[0]![2]()).map((r) => `${r.id}:${r.ssn}`).join();
  for (const [id, , page] of pages) {
    const got = (await page()).map((r) => `${r.id}:${r.ssn}`).join();
    if (got !== expected) throw new Error(`case orm: ${id} returned another page`);
  }
  return pages.map(([id, label, page]) => ({
    id,
    label,
    loop: async (n: number) => {
      for (let i = 0; i < n; i++) await page();
    },
  }));
}

/**
 * Runs case 7.
 * @param ctx - The run.
 * @returns Its figures.
 */
export async function runOrmCase(ctx: RunContext): Promise<OrmResult> {
  // A page takes milliseconds: longer rounds and samples than the hot path's.
  const settings: MeasureSettings = {
    rounds: ctx.quick ? 7 : 15,
    timeMs: ctx.quick ? 60 : 200,
    warmupMs: ctx.quick ? 20 : 50,
    sampleNs: 5_000_000,
    ...(ctx.settings.clock === undefined ? {} : { clock: ctx.settings.clock }),
  };
  const rowsPerKey: Record<OrmLayout, number> = { 'key-per-row': 1, 'rows-per-key': 100 };
  const results: OrmRow[] = [];
  for (const layout of ['key-per-row', 'rows-per-key'] as const) {
    ctx.log(`case 7: ${layout}`);
    const memory = new MemoryKeyProvider();
    const db = await fill(memory, rowsPerKey[layout]);
    // Warm: the cache holds every data key of the page before the rounds start (the checks
    // and the calibration read the page).
    const keys = cachedKeyProvider(memory, { maxAge: 10 * 60_000, capacity: 4 * ROWS });
    try {
      const group = await contenders(db, keys);
      const m = await measureGroup(group, settings);
      const byId = new Map(m.map((x) => [x.id, x]));
      for (const x of m) {
        // Each contender over its own ORM's hand-written loop ('drizzle-many' over 'drizzle-hand').
        const hand = x.id.endsWith('-hand') ? undefined : byId.get(`${x.id.split('-')[0]}-hand`);
        results.push({
          layout,
          id: x.id,
          label: x.label,
          pageNs: x.medianNs,
          vsHand: hand === undefined ? undefined : 1 / pairedRatio(x, hand),
        });
      }
    } finally {
      keys.close();
      db.close();
    }
  }
  return { rows: ROWS, columns: FIELDS.length, rowsPerKey, results };
}

/**
 * Table of case 7.
 * @param result - The figures.
 * @returns The text.
 */
export function ormTable(result: OrmResult): string {
  const out: string[] = [];
  for (const layout of ['key-per-row', 'rows-per-key'] as const) {
    out.push(
      `\n${result.rows} rows × ${result.columns} encrypted columns, ${result.rowsPerKey[layout]} row(s) per data key, warm cache`,
      table(
        [
          ['path', 'page', 'per row', 'vs by hand'],
          ...result.results
            .filter((r) => r.layout === layout)
            .map((r) => [
              r.label,
              formatNs(r.pageNs),
              formatNs(r.pageNs / result.rows),
              r.vsHand === undefined ? '-' : formatRatio(r.vsHand),
            ]),
        ],
        new Set([1, 2, 3]),
      ),
    );
  }
  return out.join('\n');
}

/**
 * The targets of case 7: each adapter at most 10% slower than by hand with a key per row, and
 * faster than by hand with many rows per key.
 * @param result - The figures, if the case ran.
 * @returns One check per adapter and layout.
 */
export function ormTargets(result: OrmResult | undefined): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const id of ['drizzle', 'kysely']) {
    for (const [layout, bound] of [
      ['key-per-row', 1.1],
      ['rows-per-key', 1],
    ] as const) {
      const r = result?.results.find((x) => x.id === id && x.layout === layout);
      const got = r?.vsHand ?? null;
      checks.push({
        id: `orm-${id}-${layout}`,
        description: `${id} page of 1,000 rows, ${layout === 'key-per-row' ? 'a data key per row' : '100 rows per data key'}: time over decryptFields by hand`,
        want: layout === 'key-per-row' ? '<= 1.1' : '< 1.0',
        got: got === null ? null : Math.round(got * 1000) / 1000,
        met: got === null ? null : layout === 'key-per-row' ? got <= bound : got < bound,
        unit: '×',
      });
    }
  }
  return checks;
}
