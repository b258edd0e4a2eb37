/**
 * {@link DrizzleVault}: the encrypted tables of a Drizzle schema, declared once, and
 * {@link DrizzleTenant}, what one request does with them.
 *
 * Drizzle's custom column types are synchronous, so they can not await a key unwrap, and
 * better-sqlite3's transactions are synchronous too (`db.transaction(async ...)` throws). So the
 * key work happens outside Drizzle, around the query, and the query stays plain Drizzle:
 *
 * ```ts
 * await db.insert(users).values(await v.encrypt(users, rows));   // before a write
 * const found = await v.read(db.select().from(users).where(v.eq(users.emailIdx, email)));
 * ```
 *
 * `encrypt` runs before any transaction opens; `read` runs the query and decrypts the whole
 * result in one batch. The encrypted columns' own types keep both honest: a plaintext written
 * without `encrypt` is a TypeError in the column's `toDriver`, and a result read without `read`
 * holds {@link EncryptedValue}s that refuse to be serialized.
 * @module
 */
import {
  type BackendChoice,
  type BlindIndex,
  type FieldId,
  type KeyContext,
  type KeyProvider,
  kindOf,
} from '@vault-envelope/core';
import {
  type ContextArgs,
  EncryptedTables,
  type OrmStats,
  type PlaintextRead,
  type ReadOptions,
  type TableModel,
  type TenantScope,
} from '@vault-envelope/orm-core';
import {
  type Column,
  eq,
  getTableColumns,
  getTableName,
  type InferInsertModel,
  inArray,
  is,
  type SQL,
  Table,
} from 'drizzle-orm';
import { plaintextColumns, translate } from './_declare.js';
import { plannedCells, planOf, type Role, walkedCells } from './_results.js';
import { type ColumnIdentity, columnTitle, EncryptedValue, identityOf } from './_value.js';

/** A blind-index column of a declared table. */
export interface DrizzleBlindIndex {
  /** The index column (a text column): where the index value is written. */
  column: Column;
  /** The encrypted column whose plaintext is indexed. */
  source: Column;
  /** The index, or the indexes in use during a reindex, newest first (writes use the first). */
  indexes: BlindIndex | readonly BlindIndex[];
  /**
   * Key the index per tenant (`BlindIndex.forTenant`).
   * @default true when the table has a tenant
   */
  perTenant?: boolean;
}

/** One table's declaration: its encrypted columns are found by their types. */
export interface DrizzleTableDeclaration {
  /** The table (`sqliteTable(...)`, `pgTable(...)`). */
  table: Table;
  /**
   * The primary key, bound into each value's AAD.
   * @default the table's single primary-key column
   */
  id?: Column;
  /**
   * The tenant column (checked against the caller's tenant on every row), or a function of the
   * row (keyed by property names); leave it out for a table whose rows belong to no tenant.
   */
  tenant?: Column | ((row: Readonly<Record<string, unknown>>) => unknown);
  /** The key context a row's data key is created under (an object, or a function). */
  context: KeyContext | ((args: ContextArgs) => KeyContext);
  /**
   * The namespace bound into each value's AAD.
   * @default the table's name
   */
  namespace?: string;
  /** The blind-index columns. */
  blindIndexes?: readonly DrizzleBlindIndex[];
}

/** Options of {@link DrizzleVault}. */
export interface DrizzleVaultOptions {
  /** Where data keys come from: a `cachedKeyProvider(new VaultClient(), ...)`, typically. */
  keys: KeyProvider;
  /** One declaration per table that has encrypted columns. */
  tables: readonly DrizzleTableDeclaration[];
  /** Key-blob headers to recognise besides the built-in ones and the provider's. */
  keyBlobHeaders?: readonly Uint8Array[];
  /** How key blobs are stored in what is written. @default 'binary' */
  keyBlobEncoding?: 'binary' | 'base64-text';
  /** The AES-GCM backend. @default 'auto' */
  backend?: BackendChoice;
  /**
   * The migration read mode, for columns being encrypted in place (`vault-envelope migrate
   * encrypt`): `read` serves a value that is not a ciphertext as it is when its type is the
   * column's (a string for `encryptedText`, bytes for `encryptedBytes`), counts it
   * ({@link DrizzleVault.stats}) and reports it (`onPlaintext`), instead of failing its row.
   * `true` for every encrypted column, or the columns being migrated (`[users.ssn]`). Writes are
   * unchanged: the columns still refuse plaintext. Turn it off once the backfill is verified.
   * @default false
   */
  allowPlaintext?: boolean | readonly Column[];
  /** Called for each value served as plaintext: where it was, never the value. */
  onPlaintext?: (read: PlaintextRead) => void;
}

