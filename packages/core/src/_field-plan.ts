/**
 * The field helpers' argument checks, made once per call before any record is read: the field
 * list and kinds, `optional`, where each record's id comes from (the one `id` of a
 * single-record call, or an id property's name or a function for many records), the tenant
 * (one per call, required with `requireTenant`), the namespace, the signal, the key context of
 * an encryption, and the read mode of a decryption. Every failure here is the caller's mistake
 * about the whole call, so it is thrown; what goes wrong with one record fails that record
 * alone, in the fields module.
 * @module
 */
import { aname, idText } from './_aad.js';
import type { KeyBlobHeaders } from './_key-blob.js';
import { missingTenant } from './_request.js';
import type { Sealer } from './_sealer.js';
import { aboolean, afunction, aoptions, asignal, isBytes, kindOf } from './assert.js';
import type { FieldKind } from './fields.js';
import { type KeyContext, type KeyProvider, validateKeyContext } from './keys.js';

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
 * A record, or the plain object a helper builds.
 * @internal
 */
export type Out = Record<PropertyKey, unknown>;

const COMMON_OPTIONS = ['fields', 'id', 'tenant', 'namespace', 'optional', 'signal'];
const ENCRYPT_OPTIONS: ReadonlySet<string> = new Set([...COMMON_OPTIONS, 'context']);
const DECRYPT_OPTIONS: ReadonlySet<string> = new Set([
  ...COMMON_OPTIONS,
  'legacyAad',
  'allowPlaintext',
  'onPlaintext',
]);

/**
 * The id of a record, from the record, its snapshot copy and its position. Throws to fail it.
 * @internal
 */
export type IdOf = (record: Out, base: Out, index: number) => string;

/**
 * A checked call: the fields, their kinds, and what every record shares.
 * @internal
 */
export interface Plan {
  names: string[];
  /** The names, as a set. */
  listed: ReadonlySet<string>;
  kinds: FieldKind[];
  optional: ReadonlySet<string>;
  tenant: string | undefined;
  namespace: string | undefined;
  signal: AbortSignal | undefined;
  idOf: IdOf;
  /** How a record is named in a message: `record` or `records[i]`. */
  title: (index: number) => string;
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

/** The one id of a single-record call, checked before the record is. */
function fixedId(id: unknown): IdOf {
  const text = idText(id);
  return () => text;
}

/**
 * Where a many-record call finds each id: a property (read with the snapshot: from the copy when
 * it is an own enumerable property, else once from the record) or a function.
 */
function idSource(id: unknown, names: readonly string[]): IdOf {
  if (typeof id === 'function') return (record, _base, index) => idText(id(record, index));
  if (typeof id !== 'string' || id === '') {
    throw new TypeError(
      `id must be a property name or a function (record, index) => id, got ${id === '' ? 'an empty string' : kindOf(id)}`,
    );
  }
  if (names.includes(id)) {
    throw new TypeError('id must not be a listed field, got a listed field');
  }
  return (record, base, index) => {
    if (!(id in record)) {
      throw new TypeError(`records[${index}] must have the id property "${id}", got no such property`);
    }
    return idText(Object.hasOwn(base, id) ? base[id] : record[id]);
  };
}

function checkOptions(
  runtime: FieldRuntime,
  options: unknown,
  known: ReadonlySet<string>,
  many: boolean,
): Plan {
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
  const idOf = many ? idSource(o.id, names) : fixedId(o.id);
  let tenant: string | undefined;
  if (o.tenant !== undefined) tenant = aname(o.tenant, 'tenant');
  else if (runtime.requireTenant) throw missingTenant();
  const namespace = o.namespace === undefined ? undefined : aname(o.namespace, 'namespace');
  const signal = asignal(o.signal, 'signal');
  const title = many ? (i: number) => `records[${i}]` : () => 'record';
  return { names, listed: new Set(names), kinds, optional, tenant, namespace, signal, idOf, title };
}

/**
 * Checks the arguments of an encryption: the plan, and where each record's key context comes from.
 * @internal
 */
export function planEncrypt(
  runtime: FieldRuntime,
  options: unknown,
  many: boolean,
): { plan: Plan; contextOf: (record: Out, index: number) => KeyContext } {
  const plan = checkOptions(runtime, options, ENCRYPT_OPTIONS, many);
  const c = (options as { context?: unknown }).context;
  if (many && typeof c === 'function') {
    return {
      plan,
      contextOf: (record, index) => validateKeyContext(c(record, index), `records[${index}] context`),
    };
  }
  const context = validateKeyContext(c, 'context');
  return { plan, contextOf: () => context };
}

/**
 * How a decryption call reads values that are not in today's form.
 * @internal
 */
export interface ReadMode {
  legacy: boolean;
  allowPlaintext: boolean;
  /** Called for each value served as plaintext, with the field's name and the record's index. */
  onPlaintext: ((field: string, index: number) => void) | undefined;
}

/**
 * Checks the arguments of a decryption: the plan, and how values of old data are read.
 * @internal
 */
export function planDecrypt(
  runtime: FieldRuntime,
  options: unknown,
  many: boolean,
): { plan: Plan; mode: ReadMode } {
  const plan = checkOptions(runtime, options, DECRYPT_OPTIONS, many);
  const o = options as Record<string, unknown>;
  const legacy = o.legacyAad === undefined ? false : aboolean(o.legacyAad, 'legacyAad');
  const allowPlaintext =
    o.allowPlaintext === undefined ? false : aboolean(o.allowPlaintext, 'allowPlaintext');
  const fn =
    o.onPlaintext === undefined
      ? undefined
      : afunction<(field: string, index: number) => void>(o.onPlaintext, 'onPlaintext');
  // The single-record callback is called with the field's name only, as it always was.
  const onPlaintext = fn === undefined || many ? fn : (field: string) => fn(field, 0);
  return { plan, mode: { legacy, allowPlaintext, onPlaintext } };
}

/**
 * The list of a many-record call.
 * @throws TypeError when it is not an array.
 * @internal
 */
export function arecords(records: unknown): readonly unknown[] {
  if (!Array.isArray(records)) throw new TypeError(`records must be an array, got ${kindOf(records)}`);
  return records;
}
