/**
 * Table declarations: which columns of a table are encrypted (text or bytes, stored as base64
 * text or binary), which blind-index columns are computed from which of them, where the row's
 * id and tenant are, and which key context a row's data key is created under. Declared once per
 * table, checked once ({@link checkTable}), and turned into a {@link TableModel} that the write
 * and read paths use without checking again.
 *
 * The bytes a declaration leads to are the field helpers' (`envelope.encryptFields`): each
 * value's AAD is the field AAD of version 1 with the caller's tenant, the table's namespace
 * (the table's name unless given), the row's id and the column's name in the database, so a row
 * written through an integration decrypts with `decryptFields` and back.
 * @module
 */
import {
  aboolean,
  aobject,
  atext,
  BlindIndex,
  type FieldId,
  type FieldKind,
  type KeyContext,
  kindOf,
  validateKeyContext,
} from '@vault-envelope/core';

/** The longest namespace or field name the field AAD takes, in UTF-16 code units. */
const MAX_NAME = 500;

/** How an encrypted column stores its ciphertext: base64 text, or the binary message. */
export type ColumnStorage = 'text' | 'binary';

/** An encrypted column, declared in full. */
export interface EncryptedColumnDeclaration {
  /** What the column holds once decrypted: `'text'` (a string) or `'bytes'` (a Uint8Array). */
  kind: FieldKind;
  /**
   * How the ciphertext is stored: `'text'` (base64, for TEXT and VARCHAR columns) or `'binary'`
   * (the message's bytes, for BLOB and bytea columns).
   * @default 'text' for text columns, 'binary' for bytes columns
   */
  storage?: ColumnStorage;
}

/** A blind-index column, computed from an encrypted column on every write. */
export interface BlindIndexDeclaration {
  /** The key of the encrypted column whose plaintext is indexed. */
  source: string;
  /**
   * The index, or during a reindex the indexes in use, newest first: writes use the first,
   * equality searches match the values of all of them.
   */
  indexes: BlindIndex | readonly BlindIndex[];
  /**
   * Key the index per tenant ({@link BlindIndex.forTenant}), so the same value in two tenants
   * gives unrelated index values. Only for tables with a tenant.
   * @default true when the table has a tenant
   */
  perTenant?: boolean;
}

/** What a key-context function is given. */
export interface ContextArgs {
  /** The caller's tenant (undefined for a table without tenants). */
  readonly tenant: string | undefined;
  /** The row's id. */
  readonly id: FieldId;
  /** The values being written (an insert's row, an update's set). */
  readonly row: Readonly<Record<string, unknown>>;
}

/**
 * One table's declaration. Keys (`id`, `tenant`, the keys of `columns` and `blindIndexes`) are
 * the properties of the rows as the query layer hands them over: column names for Kysely and
 * raw SQL, the table's property names for Drizzle.
 */
export interface TableDeclaration {
  /** The table's name in the database (used in messages, and as the default namespace). */
  table: string;
  /**
   * The namespace bound into each value's AAD.
   * @default the table's name
   */
  namespace?: string;
  /** The key of the primary key, bound into each value's AAD (a string, integer or bigint id). */
  id: string;
  /**
   * Where a row's tenant is: the key of its tenant column (for example `'org_id'`), or a function
   * of the row. The tenant bound into the AAD is always the caller's; the row's tenant is only
   * checked against it (a row of another tenant is refused on write, and fails without a key
   * lookup on read). Leave it out for a table whose rows belong to no tenant.
   */
  tenant?: string | ((row: Readonly<Record<string, unknown>>) => unknown);
  /**
   * The key context a row's data key is created under (which Vault keys wrap it): an object, or
   * a function of the tenant, the id and the row (`({ tenant }) => ({ organization_id: tenant })`).
   */
  context: KeyContext | ((args: ContextArgs) => KeyContext);
  /** The encrypted columns: key to `'text'`, `'bytes'` or a full declaration. At least one. */
  columns: { readonly [key: string]: FieldKind | EncryptedColumnDeclaration };
  /** The blind-index columns: key to the index declaration. */
  blindIndexes?: { readonly [key: string]: BlindIndexDeclaration };
  /**
   * Names in the database of the keys that differ from them (for messages and as the field name
   * bound into the AAD): `{ orgId: 'org_id' }`.
   * @default each key is its column's name
   */
  names?: { readonly [key: string]: string };
}

