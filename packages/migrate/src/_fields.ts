/**
 * The one place where the engine meets the field helpers' conventions: the AAD a record field is
 * bound to, which older AAD schemes a value may still be under, how a stored value is recognised
 * as ciphertext, and how a blind-index value carries its version. Everything else in the engine
 * goes through these functions, so a change of scheme is a change here.
 *
 * Today's scheme is the field helpers' `fieldAad(id, field, namespace)`: no tenant binding.
 * A blind-index value's version lives in the value (`v2:` followed by the hex; plain hex is
 * version 0), so both the old and the new index can be queried during a reindex
 * (`WHERE email_idx IN (?, ?)`) without a schema change.
 * @module
 */
import { type BlindIndex, fieldAad, inspect, isBytes } from '@vault-envelope/core';

/** How a table's fields are bound: the namespace and, per row, the tenant. */
export interface FieldBinding {
  readonly namespace: string | undefined;
  /** Whether a tenant is bound (the template is rendered per row by the engine). */
  readonly tenant: boolean;
}

/**
 * Checks that this version of the field helpers can bind what the job asks for.
 * @throws TypeError when a tenant is asked for and the field AAD has no tenant binding.
 */
export function checkBinding(binding: FieldBinding): void {
  if (binding.tenant) {
    throw new TypeError(
      'tenant binding needs the version 1 field AAD, which this @vault-envelope/core does not have',
    );
  }
}

/**
 * The AAD a value of `field` in the row `id` is written under.
 * @param id - The row's id (a string, number or bigint, as the driver returned it).
 */
export function writeAad(
  binding: FieldBinding,
  id: unknown,
  field: string,
  _tenant: string | undefined,
): string {
  return fieldAad(id as string | number | bigint, field, binding.namespace);
}

/**
 * The AADs a stored value may be under, the current scheme first; the index of the one that
 * decrypts tells whether the value needs an upgrade (index > 0).
 */
export function readAads(
  binding: FieldBinding,
  id: unknown,
  field: string,
  tenant: string | undefined,
): string[] {
  return [writeAad(binding, id, field, tenant)];
}

/** The shortest message: IV, tag, a one-byte length and a six-byte key-blob header. */
const MIN_BYTES = 12 + 16 + 1 + 6;
const MIN_BASE64 = Math.ceil(MIN_BYTES / 3) * 4;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Key-blob headers of the key services this library knows. */
const HEADERS: readonly Uint8Array[] = ['WOS.EKM.', 'VES.EKM.v1\0', 'VE.MEM.v1\0'].map((h) =>
  new TextEncoder().encode(h),
);

function startsWith(bytes: Uint8Array, head: Uint8Array): boolean {
  if (bytes.length < head.length) return false;
  for (let i = 0; i < head.length; i++) if (bytes[i] !== head[i]) return false;
  return true;
}

/**
 * Whether a stored value is a ciphertext: it parses strictly as a message and its key blob
 * starts with a known key-service header. Plaintext that merely looks like base64 is not.
 */
export function isCiphertext(value: unknown): boolean {
  if (typeof value === 'string') {
    // Most plaintext fails here, before a decoder is tried: parsing would throw, and an error's
    // stack trace costs more than the rest of a row's work.
    if (value.length < MIN_BASE64 || value.length % 4 !== 0 || !BASE64.test(value)) return false;
  } else if (!isBytes(value) || value.length < MIN_BYTES) return false;
  let blob: Uint8Array;
  try {
    blob = inspect(value).encryptedKeys;
  } catch {
    return false;
  }
  return HEADERS.some((h) => startsWith(blob, h));
}

/** The stored index value of `plaintext` for an index written at `version` (undefined: plain hex). */
export function indexValue(
  index: BlindIndex,
  version: number | undefined,
  plaintext: string | Uint8Array,
): string {
  const hex = index.compute(plaintext);
  return version === undefined || version === 0 ? hex : `v${version}:${hex}`;
}

/** The version of a stored index value: the `vN:` prefix, or 0 for plain hex. */
export function indexVersion(stored: string): number {
  const m = /^v(\d+):/.exec(stored);
  return m === null ? 0 : Number(m[1]);
}
