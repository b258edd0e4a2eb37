/**
 * {@link EncryptedTables}: a set of table declarations and the key provider, and
 * {@link TenantScope}, what one caller (one request's authenticated tenant) does with them:
 * encrypt rows before a write, decrypt result sets after a read, compute blind-index values for
 * an equality search. The Drizzle and Kysely integrations are built on these; on their own they
 * serve any query layer that hands over plain rows (raw SQL, Prisma, Knex).
 *
 * The tenant comes from the caller, once per scope, never from a row: a query that forgot its
 * tenant filter returns other tenants' rows, and those fail (without a key lookup when the
 * result holds their tenant column, by their AAD otherwise) instead of decrypting.
 * @module
 */
import {
  aobject,
  aoptions,
  asignal,
  atext,
  type BackendChoice,
  Envelope,
  type EnvelopeOptions,
  type FieldId,
  type KeyProvider,
  kindOf,
} from '@vault-envelope/core';
import { TenantIndexes } from './_indexes.js';
import { type OrmStats, PlaintextPolicy } from './_plaintext.js';
import { type Cell, cellsOf, openCells, type ReadOptions } from './_read.js';
import { encryptRows, put } from './_write.js';
import { checkTable, type TableDeclaration, type TableModel } from './declaration.js';
import type { Encrypted, EncryptedTablesOptions, EncryptOptions } from './options.js';

const OPTIONS = [
  'keys',
  'tables',
  'keyBlobHeaders',
  'keyBlobEncoding',
  'backend',
  'allowPlaintext',
  'onPlaintext',
];

/**
 * The declarations of the encrypted tables of one database, and the keys they use.
 *
 * @example
 * ```ts
 * const tables = new EncryptedTables({
 *   keys,
 *   tables: [{
 *     table: 'users', id: 'id', tenant: 'org_id',
 *     context: ({ tenant }) => ({ organization_id: tenant! }),
 *     columns: { email: 'text', ssn: 'text', photo: 'bytes' },
 *     blindIndexes: { email_idx: { source: 'email', indexes: emailIndex } },
 *   }],
 * });
 * const scope = tables.forTenant(session.orgId);
 * ```
 */
export class EncryptedTables {
  readonly #envelope: Envelope;
  readonly #indexes = new TenantIndexes();
  readonly #tables = new Map<string, TableModel>();
  readonly #plaintext: PlaintextPolicy;

  /**
   * @param options - `keys` and `tables` (required), `keyBlobHeaders`, `keyBlobEncoding`,
   *   `backend`, `allowPlaintext`, `onPlaintext`.
   * @throws TypeError / RangeError on a bad option or declaration (naming the table and key), two
   *   declarations of one table, or an `allowPlaintext` name that is no declared encrypted column.
   */
  constructor(options: EncryptedTablesOptions) {
    if (options === undefined)
      throw new TypeError('EncryptedTables options must be an object, got undefined');
    const o = aoptions(options, 'EncryptedTables options', OPTIONS);
    const e: EnvelopeOptions = { keys: o.keys as KeyProvider };
    if (o.keyBlobHeaders !== undefined) e.keyBlobHeaders = o.keyBlobHeaders as readonly Uint8Array[];
    if (o.keyBlobEncoding !== undefined) e.keyBlobEncoding = o.keyBlobEncoding as 'binary' | 'base64-text';
    if (o.backend !== undefined) e.backend = o.backend as BackendChoice;
    // The integrations bind the tenant into each value's field AAD themselves, and refuse a
    // tenant-bound table without a tenant: the Envelope's own requireTenant would also refuse
    // the batch items, whose AAD is already the field AAD.
    this.#envelope = new Envelope(e);
    if (!Array.isArray(o.tables))
      throw new TypeError(`EncryptedTables options.tables must be an array, got ${kindOf(o.tables)}`);
    for (const d of o.tables as TableDeclaration[]) {
      const model = checkTable(d);
      if (this.#tables.has(model.table)) {
        throw new TypeError(`table ${model.table} must be declared once, got two declarations`);
      }
      this.#tables.set(model.table, model);
    }
    this.#plaintext = new PlaintextPolicy([...this.#tables.values()], o.allowPlaintext, o.onPlaintext);
  }

  /**
   * The checked declaration of a table.
   * @param table - The table's name, as declared.
   * @returns Its model.
   * @throws TypeError when no declaration has that name.
   * @example
   * ```ts
   * tables.table('users').columns.map((c) => c.name); // ['email', 'ssn', 'photo']
   * ```
   */
  table(table: string): TableModel {
    const model = typeof table === 'string' ? this.#tables.get(table) : undefined;
    if (model === undefined) {
      throw new TypeError(
        `table ${typeof table === 'string' ? table : kindOf(table)} must be declared to be encrypted or decrypted, got no declaration for it`,
      );
    }
    return model;
  }

