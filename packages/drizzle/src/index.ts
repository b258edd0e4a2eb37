/**
 * `@vault-envelope/drizzle`: encrypted columns for Drizzle ORM (SQLite and PostgreSQL). Declare
 * a table's encrypted columns with their types (`encryptedText`, `encryptedBytes` from
 * `@vault-envelope/drizzle/sqlite-core` or `/pg-core`) and the table once in a
 * {@link DrizzleVault}; per request, `encrypt` before a write, `read` around a query, `eq` for a
 * blind-index search. Built on `@vault-envelope/orm-core`, whose errors it re-exports.
 *
 * This file only composes and re-exports.
 * @module
 */
export {
  OrmError,
  type OrmErrorCode,
  type OrmStats,
  type PlaintextRead,
  type ReadOptions,
  RowDecryptionError,
  type RowFailure,
  TenantMismatchError,
} from '@vault-envelope/orm-core';
export { EncryptedValue, isEncryptedValue } from './_value.js';
export {
  type DrizzleBlindIndex,
  type DrizzleEncryptOptions,
  type DrizzleTableDeclaration,
  DrizzleTenant,
  DrizzleVault,
  type DrizzleVaultOptions,
  type EncryptedValues,
} from './vault.js';
