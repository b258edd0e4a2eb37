/**
 * `@vault-envelope/remote`: the WorkOS Vault HTTP client. {@link VaultClient} is core's
 * `KeyProvider` and carries the whole v1 object API; failures are typed {@link VaultError}s.
 * Built on ky; no static `node:` import, so it runs in Node, browsers and edge runtimes.
 * @module
 */

export { MAX_OBJECT_NAME_LENGTH, MAX_PAGE_SIZE, VaultClient } from './client.js';
export {
  AuthenticationError,
  BadRequestError,
  ConflictError,
  errorForStatus,
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
export {
  type AttemptEvent,
  DEFAULT_BASE_URL,
  DEFAULT_USER_AGENT,
  type ResponseEvent,
  type RetryEvent,
  type VaultClientOptions,
  type VaultHooks,
} from './options.js';
export {
  backoffDelay,
  DEFAULT_RETRY,
  type HeaderSource,
  type ResolvedRetryOptions,
  type RetryOptions,
  requestedWait,
  resolveRetryOptions,
} from './retry.js';
export type {
  Actor,
  CallOptions,
  CreateObjectOptions,
  DeleteObjectOptions,
  ListMetadata,
  ListObjectsOptions,
  ObjectIdOptions,
  ObjectList,
  ObjectMetadata,
  ObjectSummary,
  ObjectVersion,
  ObjectWithoutValue,
  UpdateObjectOptions,
  VaultObject,
} from './types.js';
