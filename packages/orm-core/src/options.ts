/**
 * The options and result types of {@link EncryptedTables} and {@link TenantScope}: what a set of
 * encrypted tables is built from (the key provider, the declarations, the migration read mode)
 * and what a write is given and returns.
 * @module
 */
import type { BackendChoice, FieldId, KeyProvider } from '@vault-envelope/core';
import type { PlaintextRead } from './_plaintext.js';
import type { TableDeclaration } from './declaration.js';
import type { EncryptedTables, TenantScope } from './tables.js';

/** Options of {@link EncryptedTables}. */
export interface EncryptedTablesOptions {
  /** Where data keys come from: a `cachedKeyProvider(new VaultClient(), ...)`, typically. */
  keys: KeyProvider;
  /** The declarations, one per table. */
  tables: readonly TableDeclaration[];
  /** Key-blob headers to recognise besides the built-in ones and the provider's (see `Envelope`). */
  keyBlobHeaders?: readonly Uint8Array[];
  /**
   * How key blobs are stored in what is written (`'base64-text'`: the .NET SDK's variant).
   * @default 'binary'
   */
  keyBlobEncoding?: 'binary' | 'base64-text';
  /** The AES-GCM backend. @default 'auto' */
  backend?: BackendChoice;
  /**
   * The migration read mode, for columns being encrypted in place: a value that is not a
   * ciphertext is served as it is when its type is the column's (a string in a text column,
   * bytes in a bytes column), counted ({@link EncryptedTables.stats}) and reported
   * (`onPlaintext`), instead of failing its row. `true` for every encrypted column, or the
   * columns being migrated as `'table.column'` (database names). Writes are unchanged: they
   * always encrypt. Turn it off once the backfill is verified.
   * @default false
   */
  allowPlaintext?: boolean | readonly string[];
  /** Called for each value served as plaintext: where it was, never the value. */
  onPlaintext?: (read: PlaintextRead) => void;
}

/** Options of {@link TenantScope.encrypt}. */
export interface EncryptOptions {
  /**
   * The id the values are bound to, for values that do not hold their row's id (an update's
   * set). Only with one row; when the values hold the id too, the two must agree.
   */
  id?: FieldId;
  /** Aborts the key requests. */
  signal?: AbortSignal;
}

/**
 * A row as {@link TenantScope.encrypt} returns it: the same properties (the encrypted columns
 * now hold ciphertexts of the same type, or bytes for a text column stored as binary) and the
 * blind-index columns it computed.
 */
export type Encrypted<T> = T & { [column: string]: unknown };