/** An encrypted column, checked. */
export interface ColumnModel {
  /** The row property. */
  readonly key: string;
  /** The column's name in the database: the field name bound into the AAD. */
  readonly name: string;
  readonly kind: FieldKind;
  readonly storage: ColumnStorage;
  /** The blind indexes computed from this column. */
  readonly indexes: readonly IndexModel[];
}

/** A blind-index column, checked. */
export interface IndexModel {
  /** The row property of the index column. */
  readonly key: string;
  /** Its name in the database. */
  readonly name: string;
  /** The key of the encrypted column it is computed from. */
  readonly source: string;
  /** The indexes, newest first (never empty). */
  readonly indexes: readonly BlindIndex[];
  readonly perTenant: boolean;
}

/** A table declaration, checked: what the write and read paths run on. */
export interface TableModel {
  /** The table's name in the database. */
  readonly table: string;
  readonly namespace: string;
  /** The key of the id, and its name in the database. */
  readonly id: { readonly key: string; readonly name: string };
  /**
   * The tenant: a key and its column's name, or a function; undefined for a table without
   * tenants.
   */
  readonly tenant:
    | { readonly key: string; readonly name: string; readonly of?: undefined }
    | {
        readonly key?: undefined;
        readonly name: string;
        readonly of: (row: Readonly<Record<string, unknown>>) => unknown;
      }
    | undefined;
  readonly context: KeyContext | ((args: ContextArgs) => KeyContext);
  readonly columns: readonly ColumnModel[];
  readonly indexes: readonly IndexModel[];
  /** Encrypted columns by key. */
  readonly columnByKey: ReadonlyMap<string, ColumnModel>;
  /** Blind-index columns by key. */
  readonly indexByKey: ReadonlyMap<string, IndexModel>;
}

const TABLE_OPTIONS = new Set([
  'table',
  'namespace',
  'id',
  'tenant',
  'context',
  'columns',
  'blindIndexes',
  'names',
]);

/**
 * Checks a declaration and returns its model.
 * @param declaration - The table's declaration.
 * @returns The model.
 * @throws TypeError / RangeError naming the table and the key on anything malformed: an unknown
 *   option, a name that is not text, a column that is declared twice (as the id, the tenant, an
 *   encrypted column or an index), an index whose source is not an encrypted column, a per-tenant
 *   index on a table without tenants.
 * @example
 * ```ts
 * const model = checkTable({ table: 'users', id: 'id', tenant: 'org_id', context: ({ tenant }) => ({ organization_id: tenant! }), columns: { ssn: 'text' } });
 * ```
 */
