/**
 * `@vault-envelope/server`: a local WorkOS Vault–compatible server on embedded SQLite, for
 * development, tests, CI and benchmarks. {@link startServer} listens on HTTP;
 * {@link createVaultHandler} is the same API as an in-process `fetch` handler.
 * @module
 */

export { DatabaseError, MasterKeyError, VaultServerError, type VaultServerErrorCode } from './errors.js';
export { createVaultHandler } from './handler.js';
export {
  type ApiKeyConfig,
  DEFAULT_CONNECTION_LIMITS,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_RATE_LIMIT,
  type FaultOptions,
  type HandlerOptions,
  type NodeBindings,
  type RunningServer,
  type ServerOptions,
  type ServerStats,
  type VaultControls,
  type VaultHandler,
} from './options.js';
export { startServer } from './server.js';
