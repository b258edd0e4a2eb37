/**
 * Finding the encrypted values of a Drizzle result, and each one's row id and tenant.
 *
 * With the query in hand (a select builder, or an insert, update or delete with `returning`),
 * the selection says at which path of each result row every column is, so partial selects with
 * renamed keys, joins (nested per table or flat) and aliased tables (`alias(users, 'u')`, told
 * apart by their alias name) all work: the values of one table instance are decrypted with the
 * id selected from the same instance. Without it (a relational query, a prepared statement's
 * result, rows fetched earlier), the result is walked: each {@link EncryptedValue} is in an
 * object keyed by its table's property names, whose id property is its row's id.
 * @module
 */
import {
  type Cell,
  type ColumnModel,
  NOT_SELECTED,
  rowTenant,
  type TableModel,
} from '@vault-envelope/orm-core';
import { Column, is, SQL, Subquery, Table } from 'drizzle-orm';
import { type ColumnIdentity, columnTitle, EncryptedValue, encryptedInfo, identityOf } from './_value.js';

/** What a column of a declared table is to the vault. */
export type Role =
  | { readonly model: TableModel; readonly kind: 'id' | 'tenant' | 'other'; readonly key: string }
  | { readonly model: TableModel; readonly kind: 'field'; readonly key: string; readonly column: ColumnModel }
  | { readonly model: TableModel; readonly kind: 'index'; readonly key: string };

/** The declared columns, by their config object (the same through alias proxies). */
export type Roles = ReadonlyMap<ColumnIdentity, Role>;

/** The encrypted columns of one table instance of a selection, and where its id and tenant are. */
interface Group {
  readonly model: TableModel;
  idPath: readonly string[] | undefined;
  tenantPath: readonly string[] | undefined;
  readonly fields: { readonly path: readonly string[]; readonly column: ColumnModel }[];
}

interface Selected {
  readonly path: readonly string[];
  readonly field: unknown;
}

const NAME = Symbol.for('drizzle:Name');
const COLUMNS = Symbol.for('drizzle:Columns');

/** The selection as paths, in the order Drizzle maps a row (its own ordering, repeated). */
function ordered(fields: Record<string, unknown>, prefix: readonly string[] = []): Selected[] {
  const out: Selected[] = [];
  for (const [name, field] of Object.entries(fields)) {
    const path = [...prefix, name];
    if (is(field, Column) || is(field, SQL) || is(field, SQL.Aliased) || is(field, Subquery))
      out.push({ path, field });
    else if (is(field, Table))
      out.push(...ordered((field as unknown as Record<symbol, Record<string, unknown>>)[COLUMNS]!, path));
    else if (typeof field === 'object' && field !== null)
      out.push(...ordered(field as Record<string, unknown>, path));
  }
  return out;
}

function missingDeclaration(title: string): TypeError {
  return new TypeError(
    `${title} is an encrypted column of a table the vault has no declaration for: add its table to the DrizzleVault's tables`,
  );
}

/** The decoder of a selected SQL expression, if it has one. */
function decoderOf(field: unknown): unknown {
  if (is(field, SQL)) return (field as { decoder?: unknown }).decoder;
  if (is(field, SQL.Aliased)) return (field as unknown as { sql: { decoder?: unknown } }).sql.decoder;
  if (is(field, Subquery)) return (field as unknown as { _: { sql: { decoder?: unknown } } })._.sql.decoder;
  return undefined;
}

/**
 * The plan of a query's result: its encrypted columns grouped per table instance, with the
 * paths of their ids. Undefined when the query does not say what it selects.
 * @throws TypeError when an encrypted column is selected without its table's id, through an SQL
 *   expression, or from an undeclared table (before the query runs).
 */
