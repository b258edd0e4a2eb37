/**
 * Operational errors of `@vault-envelope/migrate`. Programmer mistakes in the library API (a wrong
 * option type or range) are the built-in `TypeError` and `RangeError`; errors of the database
 * driver and of the key provider reach the caller unchanged; what the engine itself refuses at run
 * time (a table or column that is not there, a template that names a missing column, a job whose
 * checkpoint disagrees, a driver that is not installed) derives from {@link MigrateError}. No
 * message ever contains a column value, a key or an API key.
 * @module
 */

/** Codes carried by {@link MigrateError}, stable across releases. */
export type MigrateErrorCode = 'SCHEMA' | 'TEMPLATE' | 'CHECKPOINT' | 'DRIVER_MISSING';

const BRAND = Symbol.for('vault-envelope.MigrateError');

/** The brand check, and the code check when `code` is given: what every `is` runs. */
function isMigrateError(error: unknown, code: MigrateErrorCode | undefined): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if ((error as Record<symbol, unknown>)[BRAND] !== true) return false;
  return code === undefined || (error as { code?: unknown }).code === code;
}

/**
 * Base class of the operational errors of `@vault-envelope/migrate`. Catch it to handle all of
 * them; test for one case with a subclass's `is`, which works across package copies and realms
 * and unbound (`errors.filter(SchemaError.is)`).
 *
 * @example
 * ```ts
 * try { await migrateTable(options); }
 * catch (e) { if (MigrateError.is(e)) console.error(e.code, e.message); else throw e; }
 * ```
 */
export class MigrateError extends Error {
  /** The code this class stands for; each subclass sets its own (the base class, none). */
  static readonly code: MigrateErrorCode | undefined = undefined;

  /** A stable machine-readable code. */
  readonly code: MigrateErrorCode;

  /**
   * @param message - What happened (names tables, columns and jobs, never a value).
   * @param code - The stable code.
   * @param options - `cause`.
   */
  constructor(message: string, code: MigrateErrorCode, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrateError';
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /**
   * Tells whether `error` is an error of this package, by a `Symbol.for` brand (never by `name`).
   * @param error - Anything caught.
   * @returns true for a migrate error of any kind.
   * @example
   * ```ts
   * MigrateError.is(new SchemaError('no table users')); // true
   * ```
   */
  static is(error: unknown): error is MigrateError {
    return isMigrateError(error, undefined);
  }
}

/**
 * The table is not what the job needs: it does not exist, a listed column is missing, it has no
 * primary key (and none was named), or a column cannot hold what the job would write.
 * @example
 * ```ts
 * if (SchemaError.is(e)) console.error(e.message); // "table users has no column ssn"
 * ```
 */
export class SchemaError extends MigrateError {
  static override readonly code: MigrateErrorCode = 'SCHEMA';

  /**
   * @param error - Anything caught.
   * @returns Whether `error` is a {@link SchemaError}.
   * @example
   * ```ts
   * SchemaError.is(e);
   * ```
   */
  static override is(error: unknown): error is SchemaError {
    return isMigrateError(error, SchemaError.code);
  }

  /** @param message - Which table or column, and what is wrong with it. */
  constructor(message: string) {
    super(message, 'SCHEMA');
    this.name = 'SchemaError';
  }
}

/**
 * A key-context or tenant template is malformed (`organization_id={org_id`) or names a column the
 * table does not have.
 * @example
 * ```ts
 * if (TemplateError.is(e)) console.error(e.message);
 * ```
 */
export class TemplateError extends MigrateError {
  static override readonly code: MigrateErrorCode = 'TEMPLATE';

  /**
   * @param error - Anything caught.
   * @returns Whether `error` is a {@link TemplateError}.
   * @example
   * ```ts
   * TemplateError.is(e);
   * ```
   */
  static override is(error: unknown): error is TemplateError {
    return isMigrateError(error, TemplateError.code);
  }

  /** @param message - What is wrong with the template. */
  constructor(message: string) {
    super(message, 'TEMPLATE');
    this.name = 'TemplateError';
  }
}

/**
 * The job's checkpoint disagrees with the request: an unfinished job of the same name was started
 * with other settings, or the checkpoint row is not one this engine wrote.
 * @example
 * ```ts
 * if (CheckpointError.is(e)) console.error('pass restart: true, or another job name');
 * ```
 */
export class CheckpointError extends MigrateError {
  static override readonly code: MigrateErrorCode = 'CHECKPOINT';

  /**
   * @param error - Anything caught.
   * @returns Whether `error` is a {@link CheckpointError}.
   * @example
   * ```ts
   * CheckpointError.is(e);
   * ```
   */
  static override is(error: unknown): error is CheckpointError {
    return isMigrateError(error, CheckpointError.code);
  }

  /** @param message - Which job, and what disagrees. */
  constructor(message: string) {
    super(message, 'CHECKPOINT');
    this.name = 'CheckpointError';
  }
}

/**
 * The database driver a connection string needs is not installed (`better-sqlite3`, `pg` or
 * `@electric-sql/pglite`: optional peer dependencies, since an application has one of them).
 * @example
 * ```ts
 * if (DriverMissingError.is(e)) console.error(e.message); // "... npm install pg"
 * ```
 */
export class DriverMissingError extends MigrateError {
  static override readonly code: MigrateErrorCode = 'DRIVER_MISSING';

  /**
   * @param error - Anything caught.
   * @returns Whether `error` is a {@link DriverMissingError}.
   * @example
   * ```ts
   * DriverMissingError.is(e);
   * ```
   */
  static override is(error: unknown): error is DriverMissingError {
    return isMigrateError(error, DriverMissingError.code);
  }

  /**
   * @param driver - The package to install.
   * @param options - `cause`, the import failure.
   */
  constructor(driver: string, options?: { cause?: unknown }) {
    super(`this database needs the ${driver} package: npm install ${driver}`, 'DRIVER_MISSING', options);
    this.name = 'DriverMissingError';
  }
}