/** Options of {@link DrizzleTenant.encrypt}. */
export interface DrizzleEncryptOptions {
  /** The id the values are bound to when they do not hold it (an update's set). */
  id?: FieldId;
  /** Aborts the key requests. */
  signal?: AbortSignal;
}

/**
 * Values as {@link DrizzleTenant.encrypt} returns them: the given ones (encrypted columns now
 * sealed) and the table's other insert columns, among them the blind-index columns it computed.
 */
export type EncryptedValues<T extends Table, V> = V & Partial<T['$inferInsert']>;

/**
 * The encrypted tables of a Drizzle schema (SQLite or PostgreSQL), declared once, with the key
 * provider they use. Per request, {@link DrizzleVault.forTenant} gives what encrypts, reads and
 * searches for the request's tenant.
 *
 * @example
 * ```ts
 * const vault = new DrizzleVault({
 *   keys,
 *   tables: [{
 *     table: users, tenant: users.orgId,
 *     context: ({ tenant }) => ({ organization_id: tenant! }),
 *     blindIndexes: [{ column: users.emailIdx, source: users.email, indexes: emailIndex }],
 *   }],
 * });
 * const v = vault.forTenant(session.orgId);
 * ```
 */
export class DrizzleVault {
  readonly #tables: EncryptedTables;
  readonly #byTable = new Map<Table, TableModel>();
  readonly #roles = new Map<ColumnIdentity, Role>();

