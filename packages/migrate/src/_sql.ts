/**
 * The SQL the engine runs, built once per job for one table: the batch read that walks the key
 * with a cursor (row-value comparison, so composite keys work), the range re-read after a
 * conflict (with `FOR UPDATE` on PostgreSQL when it must lock), the compare-and-set update, and
 * the cursor's encoding in the checkpoint. Portable between SQLite >= 3.35 and PostgreSQL >= 15.
 * @module
 */
import { decodeBase64, encodeBase64, isBytes } from '@vault-envelope/core';
import { quoteIdent, type Row, type SqlValue } from './adapter.js';

/** The statements of one job. */
export interface TableSql {
  /** `SELECT ... WHERE key > ? ORDER BY key LIMIT ?` (without the cursor for the first batch). */
  readFirst: string;
  readAfter: string;
  /** Rows with `cursor < key <= last`, in key order; `lock` adds `FOR UPDATE` on PostgreSQL. */
  readRange(first: boolean, lock: boolean): string;
  /** `SELECT count(*) ... WHERE key > ?` (or of the whole table). */
  countFirst: string;
  countAfter: string;
  /** A compare-and-set update of `set` columns, guarded by the values read of `guard` columns. */
  update(set: readonly string[], guard: readonly string[]): string;
  /**
   * PostgreSQL only: the same compare-and-set for many rows in one statement, each column's
   * values bound as one array (`unnest`), so a batch costs one round trip instead of one per
   * row. Undefined on SQLite, where a prepared statement per row costs microseconds.
   */
  updateMany: ((set: readonly string[], guard: readonly string[]) => string) | undefined;
  /** The key columns. */
  key: readonly string[];
  /** Every column a batch reads. */
  columns: readonly string[];
}

/** Builds the statements for `table`, walking `key` and reading `columns` (key included). */
export function tableSql(
  dialect: 'sqlite' | 'postgres',
  table: string,
  key: readonly string[],
  columns: readonly string[],
  types: ReadonlyMap<string, string> = new Map(),
): TableSql {
  const t = quoteIdent(table, dialect === 'postgres');
  const k = key.map((c) => quoteIdent(c));
  const keyTuple = k.length === 1 ? k[0]! : `(${k.join(', ')})`;
  const marks = k.length === 1 ? '?' : `(${k.map(() => '?').join(', ')})`;
  const select = `SELECT ${columns.map((c) => quoteIdent(c)).join(', ')} FROM ${t}`;
  const order = `ORDER BY ${k.join(', ')}`;
  const same = dialect === 'sqlite' ? 'IS' : 'IS NOT DISTINCT FROM';
  const cache = new Map<string, string>();
  return {
    key,
    columns,
    readFirst: `${select} ${order} LIMIT ?`,
    readAfter: `${select} WHERE ${keyTuple} > ${marks} ${order} LIMIT ?`,
    readRange(first, lock) {
      const where = first ? `${keyTuple} <= ${marks}` : `${keyTuple} > ${marks} AND ${keyTuple} <= ${marks}`;
      return `${select} WHERE ${where} ${order}${lock && dialect === 'postgres' ? ' FOR UPDATE' : ''}`;
    },
    countFirst: `SELECT count(*) AS n FROM ${t}`,
    countAfter: `SELECT count(*) AS n FROM ${t} WHERE ${keyTuple} > ${marks}`,
    update(set, guard) {
      const id = `${set.join('\0')}\u0001${guard.join('\0')}`;
      let sql = cache.get(id);
      if (sql === undefined) {
        const assign = set.map((c) => `${quoteIdent(c)} = ?`).join(', ');
        const where = [...k.map((c) => `${c} = ?`), ...guard.map((c) => `${quoteIdent(c)} ${same} ?`)];
        sql = `UPDATE ${t} SET ${assign} WHERE ${where.join(' AND ')}`;
        cache.set(id, sql);
      }
      return sql;
    },
    updateMany:
      dialect !== 'postgres'
        ? undefined
        : (set, guard) => {
            const id = `many${set.join('\0')}\u0001${guard.join('\0')}`;
            let sql = cache.get(id);
            if (sql === undefined) {
              // v(k0.., s0.., g0..): the key, the new values, the values read.
              const cols = [
                ...key.map((c, i) => [`k${i}`, c] as const),
                ...set.map((c, i) => [`s${i}`, c] as const),
                ...guard.map((c, i) => [`g${i}`, c] as const),
              ];
              const arrays = cols.map(([, c]) => `?::${types.get(c) ?? 'text'}[]`).join(', ');
              const assign = set.map((c, i) => `${quoteIdent(c)} = v.s${i}`).join(', ');
              const where = [
                ...key.map((c, i) => `t.${quoteIdent(c)} = v.k${i}`),
                ...guard.map((c, i) => `t.${quoteIdent(c)} IS NOT DISTINCT FROM v.g${i}`),
              ];
              sql = `UPDATE ${t} AS t SET ${assign} FROM unnest(${arrays}) AS v(${cols.map(([n]) => n).join(', ')}) WHERE ${where.join(' AND ')}`;
              cache.set(id, sql);
            }
            return sql;
          },
  };
}

/** A row's value as a bound parameter (drivers return Buffers, bigints, numbers, strings). */
export function param(value: unknown): SqlValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') return value;
  if (isBytes(value)) return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

/** The key of a row, as parameters. */
export function keyOf(row: Row, key: readonly string[]): SqlValue[] {
  return key.map((c) => param(row[c]));
}

type Tagged = { s: string } | { n: number } | { b: string } | { x: string };

/** A key as text for the checkpoint: JSON with each value's type kept (bigint, bytes). */
export function encodeKey(values: readonly SqlValue[]): string {
  return JSON.stringify(
    values.map((v): Tagged | null =>
      v === null
        ? null
        : typeof v === 'string'
          ? { s: v }
          : typeof v === 'number'
            ? { n: v }
            : typeof v === 'bigint'
              ? { b: v.toString() }
              : { x: encodeBase64(v) },
    ),
  );
}

/** The inverse of {@link encodeKey}. @throws Error on text it did not write. */
export function decodeKey(text: string): SqlValue[] {
  const list = JSON.parse(text) as (Tagged | null)[];
  if (!Array.isArray(list)) throw new Error('not a key');
  return list.map((t) => {
    if (t === null) return null;
    if ('s' in t && typeof t.s === 'string') return t.s;
    if ('n' in t && typeof t.n === 'number') return t.n;
    if ('b' in t && typeof t.b === 'string') return BigInt(t.b);
    if ('x' in t && typeof t.x === 'string') return decodeBase64(t.x);
    throw new Error('not a key');
  });
}

/** Whether two column values are the same (bytes by content). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  if (isBytes(a) && isBytes(b)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if ((typeof a === 'bigint' || typeof a === 'number') && (typeof b === 'bigint' || typeof b === 'number')) {
    try {
      return BigInt(a) === BigInt(b);
    } catch {
      return Number(a) === Number(b);
    }
  }
  return false;
}
