/**
 * {@link EncryptedValue}: what an encrypted column holds between the database and the
 * application. Drizzle's custom column types are synchronous (they can not await a key unwrap),
 * so the column's `fromDriver` does not decrypt: it wraps the stored ciphertext with the column
 * it came from, and `read` finds these wrappers anywhere in a result (selects, joins, aliases,
 * relational queries) and decrypts them all in one batch. A result read without `read` keeps
 * them: they refuse to be serialized (`JSON.stringify` throws), so a forgotten `read` can not
 * send ciphertext, or anything that looks like a value, to an API's clients.
 *
 * On the way in, the column's `toDriver` takes only an EncryptedValue (what `encrypt` returns)
 * or a value that is already a ciphertext; a plaintext is a TypeError, never written.
 * @module
 */
import { decodeBase64, encodeBase64, isBytes, isCiphertext } from '@vault-envelope/core';
import type { ColumnStorage } from '@vault-envelope/orm-core';

/** What identifies a column through Drizzle's alias proxies: its config object. */
export type ColumnIdentity = object;

/** What an encrypted column knows of itself. */
export interface EncryptedColumnInfo {
  readonly kind: 'text' | 'bytes';
  readonly storage: ColumnStorage;
}

/** The column a value came from, as Drizzle's column object (or an alias proxy of it) says. */
interface ColumnLike {
  readonly name: string;
  readonly config: object;
  readonly table: object;
}

const TABLE_NAME = Symbol.for('drizzle:Name');

/** `table.column` of a column (or an alias proxy of one), for messages. */
export function columnTitle(column: unknown): string {
  const c = column as Partial<ColumnLike> | null;
  const table = (c?.table as Record<symbol, unknown> | undefined)?.[TABLE_NAME];
  return `${typeof table === 'string' ? table : '(table)'}.${String(c?.name)}`;
}

/**
 * What identifies a column: its config object, which Drizzle's alias proxies pass through
 * (they change only `table`). Undefined for anything that is not a column.
 */
export function identityOf(column: unknown): ColumnIdentity | undefined {
  const config = (column as { config?: unknown } | null)?.config;
  return typeof config === 'object' && config !== null ? config : undefined;
}

/**
 * A ciphertext in an encrypted column, with the column it belongs to. `read` replaces each one
 * with its plaintext; a result read without `read` keeps them, and then `JSON.stringify` throws
 * and `String()` and `util.inspect()` give `[encrypted table.column]`, never the ciphertext.
 *
 * @example
 * ```ts
 * const [raw] = await db.select().from(users); // not through vault.forTenant(t).read(...)
 * String(raw.ssn);      // '[encrypted users.ssn]'
 * JSON.stringify(raw);  // throws TypeError
 * ```
 */
export class EncryptedValue {
  /** `table.column`, for messages. */
  readonly column: string;
  readonly #identity: ColumnIdentity;
  readonly #stored: string | Uint8Array;

  /** @internal */
  constructor(column: string, identity: ColumnIdentity, stored: string | Uint8Array) {
    this.column = column;
    this.#identity = identity;
    this.#stored = stored;
  }

  /**
   * The column's identity (its config object, the same through alias proxies).
   * @internal
   */
  get identity(): ColumnIdentity {
    return this.#identity;
  }

  /**
   * The ciphertext as stored.
   * @internal
   */
  get stored(): string | Uint8Array {
    return this.#stored;
  }

  /**
   * Refuses: an encrypted column read without the vault's `read` must not reach a response.
   * @throws TypeError always.
   */
  toJSON(): never {
    throw new TypeError(
      `${this.column} is an encrypted column: read the query with vault.forTenant(tenant).read(query) to decrypt it`,
    );
  }

  /** @returns `[encrypted table.column]`. */
  toString(): string {
    return `[encrypted ${this.column}]`;
  }
}

// `util.inspect` and `console.log` show `[encrypted table.column]` too (Node's inspect.custom,
// by its registered name: no `node:` import here).
Object.defineProperty(EncryptedValue.prototype, Symbol.for('nodejs.util.inspect.custom'), {
  value(this: EncryptedValue): string {
    return this.toString();
  },
});

/**
 * Whether `value` is an {@link EncryptedValue}: a ciphertext read without the vault's `read`.
 * @param value - Anything (a column of a result).
 * @returns true for an EncryptedValue.
 * @example
 * ```ts
 * if (isEncryptedValue(row.ssn)) throw new Error('read the query through vault.forTenant(t).read');
 * ```
 */
