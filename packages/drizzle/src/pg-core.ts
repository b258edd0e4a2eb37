/**
 * Encrypted column types for `pgTable`: `encryptedText` (a string once decrypted) and
 * `encryptedBytes` (a Uint8Array), stored as base64 text or as bytea. Drizzle types selects and
 * inserts with the plaintext types; the values themselves go through the vault
 * (`vault.forTenant(tenant).encrypt(...)` before a write, `.read(query)` after a read).
 * @module
 */
import { type ConvertCustomConfig, customType, type PgCustomColumnBuilder } from 'drizzle-orm/pg-core';
import { buildColumn, type CustomTypeFactory } from './_value.js';

/** Options of an encrypted column. */
export interface EncryptedColumnOptions {
  /**
   * How the ciphertext is stored: `'text'` (base64 in a TEXT column) or `'binary'` (bytea).
   * @default 'text' for encryptedText, 'binary' for encryptedBytes
   */
  storage?: 'text' | 'binary';
}

type TextColumn<N extends string> = PgCustomColumnBuilder<
  ConvertCustomConfig<N, { data: string; driverData: string | Uint8Array }>
>;
type BytesColumn<N extends string> = PgCustomColumnBuilder<
  ConvertCustomConfig<N, { data: Uint8Array; driverData: string | Uint8Array }>
>;

function build(
  kind: 'text' | 'bytes',
  name: string | undefined,
  options: EncryptedColumnOptions | undefined,
): unknown {
  return buildColumn(customType as unknown as CustomTypeFactory, 'bytea', kind, name, options);
}

/**
 * An encrypted text column: a string in your code, a ciphertext in the database (base64 text by
 * default). Declare its table in a `DrizzleVault`.
 * @param name - The column's name in the database (default: the property's, as for `text()`).
 * @param options - `storage`.
 * @returns A column builder, as `text()` returns one (`.notNull()` and the rest apply).
 * @throws TypeError on a bad storage.
 * @example
 * ```ts
 * const users = pgTable('users', { id: text('id').primaryKey(), ssn: encryptedText('ssn') });
 * ```
 */
export function encryptedText<N extends string = ''>(
  name?: N,
  options?: EncryptedColumnOptions,
): TextColumn<N> {
  return build('text', name, options) as TextColumn<N>;
}

/**
 * An encrypted bytes column: a Uint8Array in your code, a ciphertext in the database (bytea by
 * default).
 * @param name - The column's name in the database.
 * @param options - `storage`.
 * @returns A column builder.
 * @throws TypeError on a bad storage.
 * @example
 * ```ts
 * const users = pgTable('users', { id: text('id').primaryKey(), photo: encryptedBytes('photo') });
 * ```
 */
export function encryptedBytes<N extends string = ''>(
  name?: N,
  options?: EncryptedColumnOptions,
): BytesColumn<N> {
  return build('bytes', name, options) as BytesColumn<N>;
}
