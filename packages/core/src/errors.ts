/**
 * Operational errors of `@vault-envelope/core`. Programmer mistakes (a wrong argument type or
 * size) are the built-in `TypeError` and `RangeError`; everything a caller must tell apart at run
 * time derives from {@link EnvelopeError}. No message ever contains a data key or a plaintext.
 * @module
 */

/** Codes carried by {@link EnvelopeError}, stable across releases. */
export type EnvelopeErrorCode = 'FORMAT' | 'DECRYPTION' | 'KEY_DESTROYED' | 'KEY_PROVIDER';

const BRAND = Symbol.for('vault-envelope.EnvelopeError');

/**
 * Base class of the operational errors of `@vault-envelope/core`.
 *
 * @example
 * ```ts
 * try { await envelope.decrypt(ct); }
 * catch (e) { if (EnvelopeError.is(e)) console.error(e.code); else throw e; }
 * ```
 */
export class EnvelopeError extends Error {
  /** A stable machine-readable code. */
  readonly code: EnvelopeErrorCode;

  constructor(message: string, code: EnvelopeErrorCode, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EnvelopeError';
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /**
   * Tells whether `error` is an `EnvelopeError`, also when it comes from another copy of this
   * package or another realm, where `instanceof` fails.
   * @param error - Anything caught.
   * @returns true for an `EnvelopeError` or a subclass.
   */
  static is(error: unknown): error is EnvelopeError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;
  }
}

/**
 * The ciphertext is not a well-formed message of the expected layout: bad base64, a truncated or
 * malformed LEB128 length, an empty key blob, or lengths that do not add up. Raised before any
 * key lookup, so a malformed input never reaches the key service.
 */
export class FormatError extends EnvelopeError {
  constructor(message: string) {
    super(message, 'FORMAT');
    this.name = 'FormatError';
  }
}

/**
 * Authentication failed: wrong key, wrong AAD, or a modified ciphertext. The message is the same
 * in every case, so that it tells an attacker nothing, and no plaintext is released.
 */
export class DecryptionError extends EnvelopeError {
  constructor(options?: { cause?: unknown }) {
    super('decryption failed: wrong key, wrong AAD or a modified ciphertext', 'DECRYPTION', options);
    this.name = 'DecryptionError';
  }
}

/**
 * A shared data key was destroyed (evicted from its cache and zeroed) before it could be used.
 * The Envelope retries the key provider when this happens; a caller that holds a
 * {@link SharedDataKey} itself sees it when it reads the key after eviction.
 */
export class KeyDestroyedError extends EnvelopeError {
  constructor() {
    super('the data key was destroyed by its owner before use', 'KEY_DESTROYED');
    this.name = 'KeyDestroyedError';
  }
}

/**
 * A key provider broke its contract (for example returned a data key that is not 32 bytes).
 * Errors the provider itself throws (network, HTTP status) are passed through unchanged.
 */
export class KeyProviderError extends EnvelopeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'KEY_PROVIDER', options);
    this.name = 'KeyProviderError';
  }
}
