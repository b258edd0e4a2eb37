/**
 * The write path: rows of plaintext in, rows whose encrypted columns hold ciphertexts and whose
 * blind-index columns hold index values out, with every value bound to its tenant, table, row
 * and column exactly as `envelope.encryptFields` binds it.
 *
 * All rows of a call are one batch: one `createDataKey` per distinct key context (a batch insert
 * of one tenant's rows asks for one data key). The call fails closed: a row that would leave a
 * plaintext behind (a value of the wrong type, a missing id, another tenant's row, a blind-index
 * column written by hand) fails the whole call before any key is asked for, and a key failure
 * fails it after.
 * @module
 */
import {
  aobject,
  type EncryptItem,
  type Envelope,
  encodeBase64,
  type FieldId,
  fieldAad,
  isBytes,
  type KeyContext,
  kindOf,
  validateKeyContext,
} from '@vault-envelope/core';
import { checkId, checkText, tenantMismatch } from './_checks.js';
import type { TenantIndexes } from './_indexes.js';
import type { ColumnModel, TableModel } from './declaration.js';

/** What the write path runs with. */
export interface WriteRuntime {
  readonly envelope: Envelope;
  readonly indexes: TenantIndexes;
}

/** Sets an own data property, also for the key `__proto__` (which assignment would not). */
export function put(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  } else out[key] = value;
}

/** A copy of a row's own enumerable properties, each read once. */
function snapshot(row: unknown, title: string): Record<string, unknown> {
  const src = aobject(row, title);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(src)) put(out, key, src[key]);
  return out;
}

/**
 * Encrypts the declared columns of `rows` and computes their blind-index columns.
 * @param tenant - The caller's tenant (checked by the caller; undefined only for tables without).
 * @param id - The id the values are bound to when the rows do not hold it (an update's set).
 * @returns New rows, in order; the input rows are not modified.
 */
export async function encryptRows(
  rt: WriteRuntime,
  model: TableModel,
  tenant: string | undefined,
  rows: readonly unknown[],
  id: FieldId | undefined,
  signal: AbortSignal | undefined,
): Promise<Record<string, unknown>[]> {
  const table = model.table;
  const bound = model.tenant === undefined ? undefined : tenant;
  const givenId = id === undefined ? undefined : checkId(id, `${table}: options.id`);
  const outs: Record<string, unknown>[] = new Array(rows.length);
  const items: EncryptItem[] = [];
  const targets: { out: Record<string, unknown>; column: ColumnModel }[] = [];

  for (let i = 0; i < rows.length; i++) {
    const out = snapshot(rows[i], rows.length === 1 ? `${table} row` : `${table} rows[${i}]`);
    outs[i] = out;
    for (const ix of model.indexes) {
      if (Object.hasOwn(out, ix.key)) {
        const source = model.columnByKey.get(ix.source)!;
        throw new TypeError(
          `${table}.${ix.name} is computed from ${table}.${source.name} on every write: leave it out of the values`,
        );
      }
    }
    if (bound !== undefined) checkRowTenant(model, out, bound);

    let rowId: FieldId | undefined;
    let context: KeyContext | undefined;
    for (const column of model.columns) {
      if (!Object.hasOwn(out, column.key)) continue;
      const v = out[column.key];
      const title = `${table}.${column.name}`;
      if (v === null || v === undefined) {
        for (const ix of column.indexes) put(out, ix.key, v);
        continue;
      }
      const plaintext = column.kind === 'text' ? checkText(v, title) : checkBytes(v, title);
      if (rt.envelope.isCiphertext(plaintext)) {
        throw new TypeError(`${title} must be a plaintext, got a value that is already a ciphertext`);
      }
      if (rowId === undefined) {
        rowId = idOf(model, out, givenId, column);
        context = contextOf(model, bound, rowId, out);
      }
      items.push({
        plaintext,
        context: context!,
        aad: fieldAad(
          bound === undefined
            ? { namespace: model.namespace, id: rowId, field: column.name }
            : { tenant: bound, namespace: model.namespace, id: rowId, field: column.name },
        ),
      });
      targets.push({ out, column });
      for (const ix of column.indexes) put(out, ix.key, rt.indexes.write(ix, bound, plaintext));
    }
  }
  if (items.length === 0) return outs;
  const results = await rt.envelope.encryptManyToBytes(items, signal === undefined ? {} : { signal });
  // Fail closed: the rows come back only when every value is a ciphertext.
  for (const r of results) if (!r.ok) throw r.error;
  results.forEach((r, j) => {
    const { out, column } = targets[j]!;
    const bytes = (r as { value: Uint8Array }).value;
    put(out, column.key, column.storage === 'text' ? encodeBase64(bytes) : bytes);
  });
  return outs;
}

function checkBytes(value: unknown, title: string): Uint8Array {
  if (!isBytes(value))
    throw new TypeError(`${title} must be a Uint8Array (a bytes column), got ${kindOf(value)}`);
  return value;
}

/** The row's tenant, when it names one, must be the caller's. */
function checkRowTenant(model: TableModel, row: Record<string, unknown>, tenant: string): void {
  const t = model.tenant!;
  let v: unknown;
  if (t.of !== undefined) {
    v = t.of(row);
    if (v === undefined) return;
  } else {
    if (!Object.hasOwn(row, t.key)) return;
    v = row[t.key];
  }
  if (v === null || v === undefined) {
    throw new TypeError(`${model.table}.${t.name} must hold the row's tenant, got ${kindOf(v)}`);
  }
  const mismatch = tenantMismatch(model, v, tenant);
  if (mismatch !== undefined) throw mismatch;
}

/** The id the row's values are bound to: the row's own, or the one given for an update. */
function idOf(
  model: TableModel,
  row: Record<string, unknown>,
  given: string | undefined,
  column: ColumnModel,
): FieldId {
  const title = `${model.table}.${model.id.name}`;
  const own = Object.hasOwn(row, model.id.key) ? row[model.id.key] : undefined;
  if (own === undefined || own === null) {
    if (given !== undefined) return given;
    throw new TypeError(
      `${title} must be given to encrypt ${model.table}.${column.name} (the id is bound into each value): generate ids in the application, or insert the row without its encrypted columns and set them with { id } in the same transaction`,
    );
  }
  const text = checkId(own, title);
  if (given !== undefined && given !== text) {
    throw new TypeError(
      `${model.table}: options.id must be the id the values hold in ${title}, got another id`,
    );
  }
  return own as FieldId;
}

function contextOf(
  model: TableModel,
  tenant: string | undefined,
  id: FieldId,
  row: Record<string, unknown>,
): KeyContext {
  const c = model.context;
  if (typeof c !== 'function') return c;
  return validateKeyContext(c({ tenant, id, row }), `${model.table}: context`);
}
