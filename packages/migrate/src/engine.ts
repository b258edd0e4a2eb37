/**
 * {@link migrateTable}: walks a table in primary-key order, batch by batch, and encrypts,
 * rekeys, re-encrypts, reindexes or verifies the listed columns of every row, while the
 * application keeps reading and writing.
 *
 * - **Resumable, exactly once.** Each batch's updates and the job's checkpoint (the last key
 *   done, the counters) are committed in one transaction, so a crash at any moment, `kill -9`
 *   included, leaves the table and the checkpoint in agreement; the next run starts after the last
 *   committed batch. No row is processed twice, none is skipped.
 * - **Compare-and-set.** Values are computed outside any transaction (the key-service calls take
 *   time); each update then applies only if the row still holds every value it was computed
 *   from (`UPDATE ... WHERE key = ? AND col IS <value read> ...`). A row the application changed
 *   in between is never overwritten: the batch is rolled back, the changed rows read again and
 *   planned again, and after a few such rounds the batch is done under lock.
 * - **Bounded key calls.** One data-key request per distinct key context in a batch (one
 *   decrypt or rekey per distinct key blob), at most `concurrency` in flight; a client's rate
 *   budget applies to each.
 * @module
 */
import {
  aboolean,
  afunction,
  aint,
  aobject,
  aoptions,
  asignal,
  atext,
  Envelope,
  type KeyProvider,
} from '@vault-envelope/core';
import { CHECKPOINT_TABLE, Checkpoint, hasCheckpointTable } from './_checkpoint.js';
import { TenantIndexes } from './_fields.js';
import { Limiter } from './_limit.js';
import {
  type IndexSpec,
  type MigrationMode,
  type Outcome,
  type Planner,
  planRows,
  type RowPlan,
} from './_plan.js';
import { decodeKey, encodeKey, keyOf, param, sameValue, type TableSql, tableSql } from './_sql.js';
import type { Row, SqlRunner, SqlValue, TableAdapter } from './adapter.js';
import { CheckpointError, SchemaError, TemplateError } from './errors.js';
import { parseContextTemplate, parseTemplate } from './template.js';

export type { MigrationMode, Outcome } from './_plan.js';

/** A blind index for `reindex` (written) and `verify` (checked). */
export interface BlindIndexColumn {
  /** The column whose plaintext is indexed (decrypted first when it holds ciphertext). */
  column: string;
  /** The column the index value is written to. */
  into: string;
  /** The index (its key, bits and normalization). */
  index: import('@vault-envelope/core').BlindIndex;
  /**
   * Key the index per row: `index.forTenant(tenant)` with the row's `tenant` (the application
   * looks rows up with the request's tenant). Needs `tenant`. @default false
   */
  perTenant?: boolean;
}

/** Options of {@link migrateTable}. */
export interface MigrateOptions {
  /** The database. */
  db: TableAdapter;
  /** Where data keys come from (a `cachedKeyProvider` over a `VaultClient`, typically). */
  keys: KeyProvider;
  /** What to do. */
  mode: MigrationMode;
  /** The table (`schema.table` on PostgreSQL), matched exactly. */
  table: string;
  /** The encrypted columns (all modes but `reindex`, where it may be empty). */
  columns?: readonly string[];
  /**
   * The key context of each row, as `name={column}` templates: the context to encrypt under
   * (`encrypt`, `reencrypt`) or to move to (`rekey`). Required by those modes.
   */
  context?: string | readonly string[];
  /** The tenant of each row as a template (`{org_id}`), bound into the field AAD. */
  tenant?: string;
  /** The namespace of the field AAD, as the application's field helpers use it. @default none */
  namespace?: string;
  /** The column whose value is the record id in the field AAD. @default the single primary-key column */
  idColumn?: string;
  /** Columns to walk when the table has no primary key (they must be unique and not null). */
  key?: readonly string[];
  /** Blind indexes to write (`reindex`) or check (`verify`). */
  indexes?: readonly BlindIndexColumn[];
  /** Rows per batch (and per transaction). @default 500 */
  batchSize?: number;
  /** Key-service calls in flight at most. @default 8 */
  concurrency?: number;
  /** Report what would change; write nothing, create no key. @default false */
  dryRun?: boolean;
  /** The job's name in the checkpoint table. @default derived from the mode, table and columns */
  job?: string;
  /** Start over even when an unfinished job of that name exists. @default false */
  restart?: boolean;
  /** The checkpoint table. @default 'vault_envelope_checkpoints' */
  checkpointTable?: string;
  /** Compare-and-set rounds before a batch is done under lock. @default 5 */
  conflictRetries?: number;
  /** Stops the job after the batch in progress (it resumes from there). */
  signal?: AbortSignal;
  /** Called after every batch. */
  onProgress?: (progress: MigrationProgress) => void;
}

