/**
 * The field helpers' engine: encrypt or decrypt the listed fields of one record or of many, in
 * one batch per call, under the field AAD (version 1) of each record's tenant, namespace, id
 * and field name.
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
 * One record and many go the same way, {@link encryptRecords} and {@link decryptRecords}: each
 * record is checked and snapshotted on its own (a record that fails a check fails alone), then
 * the fields of every record go into one batch (one `createDataKey` per distinct key context on
 * the way in, one key lookup per distinct wrapped key on the way out), then each record is put
 * together from its own results. A record comes back whole or not at all: one failed field fails
 * its record, and the plaintext bytes already decrypted for a failed record are zeroed. The
 * single-record helpers are the same with one record, throwing its failure. An aborted signal
 * rejects the whole call with its reason, and nothing decrypted is kept.
 *
 * The checks of the call's options are in the field-plan module.
 * @module
 */
import { type FieldAadParts, fieldAadV0, fieldAadV1 } from './_aad.js';
import { type BatchPolicy, openBatch, sealBatch } from './_batch.js';
import { encodeBase64 } from './_bytes.js';
import type { FieldRuntime, Out, Plan, ReadMode } from './_field-plan.js';
import type { KeyBlobHeaders } from './_key-blob.js';
import { signalOptions, textOf } from './_request.js';
import { aobject, isBytes, kindOf } from './assert.js';
import { DecryptionError, FormatError } from './errors.js';
import { ciphertextBytes, parseWith, recognisedBytes } from './format.js';
import type { KeyContext } from './keys.js';
import type { BatchResult } from './types.js';

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A listed field that is absent from the record (and may be). */
const ABSENT: unique symbol = Symbol('absent');

/** A record, read: its listed values (in list order), the copy of the rest, and its id. */
interface Snapshot {
  values: unknown[];
  base: Out;
  id: string;
}

/**
 * Reads each listed field once, in list order, copies the record's other own enumerable
 * properties, and finds its id, all before anything asynchronous happens.
 */
function snapshot(record: unknown, plan: Plan, index: number): Snapshot {
  const src = aobject(record, plan.title(index));
  const values: unknown[] = new Array(plan.names.length);
  for (let i = 0; i < plan.names.length; i++) {
    const name = plan.names[i]!;
    if (!(name in src)) {
      if (!plan.optional.has(name)) {
        throw new TypeError(
          `${plan.title(index)} must have the listed field "${name}" (name it in optional if it may be absent), got no such property`,
        );
      }
      values[i] = ABSENT;
    } else {
      values[i] = src[name];
    }
  }
  const base: Out = {};
  // A listed field gets its place now (its value comes later), so the copy keeps the record's order.
  for (const key of Object.keys(src)) put(base, key, plan.listed.has(key) ? undefined : src[key]);
  for (const sym of Object.getOwnPropertySymbols(src)) {
    if (Object.prototype.propertyIsEnumerable.call(src, sym))
      base[sym] = (src as Record<symbol, unknown>)[sym];
  }
  return { values, base, id: plan.idOf(src, base, index) };
}

/** Sets an own data property, also for the key `__proto__` (which assignment would not). */
function put(out: Out, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  } else out[key] = value;
}

function aadParts(plan: Plan, id: string, field: string): FieldAadParts {
  return { tenant: plan.tenant, namespace: plan.namespace, id, field };
}

/** Batch messages name the field, never the batch's own items. */
function policyFor(runtime: FieldRuntime, fieldOf: readonly string[]): BatchPolicy {
  return {
    requireTenant: false,
    headers: runtime.headers,
    itemTitle: (i, part) => (part === 'context' ? 'context' : `field "${fieldOf[i]}"`),
  };
}

/** A record whose fields went into the batch: where its values are, and where they go. */
interface Pending {
  index: number;
  base: Out;
  /** The listed positions of its values in the batch, from `start` on. */
  at: number[];
  start: number;
}

function aborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason;
}

/**
 * Encrypts the listed fields of `records` in one batch.
 * @returns One result per record, in order.
 * @throws The signal's reason when it is aborted.
 * @internal
 */
