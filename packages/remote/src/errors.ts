/**
 * Operational errors of `@vault-envelope/remote`: one base class, {@link VaultError}, and one
 * subclass per way a Vault call can fail (an HTTP status class, a timeout, a network failure).
 * Programmer mistakes (a wrong argument type or size) are the built-in `TypeError` and
 * `RangeError`, thrown before anything is sent.
 *
 * Every error carries the HTTP `status` (when a response arrived), the server's own message, the
 * `X-Request-ID` of the response, the request's method and path (never its query string or
 * body), the number of attempts made and a `cause`. No message or property ever holds the API
 * key, a data key, an object's value or a request body: the server's message is taken only from
 * the message field of a JSON error body, bounded, with the request's secrets redacted (see
 * `_server-text.ts`), and a parser error that would quote a body is never kept as a `cause`.
 *
 * (Over 400 lines on purpose: one short class per case, each with the JSDoc that says when it is
 * thrown, read best side by side.)
 * @module
 */

import { MAX_SERVER_MESSAGE } from './_server-text.js';

/** Stable machine-readable codes of {@link VaultError}s. */
export type VaultErrorCode =
  | 'BAD_REQUEST'
  | 'AUTHENTICATION'
  | 'PERMISSION'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'UNPROCESSABLE_ENTITY'
  | 'RATE_LIMIT'
  | 'SERVER'
  | 'TIMEOUT'
  | 'NETWORK'
  | 'UNEXPECTED_STATUS'
  | 'INVALID_RESPONSE'
  | 'INVALID_VALUE';

/** What every {@link VaultError} constructor takes besides its message. */
export interface VaultErrorDetails {
  /** The HTTP method of the request, upper case. */
  method: string;
  /** The request path, without the query string (`/vault/v1/kv/obj_1`). */
  path: string;
  /** The response status, when a response arrived. */
  status?: number | undefined;
  /**
   * The `error` (or `message`) field of a JSON error body, when there was one, already redacted
   * of the request's secrets (the transport does it; see {@link VaultError.serverMessage}).
   */
  serverMessage?: string | undefined;
  /** The `X-Request-ID` response header, when there was one. */
  requestId?: string | undefined;
  /** How many attempts were made, retries included (default 1; 0 when nothing was sent). */
  attempts?: number | undefined;
  /** The underlying error, if any. */
  cause?: unknown;
}

const BRAND = Symbol.for('vault-envelope.VaultError');

/** The brand check, and the code check when `code` is given: what every `is` runs. */
function isVaultError(error: unknown, code: VaultErrorCode | undefined): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if ((error as Record<symbol, unknown>)[BRAND] !== true) return false;
  return code === undefined || (error as { code?: unknown }).code === code;
}

function describeRequest(d: VaultErrorDetails): string {
  let s = `${d.method} ${d.path}`;
  if (d.status !== undefined) s += ` returned ${d.status}`;
  if (d.serverMessage !== undefined && d.serverMessage !== '') s += `: ${d.serverMessage}`;
  if (d.requestId !== undefined) s += ` (request id ${d.requestId})`;
  if (d.attempts !== undefined && d.attempts > 1) s += ` after ${d.attempts} attempts`;
  return s;
}

/**
 * Base class of every operational failure of a Vault call. Catch it to handle all of them; test
 * for one case with a subclass's `is` (works across package copies and realms) or `instanceof`.
 *
 * @example
 * ```ts
 * try {
 *   await vault.readObjectByName('stripe-key');
 * } catch (e) {
 *   if (NotFoundError.is(e)) return undefined;
 *   if (VaultError.is(e)) console.error(e.code, e.requestId);
 *   throw e;
 * }
 * ```
 */
export class VaultError extends Error {
  /** The code this class stands for; each subclass sets its own. */
  static readonly code: VaultErrorCode = 'UNEXPECTED_STATUS';