export function planOf(roles: Roles, query: unknown): Group[] | undefined {
  if (typeof query !== 'object' || query === null) return undefined;
  const config = (query as { config?: unknown }).config;
  if (typeof config !== 'object' || config === null) return undefined;
  const c = config as { returning?: unknown; fields?: unknown };
  let selected: readonly Selected[];
  if (Array.isArray(c.returning)) selected = c.returning as Selected[];
  else if (typeof c.fields === 'object' && c.fields !== null)
    selected = ordered(c.fields as Record<string, unknown>);
  else return undefined;

  const groups = new Map<string, Group>();
  for (const { path, field } of selected) {
    if (!is(field, Column)) {
      const decoder = decoderOf(field);
      if (decoder !== undefined && encryptedInfo(decoder) !== undefined) {
        throw new TypeError(
          `${columnTitle(decoder)} is selected through an SQL expression, which can not be decrypted: select the column itself`,
        );
      }
      continue;
    }
    const column = field as Column;
    const role = roles.get(identityOf(column)!);
    if (role === undefined) {
      if (encryptedInfo(column) !== undefined) throw missingDeclaration(columnTitle(column));
      continue;
    }
    // One group per table instance: the table, or each alias of it (`alias(users, 'u')`), told
    // apart by name, wherever in the selection its columns are (nested objects included).
    const key = String((column.table as unknown as Record<symbol, unknown>)[NAME]);
    let g = groups.get(key);
    if (g === undefined) {
      g = { model: role.model, idPath: undefined, tenantPath: undefined, fields: [] };
      groups.set(key, g);
    }
    if (role.kind === 'id') g.idPath = path;
    else if (role.kind === 'tenant') g.tenantPath = path;
    else if (role.kind === 'field') g.fields.push({ path, column: role.column });
  }
  const out: Group[] = [];
  for (const g of groups.values()) {
    if (g.fields.length === 0) continue;
    if (g.idPath === undefined) {
      const t = g.model.table;
      throw new TypeError(
        `${t}.${g.model.id.name} must be selected to decrypt ${t}.${g.fields[0]!.column.name} (the id is bound into each value): select it too`,
      );
    }
    out.push(g);
  }
  return out;
}

function at(row: unknown, path: readonly string[], end = path.length): unknown {
  let v = row;
  for (let i = 0; i < end; i++) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[path[i]!];
  }
  return v;
}

const stored = (v: unknown): unknown => (v instanceof EncryptedValue ? v.stored : v);

/** The cells of the rows of a planned result. */
export function plannedCells(groups: readonly Group[], rows: readonly unknown[]): Cell[] {
  const cells: Cell[] = [];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    for (const g of groups) {
      const id = at(row, g.idPath!);
      const tenant = g.tenantPath === undefined ? NOT_SELECTED : at(row, g.tenantPath);
      for (const f of g.fields) {
        const parent = at(row, f.path, f.path.length - 1);
        // A left join without a match nulls the whole table object.
        if (typeof parent !== 'object' || parent === null) continue;
        const key = f.path[f.path.length - 1]!;
        const holder = parent as Record<string, unknown>;
        cells.push({
          table: g.model,
          column: f.column,
          row: i,
          holder,
          key,
          value: stored(holder[key]),
          id,
          tenant,
        });
      }
    }
  }
  return cells;
}

function isPlain(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** The cells of rows without a plan: every EncryptedValue, with its siblings' id and tenant. */
export function walkedCells(roles: Roles, rows: readonly unknown[]): Cell[] {
  const cells: Cell[] = [];
  const visit = (value: unknown, row: number): void => {
    if (Array.isArray(value)) {
      for (const v of value) visit(v, row);
      return;
    }
    if (!isPlain(value)) return;
    for (const key of Object.keys(value)) {
      const v = value[key];
      if (v instanceof EncryptedValue) {
        const role = roles.get(v.identity);
        if (role === undefined || role.kind !== 'field') throw missingDeclaration(v.column);
        const model = role.model;
        if (!Object.hasOwn(value, model.id.key)) {
          throw new TypeError(
            `${model.table}.${model.id.name} must be in the result to decrypt ${v.column} (the id is bound into each value): select it too`,
          );
        }
        cells.push({
          table: model,
          column: role.column,
          row,
          holder: value,
          key,
          value: v.stored,
          id: value[model.id.key],
          tenant: rowTenant(model, value),
        });
      } else if (Array.isArray(v) || isPlain(v)) visit(v, row);
    }
  };
  for (let i = 0; i < rows.length; i++) visit(rows[i], i);
  return cells;
}
