/**
 * Operational errors of `@vault-envelope/core`. Programmer mistakes (a wrong argument type or
 * size) are the built-in `TypeError` and `RangeError`; everything a caller must tell apart at run
 * time derives from {@link EnvelopeError}. No message ever contains a data key or a plaintext.
 *
 * Each class has a static `is()` of its own that narrows to that class, by a `Symbol.for` brand
 * and the stable `code`: it works across two copies of this package and across realms, where
 * `instanceof` fails, cannot be fooled by an error that merely has the same `name`, and works
 * unbound (`errors.filter(DecryptionError.is)`), since none of them uses `this`.
 * @module
 */

/** Codes carried by {@link EnvelopeError}, stable across releases. */
export type EnvelopeErrorCode = 'FORMAT' | 'DECRYPTION' | 'KEY_DESTROYED' | 'KEY_PROVIDER';

const BRAND = Symbol.for('vault-envelope.EnvelopeError');

/**
 * Base class of the operational errors of `@vault-envelope/core`. Catch it to handle all of them;
 * test for one case with a subclass's `is` (`DecryptionError.is(e)`).
 *
 * @example
 * ```ts
 * try { await envelope.decrypt(ct); }
 * catch (e) { if (EnvelopeError.is(e)) console.error(e.code); else throw e; }
 * ```
 */
export class EnvelopeError extends Error {
  /**
   * The code the class stands for: each subclass sets its own; `undefined` on the base class,
   * which stands for every code.
   */
  static readonly code: EnvelopeErrorCode | undefined = undefined;

  /** A stable machine-readable code. */
  readonly code: EnvelopeErrorCode;

  /**
   * @param message - What went wrong; never a key or a plaintext.
   * @param code - The stable code.
   * @param options - `cause`, the underlying error.
   */
  constructor(message: string, code: EnvelopeErrorCode, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EnvelopeError';
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /**
   * Tells whether `error` is an error of this package, also when it comes from another copy of
   * it or another realm, where `instanceof` fails: by a `Symbol.for` brand, never by `name`.
   * Each subclass has its own `is` that accepts only its case (`FormatError.is(e)`), told by its
   * `code`. None of them uses `this`, so they work unbound too (`errors.filter(FormatError.is)`).
   * A subclass an application defines inherits this guard (every error of this package): give
   * it an `is` of its own, or use `instanceof`.
   * @param error - Anything caught.
   * @returns true when `error` is an error of this package, of any code.
   * @example
   * ```ts
   * if (DecryptionError.is(e)) return res.status(400).send('cannot decrypt');
   * else if (EnvelopeError.is(e)) console.error(e.code);
   * ```
   */
  static is(error: unknown): error is EnvelopeError {
    return isEnvelopeError(error, undefined);
  }
}

/** The brand check, and the code check when `code` is given: what every `is` runs. */
function isEnvelopeError(error: unknown, code: EnvelopeErrorCode | undefined): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if ((error as Record<symbol, unknown>)[BRAND] !== true) return false;
  return code === undefined || (error as { code?: unknown }).code === code;
}

/**
 * The ciphertext is not a well-formed message of the expected layout: bad base64, a truncated or
 * malformed LEB128 length, an empty key blob, or lengths that do not add up. Raised before any
 * key lookup, so a malformed input never reaches the key service. Also raised by
 * `decryptToString` when the plaintext is not valid UTF-8.
 * @example
 * ```ts
 * if (FormatError.is(e)) console.warn('not a ciphertext:', e.message);
 * ```
 */
export class FormatError extends EnvelopeError {
  static override readonly code: EnvelopeErrorCode = 'FORMAT';

  /**
   * @param error - Anything caught.
   * @returns Whether `error` is a {@link FormatError}, also from another package copy or realm.
   * @example
   * ```ts
   * [new FormatError('x')].filter(FormatError.is).length; // 1
   * ```
   */
  static override is(error: unknown): error is FormatError {
    return isEnvelopeError(error, FormatError.code);
  }

  /** The record field whose value was malformed, when a field helper raised it. */
  readonly field?: string;

