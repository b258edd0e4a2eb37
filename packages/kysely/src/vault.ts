/**
 * {@link KyselyVault}: the encrypted tables of a Kysely database, declared once, its two
 * plugins, and {@link KyselyTenant}, what one request does with them.
 *
 * Kysely's `transformQuery` hook is synchronous, so it can not encrypt: writes take their values
 * from `encrypt` (run before the query, and before a transaction opens), and the plugins only
 * check them. `transformResult` is asynchronous, so reads are a plugin: the tenant's plugin
 * decrypts every declared column of every result row in one batch. The vault's guard plugin
 * (on the application's base Kysely instance) refuses what must never happen: a plaintext, or
 * an expression, written into a declared column, and a declared column read without a tenant's
 * plugin.
 *
 * ```ts
 * const db = new Kysely<DB>({ dialect, plugins: [vault.guard()] });
 * const v = vault.forTenant(session.orgId);
 * const tdb = db.withPlugin(v.plugin());
 * await tdb.insertInto('users').values(await v.encrypt('users', rows)).execute();
 * const found = await tdb.selectFrom('users').selectAll().where(v.eq('users.email_idx', email)).execute();
 * ```
 * @module
 */
import { type FieldId, kindOf } from '@vault-envelope/core';
import {
  DeclarationError,
  EncryptedTables,
  type EncryptedTablesOptions,
  type OrmStats,
  type ReadOptions,
  type TableModel,
  type TenantScope,
} from '@vault-envelope/orm-core';
import { type Insertable, type Kysely, type KyselyPlugin, type RawBuilder, type SqlBool, sql } from 'kysely';
import { GuardPlugin, type Runtime, TenantPlugin } from './_plugins.js';

/**
 * Options of {@link KyselyVault}: the engine's, with declarations keyed by column names, and
 * `allowPlaintext` naming columns as `'table.column'`.
 */
export type KyselyVaultOptions = EncryptedTablesOptions;

/** Options of {@link KyselyTenant.encrypt}. */
export interface KyselyEncryptOptions {
  /** The id the values are bound to when they do not hold it (an update's set). */
  id?: FieldId;
  /** Aborts the key requests. */
  signal?: AbortSignal;
}

/**
 * The encrypted tables of a Kysely database (SQLite, PostgreSQL), declared once, with the key
 * provider they use. Declarations name columns as the database does:
 *
 * @example
 * ```ts
 * const vault = new KyselyVault<DB>({
 *   keys,
 *   tables: [{
 *     table: 'users', id: 'id', tenant: 'org_id',
 *     context: ({ tenant }) => ({ organization_id: tenant! }),
 *     columns: { ssn: 'text', dob: 'text', email: 'text' },
 *     blindIndexes: { email_idx: { source: 'email', indexes: emailIndex } },
 *   }],
 * });
 * const db = new Kysely<DB>({ dialect, plugins: [vault.guard()] });
 * ```
 */
export class KyselyVault<DB = Record<string, Record<string, unknown>>> {
  readonly #rt: Runtime;