  /** A stable machine-readable code. */
  readonly code: VaultErrorCode;
  /** The response status, or `undefined` when no response arrived (timeout, network). */
  readonly status: number | undefined;
  /**
   * The server's message: the `error` or `message` field of a JSON error body (or `error.message`),
   * at most 300 characters, with the API key and the request's value replaced by `[redacted]`
   * wherever 8 or more of their characters in a row appear, and control characters replaced by
   * spaces. `undefined` when the body was empty, not JSON, or had no such field: other server
   * text is never quoted, as it may echo the request.
   */
  readonly serverMessage: string | undefined;
  /** The `X-Request-ID` of the response: quote it to WorkOS support. */
  readonly requestId: string | undefined;
  /** The HTTP method of the request. */
  readonly method: string;
  /** The request path, without query string. */
  readonly path: string;
  /** How many attempts were made, retries included (0: the client's rate budget sent none). */
  readonly attempts: number;

  /**
   * @param message - What went wrong, in words; the request is appended.
   * @param code - The stable code.
   * @param details - Method, path, status, server message, request id, attempts, cause.
   */
  constructor(message: string, code: VaultErrorCode, details: VaultErrorDetails) {
    const serverMessage =
      details.serverMessage === undefined ? undefined : details.serverMessage.slice(0, MAX_SERVER_MESSAGE);
    const d = { ...details, serverMessage };
    super(
      `${message}: ${describeRequest(d)}`,
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.name = 'VaultError';
    this.code = code;
    this.status = details.status;
    this.serverMessage = serverMessage;
    this.requestId = details.requestId;
    this.method = details.method;
    this.path = details.path;
    this.attempts = details.attempts ?? 1;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /**
   * Tells whether `error` is a Vault error, also when it comes from another copy of this package
   * or another realm, where `instanceof` fails: by a `Symbol.for` brand, never by `name`. Each
   * subclass has its own `is` that accepts only its case (`NotFoundError.is(e)`). None of them
   * uses `this`, so they work unbound too (`errors.filter(NotFoundError.is)`).
   * @param error - Anything caught.
   * @returns true when `error` is a Vault error of any kind.
   * @example
   * ```ts
   * if (RateLimitError.is(e)) await sleep((e.retryAfter ?? 1) * 1000);
   * else if (VaultError.is(e)) console.error(e.code, e.requestId);
   * ```
   */
  static is(error: unknown): error is VaultError {
    return isVaultError(error, undefined);
  }
}

/**
 * 400: the request was malformed (a missing or invalid field). Fix the call; retrying will not
 * help.
 */
export class BadRequestError extends VaultError {
  static override readonly code: VaultErrorCode = 'BAD_REQUEST';

  /**
   * @param error - Anything caught.
   * @returns Whether `error` is a {@link BadRequestError}, also from another package copy or realm.
   */
  static override is(error: unknown): error is BadRequestError {
    return isVaultError(error, BadRequestError.code);
  }
  /** @param details - See {@link VaultErrorDetails}. */
  constructor(details: VaultErrorDetails) {
    super('Vault rejected the request as malformed', 'BAD_REQUEST', details);
    this.name = 'BadRequestError';
  }
}

/** 401: the API key is missing, malformed or revoked. Check the key; retrying will not help. */
export class AuthenticationError extends VaultError {
  static override readonly code: VaultErrorCode = 'AUTHENTICATION';

  /**
   * @param error - Anything caught.
   * @returns Whether `error` is a {@link AuthenticationError}, also from another package copy or realm.
   */
  static override is(error: unknown): error is AuthenticationError {
    return isVaultError(error, AuthenticationError.code);
  }
  /** @param details - See {@link VaultErrorDetails}. */
  constructor(details: VaultErrorDetails) {
    super('Vault did not accept the API key', 'AUTHENTICATION', details);
    this.name = 'AuthenticationError';
  }
}

/** 403: the API key is valid but lacks the Vault permission for this operation. */
export class PermissionError extends VaultError {
  static override readonly code: VaultErrorCode = 'PERMISSION';

  /**
   * @param error - Anything caught.
   * @returns Whether `error` is a {@link PermissionError}, also from another package copy or realm.
   */
  static override is(error: unknown): error is PermissionError {
    return isVaultError(error, PermissionError.code);
  }
  /** @param details - See {@link VaultErrorDetails}. */
  constructor(details: VaultErrorDetails) {
    super('the API key lacks permission for this Vault operation', 'PERMISSION', details);
    this.name = 'PermissionError';
  }
}

/** 404: no object (or key) with that id or name exists in this environment. */
export class NotFoundError extends VaultError {
  static override readonly code: VaultErrorCode = 'NOT_FOUND';

  /**
   * @param error - Anything caught.
   * @returns Whether `error` is a {@link NotFoundError}, also from another package copy or realm.
   */
  static override is(error: unknown): error is NotFoundError {
    return isVaultError(error, NotFoundError.code);
  }
  /** @param details - See {@link VaultErrorDetails}. */
  constructor(details: VaultErrorDetails) {
    super('Vault found no such object', 'NOT_FOUND', details);
    this.name = 'NotFoundError';
  }
}

/**
 * 409: an object with that name already exists (create), or `versionCheck` named a version that
 * is no longer current (update, delete). Re-read the object and decide again.
 */
export class ConflictError extends VaultError {
  static override readonly code: VaultErrorCode = 'CONFLICT';

  /**
   * @param error - Anything caught.
   * @returns Whether `error` is a {@link ConflictError}, also from another package copy or realm.
   */
  static override is(error: unknown): error is ConflictError {
    return isVaultError(error, ConflictError.code);
  }
  /** @param details - See {@link VaultErrorDetails}. */
  constructor(details: VaultErrorDetails) {
    super('Vault reported a conflict', 'CONFLICT', details);
    this.name = 'ConflictError';
  }
}

/** 422: the request was well-formed but its values were refused (for example a bad key context). */
export class UnprocessableEntityError extends VaultError {
  static override readonly code: VaultErrorCode = 'UNPROCESSABLE_ENTITY';

  /**
   * @param error - Anything caught.
   * @returns Whether `error` is a {@link UnprocessableEntityError}, also from another package copy or realm.
   */
  static override is(error: unknown): error is UnprocessableEntityError {
    return isVaultError(error, UnprocessableEntityError.code);
  }
  /** @param details - See {@link VaultErrorDetails}. */
  constructor(details: VaultErrorDetails) {
    super('Vault could not process the request', 'UNPROCESSABLE_ENTITY', details);
    this.name = 'UnprocessableEntityError';
  }
}

/**
 * 429: the rate limit held after every retry, or the server asked for a wait longer than
 * `retry.maxRetryAfter` or than the time left before the deadline. `retryAfter` says how long
 * the server asked to wait.
 *
 * Also thrown, with no `status` and `attempts` 0, when the client's own rate budget has no
 * request left before the call's deadline: then nothing was sent, and `retryAfter` is the
 * shortest wait after which the budget may have one.
 */
export class RateLimitError extends VaultError {
  static override readonly code: VaultErrorCode = 'RATE_LIMIT';

  /**
   * @param error - Anything caught.
   * @returns Whether `error` is a {@link RateLimitError}, also from another package copy or realm.
   */
  static override is(error: unknown): error is RateLimitError {
    return isVaultError(error, RateLimitError.code);
  }
  /** Seconds to wait: what the server asked for (`Retry-After`, `X-RateLimit-Reset`), or the budget's. */
  readonly retryAfter: number | undefined;
  /**
   * @param details - See {@link VaultErrorDetails}.
   * @param retryAfter - Seconds the server asked to wait, if it said.
   * @param source - `'server'` for a 429, `'budget'` when the client's rate budget refused to send.
   */
  constructor(details: VaultErrorDetails, retryAfter?: number, source: 'server' | 'budget' = 'server') {
    super(
      source === 'budget'
        ? "the client's rate budget has no request left before the call's deadline"
        : 'Vault rate limit exceeded',
      'RATE_LIMIT',
      details,
    );
    this.name = 'RateLimitError';
    this.retryAfter = retryAfter;
  }
}

/** 5xx: Vault failed (after every retry, for 500/502/503/504). Safe to retry later. */
export class ServerError extends VaultError {
  static override readonly code: VaultErrorCode = 'SERVER';

  /**
   * @param error - Anything caught.
   * @returns Whether `error` is a {@link ServerError}, also from another package copy or realm.
   */
  static override is(error: unknown): error is ServerError {
    return isVaultError(error, ServerError.code);
  }
  /** @param details - See {@link VaultErrorDetails}. */
  constructor(details: VaultErrorDetails) {
    super('Vault failed to handle the request', 'SERVER', details);
    this.name = 'ServerError';
  }
}

/**
 * No answer in time: an attempt exceeded `timeout` on its last try, the overall `deadline`
 * passed, or the server answered 408 on every attempt. `status` is 408 in the last case and
 * `undefined` otherwise.
 */
export class TimeoutError extends VaultError {
  static override readonly code: VaultErrorCode = 'TIMEOUT';

  /**
   * @param error - Anything caught.
   * @returns Whether `error` is a {@link TimeoutError}, also from another package copy or realm.
   */
  static override is(error: unknown): error is TimeoutError {
    return isVaultError(error, TimeoutError.code);
  }
  /**
   * @param details - See {@link VaultErrorDetails}.
   * @param what - What ran out: `'attempt'`, `'deadline'` or `'server'` (a 408).
   */
  constructor(details: VaultErrorDetails, what: 'attempt' | 'deadline' | 'server' = 'attempt') {
    const message =
      what === 'deadline'
        ? 'the Vault call ran past its overall deadline'
        : what === 'server'
          ? 'Vault timed out waiting for the request'
          : 'the Vault call timed out';
    super(message, 'TIMEOUT', details);
    this.name = 'TimeoutError';
  }
}

/**
 * The request never got a complete response: DNS failure, refused or reset connection, TLS
 * failure, or a body cut off mid-way, on every attempt. `cause` holds the runtime's error.
 */
export class NetworkError extends VaultError {
  static override readonly code: VaultErrorCode = 'NETWORK';

  /**
   * @param error - Anything caught.
   * @returns Whether `error` is a {@link NetworkError}, also from another package copy or realm.
   */
  static override is(error: unknown): error is NetworkError {
    return isVaultError(error, NetworkError.code);
  }
  /** @param details - See {@link VaultErrorDetails}. */
  constructor(details: VaultErrorDetails) {
    super('could not reach Vault', 'NETWORK', details);
    this.name = 'NetworkError';
  }
}

/**
 * An object's value is not what the call that read it expects: `loadIndexKey` read an
 * object whose value is not the standard base64 of 32 bytes. The object was read (the status is
 * its answer's); its value is never part of the error.
 */
export class InvalidValueError extends VaultError {
  static override readonly code: VaultErrorCode = 'INVALID_VALUE';

  /**
   * @param error - Anything caught.
   * @returns Whether `error` is a {@link InvalidValueError}, also from another package copy or realm.
   */
  static override is(error: unknown): error is InvalidValueError {
    return isVaultError(error, InvalidValueError.code);
  }
  /**
   * @param what - What is wrong with the value, in words that never quote it.
   * @param details - See {@link VaultErrorDetails}.
   */
  constructor(what: string, details: VaultErrorDetails) {
    super(`the object's value ${what}`, 'INVALID_VALUE', details);
    this.name = 'InvalidValueError';
  }
}

/**
 * Builds the typed error for an HTTP error status.
 * @param status - The response status (not 2xx).
 * @param details - The rest of the details.
 * @param retryAfter - For 429: seconds the server asked to wait.
 * @returns The matching subclass of {@link VaultError}.
 * @example
 * ```ts
 * errorForStatus(404, { method: 'GET', path: '/vault/v1/kv/x' }); // NotFoundError
 * ```
 */
export function errorForStatus(
  status: number,
  details: Omit<VaultErrorDetails, 'status'>,
  retryAfter?: number,
): VaultError {
  const d: VaultErrorDetails = { ...details, status };
  switch (status) {
    case 400:
      return new BadRequestError(d);
    case 401:
      return new AuthenticationError(d);
    case 403:
      return new PermissionError(d);
    case 404:
      return new NotFoundError(d);
    case 408:
      return new TimeoutError(d, 'server');
    case 409:
      return new ConflictError(d);
    case 422:
      return new UnprocessableEntityError(d);
    case 429:
      return new RateLimitError(d, retryAfter);
  }
  if (status >= 500 && status <= 599) return new ServerError(d);
  return new VaultError(`Vault answered with unexpected status ${status}`, 'UNEXPECTED_STATUS', d);
}
