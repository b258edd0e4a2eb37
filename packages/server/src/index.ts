/**
 * `@vault-envelope/server`: a local WorkOS Vault–compatible server on embedded SQLite, for
 * development, tests, CI and benchmarks. {@link startServer} listens on HTTP;
 * {@link createVaultHandler} is the same API as an in-process `fetch` handler.
 * @module
 */

export { DatabaseError, MasterKeyError, VaultServerError, type VaultServerErrorCode } from './errors.js';
export { createVaultHandler, DEFAULT_MAX_BODY_BYTES, DEFAULT_RATE_LIMIT } from './handler.js';
export type {
  ApiKeyConfig,
  FaultOptions,
  NodeBindings,
  RunningServer,
  ServerOptions,
  ServerStats,
  VaultControls,
  VaultHandler,
} from './options.js';
export { startServer } from './server.js';
