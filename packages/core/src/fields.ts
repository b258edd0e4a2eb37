/**
 * Record fields: encrypt or decrypt the listed fields of a record, each bound by its AAD to the
 * record's tenant, table (namespace), id and field name ({@link fieldAad}, version 1), so that a
 * value moved to another tenant, table, row or column fails to decrypt.
 *
 * These helpers run before every database write and after every read, so they fail closed:
 * a listed field that the record lacks is a TypeError (a typo must not leave a value in clear),
 * a value that is neither text nor bytes is a TypeError, a record that is a promise (a forgotten
 * `await`) or an array is a TypeError, and on decryption a value that is not a ciphertext is a
 * FormatError, unless the caller opted into the migration read mode (`allowPlaintext`), which
 * serves it as it is and counts it. Each listed field is read exactly once, before anything
 * else happens, and the result is built from that snapshot: a getter that answers differently on
 * a second read (an ORM entity, a proxy) can not slip a plaintext past the check.
 *
 * One record is one batch: its fields share one data key (one `createDataKey` call) and, on the
 * way back, one key lookup per distinct wrapped key.
 * @module
 */
import { aname, type FieldAadParts, fieldAadV0, fieldAadV1, idText } from './_aad.js';
import { type BatchPolicy, openBatch, sealBatch } from './_batch.js';
import { encodeBase64 } from './_bytes.js';
import type { KeyBlobHeaders } from './_key-blob.js';
import { missingTenant, signalOptions, textOf } from './_request.js';
import type { Sealer } from './_sealer.js';
import { aboolean, afunction, aobject, aoptions, asignal, isBytes, kindOf } from './assert.js';
import { DecryptionError, FormatError } from './errors.js';
import { ciphertextBytes, parseWith, recognise } from './format.js';
import { type KeyContext, type KeyProvider, validateKeyContext } from './keys.js';
import type { BatchResult, Tenant } from './types.js';

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

/** Options both field helpers take. */
export interface FieldOptions<S extends FieldList = FieldList> {
  /**
   * The fields to encrypt or decrypt: names (text), or names to kinds. Each must be present in
   * the record (`field in record`), unless listed in `optional`; a present `null` or
   * `undefined` is left as it is.
   */
  fields: S;
  /** The record's identity (its primary key), bound into each field's AAD. */
  id: FieldId;
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
  /** Aborts the key request. */
  signal?: AbortSignal;
}

/** Options of {@link Envelope.encryptFields}. */
export interface EncryptFieldsOptions<S extends FieldList = FieldList> extends FieldOptions<S> {
  /** The key context the record's data key is created under. */
  context: KeyContext;
}

/** Options of {@link Envelope.decryptFields}. */
export interface DecryptFieldsOptions<S extends FieldList = FieldList> extends FieldOptions<S> {
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
  /** Called with the field's name for each value served as plaintext (with `allowPlaintext`). */
  onPlaintext?: (field: string) => void;
}

/**
 * What the field helpers use of an Envelope.
 * @internal
 */
