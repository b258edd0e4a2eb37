/**
 * The read path: every encrypted value of a result set (its "cells"), decrypted in one batch, so
 * that the whole page costs one key lookup per distinct data key however many rows share it (a
 * cold page makes at most one Vault call per distinct data key in it).
 *
 * Before any key is asked for, each cell is checked: a row whose tenant column holds another
 * tenant than the caller's fails without a key lookup (a query that forgot its tenant filter
 * asks Vault for nothing of the other tenants' rows), and a value that is not a ciphertext fails
 * as a FormatError, unless its column is in the migration read mode and the value has the
 * column's plaintext type: it is then served as it is, counted and reported once the read
 * succeeds. The AAD binds the caller's tenant, never the row's, so a row moved into the
 * caller's tenant column still fails to decrypt.
 *
 * A failure is a row's: by default the query fails as a whole ({@link RowDecryptionError}, with
 * every failure and nothing decrypted kept); with `onRowError`, each failure is reported and the
 * failed rows are left out, the others kept.
 * @module
 */
import {
  type DecryptItem,
  type Envelope,
  FormatError,
  fieldAad,
  isBytes,
  kindOf,
} from '@vault-envelope/core';
import { NOT_SELECTED, rowTenant, tenantMismatch } from './_checks.js';
import { fitsColumn, type PlaintextPolicy } from './_plaintext.js';
import type { ColumnModel, TableModel } from './declaration.js';
import { RowDecryptionError, type RowFailure } from './errors.js';

/** One encrypted value of a result set, and where its plaintext goes. */
export interface Cell {
  /** The value's table. */
  readonly table: TableModel;
  /** The value's column. */
  readonly column: ColumnModel;
  /** The position of the row the value belongs to in the result set, from 0. */
  readonly row: number;
  /** The object the plaintext is written into, at `key`. */
  readonly holder: Record<string, unknown>;
  readonly key: string;
  /** The stored value (base64 text or bytes; null and undefined are left as they are). */
  readonly value: unknown;
  /** The row's id, as the result holds it. */
  readonly id: unknown;
  /** The row's tenant column as the result holds it, or {@link NOT_SELECTED}. */
  readonly tenant: unknown;
}

