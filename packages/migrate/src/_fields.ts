/**
 * The one place where the engine meets the field helpers' conventions: the AAD a record field is
 * bound to, which older AAD scheme a value may still be under, how a stored value is recognised
 * as ciphertext, and how a blind index is keyed per tenant. Everything else in the engine goes
 * through these functions, so a change of scheme is a change here.
 *
 * - Writes use the field AAD version 1 (`fieldAad({ tenant, namespace, id, field })`), exactly
 *   what `encryptFields` binds, so a row the engine wrote decrypts with the field helpers.
 * - Reads try version 1 first, then version 0 (the 0.1 scheme, `JSON.stringify([namespace?, id,
 *   field])`, no tenant): `verify` counts version-0 values as `legacy`, `reencrypt` upgrades them.
 * - A value is ciphertext by the Envelope's strict `isCiphertext` (known key-blob headers, the
 *   .NET variant included), after a cheap test that turns most plaintext away without parsing.
 * - Blind-index values carry their version (`v2:` + hex; plain hex is version 0, see
 *   `BlindIndex`'s `version`); with a tenant, each row's index is `index.forTenant(tenant)`.
 * @module
 */
import { type BlindIndex, type Envelope, fieldAad, isBytes } from '@vault-envelope/core';

/** How a table's fields are bound: the namespace and whether a tenant is (rendered per row). */
export interface FieldBinding {
  readonly namespace: string | undefined;
  readonly tenant: boolean;
}

/**
 * The AAD a value of `field` in the row `id` is written under (version 1).
 * @param id - The row's id as the driver returned it (a string, number or bigint).
 * @throws TypeError / RangeError on an id or tenant the field helpers refuse.
 */
export function writeAad(
  binding: FieldBinding,
  id: unknown,
  field: string,
  tenant: string | undefined,
): string {
  return fieldAad({
    id: id as string | number | bigint,
    field,
    ...(binding.namespace === undefined ? {} : { namespace: binding.namespace }),
    ...(tenant === undefined ? {} : { tenant }),
  });
}

/** The version-0 field AAD: `JSON.stringify([namespace?, id, field])`, no tenant. */
function legacyAad(binding: FieldBinding, id: unknown, field: string): string {
  const idText = String(id);
  return JSON.stringify(
    binding.namespace === undefined ? [idText, field] : [binding.namespace, idText, field],
  );
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
  return [writeAad(binding, id, field, tenant), legacyAad(binding, id, field)];
}

/** The shortest message: IV, tag, a one-byte length and a six-byte key-blob header. */
const MIN_BYTES = 12 + 16 + 1 + 6;
const MIN_BASE64 = Math.ceil(MIN_BYTES / 3) * 4;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Whether a stored value is a ciphertext: the Envelope's strict test (it parses, and its key blob
 * starts with a header the Envelope knows). Plaintext that cannot be base64 of a message is
 * turned away first without a parse, which would build an error per value.
 */
export function isCiphertext(envelope: Envelope, value: unknown): boolean {
  if (typeof value === 'string') {
    if (value.length < MIN_BASE64 || value.length % 4 !== 0 || !BASE64.test(value)) return false;
  } else if (!isBytes(value) || value.length < MIN_BYTES) return false;
  return envelope.isCiphertext(value);
}

/** Per-tenant indexes, derived once per tenant and job. */
export class TenantIndexes {
  readonly #byTenant = new Map<BlindIndex, Map<string, BlindIndex>>();

  /** `index` keyed for `tenant` (or `index` itself without a tenant). */
  of(index: BlindIndex, tenant: string | undefined): BlindIndex {
    if (tenant === undefined) return index;
    let m = this.#byTenant.get(index);
    if (m === undefined) {
      m = new Map();
      this.#byTenant.set(index, m);
    }
    let t = m.get(tenant);
    if (t === undefined) {
      t = index.forTenant(tenant);
      m.set(tenant, t);
    }
    return t;
  }

  /** Zeroes every derived key. */
  destroy(): void {
    for (const m of this.#byTenant.values()) for (const t of m.values()) t.destroy();
    this.#byTenant.clear();
  }
}

/** The stored index value of `plaintext` (the index's version is in the value it computes). */
export function indexValue(index: BlindIndex, plaintext: string | Uint8Array): string {
  return index.compute(plaintext);
}
