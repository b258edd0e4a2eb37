/**
 * What an INSERT or UPDATE writes into declared columns, read from Kysely's operation tree: the
 * values of `values(...)` (one per row), of `set(...)` and of an ON CONFLICT update, each with
 * its table and column, so that the plugins can refuse what `encrypt` did not produce.
 * @module
 */
import type { TableModel } from '@vault-envelope/orm-core';
import { columnName, id, type Lookup, type Node, refuseRenamed, tableName } from './_plan.js';

/** A value a write puts into a declared column, and which. */
export interface Written {
  readonly model: TableModel;
  /** The column's key. */
  readonly column: string;
  /** The value node (a ValueNode, a DefaultInsertValueNode, or an expression). */
  readonly node: unknown;
  /** For an ON CONFLICT update: whether it may refer to `excluded.<the same column>`. */
  readonly upsert: boolean;
}

/** The declared table a write targets, if any. */
function targetOf(node: Node | undefined, lookup: Lookup): TableModel | undefined {
  if (node === undefined) return undefined;
  const t = node.kind === 'AliasNode' ? (node.node as Node) : node;
  if (t.kind !== 'TableNode') return undefined;
  const { name, schema } = tableName(t);
  return lookup(name, schema);
}

function guarded(model: TableModel, column: string): boolean {
  return model.columnByKey.has(column) || model.indexByKey.has(column);
}

/** Every value an INSERT or UPDATE writes into a declared encrypted or blind-index column. */
export function writesOf(root: Node, lookup: Lookup): Written[] {
  const out: Written[] = [];
  const updates = (model: TableModel, list: unknown, upsert: boolean): void => {
    for (const u of (list as Node[] | undefined) ?? []) {
      const column = columnName(u.column as Node);
      if (column === undefined) continue;
      if (guarded(model, column)) out.push({ model, column, node: u.value, upsert });
      else refuseRenamed(model, column);
    }
  };
  if (root.kind === 'InsertQueryNode') {
    const model = targetOf(root.into as Node | undefined, lookup);
    if (model === undefined) return out;
    const columns = ((root.columns as Node[] | undefined) ?? []).map((c) => id(c.column));
    for (const c of columns) if (c !== undefined && !guarded(model, c)) refuseRenamed(model, c);
    const values = root.values as Node | undefined;
    const declared = columns
      .map((c, i) => [c, i] as const)
      .filter(([c]) => c !== undefined && guarded(model, c));
    if (declared.length > 0 && values !== undefined) {
      if (values.kind !== 'ValuesNode') {
        for (const [c] of declared) out.push({ model, column: c!, node: values, upsert: false });
      } else {
        for (const item of values.values as Node[]) {
          for (const [c, i] of declared) {
            const v =
              item.kind === 'PrimitiveValueListNode'
                ? { kind: 'ValueNode', value: (item.values as unknown[])[i] }
                : (item.values as unknown[])[i];
            out.push({ model, column: c!, node: v, upsert: false });
          }
        }
      }
    }
    const conflict = root.onConflict as Node | undefined;
    if (conflict !== undefined) updates(model, conflict.updates, true);
  } else if (root.kind === 'UpdateQueryNode') {
    const model = targetOf(root.table as Node | undefined, lookup);
    if (model !== undefined) updates(model, root.updates, false);
  }
  return out;
}

/** Whether a value node is a reference to `excluded.<column>`. */
export function isExcluded(node: unknown, column: string): boolean {
  const n = node as Node | undefined;
  if (n?.kind !== 'ReferenceNode') return false;
  const table = id(((n.table as Node | undefined)?.table as Node | undefined)?.identifier);
  return table === 'excluded' && columnName(n) === column;
}