/** Progress after a batch. */
export interface MigrationProgress {
  /** Rows examined in this run. */
  rows: number;
  /** Rows left at the start of this run (an estimate: the table may grow meanwhile). */
  total: number;
  /** Rows changed in this run. */
  changedRows: number;
  /** Rows left unchanged because they failed. */
  failedRows: number;
  /** Milliseconds since the run started. */
  elapsedMs: number;
}

/** One row that failed or, in `verify`, holds a problem. */
export interface RowProblem {
  /** The row's key values. */
  key: SqlValue[];
  /** What is wrong (names columns, never values). */
  reason: string;
}

/** What a run did. */
export interface MigrationReport {
  mode: MigrationMode;
  table: string;
  /** The job's name (`undefined` for `verify` and dry runs, which keep no checkpoint). */
  job: string | undefined;
  dryRun: boolean;
  /** Whether the walk reached the end of the table. */
  complete: boolean;
  /** Whether `signal` stopped it first. */
  interrupted: boolean;
  /** Whether this run resumed an unfinished job. */
  resumed: boolean;
  /** Rows examined. */
  rows: number;
  /** Rows updated. */
  changedRows: number;
  /** Rows left as they are because they failed (in `verify`: rows with a problem). */
  failedRows: number;
  /** Values by outcome: `changed`, `null`, `encrypted`, `plaintext`, `ok`, `legacy`, `undecryptable`, `unchanged`, `mismatch`. */
  values: Record<Outcome, number>;
  /** Rows the application changed between read and write (read again, never overwritten). */
  conflicts: number;
  batches: number;
  /** Calls made to the key provider this run, by method. */
  keyCalls: { createDataKey: number; decryptDataKey: number; rekeyDataKey: number };
  /** The first 20 failed rows. */
  problems: RowProblem[];
  /** The job's counters over all its runs (`rows`, `changedRows`, `failedRows`, and each outcome). */
  totals: Record<string, number>;
  elapsedMs: number;
}

const OUTCOMES: readonly Outcome[] = [
  'changed',
  'null',
  'encrypted',
  'plaintext',
  'ok',
  'legacy',
  'undecryptable',
  'unchanged',
  'mismatch',
];
const MODES: readonly MigrationMode[] = ['encrypt', 'rekey', 'reencrypt', 'reindex', 'verify'];
const OPTION_NAMES = [
  'db',
  'keys',
  'mode',
  'table',
  'columns',
  'context',
  'tenant',
  'namespace',
  'idColumn',
  'key',
  'indexes',
  'batchSize',
  'concurrency',
  'dryRun',
  'job',
  'restart',
  'checkpointTable',
  'conflictRetries',
  'signal',
  'onProgress',
];
const MAX_PROBLEMS = 20;

/** A batch whose compare-and-set failed on some rows: rolled back, to be planned again. */
class Conflict extends Error {
  constructor(readonly count: number) {
    super('conflict');
  }
}

/** Counts the calls made to a provider. */
function counting(keys: KeyProvider, calls: MigrationReport['keyCalls']): KeyProvider {
  const counted: KeyProvider = {
    createDataKey: (c, o) => {
      calls.createDataKey++;
      return keys.createDataKey(c, o);
    },
    decryptDataKey: (b, o) => {
      calls.decryptDataKey++;
      return keys.decryptDataKey(b, o);
    },
  };
  if (typeof keys.rekeyDataKey === 'function') {
    const rekey = keys.rekeyDataKey.bind(keys);
    counted.rekeyDataKey = (b, c, o) => {
      calls.rekeyDataKey++;
      return rekey(b, c, o);
    };
  }
  return counted;
}

function nameList(value: unknown, title: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value))
    throw new TypeError(`${title} must be an array of column names, got ${typeof value}`);
  return value.map((v, i) => atext(v, `${title}[${i}]`, 1));
}

