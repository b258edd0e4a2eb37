/**
 * Reading a Kysely operation tree: which keys of each result row hold which declared column of
 * which table instance, and which values a write puts into declared columns.
 *
 * A result key is traced to its origin through the FROM items and joins (tables, aliased tables,
 * derived tables and common table expressions, recursively) and the selections (`*`,
 * `users.*`, `users.ssn`, `ssn`, `users.ssn as s`). The values of one table instance are
 * decrypted with the id selected from the same instance. What can not be traced (an expression,
 * a scalar subquery, a raw SQL query) is returned as the database gave it.
 * @module
 */
import type { ColumnModel, TableModel } from '@vault-envelope/orm-core';

/** A node of Kysely's operation tree, as far as this module reads it. */
export interface Node {
  readonly kind: string;
  readonly [key: string]: unknown;
}

/** One use of a declared table in a query (the table, or an alias of it). */
interface Instance {
  readonly model: TableModel;
  readonly ref: string;
}

/** Where a column of a FROM item comes from: a column of a table instance, or nothing known. */
type Origin = { readonly instance: Instance; readonly column: string } | undefined;

/** A FROM item: how it is referenced, and its columns' origins. */
interface Source {
  readonly ref: string;
  /** The declared table it is, if it is one. */
  readonly instance: Instance | undefined;
  /** For a derived table or a CTE: its output columns' origins. */
  readonly columns: ReadonlyMap<string, Origin> | undefined;
}

/** The encrypted result keys of one table instance, with its id and tenant keys. */
export interface Group {
  readonly model: TableModel;
  readonly idKey: string;
  readonly tenantKey: string | undefined;
  readonly fields: readonly { readonly key: string; readonly column: ColumnModel }[];
}

/** Looks up a declared table by the name a query gives it (`users` or `schema.users`). */
export type Lookup = (name: string, schema: string | undefined) => TableModel | undefined;

/** The name of an IdentifierNode. */
export const id = (node: unknown): string | undefined => {
  const n = node as Node | undefined;
  return n?.kind === 'IdentifierNode' ? (n.name as string) : undefined;
};

/** The name and schema of a TableNode. */
export function tableName(node: Node): { name: string; schema: string | undefined } {
  const t = node.table as Node;
  return { name: id(t.identifier)!, schema: id(t.schema) };
}

/** The columns a declared table contributes to `*`: everything the declaration names. */
function declaredColumns(model: TableModel): string[] {
  const out = [model.id.key, ...model.columns.map((c) => c.key), ...model.indexes.map((i) => i.key)];
  if (model.tenant?.key !== undefined) out.push(model.tenant.key);
  return out;
}

/** Traces the outputs of a query: result key to origin (undefined: not traceable). */
class Tracer {
  readonly #lookup: Lookup;
  /** CTEs in scope, by name. */
  readonly #ctes: Map<string, ReadonlyMap<string, Origin>>;

  constructor(lookup: Lookup, ctes: Map<string, ReadonlyMap<string, Origin>> = new Map()) {
    this.#lookup = lookup;
    this.#ctes = ctes;
  }

  /** A FROM item as a source. */
  source(node: Node): Source | undefined {
    if (node.kind === 'TableNode') {
      const { name, schema } = tableName(node);
      return this.#table(name, schema, name);
    }
    if (node.kind === 'AliasNode') {
      const alias = id(node.alias);
      const inner = node.node as Node;
      if (alias === undefined) return undefined;
      if (inner.kind === 'TableNode') {
        const { name, schema } = tableName(inner);
        return this.#table(name, schema, alias);
      }
      if (inner.kind === 'SelectQueryNode') {
        return {
          ref: alias,
          instance: undefined,
          columns: new Tracer(this.#lookup, new Map(this.#ctes)).outputs(inner),
        };
      }
    }
    return undefined;
  }

  #table(name: string, schema: string | undefined, ref: string): Source {
    const cte = schema === undefined ? this.#ctes.get(name) : undefined;
    if (cte !== undefined) return { ref, instance: undefined, columns: cte };
    const model = this.#lookup(name, schema);
    return { ref, instance: model === undefined ? undefined : { model, ref }, columns: undefined };
  }

