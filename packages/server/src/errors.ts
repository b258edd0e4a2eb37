/**
 * Operational errors of `@vault-envelope/server`. Configuration mistakes in code are `TypeError`
 * and `RangeError`; failures a caller must tell apart derive from {@link VaultServerError}. An
 * {@link HttpError} is what a route throws to answer a client with a status and `{"error": ...}`.
 * No message ever contains a key, a plaintext value or an API key.
 * @module
 */

/**
 * Base class of the operational errors of the server.
 *
 * @example
 * ```ts
 * try { await startServer({ dataDir }); }
 * catch (e) { if (e instanceof VaultServerError) console.error(e.message); else throw e; }
 * ```
 */
export class VaultServerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VaultServerError';
  }
}

/**
 * The master key does not open this data directory (it is not the key its key-encryption keys
 * were wrapped under), or the master key file is malformed. Thrown by `startServer` and
 * `createVaultHandler`.
 */
export class MasterKeyError extends VaultServerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MasterKeyError';
  }
}

/**
 * An answer to a client: an HTTP status and a message for the `{"error": ...}` body. Thrown by
 * route code, turned into a response by the handler; never escapes the server.
 */
export class HttpError extends VaultServerError {
  /** HTTP status code, 4xx or 5xx. */
  readonly status: number;
  /** Extra response headers (e.g. `Retry-After`, `Allow`). */
  readonly headers: Readonly<Record<string, string>>;

  /**
   * @param status - HTTP status.
   * @param message - The client-facing message; must not contain secrets or echo input values.
   * @param headers - Extra response headers.
   */
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.headers = headers;
  }
}
