/**
 * Operational errors of `@vault-envelope/server`, shaped like those of the other packages: one
 * base class, {@link VaultServerError}, with a stable `code` and a `Symbol.for` brand, and one
 * subclass per failure a caller must tell apart at start-up (the master key, the database).
 * Configuration mistakes in code are the built-in `TypeError` and `RangeError`. What the server
 * answers a client (a status and `{"error": ...}`) is not an exception a caller ever sees.
 * No message ever contains a key, a plaintext value or an API key.
 * @module
 */

/** Stable machine-readable codes of {@link VaultServerError}s. */
export type VaultServerErrorCode = 'MASTER_KEY' | 'DATABASE';

const BRAND = Symbol.for('vault-envelope.VaultServerError');

/** The brand check, and the code check when `code` is given: what every `is` runs. */
function isServerError(error: unknown, code: VaultServerErrorCode | undefined): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if ((error as Record<symbol, unknown>)[BRAND] !== true) return false;
  return code === undefined || (error as { code?: unknown }).code === code;
}

/**
 * Base class of the operational errors of the server. Catch it to handle all of them; test for
 * one case with a subclass's `is` (works across package copies and realms) or `instanceof`.
 *
 * @example
 * ```ts
 * try {
 *   await startServer({ dataDir });
 * } catch (e) {
 *   if (MasterKeyError.is(e)) console.error('wrong VAULT_MASTER_KEY for', dataDir);
 *   else if (VaultServerError.is(e)) console.error(e.code, e.message);
 *   throw e;
 * }
 * ```
 */
export class VaultServerError extends Error {
  /** The code this class stands for; each subclass sets its own (the base class, none). */
  static readonly code: VaultServerErrorCode | undefined = undefined;

  /** A stable machine-readable code. */
  readonly code: VaultServerErrorCode;

  /**
   * @param message - What went wrong; never a key or a value.
   * @param code - The stable code.
   * @param options - The underlying error, if any.
   */
  constructor(message: string, code: VaultServerErrorCode, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VaultServerError';
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /**
   * Tells whether `error` is a server error of any kind, also when it comes from another copy of
   * this package or another realm, where `instanceof` fails: by a `Symbol.for` brand, never by
   * `name`. Each subclass has its own `is` that accepts only its case (`MasterKeyError.is(e)`).
   * None of them uses `this`, so they work unbound too (`errors.filter(DatabaseError.is)`).
   * @param error - Anything caught.
   * @returns true for a server error of any kind.
   * @example
   * ```ts
   * if (VaultServerError.is(e)) console.error(e.code, e.message);
   * ```
   */
  static is(error: unknown): error is VaultServerError {
    return isServerError(error, undefined);
  }
}

/**
 * The master key does not open this data directory (it is not the key its key-encryption keys
 * were wrapped under), the master key file is unreadable or malformed, or it is missing while the
 * data directory holds a database (the server then refuses without writing anything, rather than
 * start with a new key that opens none of the stored data). Thrown by `startServer` and
 * `createVaultHandler`.
 */
export class MasterKeyError extends VaultServerError {
  /** The code this class stands for. */
  static override readonly code: VaultServerErrorCode = 'MASTER_KEY';

  /**
   * @param error - Anything caught.
   * @returns Whether `error` is a {@link MasterKeyError}, also from another package copy or realm.
   * @example
   * ```ts
   * if (MasterKeyError.is(e)) console.error('wrong VAULT_MASTER_KEY, or master.key is missing');
   * ```
   */
  static override is(error: unknown): error is MasterKeyError {
    return isServerError(error, MasterKeyError.code);
  }

  /**
   * @param message - What is wrong with the key (never the key).
   * @param options - The underlying error, if any.
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'MASTER_KEY', options);
    this.name = 'MasterKeyError';
  }
}

/**
 * The database can not be used: the data directory can not be created, another server holds it
 * (its lock file `vault.lock`), SQLite can not open its file there, the file fails its
 * integrity check at start, or it was written by a newer version of this server. Thrown by
 * `startServer` and `createVaultHandler`.
 */
export class DatabaseError extends VaultServerError {
  /** The code this class stands for. */
  static override readonly code: VaultServerErrorCode = 'DATABASE';

  /**
   * @param error - Anything caught.
   * @returns Whether `error` is a {@link DatabaseError}, also from another package copy or realm.
   * @example
   * ```ts
   * if (DatabaseError.is(e)) console.error('is another process using the data directory?');
   * ```
   */
  static override is(error: unknown): error is DatabaseError {
    return isServerError(error, DatabaseError.code);
  }

  /**
   * @param message - What went wrong.
   * @param options - The underlying error (SQLite's or the file system's), if any.
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'DATABASE', options);
    this.name = 'DatabaseError';
  }
}