  /**
   * @param message - What is wrong with the message (never its contents).
   * @param options - `field`, the record field it came from; `cause`, the underlying error.
   */
  constructor(message: string, options?: { field?: string; cause?: unknown }) {
    super(message, 'FORMAT', options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FormatError';
    if (options?.field !== undefined) this.field = options.field;
  }
}

/**
 * Authentication failed: wrong key, wrong AAD, or a modified ciphertext. The message is the same
 * in every case, so that it tells an attacker nothing, and no plaintext is released.
 * @example
 * ```ts
 * const ssn = await envelope.decryptToString(row.ssn, { aad }).catch((e) => {
 *   if (DecryptionError.is(e)) return undefined; // moved, tampered with, or the wrong key
 *   throw e;
 * });
 * ```
 */
export class DecryptionError extends EnvelopeError {
  static override readonly code: EnvelopeErrorCode = 'DECRYPTION';

  /**
   * @param error - Anything caught.
   * @returns Whether `error` is a {@link DecryptionError}, also from another package copy or realm.
   * @example
   * ```ts
   * [new DecryptionError()].filter(DecryptionError.is).length; // 1
   * ```
   */
  static override is(error: unknown): error is DecryptionError {
    return isEnvelopeError(error, DecryptionError.code);
  }

  /**
   * The record field that failed, when a field helper raised it (the message names it too):
   * moved from another row, column, table or tenant, or tampered with.
   */
  readonly field?: string;

  /** @param options - `cause`, the backend's own error; `field`, the record field that failed. */
  constructor(options?: { cause?: unknown; field?: string }) {
    super(
      options?.field === undefined
        ? 'decryption failed: wrong key, wrong AAD or a modified ciphertext'
        : `decryption failed for field "${options.field}": wrong key, wrong AAD or a modified ciphertext`,
      'DECRYPTION',
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'DecryptionError';
    if (options?.field !== undefined) this.field = options.field;
  }
}

/**
 * A shared data key was destroyed (evicted from its cache and zeroed) before it could be used.
 * The Envelope retries the key provider when this happens; a caller that holds a
 * {@link SharedDataKey} itself sees it when it reads the key after eviction.
 * @example
 * ```ts
 * try { use(shared.key); } catch (e) { if (!KeyDestroyedError.is(e)) throw e; }
 * ```
 */
export class KeyDestroyedError extends EnvelopeError {
  static override readonly code: EnvelopeErrorCode = 'KEY_DESTROYED';

  /**
   * @param error - Anything caught.
   * @returns Whether `error` is a {@link KeyDestroyedError}, also from another package copy or realm.
   * @example
   * ```ts
   * [new KeyDestroyedError()].filter(KeyDestroyedError.is).length; // 1
   * ```
   */
  static override is(error: unknown): error is KeyDestroyedError {
    return isEnvelopeError(error, KeyDestroyedError.code);
  }

  constructor() {
    super('the data key was destroyed by its owner before use', 'KEY_DESTROYED');
    this.name = 'KeyDestroyedError';
  }
}

/**
 * A key provider broke its contract (for example returned a data key that is not 32 bytes), or
 * could not unwrap a key blob that is not its own ({@link MemoryKeyProvider}). Errors a remote
 * provider itself throws (network, HTTP status) are passed through unchanged.
 * @example
 * ```ts
 * if (KeyProviderError.is(e)) alert('the key provider is misconfigured');
 * ```
 */
export class KeyProviderError extends EnvelopeError {
  static override readonly code: EnvelopeErrorCode = 'KEY_PROVIDER';

  /**
   * @param error - Anything caught.
   * @returns Whether `error` is a {@link KeyProviderError}, also from another package copy or realm.
   * @example
   * ```ts
   * [new KeyProviderError('x')].filter(KeyProviderError.is).length; // 1
   * ```
   */
  static override is(error: unknown): error is KeyProviderError {
    return isEnvelopeError(error, KeyProviderError.code);
  }

  /**
   * @param message - What the provider did wrong (never a key).
   * @param options - `cause`, the underlying error.
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'KEY_PROVIDER', options);
    this.name = 'KeyProviderError';
  }
}