/**
 * Runs one job over a table (see the module description for the guarantees).
 * @param options - See {@link MigrateOptions}.
 * @returns What the run did; the job is finished when `complete` is true.
 * @throws TypeError / RangeError on malformed options; {@link SchemaError} when the table, a
 *   column or the key is missing; {@link TemplateError} for a template naming a missing column;
 *   {@link CheckpointError} when an unfinished job of that name has other settings; the database
 *   driver's and the key service's errors (the batch in progress is then not committed).
 * @example
 * ```ts
 * const report = await migrateTable({
 *   db: await openDatabase('sqlite:./app.db'),
 *   keys: cachedKeyProvider(vault, { maxAge: 5 * 60_000 }),
 *   mode: 'encrypt',
 *   table: 'users',
 *   columns: ['ssn'],
 *   context: 'organization_id={org_id}',
 *   namespace: 'users',
 * });
 * ```
 */
export async function migrateTable(options: MigrateOptions): Promise<MigrationReport> {
  const o = aoptions(aobject(options, 'migrate options'), 'migrate options', OPTION_NAMES);
  const db = aobject(o['db'], 'db') as unknown as TableAdapter;
  if (typeof db.describe !== 'function' || typeof db.transaction !== 'function') {
    throw new TypeError(
      'db must be a TableAdapter (sqliteAdapter, postgresAdapter, pgliteAdapter or openDatabase)',
    );
  }
  const mode = o['mode'] as MigrationMode;
  if (!MODES.includes(mode))
    throw new TypeError(`mode must be one of ${MODES.join(', ')}, got ${String(mode)}`);
  const table = atext(o['table'], 'table', 1);
  const columns = nameList(o['columns'], 'columns');
  const keysGiven = aobject(o['keys'], 'keys') as unknown as KeyProvider;
  const batchSize = aint(o['batchSize'] ?? 500, 1, 100_000, 'batchSize');
  const concurrency = aint(o['concurrency'] ?? 8, 1, 1024, 'concurrency');
  const conflictRetries = aint(o['conflictRetries'] ?? 5, 0, 1000, 'conflictRetries');
  const dryRun = aboolean(o['dryRun'] ?? false, 'dryRun');
  const restart = aboolean(o['restart'] ?? false, 'restart');
  const signal = asignal(o['signal'], 'signal');
  const onProgress =
    o['onProgress'] === undefined
      ? undefined
      : afunction<(p: MigrationProgress) => void>(o['onProgress'], 'onProgress');
  const checkpointTable = atext(o['checkpointTable'] ?? CHECKPOINT_TABLE, 'checkpointTable', 1);
  const namespace = o['namespace'] === undefined ? undefined : atext(o['namespace'], 'namespace', 1, 500);
  const context =
    o['context'] === undefined ? undefined : parseContextTemplate(o['context'] as string[], 'context');
  const tenant =
    o['tenant'] === undefined ? undefined : parseTemplate(atext(o['tenant'], 'tenant', 1), 'tenant');
  const indexes: IndexSpec[] = (o['indexes'] === undefined ? [] : (o['indexes'] as unknown[])).map(
    (raw, i) => {
      const ix = aobject(raw, `indexes[${i}]`);
      const index = aobject(ix['index'], `indexes[${i}].index`) as unknown as IndexSpec['index'];
      if (typeof index.compute !== 'function')
        throw new TypeError(`indexes[${i}].index must be a BlindIndex`);
      return {
        column: atext(ix['column'], `indexes[${i}].column`, 1),
        into: atext(ix['into'], `indexes[${i}].into`, 1),
        index,
        perTenant:
          ix['perTenant'] === undefined ? false : aboolean(ix['perTenant'], `indexes[${i}].perTenant`),
      };
    },
  );
  if (mode !== 'reindex' && columns.length === 0)
    throw new TypeError(`columns must name at least one column for ${mode}`);
  if (mode === 'reindex' && indexes.length === 0)
    throw new TypeError('indexes must name at least one index for reindex');
  if ((mode === 'encrypt' || mode === 'rekey' || mode === 'reencrypt') && context === undefined) {
    throw new TypeError(
      `context is required for ${mode}: the key context of each row, e.g. organization_id={org_id}`,
    );
  }
  if (mode === 'rekey' && typeof keysGiven.rekeyDataKey !== 'function') {
    throw new TypeError(
      'keys must implement rekeyDataKey for rekey (a VaultClient does), got a provider without it',
    );
  }
  const binding = { namespace, tenant: tenant !== undefined };

  // The table, its key and every column the job reads.
  const info = await db.describe(table);
  if (info === undefined) throw new SchemaError(`table ${table} does not exist`);
  const has = new Set(info.columns.map((c) => c.name));
  let key = nameList(o['key'], 'key');
  if (key.length === 0) key = [...info.primaryKey];
  if (key.length === 0)
    throw new SchemaError(`table ${table} has no primary key: name unique columns to walk with key`);
  const idColumn =
    o['idColumn'] === undefined
      ? key.length === 1
        ? key[0]!
        : (() => {
            throw new SchemaError(
              `table ${table} has a composite key: name the record id's column with idColumn`,
            );
          })()
      : atext(o['idColumn'], 'idColumn', 1);
  for (const c of [...key, idColumn, ...columns, ...indexes.flatMap((x) => [x.column, x.into])]) {
    if (!has.has(c)) throw new SchemaError(`table ${table} has no column ${c}`);
  }
  if (db.dialect === 'postgres' && (mode === 'encrypt' || mode === 'rekey' || mode === 'reencrypt')) {
    // (SQLite ignores declared lengths.) A ciphertext is longer than its plaintext (28 bytes of IV and tag, the key blob, base64):
    // a length-limited text column would refuse it, batch after batch.
    for (const c of info.columns) {
      const m = /^(?:character varying|varchar|character|char)\((\d+)\)$/i.exec(c.type);
      if (columns.includes(c.name) && m !== null && Number(m[1]) < 1024) {
        throw new SchemaError(
          `column ${c.name} is ${c.type}, too short for a ciphertext: change it to text first`,
        );
      }
    }
  }
  for (const [what, t] of [
    ['context', context],
    ['tenant', tenant],
  ] as const) {
    for (const c of t?.columns ?? [])
      if (!has.has(c))
        throw new TemplateError(`${what} template names column ${c}, which table ${table} does not have`);
  }
  const templateColumns = [...(context?.columns ?? []), ...(tenant?.columns ?? [])];
  const read = [
    ...new Set([
      ...key,
      idColumn,
      ...columns,
      ...indexes.flatMap((x) => [x.column, x.into]),
      ...templateColumns,
    ]),
  ];
  const guard = read.filter((c) => !key.includes(c));
  const sql = tableSql(db.dialect, table, key, read, new Map(info.columns.map((c) => [c.name, c.type])));

  // The checkpoint: verify and dry runs only read it.
  const writes = mode !== 'verify' && !dryRun;
  const spec = JSON.stringify({
    mode,
    table,
    columns,
    context: context?.source,
    tenant: tenant?.source,
    namespace,
    idColumn,
    key,
    indexes: indexes.map((x) => ({
      column: x.column,
      into: x.into,
      version: x.index.version,
      bits: x.index.bits,
      perTenant: x.perTenant,
    })),
  });
  const jobName =
    o['job'] === undefined
      ? `${mode}:${table}:${[...columns, ...indexes.map((x) => x.into)].join(',')}`
      : atext(o['job'], 'job', 1, 500);
  const checkpoint = new Checkpoint(db.dialect, checkpointTable, jobName);
  let cursor: SqlValue[] | undefined;
  let totals: Record<string, number> = {};
  let resumed = false;
  const now = () => new Date().toISOString();
  if (writes) {
    await checkpoint.ensure(db);
    const row = await checkpoint.read(db);
    if (row !== undefined && !row.done && !restart) {
      if (row.spec !== spec) {
        throw new CheckpointError(
          `job ${jobName} is unfinished with other settings: finish it, give another job name, or restart it`,
        );
      }
      resumed = true;
      totals = row.counts;
      cursor = row.cursor === null ? undefined : decodeCursor(row.cursor, key.length, jobName);
    } else {
      await checkpoint.start(db, spec, now());
    }
    // Re-encryption needs data keys that were never used before: a cache that can retire its
    // encryption keys (all contexts) is told to.
    if (mode === 'reencrypt') (keysGiven as { retire?: () => void }).retire?.();
  } else if (mode !== 'verify' && (await hasCheckpointTable(db, checkpointTable))) {
    const row = await checkpoint.read(db);
    if (row !== undefined && !row.done && row.spec === spec && row.cursor !== null) {
      cursor = decodeCursor(row.cursor, key.length, jobName);
    }
  }

  const calls = { createDataKey: 0, decryptDataKey: 0, rekeyDataKey: 0 };
  const planner: Planner = {
    mode,
    envelope: new Envelope({ keys: counting(keysGiven, calls) }),
    limiter: new Limiter(concurrency),
    binding,
    key,
    idColumn,
    columns,
    context,
    tenant,
    indexes,
    tenantIndexes: new TenantIndexes(),
    dryRun,
    // Not the job's signal: it stops the job between batches, and a key call it aborted would
    // fail the batch in progress instead of letting it commit.
    signal: undefined,
  };
  const report: MigrationReport = {
    mode,
    table,
    job: writes ? jobName : undefined,
    dryRun,
    complete: false,
    interrupted: false,
    resumed,
    rows: 0,
    changedRows: 0,
    failedRows: 0,
    values: Object.fromEntries(OUTCOMES.map((x) => [x, 0])) as Record<Outcome, number>,
    conflicts: 0,
    batches: 0,
    keyCalls: calls,
    problems: [],
    totals,
    elapsedMs: 0,
  };
  const started = performance.now();
  const countRows = await db.all(cursor === undefined ? sql.countFirst : sql.countAfter, cursor ?? []);
  const total = Number(countRows[0]?.['n'] ?? 0);

  for (;;) {
    // Let the event loop run between batches: with a warm cache and SQLite a batch completes in
    // microtasks alone, and signal handlers, timers and the application's own I/O would
    // otherwise wait for the whole job.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (signal?.aborted) {
      report.interrupted = true;
      break;
    }
    const rows =
      cursor === undefined
        ? await db.all(sql.readFirst, [batchSize])
        : await db.all(sql.readAfter, [...cursor, batchSize]);
    if (rows.length === 0) {
      if (writes)
        await db.transaction((tx) => checkpoint.advance(tx, encodeCursor(cursor), totals, true, now()));
      report.complete = true;
      break;
    }
    const last = keyOf(rows[rows.length - 1]!, key);
    let plans = await planRows(planner, rows);
    if (writes) {
      let next = totals;
      plans = await commitBatch(
        db,
        sql,
        guard,
        planner,
        plans,
        cursor,
        last,
        conflictRetries,
        report,
        async (tx, ps) => {
          next = { ...totals };
          for (const [k, v] of Object.entries(tally(ps, undefined))) next[k] = (next[k] ?? 0) + v;
          await checkpoint.advance(tx, encodeKey(last), next, false, now());
        },
      );
      totals = next;
    }
    tally(plans, report);
    report.batches++;
    cursor = last;
    report.elapsedMs = performance.now() - started;
    onProgress?.({
      rows: report.rows,
      total,
      changedRows: report.changedRows,
      failedRows: report.failedRows,
      elapsedMs: report.elapsedMs,
    });
  }
  planner.tenantIndexes.destroy();
  report.totals = writes ? totals : tallyOf(report);
  report.elapsedMs = performance.now() - started;
  return report;
}

