/**
 * {@link HttpError}: how route code answers a client with a status and `{"error": ...}`. It is
 * thrown inside the server and turned into a response by the route adapter; it never reaches a
 * caller of the package, so it is not exported and carries no brand. Its message is what the
 * client reads: it must not contain a secret or echo an input value.
 * @module
 */

/** An answer to a client: an HTTP status and a message for the `{"error": ...}` body. */
export class HttpError extends Error {
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
