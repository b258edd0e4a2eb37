/**
 * A Drizzle table's declaration turned into the engine's: the table's property names are the
 * keys, its columns' database names the names (the field names bound into the AAD), and the
 * encrypted columns are found by their column types. Each declared column is checked to belong
 * to the table (by its config object, which Drizzle's alias proxies pass through), so that a
 * column of another table is a TypeError naming both, at start-up; so is each column of the
 * `allowPlaintext` option, turned into the engine's `table.column` names.
 * @module
 */
import type { BlindIndex } from '@vault-envelope/core';
import { kindOf } from '@vault-envelope/core';
import type { TableDeclaration } from '@vault-envelope/orm-core';
import { type Column, getTableColumns, getTableName, is, Table } from 'drizzle-orm';
import type { Role } from './_results.js';
import { type ColumnIdentity, columnTitle, encryptedInfo, identityOf } from './_value.js';
import type { DrizzleBlindIndex, DrizzleTableDeclaration } from './vault.js';

const SCHEMA = Symbol.for('drizzle:Schema');

type Columns = Record<string, Column>;

/**
 * A table's declaration for the engine, and the roles of its columns.
 * @throws TypeError naming the table and column on a bad declaration.
 */
export function translate(
  d: DrizzleTableDeclaration,
  index: number,
): { decl: TableDeclaration; roles: [ColumnIdentity, Role['kind'], string][] } {
  if (typeof d !== 'object' || d === null)
    throw new TypeError(`tables[${index}] must be an object, got ${kindOf(d)}`);
  if (!is(d.table, Table))
    throw new TypeError(`tables[${index}].table must be a Drizzle table, got ${kindOf(d.table)}`);
  for (const k of Object.keys(d)) {
    if (!['table', 'id', 'tenant', 'context', 'namespace', 'blindIndexes'].includes(k)) {
      throw new TypeError(`tables[${index}] has an unknown option "${k}"`);
    }
  }
  const name = getTableName(d.table);
  const schema = (d.table as unknown as Record<symbol, unknown>)[SCHEMA];
  const qualified = typeof schema === 'string' ? `${schema}.${name}` : name;
  const columns = getTableColumns(d.table) as Columns;
  const entries = Object.entries(columns);
  const keyOf = (column: unknown, what: string): string => {
    const config = identityOf(column);
    const found = entries.find(([, c]) => identityOf(c) === config);
    if (found === undefined || config === undefined) {
      const got =
        config !== undefined ? `a column of another table (${columnTitle(column)})` : kindOf(column);
      throw new TypeError(`${qualified}: ${what} must be a column of ${qualified}, got ${got}`);
    }
    return found[0];
  };
  const names: Record<string, string> = {};
  for (const [key, c] of entries) names[key] = c.name;

  let idKey: string;
  if (d.id !== undefined) idKey = keyOf(d.id, 'id');
  else {
    const primary = entries.filter(([, c]) => c.primary);
    if (primary.length !== 1) {
      throw new TypeError(
        `${qualified}: id must be given (the table has ${primary.length === 0 ? 'no single-column primary key' : 'several primary-key columns'})`,
      );
    }
    idKey = primary[0]![0];
  }
  const encrypted: Record<string, { kind: 'text' | 'bytes'; storage: 'text' | 'binary' }> = {};
  for (const [key, c] of entries) {
    const info = encryptedInfo(c);
    if (info === undefined) continue;
    // The name is bound into each value: it must be the database's, which a `casing` option
    // would derive from the property name at query time, out of this declaration's sight.
    if ((c as { keyAsName?: boolean }).keyAsName === true) {
      throw new TypeError(
        `${qualified}.${key} must be given its database name (encryptedText('${key}'), say): the name is bound into each value, and one derived from the property could change`,
      );
    }
    encrypted[key] = { kind: info.kind, storage: info.storage };
  }
  if (Object.keys(encrypted).length === 0) {
    throw new TypeError(
      `${qualified} must have an encrypted column (encryptedText, encryptedBytes) to be declared, got none`,
    );
  }
  const decl: TableDeclaration = {
    table: qualified,
    namespace: d.namespace ?? name,
    id: idKey,
    context: d.context,
    columns: encrypted,
    names,
  };
  const roles: [ColumnIdentity, Role['kind'], string][] = [[identityOf(columns[idKey])!, 'id', idKey]];
  if (typeof d.tenant === 'function') decl.tenant = d.tenant;
  else if (d.tenant !== undefined) {
    const key = keyOf(d.tenant, 'tenant');
    decl.tenant = key;
    roles.push([identityOf(columns[key])!, 'tenant', key]);
  }
  if (d.blindIndexes !== undefined) {
    if (!Array.isArray(d.blindIndexes))
      throw new TypeError(`${qualified}: blindIndexes must be an array, got ${kindOf(d.blindIndexes)}`);
    const ix: Record<
      string,
      { source: string; indexes: BlindIndex | readonly BlindIndex[]; perTenant?: boolean }
    > = {};
    d.blindIndexes.forEach((b: DrizzleBlindIndex, i: number) => {
      const key = keyOf(b?.column, `blindIndexes[${i}].column`);
      const entry: { source: string; indexes: BlindIndex | readonly BlindIndex[]; perTenant?: boolean } = {
        source: keyOf(b.source, `blindIndexes[${i}].source`),
        indexes: b.indexes,
      };
      if (b.perTenant !== undefined) entry.perTenant = b.perTenant;
      ix[key] = entry;
      roles.push([identityOf(columns[key])!, 'index', key]);
    });
    decl.blindIndexes = ix;
  }
  for (const key of Object.keys(encrypted)) roles.push([identityOf(columns[key])!, 'field', key]);
  return { decl, roles };
}

/**
 * The `allowPlaintext` option as the engine takes it: each column as `table.column` (database
 * names), or the boolean as it is.
 * @throws TypeError on anything but a boolean or an array of encrypted columns of declared tables.
 */
export function plaintextColumns(
  translated: readonly ReturnType<typeof translate>[],
  allow: unknown,
): boolean | string[] {
  if (typeof allow === 'boolean') return allow;
  if (!Array.isArray(allow)) {
    throw new TypeError(
      `DrizzleVault options.allowPlaintext must be a boolean or an array of encrypted columns, got ${kindOf(allow)}`,
    );
  }
  return allow.map((column: unknown, i) => {
    const identity = identityOf(column);
    for (const { decl, roles } of translated) {
      const role = roles.find(([id, kind]) => id === identity && kind === 'field');
      if (role !== undefined) return `${decl.table}.${decl.names?.[role[2]] ?? role[2]}`;
    }
    throw new TypeError(
      `DrizzleVault options.allowPlaintext[${i}] must be an encrypted column of a declared table, got ${identity === undefined ? kindOf(column) : `${columnTitle(column)}, which is not one`}`,
    );
  });
}