export async function encryptRecords(
  runtime: FieldRuntime,
  plan: Plan,
  contextOf: (record: Out, index: number) => KeyContext,
  records: readonly unknown[],
): Promise<BatchResult<Out>[]> {
  aborted(plan.signal);
  const results: BatchResult<Out>[] = new Array(records.length);
  const items: { plaintext: string | Uint8Array; context: KeyContext; aad: string }[] = [];
  const fieldOf: string[] = [];
  const pending: Pending[] = [];
  for (let r = 0; r < records.length; r++) {
    try {
      const { values, base, id } = snapshot(records[r], plan, r);
      const context = contextOf(records[r] as Out, r);
      const at: number[] = [];
      const mine: typeof items = [];
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
        } else if (!isBytes(v)) {
          throw new TypeError(`field "${name}" must be a Uint8Array (a bytes field), got ${kindOf(v)}`);
        }
        at.push(i);
        mine.push({
          plaintext: v as string | Uint8Array,
          context,
          aad: fieldAadV1(aadParts(plan, id, name)),
        });
      }
      // A record's values join the batch only once all of them passed.
      pending.push({ index: r, base, at, start: items.length });
      for (let j = 0; j < mine.length; j++) {
        items.push(mine[j]!);
        fieldOf.push(plan.names[at[j]!]!);
      }
    } catch (error) {
      results[r] = { ok: false, error: error as Error };
    }
  }
  const sealed =
    items.length === 0
      ? []
      : await sealBatch(
          runtime.sealer,
          runtime.createKeys,
          items,
          signalOptions(plan.signal),
          policyFor(runtime, fieldOf),
        );
  aborted(plan.signal);
  for (const p of pending) {
    // Fail closed: a record comes back only when every present field is a ciphertext.
    let failure: Error | undefined;
    for (let j = 0; j < p.at.length && failure === undefined; j++) {
      const s = sealed[p.start + j]!;
      if (!s.ok) failure = s.error;
    }
    if (failure !== undefined) {
      results[p.index] = { ok: false, error: failure };
      continue;
    }
    for (let j = 0; j < p.at.length; j++) {
      const s = sealed[p.start + j] as { value: Uint8Array };
      put(p.base, plan.names[p.at[j]!]!, encodeBase64(s.value));
    }
    results[p.index] = { ok: true, value: p.base };
  }
  return results;
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

/** A record whose ciphertexts went into the batch, and the plaintexts it may serve. */
interface PendingRead extends Pending {
  values: unknown[];
  served: number[];
}

/** The values to open, in batch order: the items, the field of each, and (legacy) its AAD's parts. */
interface OpenItems {
  items: { ciphertext: Uint8Array; aad: string }[];
  fieldOf: string[];
  /** Filled with `legacyAad` only, to retry under the version-0 AAD. */
  parts: FieldAadParts[];
}

/**
 * Decrypts the listed fields of `records` in one batch.
 * @returns One result per record, in order.
 * @throws The signal's reason when it is aborted (every plaintext decrypted is zeroed).
 * @internal
 */
export async function decryptRecords(
  runtime: FieldRuntime,
  plan: Plan,
  mode: ReadMode,
  records: readonly unknown[],
): Promise<BatchResult<Out>[]> {
  aborted(plan.signal);
  const results: BatchResult<Out>[] = new Array(records.length);
  const open: OpenItems = { items: [], fieldOf: [], parts: [] };
  const pending: PendingRead[] = [];
  for (let r = 0; r < records.length; r++) {
    try {
      const { values, base, id } = snapshot(records[r], plan, r);
      const at: number[] = [];
      const ciphertexts: Uint8Array[] = [];
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
        const bytes = recognisedBytes(v, runtime.headers);
        if (bytes !== undefined) {
          at.push(i);
          ciphertexts.push(bytes);
          continue;
        }
        if (!mode.allowPlaintext) throw notCiphertext(v, name, runtime.headers);
        const kind = plan.kinds[i];
        if (kind === 'text' ? typeof v !== 'string' : !isBytes(v)) {
          throw new FormatError(
            `field "${name}" is neither a ciphertext nor a plaintext ${kind === 'text' ? 'string' : 'Uint8Array'} (a ${kind} field), got ${kindOf(v)}`,
            { field: name },
          );
        }
        served.push(i);
      }
      pending.push({ index: r, base, at, start: open.items.length, values, served });
      for (let j = 0; j < at.length; j++) {
        const parts = aadParts(plan, id, plan.names[at[j]!]!);
        open.items.push({ ciphertext: ciphertexts[j]!, aad: fieldAadV1(parts) });
        open.fieldOf.push(parts.field);
        if (mode.legacy) open.parts.push(parts);
      }
    } catch (error) {
      results[r] = { ok: false, error: error as Error };
    }
  }
  const opened = open.items.length === 0 ? [] : await openAll(runtime, open, plan.signal, mode.legacy);
  if (plan.signal?.aborted) {
    for (const o of opened) if (o.ok) o.value.fill(0);
    throw plan.signal.reason;
  }
  for (const p of pending) results[p.index] = finishRead(runtime, plan, mode, p, opened);
  return results;
}