function encodeCursor(cursor: SqlValue[] | undefined): string | null {
  return cursor === undefined ? null : encodeKey(cursor);
}

function decodeCursor(text: string, arity: number, job: string): SqlValue[] {
  let values: SqlValue[];
  try {
    values = decodeKey(text);
  } catch {
    throw new CheckpointError(`the checkpoint of job ${job} holds a cursor this engine did not write`);
  }
  if (values.length !== arity) throw new CheckpointError(`the checkpoint of job ${job} is for another key`);
  return values;
}

/** The counters of some plans; added into `report` when given. */
function tally(plans: readonly RowPlan[], report: MigrationReport | undefined): Record<string, number> {
  const t: Record<string, number> = { rows: plans.length, changedRows: 0, failedRows: 0 };
  for (const p of plans) {
    if (p.set.size > 0) t['changedRows']!++;
    const problem = p.failure ?? (report?.mode === 'verify' ? verifyProblem(p) : undefined);
    if (problem !== undefined) {
      t['failedRows']!++;
      if (report !== undefined && report.problems.length < MAX_PROBLEMS)
        report.problems.push({ key: p.key, reason: problem });
    }
    for (const [, x] of p.outcomes) t[x] = (t[x] ?? 0) + 1;
  }
  if (report !== undefined) {
    report.rows += t['rows']!;
    report.changedRows += t['changedRows']!;
    report.failedRows += t['failedRows']!;
    for (const x of OUTCOMES) report.values[x] += t[x] ?? 0;
  }
  return t;
}

