/**
 * Record fields: encrypt or decrypt the named fields of an object, each bound by its AAD to the
 * record's identity and the field's name ({@link fieldAad}), so that a ciphertext copied to
 * another row, column or table fails to decrypt.
 *
 * Built on the public batch API of {@link Envelope} (`encryptMany`, `decryptManyToString`) and
 * nothing else: one record is one batch, so its fields share one data key (one `createDataKey`
 * call), and the AAD scheme is the only thing this module adds.
 * @module
 */
import { signalOptions } from './_request.js';
import { afunction, aobject, astring, astringOrBytes, kindOf } from './assert.js';
import type { Envelope } from './envelope.js';
import type { KeyContext } from './keys.js';
import type { Aad, BatchResult, DecryptItem, EncryptItem } from './types.js';

/** Options of the field helpers. */
export interface FieldOptions<K extends string> {
  /** Names of the fields to encrypt or decrypt. `null` and `undefined` values are left as they are. */
  fields: readonly K[];
  /** The record's identity (a primary key): bound into each field's AAD. */
  id: string | number | bigint;
  /**
   * A name for the record's kind (a table, a collection), also bound into the AAD so that a value
   * can not move between tables that share ids.
   */
  namespace?: string;
  /** Overrides the AAD of a field. @default {@link fieldAad}(id, field, namespace) */
  aad?: (field: K, id: string) => Aad;
  /** Aborts the key request. */
  signal?: AbortSignal;
}

/** The values of the named fields become strings (ciphertext or plaintext). */
export type WithStringFields<T, K extends keyof T> = Omit<T, K> & {
  [P in K]: string | Extract<T[P], null | undefined>;
};

/**
 * The default AAD of a record field: JSON of `[namespace?, id, field]`, e.g. `["users","42","ssn"]`.
 * Unambiguous for any id and field (JSON escapes every separator), and stable, so other code can
 * compute it.
 * @param id - The record id.
 * @param field - The field name.
 * @param namespace - The record kind, if any.
 * @returns The AAD string.
 * @example
 * ```ts
 * fieldAad(42, 'ssn', 'users'); // '["users","42","ssn"]'
 * ```
 */
export function fieldAad(id: string | number | bigint, field: string, namespace?: string): string {
  const idStr = String(id);
  return JSON.stringify(namespace === undefined ? [idStr, field] : [namespace, idStr, field]);
}

/** Checked field options: the field names and the id as a string. */
interface CheckedFields<K extends string> {
  names: readonly K[];
  id: string;
}

function checkFieldOptions<K extends string>(options: FieldOptions<K>): CheckedFields<K> {
  aobject(options, 'field options');
  const fields: unknown = options.fields;
  if (!Array.isArray(fields)) {
    throw new TypeError(`fields must be an array of field names, got ${kindOf(fields)}`);
  }
  for (let i = 0; i < fields.length; i++) astring(fields[i], `fields[${i}]`);
  const t = typeof options.id;
  if (t !== 'string' && t !== 'number' && t !== 'bigint') {
    throw new TypeError(
      `id must be a string, number or bigint (the AAD binds each field to it), got ${kindOf(options.id)}`,
    );
  }
  if (options.namespace !== undefined) astring(options.namespace, 'namespace');
  if (options.aad !== undefined) afunction(options.aad, 'aad');
  return { names: options.fields, id: String(options.id) };
}

function aadOf<K extends string>(options: FieldOptions<K>, field: K, id: string): Aad {
  return options.aad !== undefined ? options.aad(field, id) : fieldAad(id, field, options.namespace);
}

/** The named fields whose values are neither `null` nor `undefined`. */
function presentFields<K extends string>(src: Record<string, unknown>, names: readonly K[]): K[] {
  return names.filter((f) => src[f] !== null && src[f] !== undefined);
}

/**
 * {@link Envelope.encryptFields}: the named fields of `record` as one batch under one context.
 * @throws TypeError on bad options or a field that is neither a string nor bytes; the first
 *   item's error otherwise.
 * @internal
 */
export async function encryptFields<T extends object, K extends keyof T & string>(
  envelope: Pick<Envelope, 'encryptMany'>,
  record: T,
  options: FieldOptions<K> & { context: KeyContext },
): Promise<WithStringFields<T, K>> {
  const src = aobject(record, 'record');
  const { names, id } = checkFieldOptions(options);
  const present = presentFields(src, names);
  const items: EncryptItem[] = present.map((field) => ({
    plaintext: astringOrBytes(src[field], `field "${field}"`),
    context: options.context,
    aad: aadOf(options, field, id),
  }));
  const results = await envelope.encryptMany(items, signalOptions(options.signal));
  return withValues<T, K>(src, present, results);
}

/**
 * {@link Envelope.decryptFields}: the named fields of `record` as one batch, to strings.
 * @throws TypeError on bad options or a field that is neither a string nor bytes;
 *   DecryptionError when a field was moved or tampered with; the first item's error otherwise.
 * @internal
 */
export async function decryptFields<T extends object, K extends keyof T & string>(
  envelope: Pick<Envelope, 'decryptManyToString'>,
  record: T,
  options: FieldOptions<K>,
): Promise<WithStringFields<T, K>> {
  const src = aobject(record, 'record');
  const { names, id } = checkFieldOptions(options);
  const present = presentFields(src, names);
  const items: DecryptItem[] = present.map((field) => ({
    ciphertext: astringOrBytes(src[field], `field "${field}"`),
    aad: aadOf(options, field, id),
  }));
  const results = await envelope.decryptManyToString(items, signalOptions(options.signal));
  return withValues<T, K>(src, present, results);
}

/** A copy of `src` with each present field replaced by its result; the first failure is thrown. */
function withValues<T, K extends keyof T & string>(
  src: Record<string, unknown>,
  present: readonly K[],
  results: readonly BatchResult<string>[],
): WithStringFields<T, K> {
  const out: Record<string, unknown> = { ...src };
  results.forEach((r, j) => {
    if (!r.ok) throw r.error;
    out[present[j]!] = r.value;
  });
  return out as WithStringFields<T, K>;
}
