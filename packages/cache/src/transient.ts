/**
 * The default test for "the key service is unreachable or failing", which is when an opt-in
 * `staleIfError` window may serve an expired decrypt key.
 * @module
 */

/** Error names that mean the request did not get an answer from a healthy server. */
const TRANSIENT_NAMES: ReadonlySet<string> = new Set(['NetworkError', 'TimeoutError', 'FetchError']);

/** System error codes of failed connections (Node, undici). */
const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** true or false when `e` itself says; undefined when only its cause can tell. */
function transientHere(e: object): boolean | undefined {
  const r = e as { status?: unknown; statusCode?: unknown; name?: unknown; code?: unknown };
  const status = typeof r.status === 'number' ? r.status : r.statusCode;
  // An HTTP status is the server's own answer: only 5xx means "failing", and a cause can not
  // overrule it.
  if (typeof status === 'number') return status >= 500 && status <= 599;
  if (typeof r.name === 'string' && TRANSIENT_NAMES.has(r.name)) return true;
  if (typeof r.code === 'string' && TRANSIENT_CODES.has(r.code)) return true;
  return undefined;
}

/**
 * Tells whether a key provider's error is a network failure or a 5xx answer: an error (or one of
 * its first three `cause`s) with a numeric `status`/`statusCode` in 500..599, a `name` of
 * `NetworkError`, `TimeoutError` or `FetchError`, or a connection error `code` (`ECONNREFUSED`,
 * `ECONNRESET`, `ETIMEDOUT`, `UND_ERR_SOCKET`, ...). A 4xx status is never transient: the service
 * answered, and its answer (revoked, forbidden, not found) must reach the caller.
 * @param error - What the provider rejected with.
 * @returns true when a stale key may be served in its place.
 * @example
 * ```ts
 * isTransientError(Object.assign(new Error('bad gateway'), { status: 502 })); // true
 * isTransientError(Object.assign(new Error('forbidden'), { status: 403 }));  // false
 * ```
 */
export function isTransientError(error: unknown): boolean {
  let e: unknown = error;
  for (let depth = 0; depth < 4 && typeof e === 'object' && e !== null; depth++) {
    const verdict = transientHere(e);
    if (verdict !== undefined) return verdict;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
