/**
 * Record fields, the public side: the types of the field helpers' options and results, and
 * {@link fieldAad}, the AAD (version 1) that binds each value to the record's tenant, table
 * (namespace), id and field name, so that a value moved to another tenant, table, row or column
 * fails to decrypt. The helpers themselves (fail-closed checks, the read-once snapshot, one
 * batch per call) live in the internal fields module; the Envelope's methods call them.
 *
 * The types carry the helpers' rules to the compiler: a misspelt field name, a field whose type
 * is not `string | Uint8Array | null | undefined`, a bytes field listed as text, or an id
 * property that can not hold an id do not compile.
 * @module
 */
import { aname, fieldAadV1, idText } from './_aad.js';
import { aobject } from './assert.js';
import type { KeyContext } from './keys.js';
import type { Tenant } from './types.js';

/** What a field holds once decrypted: `'text'` (a string) or `'bytes'` (a Uint8Array). */
export type FieldKind = 'text' | 'bytes';

/** A value a field helper takes: text, bytes, or an empty column (`null`, `undefined`). */
export type FieldValue = string | Uint8Array | null | undefined;

/**
 * A record id as the field AAD binds it: a non-empty string, a safe integer or a bigint. `42`,
 * `42n` and `'42'` are the same id.
 */
export type FieldId = string | number | bigint;

/** Names of `T`'s properties whose type fits a field: `string | Uint8Array | null | undefined`. */
export type FieldName<T> = {
  [P in keyof T & string]-?: T[P] extends FieldValue ? P : never;
}[keyof T & string];

/** Names of `T`'s properties that hold text (`string | null | undefined`). */
export type TextFieldName<T> = {
  [P in keyof T & string]-?: T[P] extends string | null | undefined ? P : never;
}[keyof T & string];

/** The kinds a plaintext of type `V` may be declared as. */
type KindsOf<V> = V extends string ? 'text' : V extends Uint8Array ? 'bytes' : never;

/**
 * Which fields to encrypt or decrypt: an array of names (all text), or an object from names to
 * kinds (`{ ssn: 'text', photo: 'bytes' }`).
 */
export type FieldList = readonly string[] | { readonly [name: string]: FieldKind | undefined };

/** The fields of `T` that can be encrypted: text fields by name, or each with its kind. */
export type EncryptFieldList<T> =
  | readonly TextFieldName<T>[]
  | { readonly [P in FieldName<T>]?: KindsOf<NonNullable<T[P]>> };

/** The fields of `T` (holding ciphertexts) that can be decrypted, by name or with their kinds. */
export type DecryptFieldList<T> = readonly FieldName<T>[] | { readonly [P in FieldName<T>]?: FieldKind };

/** The names a field list lists. */
export type ListedName<S> = S extends readonly (infer K extends string)[] ? K : keyof S & string;

/** An object list names nothing but fields of the record: every other key is refused. */
export type OnlyFields<S, K extends string> = S extends readonly unknown[]
  ? unknown
  : { readonly [P in Exclude<keyof S, K>]: never };

type KindIn<S, P> = S extends readonly unknown[] ? 'text' : P extends keyof S ? S[P] : never;

/** A record after {@link Envelope.encryptFields}: the listed fields hold base64 ciphertexts. */
export type EncryptedFields<T, S> = {
  [P in keyof T]: P extends ListedName<S> ? string | Extract<T[P], null | undefined> : T[P];
};

/**
 * A record after {@link Envelope.decryptFields}: the listed fields hold strings (text fields) or
 * Uint8Array (bytes fields).
 */
export type DecryptedFields<T, S> = {
  [P in keyof T]: P extends ListedName<S>
    ? (KindIn<S, P> extends 'bytes' ? Uint8Array : string) | Extract<T[P], null | undefined>
    : T[P];
};

