/**
 * The two Kysely plugins: the guard, which refuses values written into declared columns that
 * are not what `encrypt` returned and results with encrypted columns that no tenant plugin
 * decrypts, and a tenant's plugin, which checks writes the same way and decrypts results in one
 * batch. `transformQuery` (synchronous) only reads the operation tree: it checks the writes and
 * plans the result, once per query id; `transformResult` (asynchronous) decrypts.
 * @module
 */
import { blindIndexVersion } from '@vault-envelope/core';
import {
  type Cell,
  type EncryptedTables,
  NOT_SELECTED,
  type ReadOptions,
  type TenantScope,
} from '@vault-envelope/orm-core';
import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  RootOperationNode,
  UnknownRow,
} from 'kysely';
import { type Group, type Lookup, type Node, planResult } from './_plan.js';
import { isExcluded, writesOf } from './_writes.js';

/** What both plugins share of the vault. */
export interface Runtime {
  readonly tables: EncryptedTables;
  readonly lookup: Lookup;
  /** The result plan of each query, by its query id. */
  readonly plans: WeakMap<object, Group[] | null>;
  /** The reader plugin that decrypts each query's result, by its query id. */
  readonly readers: WeakMap<object, object>;
}

function checkWrites(rt: Runtime, node: Node): void {
  for (const w of writesOf(node, rt.lookup)) {
    const title = `${w.model.table}.${w.column}`;
    const n = w.node as Node | undefined;
    if (n?.kind === 'DefaultInsertValueNode') continue;
    if (w.upsert && isExcluded(n, w.column)) continue;
    if (n?.kind !== 'ValueNode') {
      throw new TypeError(
        `${title} must be written as a value (what encrypt returned), got an SQL expression`,
      );
    }
    const v = n.value;
    if (v === null || v === undefined) continue;
    if (w.model.indexByKey.has(w.column)) {
      let ok = typeof v === 'string';
      if (ok) {
        try {
          blindIndexVersion(v as string);
        } catch {
          ok = false;
        }
      }
      if (!ok) {
        throw new TypeError(
          `${title} is a blind-index column: write the value encrypt computed for it, got a value that is not an index value`,
        );
      }
    } else if (!rt.tables.isCiphertext(v)) {
      throw new TypeError(
        `${title} is an encrypted column: write the values vault.forTenant(tenant).encrypt('${w.model.table}', ...) returned, got a value that is not a ciphertext`,
      );
    }
  }
}

/** The result plan of a query, computed once per query id. */
function planFor(rt: Runtime, queryId: object, node: Node): Group[] | undefined {
  let plan = rt.plans.get(queryId);
  if (plan === undefined) {
    plan = planResult(node, rt.lookup) ?? null;
    rt.plans.set(queryId, plan);
  }
  return plan ?? undefined;
}

/** The guard: refuses plaintext writes, and reads of declared columns that no tenant plugin decrypts. */
export class GuardPlugin implements KyselyPlugin {
  readonly #rt: Runtime;

  constructor(rt: Runtime) {
    this.#rt = rt;
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    checkWrites(this.#rt, args.node as unknown as Node);
    planFor(this.#rt, args.queryId, args.node as unknown as Node);
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const plan = this.#rt.plans.get(args.queryId);
    if (plan && !this.#rt.readers.has(args.queryId) && args.result.rows.length > 0) {
      const g = plan[0]!;
      throw new TypeError(
        `${g.model.table}.${g.fields[0]!.column.name} is an encrypted column: read it through db.withPlugin(vault.forTenant(tenant).plugin())`,
      );
    }
    return args.result;
  }
}

/** A tenant's plugin: checks writes as the guard does, and decrypts results. */
export class TenantPlugin implements KyselyPlugin {
  readonly #rt: Runtime;
  readonly #scope: TenantScope;
  readonly #options: ReadOptions;

  constructor(rt: Runtime, scope: TenantScope, options: ReadOptions) {
    this.#rt = rt;
    this.#scope = scope;
    this.#options = options;
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    const node = args.node as unknown as Node;
    checkWrites(this.#rt, node);
    const plan = planFor(this.#rt, args.queryId, node);
    // The first tenant plugin of an instance decrypts; another one would see plaintext.
    if (plan !== undefined && !this.#rt.readers.has(args.queryId)) this.#rt.readers.set(args.queryId, this);
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    if (this.#rt.readers.get(args.queryId) !== this) return args.result;
    const plan = this.#rt.plans.get(args.queryId);
    const rows = args.result.rows;
    if (!plan || rows.length === 0) return args.result;
    // Every planned key must be in the rows: a plugin that renamed them after the query was
    // planned (CamelCasePlugin's transformResult running first) would leave ciphertext behind.
    const first = rows[0] as Record<string, unknown>;
    for (const g of plan) {
      const keys = [g.idKey, ...g.fields.map((f) => f.key)];
      if (g.tenantKey !== undefined) keys.push(g.tenantKey);
      for (const key of keys) {
        if (!Object.hasOwn(first, key)) {
          throw new TypeError(
            `${g.model.table}: the result rows have no key "${key}", which the query selected: a plugin renamed the result's keys (CamelCasePlugin), so its ciphertext can not be found: query this table with a Kysely instance without it`,
          );
        }
      }
    }
    const cells: Cell[] = [];
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as Record<string, unknown>;
      for (const g of plan) {
        const id = row[g.idKey];
        const tenant = g.tenantKey === undefined ? NOT_SELECTED : row[g.tenantKey];
        for (const f of g.fields) {
          cells.push({
            table: g.model,
            column: f.column,
            row: i,
            holder: row,
            key: f.key,
            value: row[f.key],
            id,
            tenant,
          });
        }
      }
    }
    const failed = await this.#scope.open(cells, rows.length, this.#options);
    if (failed.size === 0) return args.result;
    return { ...args.result, rows: rows.filter((_, i) => !failed.has(i)) };
  }
}
