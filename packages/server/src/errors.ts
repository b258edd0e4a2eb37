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
   * Tells whether `error` is an error of this class, also when it comes from another copy of this
   * package or another realm, where `instanceof` fails. On `VaultServerError` itself it accepts
   * every server error; on a subclass (`MasterKeyError.is(e)`) only that case.
   * @param error - Anything caught.
   * @returns true when `error` is a server error of this class.
   * @example
   * ```ts
   * if (DatabaseError.is(e)) console.error('is another process using the data directory?');
   * ```
   */
  static is<T extends VaultServerError>(
    this: { prototype: T; readonly code?: VaultServerErrorCode },
    error: unknown,
  ): error is T {
    if (typeof error !== 'object' || error === null) return false;
    if ((error as Record<symbol, unknown>)[BRAND] !== true) return false;
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class `is` was called on
    if ((this as unknown) === VaultServerError) return true;
    // A subclass without a code of its own narrows to nothing rather than to everything.
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass `is` was called on
    return this.code !== undefined && (error as VaultServerError).code === this.code;
  }
}

/**
 * The master key does not open this data directory (it is not the key its key-encryption keys
 * were wrapped under), or the master key file is unreadable or malformed. Thrown by
 * `startServer` and `createVaultHandler`.
 */
export class MasterKeyError extends VaultServerError {
  /** The code this class stands for. */
  static readonly code: VaultServerErrorCode = 'MASTER_KEY';

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
 * The database can not be opened (the data directory can not be created, or SQLite can not open
 * its file there) or was written by a newer version of this server. Thrown by `startServer` and
 * `createVaultHandler`.
 */
export class DatabaseError extends VaultServerError {
  /** The code this class stands for. */
  static readonly code: VaultServerErrorCode = 'DATABASE';

  /**
   * @param message - What went wrong.
   * @param options - The underlying error (SQLite's or the file system's), if any.
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'DATABASE', options);
    this.name = 'DatabaseError';
  }
}