export function checkTable(declaration: TableDeclaration): TableModel {
  const d = aobject(declaration, 'table declaration');
  const table = atext(d.table, 'table declaration.table', 1);
  const title = `table ${table}`;
  for (const k of Object.keys(d)) {
    if (!TABLE_OPTIONS.has(k)) throw new TypeError(`${title} has an unknown option "${k}"`);
  }
  const names = d.names === undefined ? {} : aobject(d.names, `${title}: names`);
  const nameOf = (key: string): string => {
    if (!Object.hasOwn(names, key)) return key;
    return atext(names[key], `${title}: names.${key}`, 1, MAX_NAME);
  };
  const namespace =
    d.namespace === undefined
      ? atext(table, `${title}: namespace`, 1, MAX_NAME)
      : atext(d.namespace, `${title}: namespace`, 1, MAX_NAME);
  const idKey = atext(d.id, `${title}: id`, 1);
  const id = { key: idKey, name: nameOf(idKey) };
  const taken = new Map<string, string>([[idKey, 'the id']]);
  const claim = (key: string, role: string): void => {
    const before = taken.get(key);
    if (before !== undefined) {
      throw new TypeError(`${title}: ${key} must be declared once, got it as ${before} and as ${role}`);
    }
    taken.set(key, role);
  };

  let tenant: TableModel['tenant'];
  if (typeof d.tenant === 'string') {
    const key = atext(d.tenant, `${title}: tenant`, 1);
    claim(key, 'the tenant');
    tenant = { key, name: nameOf(key) };
  } else if (typeof d.tenant === 'function') {
    tenant = { name: '(tenant)', of: d.tenant as (row: Readonly<Record<string, unknown>>) => unknown };
  } else if (d.tenant !== undefined) {
    throw new TypeError(
      `${title}: tenant must be a column key or a function of the row, got ${kindOf(d.tenant)}`,
    );
  }

  let context: TableModel['context'];
  if (typeof d.context === 'function') context = d.context as (args: ContextArgs) => KeyContext;
  else context = validateKeyContext(d.context, `${title}: context`);

  const cols = aobject(d.columns, `${title}: columns`);
  const columnKeys = Object.keys(cols);
  if (columnKeys.length === 0)
    throw new RangeError(`${title}: columns must declare at least one column, got none`);
  const pending: {
    key: string;
    name: string;
    kind: FieldKind;
    storage: ColumnStorage;
    indexes: IndexModel[];
  }[] = [];
  for (const key of columnKeys) {
    atext(key, `${title}: a column key`, 1);
    claim(key, 'an encrypted column');
    const { kind, storage } = checkColumn(cols[key], `${title}: columns.${key}`);
    pending.push({ key, name: nameOf(key), kind, storage, indexes: [] });
  }

  const indexes: IndexModel[] = [];
  const idx = d.blindIndexes === undefined ? {} : aobject(d.blindIndexes, `${title}: blindIndexes`);
  for (const key of Object.keys(idx)) {
    const at = `${title}: blindIndexes.${key}`;
    atext(key, `${title}: a blind-index key`, 1);
    claim(key, 'a blind-index column');
    const b = aobject(idx[key], at);
    for (const k of Object.keys(b)) {
      if (k !== 'source' && k !== 'indexes' && k !== 'perTenant')
        throw new TypeError(`${at} has an unknown option "${k}"`);
    }
    const source = pending.find((c) => c.key === b.source);
    if (source === undefined) {
      throw new TypeError(
        `${at}.source must be the key of an encrypted column of ${table}, got ${kindOf(b.source)}`,
      );
    }
    const list = Array.isArray(b.indexes) ? (b.indexes as unknown[]) : [b.indexes];
    if (list.length === 0) throw new RangeError(`${at}.indexes must list at least one BlindIndex, got none`);
    list.forEach((ix, i) => {
      if (!(ix instanceof BlindIndex))
        throw new TypeError(`${at}.indexes[${i}] must be a BlindIndex, got ${kindOf(ix)}`);
    });
    const perTenant =
      b.perTenant === undefined ? tenant !== undefined : aboolean(b.perTenant, `${at}.perTenant`);
    if (perTenant && tenant === undefined) {
      throw new TypeError(`${at}.perTenant needs a table with a tenant, and ${table} declares none`);
    }
    if (perTenant && (list as BlindIndex[]).some((ix) => ix.tenant !== undefined)) {
      throw new TypeError(
        `${at}.indexes must be the root indexes (not already keyed for a tenant) when perTenant is on`,
      );
    }
    const model: IndexModel = {
      key,
      name: nameOf(key),
      source: source.key,
      indexes: Object.freeze([...(list as BlindIndex[])]),
      perTenant,
    };
    source.indexes.push(model);
    indexes.push(model);
  }
  for (const key of Object.keys(names)) nameOf(key);

  const columns: ColumnModel[] = pending.map((c) =>
    Object.freeze({ ...c, indexes: Object.freeze(c.indexes) }),
  );
  return Object.freeze({
    table,
    namespace,
    id: Object.freeze(id),
    tenant: tenant === undefined ? undefined : Object.freeze(tenant),
    context,
    columns: Object.freeze(columns),
    indexes: Object.freeze(indexes),
    columnByKey: new Map(columns.map((c) => [c.key, c])),
    indexByKey: new Map(indexes.map((i) => [i.key, i])),
  });
}

function checkColumn(value: unknown, title: string): { kind: FieldKind; storage: ColumnStorage } {
  if (value === 'text' || value === 'bytes')
    return { kind: value, storage: value === 'text' ? 'text' : 'binary' };
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(
      `${title} must be 'text', 'bytes' or { kind, storage }, got ${typeof value === 'string' ? 'another string' : kindOf(value)}`,
    );
  }
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k !== 'kind' && k !== 'storage') throw new TypeError(`${title} has an unknown option "${k}"`);
  }
  if (o.kind !== 'text' && o.kind !== 'bytes') {
    throw new TypeError(
      `${title}.kind must be 'text' or 'bytes', got ${typeof o.kind === 'string' ? 'another string' : kindOf(o.kind)}`,
    );
  }
  const storage = o.storage ?? (o.kind === 'text' ? 'text' : 'binary');
  if (storage !== 'text' && storage !== 'binary') {
    throw new TypeError(
      `${title}.storage must be 'text' or 'binary', got ${typeof storage === 'string' ? 'another string' : kindOf(storage)}`,
    );
  }
  return { kind: o.kind, storage };
}
