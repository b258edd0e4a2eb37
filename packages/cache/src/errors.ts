/**
 * Operational errors of `@vault-envelope/cache`. Programmer mistakes (a wrong option type or
 * range) are the built-in `TypeError` and `RangeError`; errors of the wrapped provider reach the
 * caller unchanged; what the cache itself refuses derives from {@link KeyCacheError}.
 * @module
 */

/** Codes carried by {@link KeyCacheError}, stable across releases. */
export type KeyCacheErrorCode = 'CACHE_CLOSED';

const BRAND = Symbol.for('vault-envelope.KeyCacheError');

/**
 * Base class of the operational errors of `@vault-envelope/cache`.
 *
 * @example
 * ```ts
 * try { await keys.createDataKey(ctx); }
 * catch (e) { if (KeyCacheError.is(e)) console.error(e.code); else throw e; }
 * ```
 */
export class KeyCacheError extends Error {
  /** A stable machine-readable code. */
  readonly code: KeyCacheErrorCode;

  /**
   * @param message - What happened (never contains key material).
   * @param code - The stable code.
   * @param options - `cause`.
   */
  constructor(message: string, code: KeyCacheErrorCode, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeyCacheError';
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /**
   * Tells whether `error` is a `KeyCacheError`, also across realms and package copies, where
   * `instanceof` fails.
   * @param error - Anything caught.
   * @returns true for a `KeyCacheError` or a subclass.
   * @example
   * ```ts
   * KeyCacheError.is(new CacheClosedError()); // true
   * ```
   */
  static is(error: unknown): error is KeyCacheError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;
  }
}

/**
 * The cache was closed: thrown by every call made after `close()`, and delivered to callers that
 * were waiting for a key fetch that `close()` aborted.
 *
 * @example
 * ```ts
 * await keys.close();
 * await keys.createDataKey(ctx); // rejects with CacheClosedError
 * ```
 */
export class CacheClosedError extends KeyCacheError {
  constructor() {
    super('the key cache is closed', 'CACHE_CLOSED');
    this.name = 'CacheClosedError';
  }
}
