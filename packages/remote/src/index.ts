/**
 * `@vault-envelope/remote`: the WorkOS Vault HTTP client. {@link VaultClient} is core's
 * `KeyProvider` and carries the whole v1 object API; failures are typed {@link VaultError}s.
 * Built on ky; no static `node:` import, so it runs in Node, browsers and edge runtimes.
 * @module
 */
import { RateBudget, rateReportOf } from './_rate-budget.js';
import { backoffDelay, requestedWait, resolveRetryOptions } from './_retry.js';
import { redact, serverMessageOf } from './_server-text.js';
import { errorForStatus } from './errors.js';

export { VaultClient } from './client.js';
export {
  AuthenticationError,
  BadRequestError,
  ConflictError,
  InvalidValueError,
  NetworkError,
  NotFoundError,
  PermissionError,
  RateLimitError,
  ServerError,
  TimeoutError,
  UnprocessableEntityError,
  VaultError,
  type VaultErrorCode,
  type VaultErrorDetails,
} from './errors.js';
export { loadIndexKey } from './index-key.js';
export {
  type AttemptEvent,
  DEFAULT_BASE_URL,
  DEFAULT_REQUESTS_PER_MINUTE,
  DEFAULT_USER_AGENT,
  type RateLimitOptions,
  type ResponseEvent,
  type RetryEvent,
  type VaultClientOptions,
  type VaultHooks,
} from './options.js';
export { DEFAULT_RETRY, type ResolvedRetryOptions, type RetryOptions } from './retry.js';
export {
  type Actor,
  type CallOptions,
  type CreateObjectOptions,
  type DeleteObjectOptions,
  type ListMetadata,
  type ListObjectsOptions,
  MAX_OBJECT_NAME_LENGTH,
  MAX_PAGE_SIZE,
  type ObjectIdOptions,
  type ObjectList,
  type ObjectMetadata,
  type ObjectSummary,
  type ObjectVersion,
  type ObjectWithoutValue,
  type UpdateObjectOptions,
  type VaultObject,
} from './types.js';

/**
 * Internals exposed for this package's own tests: the retry policy (`backoffDelay`,
 * `requestedWait`, `resolveRetryOptions`), the status-to-error table (`errorForStatus`), what of
 * a server's text may be quoted (`serverMessageOf`, `redact`) and the rate budget
 * (`RateBudget`, `rateReportOf`, with an injectable clock), so that they can be tested exactly
 * without a server.
 *
 * Unstable: not part of the public API, outside semantic versioning, and may change or vanish in
 * any release. Not for applications; use {@link VaultClient} and its options instead.
 * @example
 * ```ts
 * const { backoffDelay, resolveRetryOptions } = __TESTS;
 * backoffDelay(1, resolveRetryOptions({ jitter: false }), Math.random); // 250
 * ```
 * @hidden (left out of the API reference)
 */
export const __TESTS: Readonly<{
  backoffDelay: typeof backoffDelay;
  requestedWait: typeof requestedWait;
  resolveRetryOptions: typeof resolveRetryOptions;
  errorForStatus: typeof errorForStatus;
  serverMessageOf: typeof serverMessageOf;
  redact: typeof redact;
  RateBudget: typeof RateBudget;
  rateReportOf: typeof rateReportOf;
}> = Object.freeze({
  backoffDelay,
  requestedWait,
  resolveRetryOptions,
  errorForStatus,
  serverMessageOf,
  redact,
  RateBudget,
  rateReportOf,
});