/**
 * Puts one record together from its results: whole, or a failure (the first failed field in
 * list order) with every plaintext byte it decrypted zeroed.
 */
function finishRead(
  runtime: FieldRuntime,
  plan: Plan,
  mode: ReadMode,
  p: PendingRead,
  opened: readonly BatchResult<Uint8Array>[],
): BatchResult<Out> {
  const n = p.at.length;
  for (let j = 0; j < n; j++) {
    const o = opened[p.start + j]!;
    if (!o.ok) {
      zeroAll(opened, p.start, n);
      return { ok: false, error: fieldFailure(o.error, plan.names[p.at[j]!]!) };
    }
  }
  for (let j = 0; j < n; j++) {
    const name = plan.names[p.at[j]!]!;
    const bytes = (opened[p.start + j] as { value: Uint8Array }).value;
    if (plan.kinds[p.at[j]!] === 'bytes') {
      put(p.base, name, bytes);
      continue;
    }
    try {
      // textOf zeroes the bytes, decoded or not.
      put(p.base, name, textOf(bytes));
    } catch (e) {
      // The bytes fields already placed, and every value not reached yet.
      zeroAll(opened, p.start, n);
      return { ok: false, error: fieldFailure(e as Error, name) };
    }
  }
  for (const i of p.served) {
    const name = plan.names[i]!;
    put(p.base, name, p.values[i]);
    runtime.plaintextServed();
    mode.onPlaintext?.(name, p.index);
  }
  return { ok: true, value: p.base };
}

/** Zeroes the `n` plaintexts decrypted from `start` on. */
function zeroAll(opened: readonly BatchResult<Uint8Array>[], start: number, n: number): void {
  for (let j = start; j < start + n; j++) {
    const o = opened[j]!;
    if (o.ok) o.value.fill(0);
  }
}

/** Opens every item under the v1 AAD, and those that fail, with `legacy`, under v0. */
async function openAll(
  runtime: FieldRuntime,
  open: OpenItems,
  signal: AbortSignal | undefined,
  legacy: boolean,
): Promise<BatchResult<Uint8Array>[]> {
  const options = signalOptions(signal);
  const results = await openBatch(
    runtime.sealer,
    runtime.keys,
    open.items,
    options,
    policyFor(runtime, open.fieldOf),
  );
  if (!legacy) return results;
  const retry: number[] = [];
  results.forEach((r, k) => {
    if (!r.ok && DecryptionError.is(r.error)) retry.push(k);
  });
  if (retry.length === 0) return results;
  const again = await openBatch(
    runtime.sealer,
    runtime.keys,
    retry.map((k) => ({ ciphertext: open.items[k]!.ciphertext, aad: fieldAadV0(open.parts[k]!) })),
    options,
    policyFor(
      runtime,
      retry.map((k) => open.fieldOf[k]!),
    ),
  );
  retry.forEach((k, m) => {
    results[k] = again[m]!;
  });
  return results;
}

/**
 * The one record of a single-record call, or its failure thrown.
 * @internal
 */
export function only(results: readonly BatchResult<Out>[]): Out {
  const r = results[0]!;
  if (!r.ok) throw r.error;
  return r.value;
}
