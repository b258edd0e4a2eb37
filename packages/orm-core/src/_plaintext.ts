/**
 * The migration read mode of the integrations: while a plaintext column is being encrypted in
 * place (`vault-envelope migrate encrypt`), some of its rows still hold plaintext, and a strict
 * read fails every one of them. The mode, opted into per set of tables and scoped to the columns
 * being migrated, serves such a value as it is, provided its type is the column's (a string for
 * a text column, bytes for a bytes column), counts it, and reports where it was (table, column,
 * row, id, never the value), so the count can be watched falling to zero before the mode is
 * turned off again.
 *
 * Off by default, and fail closed wherever it is off: a value that is not a ciphertext is then a
 * FormatError for its row, as it always was. A value that looks like a ciphertext is always
 * decrypted, never served, so a ciphertext moved from another row still fails; and since a
 * plaintext has no AAD to bind its tenant, the row's tenant column must be in the result for the
 * tenant check.
 * @module
 */
import { afunction, isBytes, kindOf } from '@vault-envelope/core';
import type { ColumnModel, TableModel } from './declaration.js';

/** Where a value served as plaintext was: never the value itself. */
export interface PlaintextRead {
  /** The table (its name in the database). */
  readonly table: string;
  /** The column (its name in the database). */
  readonly column: string;
  /** The row's position in the result set, from 0. */
  readonly row: number;
  /** The row's id as the result held it (ids are identifiers, not secrets). */
  readonly id: unknown;
  /** The caller's tenant (undefined for a scope without one). */
  readonly tenant: string | undefined;
}

/** Counters of a set of encrypted tables. */
export interface OrmStats {
  /**
   * Values served as plaintext by the migration read mode (`allowPlaintext`) since the tables
   * were declared, over every tenant and every read.
   */
  readonly plaintextServed: number;
  /** The same count per column, keyed `table.column` (database names); columns at 0 left out. */
  readonly plaintextServedByColumn: Readonly<Record<string, number>>;
}

/** The `table.column` title of a column, as the messages, the counters and `allowPlaintext` say it. */
export function columnTitle(model: TableModel, column: ColumnModel): string {
  return `${model.table}.${column.name}`;
}

/**
 * Which columns may serve plaintext, who hears of it, and how many were served. Made by
 * `EncryptedTables` from its options; not exported from the package (its declaration stays in
 * the published types, since `openCells` takes one).
 */
export class PlaintextPolicy {
  readonly #allowed: ReadonlySet<ColumnModel>;
  readonly #onPlaintext: ((read: PlaintextRead) => void) | undefined;
  readonly #served = new Map<string, number>();
  #total = 0;

  /**
   * @param models - Every declared table.
   * @param allow - The `allowPlaintext` option: `true` (every encrypted column), `false` or
   *   undefined (none), or the `table.column` names of the columns being migrated.
   * @param onPlaintext - The `onPlaintext` option.
   * @throws TypeError on a malformed option, or a name that is not a declared encrypted column.
   */
  constructor(models: readonly TableModel[], allow: unknown, onPlaintext: unknown) {
    this.#onPlaintext =
      onPlaintext === undefined
        ? undefined
        : afunction<(read: PlaintextRead) => void>(onPlaintext, 'onPlaintext');
    const allowed = new Set<ColumnModel>();
    if (allow === true) {
      for (const m of models) for (const c of m.columns) allowed.add(c);
    } else if (Array.isArray(allow)) {
      const byTitle = new Map<string, ColumnModel>();
      for (const m of models) for (const c of m.columns) byTitle.set(columnTitle(m, c), c);
      allow.forEach((name: unknown, i) => {
        const column = typeof name === 'string' ? byTitle.get(name) : undefined;
        if (column === undefined) {
          throw new TypeError(
            `allowPlaintext[${i}] must name a declared encrypted column as "table.column" (${[...byTitle.keys()].join(', ')}), got ${typeof name === 'string' ? 'a string that names none' : kindOf(name)}`,
          );
        }
        if (allowed.has(column)) {
          throw new TypeError(`allowPlaintext[${i}] must name each column once, got a repeat`);
        }
        allowed.add(column);
      });
    } else if (allow !== false && allow !== undefined) {
      throw new TypeError(
        `allowPlaintext must be a boolean or an array of "table.column" names, got ${kindOf(allow)}`,
      );
    }
    this.#allowed = allowed;
  }

  /** Whether `column` may serve a plaintext. */
  allows(column: ColumnModel): boolean {
    return this.#allowed.has(column);
  }

  /**
   * Counts one value served as plaintext and reports it (never the value).
   * @throws Whatever `onPlaintext` throws.
   */
  served(model: TableModel, column: ColumnModel, row: number, id: unknown, tenant: string | undefined): void {
    const title = columnTitle(model, column);
    this.#total++;
    this.#served.set(title, (this.#served.get(title) ?? 0) + 1);
    this.#onPlaintext?.({ table: model.table, column: column.name, row, id, tenant });
  }

  /** A snapshot of the counters. */
  stats(): OrmStats {
    return {
      plaintextServed: this.#total,
      plaintextServedByColumn: Object.freeze(Object.fromEntries(this.#served)),
    };
  }
}

/**
 * Whether a value that is not a ciphertext has the type of its column's plaintext: a string for
 * a text column, a Uint8Array for a bytes column (whatever the column's storage).
 */
export function fitsColumn(column: ColumnModel, value: unknown): boolean {
  return column.kind === 'text' ? typeof value === 'string' : isBytes(value);
}