/** Options of a read. */
export interface ReadOptions {
  /**
   * Called for each value that failed; the failed rows are then left out of the result and the
   * others kept. Without it, any failure fails the whole read with a {@link RowDecryptionError}.
   */
  onRowError?: (failure: RowFailure) => void;
  /** Aborts the key requests. */
  signal?: AbortSignal;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decrypts `cells` in one batch and writes each plaintext into its holder.
 * @param plaintext - Which columns may serve a value that is not a ciphertext (the migration
 *   read mode), and where such values are counted and reported.
 * @param tenant - The caller's tenant (undefined only when no cell's table has tenants).
 * @param rowCount - How many rows the result set has (for the error's message).
 * @returns The positions of the rows that failed (reported to `onRowError`); empty when none.
 * @throws RowDecryptionError when a value failed and there is no `onRowError`; TypeError when
 *   a cell's table has tenants and no tenant was given, or when a column in the migration read
 *   mode is read without its row's tenant; the signal's reason when aborted; what `onPlaintext`
 *   throws.
 */
export async function openCells(
  envelope: Envelope,
  plaintext: PlaintextPolicy,
  tenant: string | undefined,
  cells: readonly Cell[],
  rowCount: number,
  options: ReadOptions,
): Promise<ReadonlySet<number>> {
  const failures: RowFailure[] = [];
  const failed = new Set<number>();
  const fail = (cell: Cell, error: Error): void => {
    failures.push({ row: cell.row, table: cell.table.table, column: cell.column.name, id: cell.id, error });
    failed.add(cell.row);
  };
  const items: DecryptItem[] = [];
  const pending: Cell[] = [];
  const served: Cell[] = [];
  for (const cell of cells) {
    const t = cell.table;
    const lenient = plaintext.allows(cell.column);
    if (t.tenant !== undefined) {
      if (tenant === undefined) {
        throw new TypeError(`${t.table} is bound to tenants: read it with forTenant(tenant), got no tenant`);
      }
      // A plaintext has no AAD to bind its tenant: the row's tenant column is the only check, so
      // it must be there, whatever this page's values turn out to be.
      if (lenient && cell.tenant === NOT_SELECTED) {
        const where =
          t.tenant.key === undefined
            ? `the tenant of each ${t.table} row (its tenant function answered undefined)`
            : `${t.table}.${t.tenant.name}`;
        throw new TypeError(
          `${where} must be in the result to read ${t.table}.${cell.column.name} while it may hold plaintext (allowPlaintext): select it too`,
        );
      }
      if (cell.tenant !== NOT_SELECTED && !failed.has(cell.row)) {
        const mismatch = tenantMismatch(t, cell.tenant, tenant);
        if (mismatch !== undefined) fail(cell, mismatch);
      }
    }
    const v = cell.value;
    if (v === null || v === undefined) {
      cell.holder[cell.key] = v;
      continue;
    }
    // A row that failed already asks for no key.
    if (failed.has(cell.row)) continue;
    const title = `${t.table}.${cell.column.name}`;
    if ((typeof v !== 'string' && !isBytes(v)) || !envelope.isCiphertext(v)) {
      if (!lenient) {
        fail(cell, new FormatError(`${title} is not a ciphertext`, { field: cell.column.name }));
      } else if (fitsColumn(cell.column, v)) {
        served.push(cell);
      } else {
        const kind = cell.column.kind;
        fail(
          cell,
          new FormatError(
            `${title} is neither a ciphertext nor a plaintext ${kind === 'text' ? 'string' : 'Uint8Array'} (a ${kind} column), got ${kindOf(v)}`,
            { field: cell.column.name },
          ),
        );
      }
      continue;
    }
    if (cell.id === null || cell.id === undefined) {
      fail(
        cell,
        new TypeError(
          `${t.table}.${t.id.name} must hold the row's id to decrypt ${title}, got ${cell.id === null ? 'null' : 'undefined'}`,
        ),
      );
      continue;
    }
    let aad: string;
    try {
      aad = fieldAad(
        t.tenant === undefined
          ? { namespace: t.namespace, id: cell.id as string, field: cell.column.name }
          : { tenant: tenant!, namespace: t.namespace, id: cell.id as string, field: cell.column.name },
      );
    } catch (e) {
      fail(cell, e as Error);
      continue;
    }
    items.push({ ciphertext: v, aad });
    pending.push(cell);
  }

  const signal = options.signal;
  const results =
    items.length === 0 ? [] : await envelope.decryptMany(items, signal === undefined ? {} : { signal });
  const values: unknown[] = new Array(pending.length);
  const zero = (): void => {
    for (const v of values) if (isBytes(v)) v.fill(0);
  };
  if (signal?.aborted) {
    for (const r of results) if (r.ok) r.value.fill(0);
    throw signal.reason;
  }
  for (let j = 0; j < pending.length; j++) {
    const cell = pending[j]!;
    const r = results[j]!;
    if (!r.ok) {
      fail(cell, r.error);
      continue;
    }
    if (cell.column.kind === 'bytes') {
      values[j] = r.value;
      continue;
    }
    try {
      values[j] = utf8.decode(r.value);
    } catch {
      fail(
        cell,
        new FormatError(
          `${cell.table.table}.${cell.column.name} does not decrypt to UTF-8 text (is it a bytes column?)`,
          { field: cell.column.name },
        ),
      );
    } finally {
      r.value.fill(0);
    }
  }
  if (failures.length > 0) {
    failures.sort((a, b) => a.row - b.row);
    if (options.onRowError === undefined) {
      zero();
      throw new RowDecryptionError(failures, rowCount);
    }
    for (let j = 0; j < pending.length; j++) {
      const v = values[j];
      if (failed.has(pending[j]!.row) && isBytes(v)) v.fill(0);
    }
    for (const f of failures) options.onRowError(f);
  }
  for (let j = 0; j < pending.length; j++) {
    const cell = pending[j]!;
    if (!failed.has(cell.row)) cell.holder[cell.key] = values[j];
  }
  // Plaintexts are served, counted and reported only in rows that are returned.
  const kept = failed.size === 0 ? served : served.filter((cell) => !failed.has(cell.row));
  for (const cell of kept) cell.holder[cell.key] = cell.value;
  for (const cell of kept) plaintext.served(cell.table, cell.column, cell.row, cell.id, tenant);
  return failed;
}

/**
 * The cells of one row whose properties are keyed as the declaration's keys (a plain row of the
 * table, or a nested object of a relational result): one per encrypted column the row has.
 * @param model - The row's table.
 * @param row - The row; the plaintexts are written into it.
 * @param index - The row's position in the result set.
 * @returns Its cells (none when it has no encrypted column).
 * @throws TypeError when it has an encrypted column but not the id.
 * @example
 * ```ts
 * const cells = rows.flatMap((row, i) => cellsOf(tables.table('users'), row, i));
 * ```
 */
export function cellsOf(model: TableModel, row: Record<string, unknown>, index: number): Cell[] {
  const cells: Cell[] = [];
  let id: unknown;
  let tenant: unknown = NOT_SELECTED;
  for (const column of model.columns) {
    if (!Object.hasOwn(row, column.key)) continue;
    if (cells.length === 0) {
      if (!Object.hasOwn(row, model.id.key)) {
        throw new TypeError(
          `${model.table}.${model.id.name} must be in the result to decrypt ${model.table}.${column.name} (the id is bound into each value): select it too`,
        );
      }
      id = row[model.id.key];
      tenant = rowTenant(model, row);
    }
    cells.push({
      table: model,
      column,
      row: index,
      holder: row,
      key: column.key,
      value: row[column.key],
      id,
      tenant,
    });
  }
  return cells;
}