export interface FieldRuntime {
  readonly sealer: Sealer;
  readonly createKeys: Pick<KeyProvider, 'createDataKey'>;
  readonly keys: Pick<KeyProvider, 'decryptDataKey'>;
  readonly headers: KeyBlobHeaders;
  readonly requireTenant: boolean;
  /** Counts one value served as plaintext. */
  plaintextServed(): void;
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

const COMMON_OPTIONS = ['fields', 'id', 'tenant', 'namespace', 'optional', 'signal'];
const ENCRYPT_OPTIONS: ReadonlySet<string> = new Set([...COMMON_OPTIONS, 'context']);
const DECRYPT_OPTIONS: ReadonlySet<string> = new Set([
  ...COMMON_OPTIONS,
  'legacyAad',
  'allowPlaintext',
  'onPlaintext',
]);

/** A checked call: the fields, their kinds, and the AAD parts but the field name. */
interface Plan {
  names: string[];
  kinds: FieldKind[];
  optional: ReadonlySet<string>;
  aad: Omit<FieldAadParts, 'field'>;
  signal: AbortSignal | undefined;
}

function checkFields(fields: unknown): { names: string[]; kinds: FieldKind[] } {
  const names: string[] = [];
  const kinds: FieldKind[] = [];
  if (Array.isArray(fields)) {
    for (let i = 0; i < fields.length; i++) {
      names.push(aname(fields[i], `fields[${i}]`));
      kinds.push('text');
    }
  } else if (typeof fields === 'object' && fields !== null && !isBytes(fields)) {
    for (const name of Object.keys(fields)) {
      aname(name, 'a field name');
      const kind = (fields as Record<string, unknown>)[name];
      if (kind !== 'text' && kind !== 'bytes') {
        throw new TypeError(
          `fields["${name}"] must be 'text' or 'bytes', got ${typeof kind === 'string' ? 'another string' : kindOf(kind)}`,
        );
      }
      names.push(name);
      kinds.push(kind);
    }
  } else {
    throw new TypeError(
      `fields must be an array of field names or an object of field kinds, got ${kindOf(fields)}`,
    );
  }
  if (names.length === 0) throw new RangeError('fields must list at least one field, got none');
  const seen = new Set<string>();
  for (let i = 0; i < names.length; i++) {
    if (seen.has(names[i]!))
      throw new TypeError(`fields[${i}] must be a field not listed before, got a repeat`);
    seen.add(names[i]!);
  }
  return { names, kinds };
}

function checkOptions(runtime: FieldRuntime, options: unknown, known: ReadonlySet<string>): Plan {
  const o = aoptions(options, 'field options', known);
  if (options === undefined) throw new TypeError('field options must be an object, got undefined');
  const { names, kinds } = checkFields(o.fields);
  const optional = new Set<string>();
  if (o.optional !== undefined) {
    if (!Array.isArray(o.optional)) {
      throw new TypeError(`optional must be an array of listed field names, got ${kindOf(o.optional)}`);
    }
    o.optional.forEach((name: unknown, i) => {
      if (typeof name !== 'string' || !names.includes(name)) {
        throw new TypeError(`optional[${i}] must be one of the listed fields, got ${kindOf(name)}`);
      }
      optional.add(name);
    });
  }
  const id = idText(o.id);
  let tenant: string | undefined;
  if (o.tenant !== undefined) tenant = aname(o.tenant, 'tenant');
  else if (runtime.requireTenant) throw missingTenant();
  const namespace = o.namespace === undefined ? undefined : aname(o.namespace, 'namespace');
  const signal = asignal(o.signal, 'signal');
  return { names, kinds, optional, aad: { tenant, namespace, id }, signal };
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A listed field that is absent from the record (and may be). */
const ABSENT: unique symbol = Symbol('absent');

/**
 * Reads each listed field once, in list order, and copies the record's other own enumerable
 * properties, all before anything asynchronous happens.
 */
function snapshot(record: unknown, plan: Plan): { values: unknown[]; base: Record<PropertyKey, unknown> } {
  const src = aobject(record, 'record');
  const values: unknown[] = new Array(plan.names.length);
  for (let i = 0; i < plan.names.length; i++) {
    const name = plan.names[i]!;
    if (!(name in src)) {
      if (!plan.optional.has(name)) {
        throw new TypeError(
          `record must have the listed field "${name}" (name it in optional if it may be absent), got no such property`,
        );
      }
      values[i] = ABSENT;
    } else {
      values[i] = src[name];
    }
  }
  const listed = new Set(plan.names);
  const base: Record<PropertyKey, unknown> = {};
  for (const key of Object.keys(src)) if (!listed.has(key)) put(base, key, src[key]);
  for (const sym of Object.getOwnPropertySymbols(src)) {
    if (Object.prototype.propertyIsEnumerable.call(src, sym))
      base[sym] = (src as Record<symbol, unknown>)[sym];
  }
  return { values, base };
}

/** Sets an own data property, also for the key `__proto__` (which assignment would not). */
function put(out: Record<PropertyKey, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  } else out[key] = value;
}

function aadOf(plan: Plan, field: string, version: 0 | 1): string {
  const parts = { ...plan.aad, field };
  return version === 1 ? fieldAadV1(parts) : fieldAadV0(parts);
}

/** Batch messages name the field, never the batch's own items. */
function policyFor(runtime: FieldRuntime, fieldOf: (i: number) => string): BatchPolicy {
  return {
    requireTenant: false,
    headers: runtime.headers,
    itemTitle: (i, part) => (part === 'context' ? 'context' : `field "${fieldOf(i)}"`),
  };
}

/**
 * {@link Envelope.encryptFields}.
 * @internal
 */
export async function encryptFields(
  runtime: FieldRuntime,
  record: unknown,
  options: unknown,
): Promise<Record<PropertyKey, unknown>> {
  const plan = checkOptions(runtime, options, ENCRYPT_OPTIONS);
  const context = validateKeyContext((options as { context?: unknown }).context, 'context');
  const { values, base } = snapshot(record, plan);
  const at: number[] = [];
  const items: { plaintext: string | Uint8Array; context: KeyContext; aad: string }[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const name = plan.names[i]!;
    if (v === ABSENT) continue;
    if (v === null || v === undefined) {
      put(base, name, v);
      continue;
    }
    if (plan.kinds[i] === 'text') {
      if (typeof v !== 'string') {
        throw new TypeError(`field "${name}" must be a string (a text field), got ${kindOf(v)}`);
      }
      // UTF-8 can not encode a lone surrogate: it would come back as U+FFFD, another value.
      const bad = LONE_SURROGATE.exec(v);
      if (bad !== null) {
        throw new TypeError(
          `field "${name}" must be well-formed text, got a lone surrogate at index ${bad.index}`,
        );
      }
    }
    if (plan.kinds[i] === 'bytes' && !isBytes(v)) {
      throw new TypeError(`field "${name}" must be a Uint8Array (a bytes field), got ${kindOf(v)}`);
    }
    at.push(i);
    items.push({ plaintext: v as string | Uint8Array, context, aad: aadOf(plan, name, 1) });
  }
  if (items.length === 0) return base;
  const results = await sealBatch(
    runtime.sealer,
    runtime.createKeys,
    items,
    signalOptions(plan.signal),
    policyFor(runtime, (j) => plan.names[at[j]!]!),
  );
  // Fail closed: the record comes back only when every present field is a ciphertext.
  for (const r of results) if (!r.ok) throw r.error;
  results.forEach((r, j) => {
    put(base, plan.names[at[j]!]!, encodeBase64((r as { value: Uint8Array }).value));
  });
  return base;
}

/** Why a value is not a ciphertext, without quoting it. */
function notCiphertext(value: string | Uint8Array, name: string, headers: KeyBlobHeaders): FormatError {
  let why = "its key blob starts with no known header (declare the key provider's keyBlobHeaders)";
  try {
    parseWith(ciphertextBytes(value), undefined, headers);
  } catch (e) {
    if (FormatError.is(e)) why = e.message;
  }
  return new FormatError(`field "${name}" is not a ciphertext: ${why}`, { field: name });
}

/** A field's failure, named after the field; errors of the key service pass through as they are. */
function fieldFailure(error: Error, name: string): Error {
  if (DecryptionError.is(error)) return new DecryptionError({ cause: error, field: name });
  if (FormatError.is(error)) {
    return new FormatError(`field "${name}": ${error.message}`, { field: name, cause: error });
  }
  return error;
}

/**
 * {@link Envelope.decryptFields}.
 * @internal
 */
export async function decryptFields(
  runtime: FieldRuntime,
  record: unknown,
  options: unknown,
): Promise<Record<PropertyKey, unknown>> {
  const plan = checkOptions(runtime, options, DECRYPT_OPTIONS);
  const o = options as DecryptFieldsOptions;
  const legacy = o.legacyAad === undefined ? false : aboolean(o.legacyAad, 'legacyAad');
  const allowPlaintext =
    o.allowPlaintext === undefined ? false : aboolean(o.allowPlaintext, 'allowPlaintext');
  const onPlaintext =
    o.onPlaintext === undefined
      ? undefined
      : afunction<(field: string) => void>(o.onPlaintext, 'onPlaintext');
  const { values, base } = snapshot(record, plan);
  const at: number[] = [];
  const served: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const name = plan.names[i]!;
    if (v === ABSENT) continue;
    if (v === null || v === undefined) {
      put(base, name, v);
      continue;
    }
    if (typeof v !== 'string' && !isBytes(v)) {
      throw new TypeError(
        `field "${name}" must be a ciphertext (base64 text or a Uint8Array), got ${kindOf(v)}`,
      );
    }
    if (recognise(v, runtime.headers)) {
      at.push(i);
      continue;
    }
    if (!allowPlaintext) throw notCiphertext(v, name, runtime.headers);
    const kind = plan.kinds[i];
    if (kind === 'text' ? typeof v !== 'string' : !isBytes(v)) {
      throw new FormatError(
        `field "${name}" is neither a ciphertext nor a plaintext ${kind === 'text' ? 'string' : 'Uint8Array'} (a ${kind} field), got ${kindOf(v)}`,
        { field: name },
      );
    }
    served.push(i);
  }
  const opened = at.length === 0 ? [] : await openAll(runtime, plan, values, at, legacy);
  // Every value is either decrypted or an error by now: on any error, zero what was decrypted.
  const failed = opened.findIndex((r) => !r.ok);
  if (failed !== -1) {
    for (const r of opened) if (r.ok) r.value.fill(0);
    throw fieldFailure((opened[failed] as { error: Error }).error, plan.names[at[failed]!]!);
  }
  for (let j = 0; j < at.length; j++) {
    const i = at[j]!;
    const name = plan.names[i]!;
    const bytes = (opened[j] as { value: Uint8Array }).value;
    if (plan.kinds[i] === 'bytes') {
      put(base, name, bytes);
      continue;
    }
    try {
      put(base, name, textOf(bytes));
    } catch (e) {
      for (let k = j + 1; k < at.length; k++) (opened[k] as { value: Uint8Array }).value.fill(0);
      throw fieldFailure(e as Error, name);
    }
  }
  for (const i of served) {
    const name = plan.names[i]!;
    put(base, name, values[i]);
    runtime.plaintextServed();
    onPlaintext?.(name);
  }
  return base;
}

/** Opens the values at `at` under the v1 AAD, and those that fail, with `legacy`, under v0. */
async function openAll(
  runtime: FieldRuntime,
  plan: Plan,
  values: readonly unknown[],
  at: readonly number[],
  legacy: boolean,
): Promise<BatchResult<Uint8Array>[]> {
  const run = (idx: readonly number[], version: 0 | 1) =>
    openBatch(
      runtime.sealer,
      runtime.keys,
      idx.map((i) => ({
        ciphertext: values[i] as string | Uint8Array,
        aad: aadOf(plan, plan.names[i]!, version),
      })),
      signalOptions(plan.signal),
      policyFor(runtime, (j) => plan.names[idx[j]!]!),
    );
  const results = await run(at, 1);
  if (!legacy) return results;
  const retry: number[] = [];
  results.forEach((r, j) => {
    if (!r.ok && DecryptionError.is(r.error)) retry.push(j);
  });
  if (retry.length === 0) return results;
  const again = await run(
    retry.map((j) => at[j]!),
    0,
  );
  retry.forEach((j, k) => {
    results[j] = again[k]!;
  });
  return results;
}