/** In `verify`, what is wrong with a row that did not fail outright: plaintext, an older AAD. */
function verifyProblem(p: RowPlan): string | undefined {
  const of = (x: Outcome) => p.outcomes.filter(([, o]) => o === x).map(([c]) => c);
  const plain = of('plaintext');
  if (plain.length > 0) return `${plain.join(', ')} not encrypted`;
  const legacy = of('legacy');
  if (legacy.length > 0) return `${legacy.join(', ')} under the version 0 field AAD (reencrypt upgrades it)`;
  return undefined;
}

function tallyOf(report: MigrationReport): Record<string, number> {
  return {
    rows: report.rows,
    changedRows: report.changedRows,
    failedRows: report.failedRows,
    ...report.values,
  };
}

/** Applies the plans' updates as compare-and-set; throws {@link Conflict} when any row changed. */
async function applyPlans(
  tx: SqlRunner,
  sql: TableSql,
  guard: readonly string[],
  plans: readonly RowPlan[],
): Promise<void> {
  let conflicts = 0;
  const many = sql.updateMany;
  if (many !== undefined) {
    // One statement per set of changed columns, each column's values as one array.
    const groups = new Map<string, RowPlan[]>();
    for (const p of plans) {
      if (p.set.size === 0) continue;
      const id = [...p.set.keys()].join('\0');
      const g = groups.get(id);
      if (g === undefined) groups.set(id, [p]);
      else g.push(p);
    }
    for (const group of groups.values()) {
      const set = [...group[0]!.set.keys()];
      const arrays: SqlValue[][] = [
        ...sql.key.map((_, i) => group.map((p) => p.key[i]!)),
        ...set.map((c) => group.map((p) => p.set.get(c)!)),
        ...guard.map((c) => group.map((p) => param(p.row[c]))),
      ];
      const n = await tx.run(many(set, guard), arrays as unknown as SqlValue[]);
      if (n > group.length) throw new SchemaError(`the key columns ${sql.key.join(', ')} are not unique`);
      conflicts += group.length - n;
    }
  } else {
    for (const p of plans) {
      if (p.set.size === 0) continue;
      const set = [...p.set.keys()];
      const params: SqlValue[] = [...p.set.values(), ...p.key, ...guard.map((c) => param(p.row[c]))];
      const n = await tx.run(sql.update(set, guard), params);
      if (n === 0) conflicts++;
      else if (n > 1)
        throw new SchemaError(
          `the key columns ${sql.key.join(', ')} are not unique: ${n} rows matched one key`,
        );
    }
  }
  if (conflicts > 0) throw new Conflict(conflicts);
}