export function isEncryptedValue(value: unknown): value is EncryptedValue {
  return value instanceof EncryptedValue;
}

/** A ciphertext in the form the column stores. */
function toStorage(value: string | Uint8Array, storage: ColumnStorage): string | Uint8Array {
  if (storage === 'text') return typeof value === 'string' ? value : encodeBase64(value);
  return typeof value === 'string' ? decodeBase64(value) : value;
}

/** PostgreSQL's text form of bytea (`\x0102...`), which nested JSON results carry. */
const BYTEA_HEX = /^\\x(?:[0-9a-fA-F]{2})*$/;

function fromHex(text: string): Uint8Array {
  const out = new Uint8Array((text.length - 2) / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(text.slice(2 + 2 * i, 4 + 2 * i), 16);
  return out;
}

/**
 * The `toDriver` and `fromDriver` of an encrypted column. Both are called by Drizzle as methods
 * of the column (or of an alias proxy of it), which is how they know which column they serve.
 */
export function columnCodec(info: EncryptedColumnInfo): {
  toDriver: (this: ColumnLike, value: unknown) => string | Uint8Array;
  fromDriver: (this: ColumnLike, value: unknown) => EncryptedValue;
} {
  return {
    toDriver(this: ColumnLike, value: unknown): string | Uint8Array {
      if (value instanceof EncryptedValue) return toStorage(value.stored, info.storage);
      if ((typeof value === 'string' || isBytes(value)) && isCiphertext(value))
        return toStorage(value, info.storage);
      throw new TypeError(
        `${columnTitle(this)} is an encrypted column: write it with vault.forTenant(tenant).encrypt(table, values), and search it through its blind index, got a value that is not a ciphertext`,
      );
    },
    fromDriver(this: ColumnLike, value: unknown): EncryptedValue {
      let stored: string | Uint8Array;
      if (isBytes(value)) stored = value;
      else if (typeof value === 'string')
        stored = info.storage === 'binary' && BYTEA_HEX.test(value) ? fromHex(value) : value;
      else throw new TypeError(`${columnTitle(this)} must hold text or bytes, got ${typeof value}`);
      return new EncryptedValue(columnTitle(this), this.config, stored);
    },
  };
}

/** The marker on an encrypted column's custom-type parameters. */
export const ENCRYPTED: unique symbol = Symbol.for('vault-envelope.drizzle.encrypted');

/** The encryption info of a column, when it is an encrypted column. */
export function encryptedInfo(column: unknown): EncryptedColumnInfo | undefined {
  const params = (column as { config?: { customTypeParams?: Record<symbol, unknown> } } | null)?.config
    ?.customTypeParams;
  const info = params?.[ENCRYPTED];
  return info === undefined ? undefined : (info as EncryptedColumnInfo);
}

/** A dialect's `customType` (from `drizzle-orm/pg-core` or `drizzle-orm/sqlite-core`), as {@link buildColumn} uses it. */
export type CustomTypeFactory = (params: object) => (name?: string) => unknown;

/**
 * The column builder of an encrypted column, for either dialect: checks `storage`, then makes a
 * custom type whose codec is {@link columnCodec} and which carries its {@link ENCRYPTED} marker.
 * @param customType - The dialect's `customType`.
 * @param binaryType - The dialect's binary column type (`bytea`, `blob`).
 * @param kind - What the column holds once decrypted.
 * @param name - The column's name in the database, if given.
 * @param options - `storage`.
 * @returns The builder, typed by the dialect's wrapper.
 * @throws TypeError on a bad storage.
 * @example
 * ```ts
 * const ssn = buildColumn(customType as unknown as CustomTypeFactory, 'bytea', 'text', 'ssn', undefined);
 * ```
 */
export function buildColumn(
  customType: CustomTypeFactory,
  binaryType: string,
  kind: 'text' | 'bytes',
  name: string | undefined,
  options: { storage?: 'text' | 'binary' } | undefined,
): unknown {
  const storage = options?.storage ?? (kind === 'text' ? 'text' : 'binary');
  if (storage !== 'text' && storage !== 'binary') {
    throw new TypeError(
      `storage must be 'text' or 'binary', got ${typeof storage === 'string' ? 'another string' : typeof storage}`,
    );
  }
  const codec = columnCodec({ kind, storage });
  const make = customType({
    dataType: () => (storage === 'text' ? 'text' : binaryType),
    toDriver: codec.toDriver,
    fromDriver: codec.fromDriver,
    [ENCRYPTED]: Object.freeze({ kind, storage }),
  });
  return name === undefined ? make() : make(name);
}
