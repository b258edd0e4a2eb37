/**
 * The associated-data schemes the Envelope computes for its callers, with their exact bytes (the
 * ciphertext-format guide pins the same rules, so other code can compute them):
 *
 * ```
 * field, v1:   "vault-envelope/field/v1" [ "|t=" esc(tenant) ] [ "|n=" esc(namespace) ] "|i=" esc(id) "|f=" esc(field)
 * field, v0:   JSON.stringify([namespace?, String(id), field])        (read only, on request)
 * message:     "vault-envelope/message/v1|t=" esc(tenant) "|a=" ‖ the caller's AAD bytes   (with a tenant)
 * ```
 *
 * `esc` replaces `%` with `%25`, then `|` with `%7C`, and nothing else: `|` then only ever
 * separates parts, and decoding is unique, so two different tuples never share an AAD. Every
 * part is text by the shared rules (well-formed Unicode, no control character), checked before
 * it gets here. The version tag comes first so that a later scheme can never collide with this
 * one. Without a tenant, a single-message AAD is exactly the caller's: that keeps the bytes the
 * official SDKs compute from an AAD string.
 * @module
 */
import { utf8, utf8Into, utf8Length } from './_bytes.js';
import { atext, kindOf } from './assert.js';

/** The version tag every v1 field AAD starts with. */
export const FIELD_AAD_V1 = 'vault-envelope/field/v1';
/** The version tag of a single-message AAD bound to a tenant. */
export const MESSAGE_AAD_V1 = 'vault-envelope/message/v1';
/** The longest tenant, namespace or field name, in UTF-16 code units (a key-context value's limit). */
export const MAX_NAME_LENGTH = 500;

/**
 * Escapes the separator: `%` becomes `%25`, then `|` becomes `%7C`. Nothing else changes.
 * @internal
 */
export function esc(s: string): string {
  // Most names hold neither character: skip both scans' allocations then.
  if (s.indexOf('%') === -1 && s.indexOf('|') === -1) return s;
  return s.replaceAll('%', '%25').replaceAll('|', '%7C');
}

/**
 * Checks a tenant, namespace or field name: text, 1 to 500 code units.
 * @throws TypeError when it is not a string or not text; RangeError when empty or too long.
 * @internal
 */
export function aname(value: unknown, title: string): string {
  return atext(value, title, 1, MAX_NAME_LENGTH);
}

/**
 * The canonical text of a record id: a string as it is (text, non-empty); a safe integer or a
 * bigint in decimal (`-` for negatives, no `+`, no leading zeros), so that `42`, `42n` and `'42'`
 * give the same AAD, as database drivers return BIGINT columns as any of them.
 * @throws TypeError for NaN, an infinity, a fraction, a non-text string or another type;
 *   RangeError for an empty string or an integer beyond ±(2^53-1).
 * @internal
 */
export function idText(id: unknown, title = 'id'): string {
  if (typeof id === 'string') return atext(id, title, 1);
  if (typeof id === 'bigint') return id.toString(10);
  if (typeof id === 'number') {
    if (!Number.isInteger(id)) {
      const kind = kindOf(id);
      throw new TypeError(
        `${title} must be a safe integer, a bigint or a non-empty string, got ${kind === 'number' ? 'a fraction' : kind}`,
      );
    }
    if (!Number.isSafeInteger(id)) {
      throw new RangeError(
        `${title} must be a safe integer (at most 2^53-1 in magnitude; pass larger ids as a bigint or a string), got an unsafe integer`,
      );
    }
    // String(-0) is '0': one id, one AAD.
    return String(id);
  }
  throw new TypeError(`${title} must be a safe integer, a bigint or a non-empty string, got ${kindOf(id)}`);
}

/** The parts of a field AAD, checked: every string is text, the id canonical. */
export interface FieldAadParts {
  tenant: string | undefined;
  namespace: string | undefined;
  id: string;
  field: string;
}

/**
 * The v1 field AAD as a string (the AAD is its UTF-8 encoding).
 * @internal
 */
export function fieldAadV1(p: FieldAadParts): string {
  let s = FIELD_AAD_V1;
  if (p.tenant !== undefined) s += `|t=${esc(p.tenant)}`;
  if (p.namespace !== undefined) s += `|n=${esc(p.namespace)}`;
  return `${s}|i=${esc(p.id)}|f=${esc(p.field)}`;
}

/**
 * The version-0 field AAD (what 0.1 wrote): JSON of `[namespace?, id, field]`, no tenant. Read
 * only, behind an explicit option.
 * @internal
 */
export function fieldAadV0(p: FieldAadParts): string {
  return JSON.stringify(p.namespace === undefined ? [p.id, p.field] : [p.namespace, p.id, p.field]);
}

/**
 * The AAD of a single message bound to a tenant: `utf8("vault-envelope/message/v1|t=" +
 * esc(tenant) + "|a=")` followed by the caller's AAD bytes (possibly none). A fresh buffer, so
 * a caller's later change to its own AAD bytes can not reach it.
 * @param tenant - Checked text.
 * @param aad - The caller's AAD as bytes, or `undefined` for none.
 * @internal
 */
export function messageAad(tenant: string, aad: Uint8Array | undefined): Uint8Array {
  const prefix = `${MESSAGE_AAD_V1}|t=${esc(tenant)}|a=`;
  if (aad === undefined || aad.length === 0) return utf8(prefix);
  // One buffer: the prefix encoded in place, then the caller's bytes.
  const n = utf8Length(prefix);
  const out = new Uint8Array(n + aad.length);
  utf8Into(prefix, out);
  out.set(aad, n);
  return out;
}