/**
 * Commits one batch with its checkpoint. On a conflict the transaction is rolled back, the
 * batch's key range read again and the rows that changed planned again (the others keep their
 * plans); after `retries` rounds, the range is read and planned inside the transaction, under
 * lock (`FOR UPDATE`, or SQLite's write lock), where nothing can change it.
 * @returns The plans that were committed.
 */
async function commitBatch(
  db: TableAdapter,
  sql: TableSql,
  guard: readonly string[],
  planner: Planner,
  plans: RowPlan[],
  cursor: SqlValue[] | undefined,
  last: SqlValue[],
  retries: number,
  report: MigrationReport,
  record: (tx: SqlRunner, plans: readonly RowPlan[]) => Promise<void>,
): Promise<RowPlan[]> {
  const rangeParams = [...(cursor ?? []), ...last];
  const replan = async (runner: SqlRunner, lock: boolean) => {
    const rows = await runner.all(sql.readRange(cursor === undefined, lock), rangeParams);
    const before = new Map(plans.map((p) => [encodeKey(p.key), p]));
    const next: RowPlan[] = [];
    const stale: Row[] = [];
    const order: (RowPlan | number)[] = [];
    for (const row of rows) {
      const id = encodeKey(keyOf(row, sql.key));
      const old = before.get(id);
      if (old !== undefined && sql.columns.every((c) => sameValue(old.row[c], row[c]))) order.push(old);
      else {
        order.push(stale.length);
        stale.push(row);
      }
    }
    const fresh = await planRows(planner, stale);
    for (const x of order) next.push(typeof x === 'number' ? fresh[x]! : x);
    plans = next;
  };
  for (let attempt = 0; ; attempt++) {
    const locked = attempt > retries;
    try {
      await db.transaction(async (tx) => {
        if (locked) await replan(tx, true);
        await applyPlans(tx, sql, guard, plans);
        await record(tx, plans);
      });
      return plans;
    } catch (error) {
      if (!(error instanceof Conflict) || locked) throw error;
      report.conflicts += error.count;
      if (attempt < retries) await replan(db, false);
    }
  }
}
