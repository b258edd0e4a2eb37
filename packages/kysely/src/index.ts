/**
 * `@vault-envelope/kysely`: encrypted columns for Kysely (SQLite, PostgreSQL). Declare each
 * table's encrypted and blind-index columns once in a {@link KyselyVault}; per request,
 * `encrypt` before a write, the tenant's plugin decrypts results, `eq` builds a blind-index
 * search. Built on `@vault-envelope/orm-core`, whose declaration type and errors it re-exports.
 *
 * This file only composes and re-exports.
 * @module
 */
export {
  type BlindIndexDeclaration,
  DeclarationError,
  type EncryptedColumnDeclaration,
  OrmError,
  type OrmErrorCode,
  type OrmStats,
  type PlaintextRead,
  type ReadOptions,
  RowDecryptionError,
  type RowFailure,
  type TableDeclaration,
  TenantMismatchError,
} from '@vault-envelope/orm-core';
export { type KyselyEncryptOptions, KyselyTenant, KyselyVault, type KyselyVaultOptions } from './vault.js';
