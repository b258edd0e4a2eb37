/**
 * `@vault-envelope/orm-core`: encrypted columns declared once per table, for any query layer.
 * Rows are encrypted before a write and result sets decrypted after a read with the field
 * helpers' bytes (a value written here decrypts with `envelope.decryptFields` and back), one
 * key lookup per distinct data key per result set, the caller's tenant bound into every value,
 * per-tenant and versioned blind indexes for equality search, and a migration read mode for
 * columns still being encrypted in place. `@vault-envelope/drizzle` and
 * `@vault-envelope/kysely` are built on it; raw SQL, Prisma or Knex code can use it as it is.
 *
 * This file only composes and re-exports.
 * @module
 */
export { checkId, NOT_SELECTED, rowTenant } from './_checks.js';
export type { OrmStats, PlaintextRead } from './_plaintext.js';
export { type Cell, cellsOf, type ReadOptions } from './_read.js';
export {
  type BlindIndexDeclaration,
  type ColumnModel,
  type ColumnStorage,
  type ContextArgs,
  checkTable,
  type EncryptedColumnDeclaration,
  type IndexModel,
  type TableDeclaration,
  type TableModel,
} from './declaration.js';
export {
  DeclarationError,
  OrmError,
  type OrmErrorCode,
  RowDecryptionError,
  type RowFailure,
  TenantMismatchError,
} from './errors.js';
export type { Encrypted, EncryptedTablesOptions, EncryptOptions } from './options.js';
export { EncryptedTables, TenantScope } from './tables.js';