  /**
   * @param options - `keys` and `tables` (required), `keyBlobHeaders`, `keyBlobEncoding`,
   *   `backend`, `allowPlaintext` (the migration read mode: `true`, or `['users.ssn', ...]`),
   *   `onPlaintext`.
   * @throws TypeError / RangeError naming the table and key on a bad declaration, or an
   *   `allowPlaintext` name that is not a declared encrypted column.
   */
  constructor(options: KyselyVaultOptions) {
    const tables = new EncryptedTables(options);
    const byName = new Map(tables.tables.map((m) => [m.table, m]));
    this.#rt = {
      tables,
      lookup: (name, schema) =>
        (schema === undefined ? undefined : byName.get(`${schema}.${name}`)) ?? byName.get(name),
      plans: new WeakMap(),
      readers: new WeakMap(),
    };
  }

  /**
   * What one request does, bound to its tenant.
   * @param tenant - The request's authenticated tenant, never a column of a row being read.
   * @returns The tenant's view.
   * @throws TypeError / RangeError on a bad tenant.
   * @example
   * ```ts
   * const v = vault.forTenant(session.orgId);
   * ```
   */
  forTenant(tenant: string): KyselyTenant<DB> {
    return new KyselyTenant<DB>(this.#rt, this.#rt.tables.forTenant(tenant));
  }

  /**
   * A view without a tenant, for tables declared without one (a table with a tenant is refused).
   * @returns The view.
   * @example
   * ```ts
   * const sdb = db.withPlugin(vault.withoutTenant().plugin());
   * ```
   */
  withoutTenant(): KyselyTenant<DB> {
    return new KyselyTenant<DB>(this.#rt, this.#rt.tables.withoutTenant());
  }

  /**
   * The guard plugin, for the application's base Kysely instance: a write of a declared column
   * whose value is not what `encrypt` returned (a plaintext, an SQL expression, a made-up index
   * value) is a TypeError before the query runs, and a result with declared encrypted columns
   * that no tenant plugin decrypts is a TypeError instead of ciphertext handed on.
   * @returns A KyselyPlugin.
   * @example
   * ```ts
   * const db = new Kysely<DB>({ dialect, plugins: [vault.guard()] });
   * ```
   */
  guard(): KyselyPlugin {
    return new GuardPlugin(this.#rt);
  }

  /**
   * Checks the declarations against the database: every declared table, and in it the id, the
   * tenant column, every encrypted and every blind-index column.
   * @param db - A Kysely instance on the database.
   * @returns Resolves when everything is there.
   * @throws DeclarationError naming each missing table and column.
   * @example
   * ```ts
   * await vault.verify(db); // at start-up
   * ```
   */
  async verify<D>(db: Kysely<D>): Promise<void> {
    const tables = await db.introspection.getTables();
    const problems: string[] = [];
    for (const m of this.#rt.tables.tables) {
      const dot = m.table.lastIndexOf('.');
      const schema = dot === -1 ? undefined : m.table.slice(0, dot);
      const name = dot === -1 ? m.table : m.table.slice(dot + 1);
      const t = tables.find((x) => x.name === name && (schema === undefined || x.schema === schema));
      if (t === undefined) {
        problems.push(`the database has no table ${m.table}`);
        continue;
      }
      const have = new Set(t.columns.map((c) => c.name));
      const want: [string, string][] = [[m.id.name, 'the id']];
      if (m.tenant?.key !== undefined) want.push([m.tenant.name, 'the tenant']);
      for (const c of m.columns) want.push([c.name, 'encrypted']);
      for (const i of m.indexes) want.push([i.name, 'a blind index']);
      for (const [c, what] of want)
        if (!have.has(c)) problems.push(`table ${m.table} has no column ${c} (declared as ${what})`);
    }
    if (problems.length > 0) throw new DeclarationError(problems.join('; '));
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
    return this.#rt.tables.stats();
  }

  /**
   * Zeroes the per-tenant blind-index keys derived so far.
   * @example
   * ```ts
   * vault.destroy();
   * ```
   */
  destroy(): void {
    this.#rt.tables.destroy();
  }
}

/**
 * One request's view of the vault: encrypts values before a write, decrypts results through
 * its plugin, builds equality searches on blind indexes, all bound to the request's tenant.
 * Get one from {@link KyselyVault.forTenant}.
 */
export class KyselyTenant<DB = Record<string, Record<string, unknown>>> {
  readonly #rt: Runtime;
  readonly #scope: TenantScope;

  /** @internal */
  constructor(rt: Runtime, scope: TenantScope) {
    this.#rt = rt;
    this.#scope = scope;
  }

  /** The tenant bound into every value (undefined for `withoutTenant()`). */
  get tenant(): string | undefined {
    return this.#scope.tenant;
  }

  /**
   * Encrypts the declared columns of an insert's rows or an update's set and computes their
   * blind-index columns; pass the result to `.values(...)` or `.set(...)`. All rows share one key
   * request per distinct key context. Run it before a transaction opens when you can.
   * @param table - The declared table.
   * @param values - One row or an array of rows (an update's set: give `options.id`).
   * @param options - `id`, `signal`.
   * @returns The rows with their encrypted columns holding ciphertexts and their blind-index
   *   columns filled in.
   * @throws TypeError naming the table and column (a wrong type, a missing id, a blind-index
   *   column given by hand, a null tenant column, an undeclared table); TenantMismatchError when
   *   a row names another tenant; the key provider's errors.
   * @example
   * ```ts
   * await tdb.insertInto('users').values(await v.encrypt('users', { id: 1, org_id: 'org_1', name: 'Ada', ssn: '123-45-6789' })).execute();
   * ```
   */
  encrypt<T extends keyof DB & string, V extends Partial<Insertable<DB[T]>>>(
    table: T,
    values: readonly V[],
    options?: KyselyEncryptOptions,
  ): Promise<(V & Partial<Insertable<DB[T]>>)[]>;
  encrypt<T extends keyof DB & string, V extends Partial<Insertable<DB[T]>>>(
    table: T,
    values: V,
    options?: KyselyEncryptOptions,
  ): Promise<V & Partial<Insertable<DB[T]>>>;
  encrypt(table: string, values: unknown, options?: KyselyEncryptOptions): Promise<unknown> {
    return this.#scope.encrypt(table, values as object, options);
  }

  /**
   * This tenant's plugin: decrypts every declared encrypted column of every result row in one
   * batch (one key lookup per distinct data key), and refuses plaintext writes as the guard does.
   * Results of selects (partial, aliased, joined, derived tables and CTEs) and of `returning`
   * are decrypted; each encrypted column needs its table's id in the result, and a column in
   * the migration read mode (the vault's `allowPlaintext`) its table's tenant column too.
   * @param options - `onRowError` (keep the other rows and report each failure; by default a
   *   failure fails the query), `signal`.
   * @returns A KyselyPlugin: `db.withPlugin(v.plugin())`.
   * @example
   * ```ts
   * const tdb = db.withPlugin(vault.forTenant(session.orgId).plugin());
   * ```
   */
  plugin(options: ReadOptions = {}): KyselyPlugin {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`plugin options must be an object, got ${kindOf(options)}`);
    }
    return new TenantPlugin(this.#rt, this.#scope, options);
  }

  /**
   * An equality condition on a blind-index column, from the plaintext searched for: the index
   * value for this tenant, or during a reindex every index version's (`IN (...)`).
   * @param column - The blind-index column as `table.column` (`'users.email_idx'`).
   * @param value - The plaintext searched for.
   * @param options - `ref`: how the query refers to the column when the table is aliased
   *   (`'u.email_idx'`). @default the column as given
   * @returns An expression for `.where(...)`.
   * @throws TypeError when the column is not a declared blind-index column.
   * @example
   * ```ts
   * await tdb.selectFrom('users').selectAll().where(v.eq('users.email_idx', 'ada@example.com')).execute();
   * ```
   */
  eq(column: string, value: string | Uint8Array, options: { ref?: string } = {}): RawBuilder<SqlBool> {
    const dot = typeof column === 'string' ? column.lastIndexOf('.') : -1;
    if (dot <= 0) throw new TypeError(`column must be "table.column", got ${kindOf(column)}`);
    const model: TableModel = this.#rt.tables.table(column.slice(0, dot));
    const candidates = this.#scope.indexValues(model.table, column.slice(dot + 1), value);
    const ref = sql.ref(options.ref ?? column);
    return candidates.length === 1
      ? sql<SqlBool>`${ref} = ${candidates[0]}`
      : sql<SqlBool>`${ref} in (${sql.join(candidates)})`;
  }
}
