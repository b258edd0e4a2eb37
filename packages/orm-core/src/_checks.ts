/**
 * Checks shared by the write and read paths: ids as the field AAD takes them, the caller's
 * tenant against a row's, and plaintext text. Messages name tables and columns, never values.
 * @module
 */
import { atext, kindOf } from '@vault-envelope/core';
import type { TableModel } from './declaration.js';
import { TenantMismatchError } from './errors.js';

/**
 * Checks a row id the way the field AAD takes it (a non-empty text string, a safe integer or a
 * bigint) and returns its canonical text, so that `42`, `42n` and `'42'` compare equal.
 * @param id - The id, as the database driver returned it.
 * @param title - Its name, for messages (`'users.id'`).
 * @returns The canonical text.
 * @throws TypeError / RangeError naming `title`.
 * @example
 * ```ts
 * checkId(42n, 'users.id'); // '42'
 * ```
 */
export function checkId(id: unknown, title: string): string {
  if (typeof id === 'string') return atext(id, title, 1);
  if (typeof id === 'bigint') return id.toString(10);
  if (typeof id === 'number') {
    if (!Number.isInteger(id)) {
      throw new TypeError(
        `${title} must be a safe integer, a bigint or a non-empty string, got ${kindOf(id) === 'number' ? 'a fraction' : kindOf(id)}`,
      );
    }
    if (!Number.isSafeInteger(id)) {
      throw new RangeError(
        `${title} must be a safe integer (pass larger ids as a bigint or a string), got an unsafe integer`,
      );
    }
    return String(id);
  }
  throw new TypeError(`${title} must be a safe integer, a bigint or a non-empty string, got ${kindOf(id)}`);
}

/**
 * What a cell's `tenant` holds when the result does not have the row's tenant column:
 * the tenant check is then left to the AAD.
 */
export const NOT_SELECTED: unique symbol = Symbol('vault-envelope.notSelected');

/**
 * The tenant a row holds, by the table's declaration: its tenant column, or the declared
 * function of the row; {@link NOT_SELECTED} when the row does not have the column (or the
 * function answers `undefined`).
 * @param model - The row's table.
 * @param row - The row (its properties keyed as the declaration's keys).
 * @returns The row's tenant value, or NOT_SELECTED.
 * @example
 * ```ts
 * rowTenant(users, { id: 1, org_id: 'org_1' }); // 'org_1'
 * ```
 */
export function rowTenant(model: TableModel, row: Readonly<Record<string, unknown>>): unknown {
  const t = model.tenant;
  if (t === undefined) return NOT_SELECTED;
  if (t.of !== undefined) {
    const v = t.of(row);
    return v === undefined ? NOT_SELECTED : v;
  }
  return Object.hasOwn(row, t.key) ? row[t.key] : NOT_SELECTED;
}

/**
 * Whether a row's tenant value is the caller's: the same string, or a number or bigint whose
 * decimal text is the caller's tenant (integer tenant columns).
 * @returns undefined when it is; the error to report when it is not.
 */
export function tenantMismatch(
  model: TableModel,
  value: unknown,
  tenant: string,
): TenantMismatchError | undefined {
  if (value === tenant) return undefined;
  const name = model.tenant?.name ?? '(tenant)';
  if (value === null || value === undefined) return new TenantMismatchError(model.table, name, 'no tenant');
  if ((typeof value === 'number' || typeof value === 'bigint') && String(value) === tenant) return undefined;
  return new TenantMismatchError(model.table, name, 'another tenant');
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Checks a text plaintext: a string of well-formed Unicode (UTF-8 can not encode a lone
 * surrogate: it would come back as U+FFFD, another value).
 * @throws TypeError naming `title`.
 */
export function checkText(value: unknown, title: string): string {
  if (typeof value !== 'string')
    throw new TypeError(`${title} must be a string (a text column), got ${kindOf(value)}`);
  const bad = LONE_SURROGATE.exec(value);
  if (bad !== null)
    throw new TypeError(`${title} must be well-formed text, got a lone surrogate at index ${bad.index}`);
  return value;
}
