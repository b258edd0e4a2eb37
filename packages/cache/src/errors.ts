/**
 * Operational errors of `@vault-envelope/cache`. Programmer mistakes (a wrong option type or
 * range) are the built-in `TypeError` and `RangeError`; errors of the wrapped provider reach the
 * caller unchanged; what the cache itself refuses derives from {@link KeyCacheError}.
 * @module
 */

/** Codes carried by {@link KeyCacheError}, stable across releases. */
export type KeyCacheErrorCode = 'CACHE_CLOSED';

const BRAND = Symbol.for('vault-envelope.KeyCacheError');

/** The brand check, and the code check when `code` is given: what every `is` runs. */
function isKeyCacheError(error: unknown, code: KeyCacheErrorCode | undefined): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if ((error as Record<symbol, unknown>)[BRAND] !== true) return false;
  return code === undefined || (error as { code?: unknown }).code === code;
}

/**
 * Base class of the operational errors of `@vault-envelope/cache`. Catch it to handle all of
 * them; test for one case with a subclass's `is` (works across package copies and realms) or
 * `instanceof`.
 *
 * @example
 * ```ts
 * try { await keys.createDataKey(ctx); }
 * catch (e) { if (KeyCacheError.is(e)) console.error(e.code); else throw e; }
 * ```
 */
export class KeyCacheError extends Error {
  /** The code this class stands for; each subclass sets its own (the base class, none). */
  static readonly code: KeyCacheErrorCode | undefined = undefined;

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
   * Tells whether `error` is a cache error, also when it comes from another copy of this package
   * or another realm, where `instanceof` fails: by a `Symbol.for` brand, never by `name`. Each
   * subclass has its own `is` that accepts only its case (`CacheClosedError.is(e)`). None of them
   * uses `this`, so they work unbound too (`errors.filter(KeyCacheError.is)`).
   * @param error - Anything caught.
   * @returns true for a cache error of any kind.
   * @example
   * ```ts
   * KeyCacheError.is(new CacheClosedError()); // true
   * ```
   */
  static is(error: unknown): error is KeyCacheError {
    return isKeyCacheError(error, undefined);
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
  static override readonly code: KeyCacheErrorCode = 'CACHE_CLOSED';

  /**
   * @param error - Anything caught.
   * @returns Whether `error` is a {@link CacheClosedError}, also from another package copy or realm.
   * @example
   * ```ts
   * if (CacheClosedError.is(e)) return; // shutting down
   * ```
   */
  static override is(error: unknown): error is CacheClosedError {
    return isKeyCacheError(error, CacheClosedError.code);
  }

  /** Takes no arguments: the message is always the same. */
  constructor() {
    super('the key cache is closed', 'CACHE_CLOSED');
    this.name = 'CacheClosedError';
  }
}