  /**
   * @param options - `keys` and `tables` (required), `keyBlobHeaders`, `keyBlobEncoding`,
   *   `backend`, `allowPlaintext`, `onPlaintext`.
   * @throws TypeError / RangeError naming the table and column on a bad declaration: a table
   *   without encrypted columns, a declared column that is not the table's, no primary key
   *   and no `id`, a blind index whose source is not encrypted, an `allowPlaintext` column that
   *   is not a declared encrypted column.
   */
  constructor(options: DrizzleVaultOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`DrizzleVault options must be an object, got ${kindOf(options)}`);
    }
    if (!Array.isArray(options.tables))
      throw new TypeError(`DrizzleVault options.tables must be an array, got ${kindOf(options.tables)}`);
    const translated = options.tables.map((d, i) => ({ table: d?.table, ...translate(d, i) }));
    const { tables: _, allowPlaintext, ...rest } = options;
    this.#tables = new EncryptedTables({
      ...rest,
      tables: translated.map((t) => t.decl),
      ...(allowPlaintext === undefined
        ? {}
        : { allowPlaintext: plaintextColumns(translated, allowPlaintext) }),
    });
    for (const t of translated) {
      const model = this.#tables.table(t.decl.table);
      this.#byTable.set(t.table, model);
      for (const [identity, kind, key] of t.roles) {
        const role: Role =
          kind === 'field' ? { model, kind, key, column: model.columnByKey.get(key)! } : { model, kind, key };
        this.#roles.set(identity, role);
      }
    }
  }

  /**
   * What one request does, bound to its tenant.
   * @param tenant - The request's authenticated tenant (text, 1 to 500 code units), never a
   *   column of a row being read.
   * @returns The tenant's view.
   * @throws TypeError / RangeError on a bad tenant.
   * @example
   * ```ts
   * const v = vault.forTenant(session.orgId);
   * ```
   */
  forTenant(tenant: string): DrizzleTenant {
    return new DrizzleTenant(this.#tables.forTenant(tenant), this.#byTable, this.#roles);
  }

  /**
   * A view without a tenant, for tables declared without one (a table with a tenant is refused).
   * @returns The view.
   * @example
   * ```ts
   * const rows = await vault.withoutTenant().read(db.select().from(settings));
   * ```
   */
  withoutTenant(): DrizzleTenant {
    return new DrizzleTenant(this.#tables.withoutTenant(), this.#byTable, this.#roles);
  }

  /**
   * The vault's counters, over every tenant and read: how many values the migration read mode
   * (`allowPlaintext`) served as plaintext, in all and per column (`'users.ssn'`).
   * @returns A snapshot.
   * @example
   * ```ts
   * metrics.gauge('users.plaintext_served', vault.stats().plaintextServed);
   * ```
   */
  stats(): OrmStats {
    return this.#tables.stats();
  }

  /**
   * Zeroes the per-tenant blind-index keys derived so far.
   * @example
   * ```ts
   * vault.destroy();
   * ```
   */
  destroy(): void {
    this.#tables.destroy();
  }
}

/** A table's model, or the TypeError of an undeclared table. */
function modelOf(byTable: ReadonlyMap<Table, TableModel>, table: Table): TableModel {
  const model = byTable.get(table);
  if (model === undefined) {
    const name = is(table, Table) ? getTableName(table) : kindOf(table);
    throw new TypeError(
      `table ${name} must be declared in the DrizzleVault to be encrypted, got no declaration for it`,
    );
  }
  return model;
}

/**
 * One request's view of the vault: encrypts values before a write, runs and decrypts reads,
 * builds equality searches on blind indexes, all bound to the request's tenant. Get one from
 * {@link DrizzleVault.forTenant}.
 */
export class DrizzleTenant {
  readonly #scope: TenantScope;
  readonly #byTable: ReadonlyMap<Table, TableModel>;
  readonly #roles: ReadonlyMap<ColumnIdentity, Role>;

  /** @internal */
  constructor(
    scope: TenantScope,
    byTable: ReadonlyMap<Table, TableModel>,
    roles: ReadonlyMap<ColumnIdentity, Role>,
  ) {
    this.#scope = scope;
    this.#byTable = byTable;
    this.#roles = roles;
  }

  /** The tenant bound into every value (undefined for `withoutTenant()`). */
  get tenant(): string | undefined {
    return this.#scope.tenant;
  }

  /**
   * Encrypts the encrypted columns of an insert's rows or an update's set and computes their
   * blind-index columns: pass the result to `.values(...)` or `.set(...)`. All rows share one key
   * request per distinct key context. Run it before a SQLite transaction opens (better-sqlite3's
   * are synchronous).
   * @param table - The declared table.
   * @param values - One row or an array of rows (an update's set: give `options.id`).
   * @param options - `id`, `signal`.
   * @returns The same rows with their encrypted columns sealed and blind-index columns filled in.
   * @throws TypeError naming the table and column (a wrong type, a missing id, a blind-index
   *   column given by hand, a null tenant column, an undeclared table); TenantMismatchError when
   *   a row names another tenant; the key provider's errors.
   * @example
   * ```ts
   * await db.insert(users).values(await v.encrypt(users, { id: 'usr_1', orgId: 'org_1', email: 'ada@example.com' }));
   * await db.update(users).set(await v.encrypt(users, { ssn: '987-65-4321' }, { id: 'usr_1' })).where(eq(users.id, 'usr_1'));
   * ```
   */
  encrypt<T extends Table, V extends Partial<InferInsertModel<T>>>(
    table: T,
    values: readonly V[],
    options?: DrizzleEncryptOptions,
  ): Promise<EncryptedValues<T, V>[]>;
  encrypt<T extends Table, V extends Partial<InferInsertModel<T>>>(
    table: T,
    values: V,
    options?: DrizzleEncryptOptions,
  ): Promise<EncryptedValues<T, V>>;
  async encrypt(table: Table, values: unknown, options: DrizzleEncryptOptions = {}): Promise<unknown> {
    const model = modelOf(this.#byTable, table);
    const many = Array.isArray(values);
    const rows = (await this.#scope.encrypt(
      model.table,
      (many ? values : [values]) as object[],
      options,
    )) as Record<string, unknown>[];
    const columns = getTableColumns(table) as Record<string, Column>;
    for (const row of rows) {
      for (const c of model.columns) {
        const v = row[c.key];
        if (v !== null && v !== undefined) {
          const column = columns[c.key]!;
          row[c.key] = new EncryptedValue(columnTitle(column), identityOf(column)!, v as string | Uint8Array);
        }
      }
    }
    return many ? rows : rows[0];
  }

  /**
   * Runs a query (or takes a result) and decrypts every encrypted value in it, in one batch: one
   * key lookup per distinct data key, however many rows share it. Works on select builders
   * (partial selects, renamed keys, joins, aliased tables), inserts, updates and deletes with
   * `returning`, relational queries (`db.query.users.findMany({ with: ... })`), and rows fetched
   * earlier. Each encrypted column needs its table's id in the result, and a column in the
   * migration read mode (the vault's `allowPlaintext`) its table's tenant column too.
   * @param query - A Drizzle query (run here), or a result or its promise.
   * @param options - `onRowError` (keep the other rows, report each failure), `signal`.
   * @returns The result, decrypted: text columns as strings, bytes columns as Uint8Array (and,
   *   in the migration read mode, a plaintext of the column's type as it was stored). With
   *   `onRowError`, without the rows that failed (a single row that failed gives undefined).
   * @throws TypeError before the query runs when an encrypted column is selected without its
   *   table's id or through an SQL expression, and after it when a column in the migration read
   *   mode comes without its row's tenant; RowDecryptionError when a value failed and there is
   *   no `onRowError`; the query's own errors; what the vault's `onPlaintext` throws.
   * @example
   * ```ts
   * const rows = await v.read(db.select().from(users).where(v.eq(users.emailIdx, 'ada@example.com')));
   * const withPosts = await v.read(db.query.users.findMany({ with: { posts: true } }));
   * ```
   */
  async read<Q>(query: Q, options: ReadOptions = {}): Promise<Awaited<Q>> {
    const roles = this.#roles;
    const plan = planOf(roles, query);
    const result = (await query) as unknown;
    if (result === null || result === undefined) return result as Awaited<Q>;
    const many = Array.isArray(result);
    const rows = many ? (result as unknown[]) : [result];
    const cells = plan === undefined ? walkedCells(roles, rows) : plannedCells(plan, rows);
    if (cells.length === 0) return result as Awaited<Q>;
    const failed = await this.#scope.open(cells, rows.length, options);
    if (failed.size === 0) return result as Awaited<Q>;
    return (many ? rows.filter((_, i) => !failed.has(i)) : undefined) as Awaited<Q>;
  }

  /**
   * An equality condition on a blind-index column, from the plaintext searched for: the index
   * value for this tenant (`eq`), or during a reindex every index version's (`inArray`).
   * @param column - A declared blind-index column (`users.emailIdx`, or an alias's).
   * @param value - The plaintext searched for (normalized by the index, if it normalizes).
   * @returns The condition, for `.where(...)` (combine it with `and(...)`).
   * @throws TypeError when the column is not a declared blind-index column.
   * @example
   * ```ts
   * await v.read(db.select().from(users).where(v.eq(users.emailIdx, 'Ada@Example.com')));
   * ```
   */
  eq(column: Column, value: string | Uint8Array): SQL {
    const role = this.#roles.get(identityOf(column) ?? {});
    if (role === undefined || role.kind !== 'index') {
      throw new TypeError(
        `${identityOf(column) !== undefined ? columnTitle(column) : kindOf(column)} must be a declared blind-index column, got a column that is not one`,
      );
    }
    const candidates = this.#scope.indexValues(role.model.table, role.key, value);
    return candidates.length === 1 ? eq(column, candidates[0]) : inArray(column, candidates);
  }
}