  /** Registers the CTEs of a WITH clause. */
  with(node: unknown): void {
    const w = node as Node | undefined;
    if (w?.kind !== 'WithNode') return;
    for (const e of w.expressions as Node[]) {
      const nameNode = e.name as Node;
      const name = tableName(nameNode.table as Node).name;
      const expression = e.expression as Node;
      if (name === undefined || expression.kind !== 'SelectQueryNode') continue;
      let outputs = new Tracer(this.#lookup, new Map(this.#ctes)).outputs(expression);
      const renamed = nameNode.columns as Node[] | undefined;
      if (renamed !== undefined) {
        // `WITH x (a, b) AS (...)`: the outputs in order, under the new names.
        const values = [...outputs.values()];
        outputs = new Map(renamed.map((c, i) => [id(c.column) ?? '', values[i]]));
      }
      this.#ctes.set(name, outputs);
    }
  }

  /** The result keys of a SELECT and their origins. */
  outputs(select: Node): Map<string, Origin> {
    this.with(select.with);
    const sources: Source[] = [];
    const from = select.from as Node | undefined;
    for (const f of (from?.froms as Node[] | undefined) ?? []) sources.push(this.source(f) ?? opaque());
    for (const j of (select.joins as Node[] | undefined) ?? [])
      sources.push(this.source(j.table as Node) ?? opaque());
    const out = this.selections((select.selections as Node[] | undefined) ?? [], sources);
    if (
      select.setOperations !== undefined &&
      [...out.values()].some((o) => o !== undefined && isEncrypted(o))
    ) {
      throw new TypeError(
        `${[...out.values()].find((o) => o !== undefined && isEncrypted(o))!.instance.model.table}: a union, intersect or except over encrypted columns can not be decrypted: run the queries apart`,
      );
    }
    return out;
  }

  /** The result keys of selections (of a SELECT or a RETURNING) over sources. */
  selections(selections: readonly Node[], sources: readonly Source[]): Map<string, Origin> {
    const out = new Map<string, Origin>();
    const seen = new Set<string>();
    const set = (key: string, origin: Origin): void => {
      // A key selected twice holds whichever the driver kept: trace it to nothing.
      if (seen.has(key)) {
        out.set(key, ambiguous(out.get(key), origin));
        return;
      }
      seen.add(key);
      out.set(key, origin);
    };
    for (const s of selections) {
      const sel = s.kind === 'SelectionNode' ? (s.selection as Node) : s;
      if (sel.kind === 'SelectAllNode') {
        for (const src of sources) for (const [k, o] of columnsOf(src)) set(k, o);
        const encrypted = sources.find((src) =>
          [...columnsOf(src).values()].some((o) => o !== undefined && isEncrypted(o)),
        );
        if (sources.length > 1 && encrypted !== undefined) {
          // The tables' columns share one row object (two ids, say): refuse rather than guess.
          const o = [...columnsOf(encrypted).values()].find((x) => x !== undefined)!;
          const t = o.instance.model.table;
          throw new TypeError(
            `${t}: selectAll() over a join can not tell the tables' columns apart: select ${t}.* (selectAll('${t}')) or list the columns`,
          );
        }
        continue;
      }
      if (sel.kind === 'ReferenceNode' && (sel.column as Node).kind === 'SelectAllNode') {
        const ref = id(((sel.table as Node | undefined)?.table as Node | undefined)?.identifier);
        const src = sources.find((x) => x.ref === ref);
        if (src !== undefined) for (const [k, o] of columnsOf(src)) set(k, o);
        continue;
      }
      if (sel.kind === 'AliasNode') {
        const alias = id(sel.alias);
        const inner = sel.node as Node;
        if (inner.kind !== 'ReferenceNode' && inner.kind !== 'ColumnNode') this.#refuseNested(inner);
        if (alias !== undefined) set(alias, this.#origin(inner, sources));
        continue;
      }
      const name = columnName(sel);
      if (name !== undefined) set(name, this.#origin(sel, sources));
    }
    return out;
  }

  /**
   * Refuses an expression that selects an encrypted column through a subquery (a scalar
   * subquery, `jsonArrayFrom`, `jsonObjectFrom`): its values would come back as ciphertext,
   * inside a value the plugin can not take apart.
   */
  #refuseNested(node: Node): void {
    const visit = (n: unknown, depth: number): void => {
      if (typeof n !== 'object' || n === null || depth > 64) return;
      if (Array.isArray(n)) {
        for (const x of n) visit(x, depth + 1);
        return;
      }
      const o = n as Node;
      if (o.kind === 'SelectQueryNode') {
        for (const origin of new Tracer(this.#lookup, new Map(this.#ctes)).outputs(o).values()) {
          if (origin !== undefined && isEncrypted(origin)) {
            const t = origin.instance.model;
            throw new TypeError(
              `${t.table}.${t.columnByKey.get(origin.column)!.name} is selected inside an expression (a subquery, jsonArrayFrom, jsonObjectFrom), which can not be decrypted: select it at the top level of a query`,
            );
          }
        }
      }
      for (const key of Object.keys(o)) if (key !== 'kind') visit(o[key], depth + 1);
    };
    visit(node, 0);
  }

  /** The origin of a column reference, unqualified or qualified. */
  #origin(node: Node, sources: readonly Source[]): Origin {
    let table: string | undefined;
    let column: string | undefined;
    if (node.kind === 'ReferenceNode') {
      column = id((node.column as Node).column);
      table = id(((node.table as Node | undefined)?.table as Node | undefined)?.identifier);
    } else if (node.kind === 'ColumnNode') column = id(node.column);
    if (column === undefined) return undefined;
    const candidates = table === undefined ? sources : sources.filter((s) => s.ref === table);
    const found: Origin[] = [];
    for (const s of candidates) {
      const o = columnsOf(s).get(column);
      if (o !== undefined) found.push(o);
    }
    if (found.length === 0)
      for (const s of candidates) if (s.instance !== undefined) refuseRenamed(s.instance.model, column);
    // An unqualified column two sources declare is ambiguous to the database too.
    return found.length === 1 ? found[0] : undefined;
  }
}

/** A snake_case name in camelCase, as Kysely's CamelCasePlugin writes it by default. */
function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Refuses a column name that is a declared column's renamed (camelCase) form: when a plugin that
 * renames identifiers (CamelCasePlugin) runs after the vault's, they see the application's names,
 * would recognise neither the write nor the read of the declared column, and let a plaintext in
 * or a ciphertext out.
 * @throws TypeError naming the table and both names.
 */
export function refuseRenamed(model: TableModel, name: string): void {
  const declared = [...model.columns.map((c) => c.key), ...model.indexes.map((i) => i.key)];
  const original = declared.find((k) => k !== name && camel(k) === name);
  if (original !== undefined) {
    throw new TypeError(
      `${model.table}.${name} is ${model.table}.${original} renamed by a plugin (CamelCasePlugin), which the vault's plugins can not see through: query this table with a Kysely instance without it`,
    );
  }
}

const opaque = (): Source => ({ ref: '\u0000', instance: undefined, columns: undefined });

function isEncrypted(o: { instance: Instance; column: string }): boolean {
  return o.instance.model.columnByKey.has(o.column);
}

function ambiguous(a: Origin, b: Origin): Origin {
  if (a !== undefined && b !== undefined && a.instance === b.instance && a.column === b.column) return a;
  return undefined;
}

/** The column a ColumnNode or a column ReferenceNode names. */
export function columnName(node: Node): string | undefined {
  if (node.kind === 'ColumnNode') return id(node.column);
  if (node.kind === 'ReferenceNode' && (node.column as Node).kind === 'ColumnNode')
    return id((node.column as Node).column);
  return undefined;
}

const columnsCache = new WeakMap<Source, ReadonlyMap<string, Origin>>();

function columnsOf(src: Source): ReadonlyMap<string, Origin> {
  if (src.columns !== undefined) return src.columns;
  if (src.instance === undefined) return new Map();
  let m = columnsCache.get(src);
  if (m === undefined) {
    const inst = src.instance;
    m = new Map(declaredColumns(inst.model).map((c) => [c, { instance: inst, column: c }]));
    columnsCache.set(src, m);
  }
  return m;
}

/**
 * The groups of a result: per table instance, the keys of its encrypted columns and of its id
 * and tenant.
 * @throws TypeError when an encrypted column is in the result without its table's id.
 */
function groupsOf(outputs: ReadonlyMap<string, Origin>): Group[] {
  const byInstance = new Map<
    Instance,
    { idKey?: string; tenantKey?: string; fields: { key: string; column: ColumnModel }[] }
  >();
  for (const [key, o] of outputs) {
    if (o === undefined) continue;
    const m = o.instance.model;
    let g = byInstance.get(o.instance);
    if (g === undefined) {
      g = { fields: [] };
      byInstance.set(o.instance, g);
    }
    if (o.column === m.id.key) g.idKey ??= key;
    else if (o.column === m.tenant?.key) g.tenantKey ??= key;
    const c = m.columnByKey.get(o.column);
    if (c !== undefined) g.fields.push({ key, column: c });
  }
  const out: Group[] = [];
  for (const [inst, g] of byInstance) {
    if (g.fields.length === 0) continue;
    const t = inst.model.table;
    if (g.idKey === undefined) {
      throw new TypeError(
        `${t}.${inst.model.id.name} must be selected to decrypt ${t}.${g.fields[0]!.column.name} (the id is bound into each value): select it too`,
      );
    }
    out.push({ model: inst.model, idKey: g.idKey, tenantKey: g.tenantKey, fields: g.fields });
  }
  return out;
}

/**
 * The plan of a query's result: its groups, or undefined when the result holds no declared
 * encrypted column (or the query is not one this module reads).
 * @throws TypeError as {@link groupsOf}, and for selectAll over a join or a union of encrypted columns.
 */
export function planResult(root: Node, lookup: Lookup): Group[] | undefined {
  const tracer = new Tracer(lookup);
  let outputs: Map<string, Origin> | undefined;
  if (root.kind === 'SelectQueryNode') outputs = tracer.outputs(root);
  else if (
    root.kind === 'InsertQueryNode' ||
    root.kind === 'UpdateQueryNode' ||
    root.kind === 'DeleteQueryNode'
  ) {
    const returning = root.returning as Node | undefined;
    if (returning === undefined) return undefined;
    tracer.with(root.with);
    const sources: Source[] = [];
    const targets: Node[] =
      root.kind === 'InsertQueryNode'
        ? [root.into as Node]
        : root.kind === 'UpdateQueryNode'
          ? [root.table as Node, ...(((root.from as Node | undefined)?.froms as Node[] | undefined) ?? [])]
          : [
              ...(((root.from as Node).froms as Node[] | undefined) ?? []),
              ...(((root.using as Node | undefined)?.tables as Node[]) ?? []),
            ];
    for (const t of targets) if (t !== undefined) sources.push(tracer.source(t) ?? opaque());
    for (const j of (root.joins as Node[] | undefined) ?? [])
      sources.push(tracer.source(j.table as Node) ?? opaque());
    outputs = tracer.selections(returning.selections as Node[], sources);
  } else return undefined;
  const groups = groupsOf(outputs);
  return groups.length === 0 ? undefined : groups;
}
