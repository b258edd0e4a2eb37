/**
 * Operational errors of the ORM integrations (`@vault-envelope/orm-core`, and through it
 * `@vault-envelope/drizzle` and `@vault-envelope/kysely`, which re-export these classes).
 * Programmer mistakes (a bad declaration, a write of a declared column that did not go through
 * the adapter, a read of a tenant-bound table without a tenant) are the built-in `TypeError` and
 * `RangeError`; errors of the key provider and of the database driver reach the caller
 * unchanged. What can happen to a correct program at run time derives from {@link OrmError}:
 * rows of a result set that failed to decrypt, a row of another tenant, a database table that
 * lacks a declared column. No message ever holds a column value, a plaintext or a key; messages
 * name tables and columns.
 * @module
 */

/** Codes carried by {@link OrmError}, stable across releases. */
export type OrmErrorCode = 'ROW_DECRYPTION' | 'TENANT_MISMATCH' | 'DECLARATION';

const BRAND = Symbol.for('vault-envelope.OrmError');

/** The brand check, and the code check when `code` is given: what every `is` runs. */
function isOrmError(error: unknown, code: OrmErrorCode | undefined): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if ((error as Record<symbol, unknown>)[BRAND] !== true) return false;
  return code === undefined || (error as { code?: unknown }).code === code;
}

/**
 * Base class of the operational errors of the ORM integrations. Catch it to handle all of them;
 * test for one case with a subclass's `is`, which works across package copies and realms and
 * unbound (`errors.filter(TenantMismatchError.is)`).
 *
 * @example
 * ```ts
 * try { await scope.decrypt('users', rows); }
 * catch (e) { if (OrmError.is(e)) console.error(e.code, e.message); else throw e; }
 * ```
 */
export class OrmError extends Error {
  /** The code this class stands for; each subclass sets its own (the base class, none). */
  static readonly code: OrmErrorCode | undefined = undefined;

  /** A stable machine-readable code. */
  readonly code: OrmErrorCode;

  /**
   * @param message - What happened (names tables and columns, never a value).
   * @param code - The stable code.
   * @param options - `cause`.
   */
  constructor(message: string, code: OrmErrorCode, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OrmError';
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /**
   * Tells whether `error` is an error of the ORM integrations, by a `Symbol.for` brand (never by
   * `name`).
   * @param error - Anything caught.
   * @returns true for an ORM error of any kind.
   * @example
   * ```ts
   * OrmError.is(new DeclarationError('table users has no column ssn')); // true
   * ```
   */
  static is(error: unknown): error is OrmError {
    return isOrmError(error, undefined);
  }
}

/** One row of a result set that could not be decrypted, and why. */
export interface RowFailure {
  /** The row's position in the result set, from 0 (as the database returned it). */
  readonly row: number;
  /** The table of the value that failed (its name in the database). */
  readonly table: string;
  /** The column that failed (its name in the database). */
  readonly column: string;
  /**
   * The row's id as the result held it, when it did (ids are identifiers, not secrets; never in
   * a message).
   */
  readonly id: unknown;
  /**
   * What failed: a `DecryptionError` (the value was moved from another tenant, table, row or
   * column, or tampered with), a `FormatError` (the value is not a ciphertext), a
   * {@link TenantMismatchError} (the row belongs to another tenant), or the key provider's error.
   */
  readonly error: Error;
}

/** How many failures a {@link RowDecryptionError} message lists before it says "and N more". */
const LISTED = 5;

/**
 * Some rows of a result set failed to decrypt, and the query was told to fail as a whole (the
 * default; give `onRowError` to keep the other rows instead). `failures` says which rows and
 * columns, and why; nothing decrypted is kept.
 * @example
 * ```ts
 * if (RowDecryptionError.is(e)) for (const f of e.failures) log.warn(f.table, f.column, f.row, f.error.name);
 * ```
 */
export class RowDecryptionError extends OrmError {
  static override readonly code: OrmErrorCode = 'ROW_DECRYPTION';

  /** Every failed value, in result order. */
  readonly failures: readonly RowFailure[];
  /** How many rows the result set had. */
  readonly rows: number;

  /**
   * @param error - Anything caught.
   * @returns Whether `error` is a {@link RowDecryptionError}.
   * @example
   * ```ts
   * RowDecryptionError.is(e);
   * ```
   */
  static override is(error: unknown): error is RowDecryptionError {
    return isOrmError(error, RowDecryptionError.code);
  }

  /**
   * @param failures - The failed values (at least one).
   * @param rows - How many rows the result set had.
   */
  constructor(failures: readonly RowFailure[], rows: number) {
    const failedRows = new Set(failures.map((f) => f.row)).size;
    const listed = failures
      .slice(0, LISTED)
      .map((f) => `row ${f.row} ${f.table}.${f.column} (${f.error.name})`)
      .join(', ');
    const more = failures.length > LISTED ? ` and ${failures.length - LISTED} more` : '';
    super(
      `${failedRows} of ${rows} ${rows === 1 ? 'row' : 'rows'} failed to decrypt: ${listed}${more}`,
      'ROW_DECRYPTION',
      { cause: failures[0]?.error },
    );
    this.name = 'RowDecryptionError';
    this.failures = failures;
    this.rows = rows;
  }
}

/**
 * A row belongs to another tenant than the caller's: on a read, its tenant column holds another
 * tenant (or none), so it is not decrypted (no key is asked for); on a write, the row names
 * another tenant than the one the values are bound to.
 * @example
 * ```ts
 * if (TenantMismatchError.is(e)) console.error(e.table, e.column); // users org_id
 * ```
 */
export class TenantMismatchError extends OrmError {
  static override readonly code: OrmErrorCode = 'TENANT_MISMATCH';

  /** The table. */
  readonly table: string;
  /** Its tenant column. */
  readonly column: string;

  /**
   * @param error - Anything caught.
   * @returns Whether `error` is a {@link TenantMismatchError}.
   * @example
   * ```ts
   * TenantMismatchError.is(e);
   * ```
   */
  static override is(error: unknown): error is TenantMismatchError {
    return isOrmError(error, TenantMismatchError.code);
  }

  /**
   * @param table - The table.
   * @param column - Its tenant column (or `'(tenant)'` when a function finds the tenant).
   * @param what - `'another tenant'` or `'no tenant'`.
   */
  constructor(table: string, column: string, what: 'another tenant' | 'no tenant') {
    super(
      `${table}.${column} holds ${what === 'no tenant' ? 'no tenant' : "another tenant than the caller's"}: the row is not the caller's`,
      'TENANT_MISMATCH',
    );
    this.name = 'TenantMismatchError';
    this.table = table;
    this.column = column;
  }
}

/**
 * The database disagrees with a declaration: a declared table or column is not there (found by
 * a `verify` against the live schema).
 * @example
 * ```ts
 * if (DeclarationError.is(e)) console.error(e.message); // "table users has no column ssn"
 * ```
 */
export class DeclarationError extends OrmError {
  static override readonly code: OrmErrorCode = 'DECLARATION';

  /**
   * @param error - Anything caught.
   * @returns Whether `error` is a {@link DeclarationError}.
   * @example
   * ```ts
   * DeclarationError.is(e);
   * ```
   */
  static override is(error: unknown): error is DeclarationError {
    return isOrmError(error, DeclarationError.code);
  }

  /** @param message - Which table or column, and what is wrong with it. */
  constructor(message: string) {
    super(message, 'DECLARATION');
    this.name = 'DeclarationError';
  }
}