  /** Every declared table. */
  get tables(): readonly TableModel[] {
    return [...this.#tables.values()];
  }

  /**
   * What one tenant's request does: its rows are encrypted and decrypted bound to `tenant`.
   * @param tenant - The request's authenticated tenant (for example the organization id): text,
   *   1 to 500 code units. Never a column of a row being read.
   * @returns A scope for that tenant.
   * @throws TypeError / RangeError on a bad tenant.
   * @example
   * ```ts
   * const scope = tables.forTenant(session.orgId);
   * ```
   */
  forTenant(tenant: string): TenantScope {
    return new TenantScope(
      this,
      this.#envelope,
      this.#plaintext,
      this.#indexes,
      atext(tenant, 'tenant', 1, 500),
    );
  }

  /**
   * A scope without a tenant, for tables declared without one; a table with tenants is then
   * refused (TypeError).
   * @returns A scope without a tenant.
   * @example
   * ```ts
   * const rows = await tables.withoutTenant().decrypt('settings', stored);
   * ```
   */
  withoutTenant(): TenantScope {
    return new TenantScope(this, this.#envelope, this.#plaintext, this.#indexes, undefined);
  }

  /**
   * Whether `value` is a ciphertext these tables' key provider wrote (strict: it parses and its
   * key blob starts with a known header).
   * @param value - Anything.
   * @returns true when it is recognised as a ciphertext.
   * @example
   * ```ts
   * tables.isCiphertext(row.ssn);
   * ```
   */
  isCiphertext(value: unknown): boolean {
    return this.#envelope.isCiphertext(value);
  }

  /**
   * The counters of these tables, over every tenant and read: how many values the migration
   * read mode (`allowPlaintext`) served as plaintext, in all and per column.
   * @returns A snapshot.
   * @example
   * ```ts
   * metrics.gauge('users.plaintext_served', tables.stats().plaintextServed);
   * ```
   */
  stats(): OrmStats {
    return this.#plaintext.stats();
  }

  /**
   * Zeroes the per-tenant blind-index keys derived so far (the declared indexes are the
   * caller's to destroy).
   * @example
   * ```ts
   * tables.destroy();
   * ```
   */
  destroy(): void {
    this.#indexes.clear();
  }
}

/**
 * One caller's view of the tables: every value it writes or reads is bound to its tenant.
 * Get one from {@link EncryptedTables.forTenant}.
 */
export class TenantScope {
  /** The tenant bound into every value, or undefined for {@link EncryptedTables.withoutTenant}. */
  readonly tenant: string | undefined;
  readonly #tables: EncryptedTables;
  readonly #envelope: Envelope;
  readonly #plaintext: PlaintextPolicy;
  readonly #indexes: TenantIndexes;

  /** @internal */
  constructor(
    tables: EncryptedTables,
    envelope: Envelope,
    plaintext: PlaintextPolicy,
    indexes: TenantIndexes,
    tenant: string | undefined,
  ) {
    this.#tables = tables;
    this.#envelope = envelope;
    this.#plaintext = plaintext;
    this.#indexes = indexes;
    this.tenant = tenant;
  }

  /** The table's model, refusing a table with tenants in a scope without one. */
  #model(table: string): TableModel {
    const model = this.#tables.table(table);
    if (model.tenant !== undefined && this.tenant === undefined) {
      throw new TypeError(
        `${model.table} is bound to tenants: use forTenant(tenant), got a scope without one`,
      );
    }
    return model;
  }

  /**
   * Encrypts the declared columns of a row, or of many (one key request per distinct key
   * context for all of them), and computes their blind-index columns. Null and undefined values
   * are left as they are (and so are their index columns).
   * @param table - The table's name.
   * @param rows - One row or an array of rows: an insert's values, or an update's set (then give
   *   `id`). Not modified.
   * @param options - `id`, `signal`.
   * @returns New rows of the same shape whose encrypted columns hold ciphertexts (base64 text or
   *   bytes, by the column's storage) and whose blind-index columns hold index values.
   * @throws TypeError naming the table and column when a value is of the wrong type or already a
   *   ciphertext, the id is missing, a blind-index column is given, or the row's tenant column is
   *   null; TenantMismatchError when the row names another tenant; the key provider's errors.
   * @example
   * ```ts
   * const row = await scope.encrypt('users', { id: 'usr_1', org_id: 'org_1', email: 'ada@example.com', ssn: '123-45-6789' });
   * const set = await scope.encrypt('users', { ssn: '987-65-4321' }, { id: 'usr_1' });
   * ```
   */
  encrypt<T extends object>(
    table: string,
    rows: readonly T[],
    options?: EncryptOptions,
  ): Promise<Encrypted<T>[]>;
  encrypt<T extends object>(table: string, rows: T, options?: EncryptOptions): Promise<Encrypted<T>>;
  async encrypt(table: string, rows: unknown, options: EncryptOptions = {}): Promise<unknown> {
    const model = this.#model(table);
    const o = aoptions(options, 'encrypt options', ['id', 'signal']);
    const signal = asignal(o.signal, 'signal');
    const many = Array.isArray(rows);
    if (many && o.id !== undefined && (rows as unknown[]).length !== 1) {
      throw new TypeError(
        `${model.table}: options.id must go with one row, got ${(rows as unknown[]).length} rows`,
      );
    }
    const out = await encryptRows(
      { envelope: this.#envelope, indexes: this.#indexes },
      model,
      this.tenant,
      many ? (rows as unknown[]) : [rows],
      o.id as FieldId | undefined,
      signal,
    );
    return many ? out : out[0];
  }

  /**
   * Decrypts the declared columns of rows of one table, as the query layer returned them (each
   * property named as the declaration's keys). Columns the rows do not have are left alone;
   * every value of the result set is decrypted in one batch (one key lookup per distinct data
   * key).
   * @param table - The table's name.
   * @param rows - A row or an array of rows; not modified.
   * @param options - `onRowError` (keep the other rows and report each failure), `signal`.
   * @returns Copies with the encrypted columns decrypted (text to strings, bytes to
   *   Uint8Array; in the migration read mode, a plaintext of the column's type as it was); with
   *   `onRowError`, without the rows that failed (a single row that failed gives undefined).
   * @throws TypeError when a row has an encrypted column but not its id, or a column in the
   *   migration read mode but not its tenant column; RowDecryptionError when a value failed and
   *   there is no `onRowError`; what `onPlaintext` throws.
   * @example
   * ```ts
   * const users = await scope.decrypt('users', db.prepare('SELECT * FROM users WHERE org_id = ?').all(orgId));
   * ```
   */
  decrypt<T extends object>(table: string, rows: readonly T[], options?: ReadOptions): Promise<T[]>;
  decrypt<T extends object>(table: string, rows: T, options?: ReadOptions): Promise<T | undefined>;
  async decrypt(table: string, rows: unknown, options: ReadOptions = {}): Promise<unknown> {
    const model = this.#model(table);
    const many = Array.isArray(rows);
    const list = many ? (rows as unknown[]) : [rows];
    const copies: Record<string, unknown>[] = new Array(list.length);
    const cells: Cell[] = [];
    for (let i = 0; i < list.length; i++) {
      const src = aobject(list[i], many ? `${model.table} rows[${i}]` : `${model.table} row`);
      const row: Record<string, unknown> = {};
      for (const key of Object.keys(src)) put(row, key, src[key]);
      copies[i] = row;
      cells.push(...cellsOf(model, row, i));
    }
    const failed = await this.open(cells, list.length, options);
    if (!many) return failed.size === 0 ? copies[0] : undefined;
    return failed.size === 0 ? copies : copies.filter((_, i) => !failed.has(i));
  }

  /**
   * Decrypts the cells of a result set in one batch and writes each plaintext into its holder:
   * the step the integrations build on, for results of any shape (nested, joined, aliased).
   * @param cells - The encrypted values, each with its table, column, row position, holder, id
   *   and the row's tenant value (or NOT_SELECTED).
   * @param rows - How many rows the result set has.
   * @param options - `onRowError`, `signal`.
   * @returns The positions of the rows that failed (reported to `onRowError`); the caller leaves
   *   them out.
   * @throws As {@link TenantScope.decrypt}.
   * @example
   * ```ts
   * const failed = await scope.open(cells, rows.length, { onRowError: (f) => log.warn(f) });
   * ```
   */
  open(cells: readonly Cell[], rows: number, options: ReadOptions = {}): Promise<ReadonlySet<number>> {
    const o = aoptions(options, 'read options', ['onRowError', 'signal']);
    asignal(o.signal, 'signal');
    if (o.onRowError !== undefined && typeof o.onRowError !== 'function') {
      throw new TypeError(`onRowError must be a function, got ${kindOf(o.onRowError)}`);
    }
    for (const cell of cells) {
      if (cell.table.tenant !== undefined && this.tenant === undefined) {
        throw new TypeError(
          `${cell.table.table} is bound to tenants: use forTenant(tenant), got a scope without one`,
        );
      }
    }
    return openCells(this.#envelope, this.#plaintext, this.tenant, cells, rows, options);
  }

  /**
   * The values an equality search on a blind-index column matches: the search value under each
   * index in use (newest first, without repeats), keyed for this scope's tenant when the index is
   * per tenant. Match any of them (`WHERE email_idx IN (...)`).
   * @param table - The table's name.
   * @param column - The key of the blind-index column.
   * @param value - The plaintext searched for.
   * @returns The candidate index values (one, or one per index version during a reindex).
   * @throws TypeError when the column is not a declared blind-index column of the table.
   * @example
   * ```ts
   * const candidates = scope.indexValues('users', 'email_idx', 'ada@example.com');
   * ```
   */
  indexValues(table: string, column: string, value: string | Uint8Array): string[] {
    const model = this.#model(table);
    const ix = model.indexByKey.get(column);
    if (ix === undefined) {
      throw new TypeError(
        `${model.table}.${String(column)} must be a declared blind-index column, got a column that is not one`,
      );
    }
    return this.#indexes.candidates(ix, model.tenant === undefined ? undefined : this.tenant, value);
  }
}