/** The options of every field call but the record id. */
export interface FieldListOptions<S extends FieldList = FieldList> {
  /**
   * The fields to encrypt or decrypt: names (text), or names to kinds. Each must be present in
   * the record (`field in record`), unless listed in `optional`; a present `null` or
   * `undefined` is left as it is.
   */
  fields: S;
  /**
   * The tenant (for example the organization id) the record belongs to, bound into each field's
   * AAD. When decrypting, give the request's authenticated tenant, never a column of the row.
   * Required when the Envelope has `requireTenant`.
   */
  tenant?: Tenant;
  /** The record's kind (a table, a collection), bound into the AAD. */
  namespace?: string;
  /** Listed fields the record may lack altogether (absent, not merely `null`). */
  optional?: readonly ListedName<S>[];
  /** Aborts the key requests; an aborted call rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Options both single-record field helpers take. */
export interface FieldOptions<S extends FieldList = FieldList> extends FieldListOptions<S> {
  /** The record's identity (its primary key), bound into each field's AAD. */
  id: FieldId;
}

/** Options of {@link Envelope.encryptFields}. */
export interface EncryptFieldsOptions<S extends FieldList = FieldList> extends FieldOptions<S> {
  /** The key context the record's data key is created under. */
  context: KeyContext;
}

/** How the decrypting field helpers treat data that is not (yet) in today's form. */
export interface FieldReadOptions {
  /**
   * Also read values written by vault-envelope 0.1, whose field AAD was
   * `JSON.stringify([namespace?, id, field])` with no tenant: a value that fails under the
   * current AAD is tried under that one. For the migration window only (it accepts a value
   * without its tenant binding); re-encrypt such values to upgrade them.
   * @default false
   */
  legacyAad?: boolean;
  /**
   * The migration read mode: a listed value that is not a ciphertext ({@link isCiphertext}) is
   * served as it is (a string for a text field, a Uint8Array for a bytes field) and counted in
   * `envelope.stats().plaintextServed`, instead of failing with a FormatError. Turn it on while
   * a column is being encrypted, and off once it is done.
   * @default false
   */
  allowPlaintext?: boolean;
}

/** Options of {@link Envelope.decryptFields}. */
export interface DecryptFieldsOptions<S extends FieldList = FieldList>
  extends FieldOptions<S>,
    FieldReadOptions {
  /** Called with the field's name for each value served as plaintext (with `allowPlaintext`). */
  onPlaintext?: (field: string) => void;
}

/** Names of `T`'s properties that can hold a record id (`string | number | bigint`). */
export type IdName<T> = {
  [P in keyof T & string]-?: T[P] extends FieldId ? P : never;
}[keyof T & string];

/**
 * Where the helpers for many records find each record's id: the name of its id property
 * (`'id'`), or a function of the record and its position in the list.
 */
export type RecordId<T> = IdName<T> | ((record: T, index: number) => FieldId);

/** Options both many-record field helpers take. */
export interface FieldsManyOptions<T = Record<string, unknown>, S extends FieldList = FieldList>
  extends FieldListOptions<S> {
  /**
   * Each record's identity (its primary key), bound into each of its fields' AAD: the name of
   * the property that holds it (read once, with the listed fields; it may not be a listed
   * field), or a function `(record, index) => id`.
   */
  id: RecordId<T>;
  /**
   * The tenant every record of the call belongs to, bound into each field's AAD: one per call.
   * It comes from the authenticated caller (the request's tenant), never from the rows: a row
   * that names its own tenant would let a value moved between tenants decrypt. Required when the
   * Envelope has `requireTenant`.
   */
  tenant?: Tenant;
}

/** Options of {@link Envelope.encryptFieldsMany}. */
export interface EncryptFieldsManyOptions<T = Record<string, unknown>, S extends FieldList = FieldList>
  extends FieldsManyOptions<T, S> {
  /**
   * The key context the data keys are created under: one for every record, or a function
   * `(record, index) => context`. Records with equal contexts share one data key.
   */
  context: KeyContext | ((record: T, index: number) => KeyContext);
}

/** Options of {@link Envelope.decryptFieldsMany}. */
export interface DecryptFieldsManyOptions<T = Record<string, unknown>, S extends FieldList = FieldList>
  extends FieldsManyOptions<T, S>,
    FieldReadOptions {
  /**
   * Called with the field's name and the record's position for each value served as plaintext
   * (with `allowPlaintext`), for the records that succeed.
   */
  onPlaintext?: (field: string, index: number) => void;
}

/**
 * The field AAD, version 1: the UTF-8 bytes of
 * `"vault-envelope/field/v1" ["|t=" tenant] ["|n=" namespace] "|i=" id "|f=" field`, each part
 * with `%` escaped as `%25` and `|` as `%7C`, the id in canonical form (a string as it is, an
 * integer or bigint in decimal). This is what {@link Envelope.encryptFields} binds each field
 * to, for code that decrypts one value by hand (`decryptToString(v, { aad: fieldAad(...) })`)
 * or in another language.
 * @param parts - `id` and `field`, and the `tenant` and `namespace` if the record has them.
 * @returns The AAD string.
 * @throws TypeError / RangeError on a part that the field helpers would refuse (an empty or
 *   non-text name, a NaN, fractional or unsafe id).
 * @example
 * ```ts
 * fieldAad({ tenant: 'org_1', namespace: 'users', id: 42, field: 'ssn' });
 * // 'vault-envelope/field/v1|t=org_1|n=users|i=42|f=ssn'
 * ```
 */
export function fieldAad(parts: { id: FieldId; field: string; namespace?: string; tenant?: Tenant }): string {
  aobject(parts, 'fieldAad parts');
  return fieldAadV1({
    tenant: parts.tenant === undefined ? undefined : aname(parts.tenant, 'tenant'),
    namespace: parts.namespace === undefined ? undefined : aname(parts.namespace, 'namespace'),
    id: idText(parts.id),
    field: aname(parts.field, 'field'),
  });
}
