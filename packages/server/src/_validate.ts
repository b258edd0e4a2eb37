/**
 * Checks of request fields, mapped to the statuses of the Vault error table: a missing required
 * field is 400, a field of the wrong type or out of range is 422. Messages name the field, never
 * its value (it may be a secret).
 * @module
 */
import { decodeBase64, type KeyContext, validateKeyContext } from '@vault-envelope/core';
import { HttpError } from './_http-error.js';

/** Longest object name. */
export const MAX_NAME_LENGTH = 200;

/** A required string field. @throws HttpError 400 when absent, 422 when not a string. */
export function requireString(body: Record<string, unknown>, field: string): string {
  const v = body[field];
  if (v === undefined || v === null) throw new HttpError(400, `Missing required field: ${field}`);
  if (typeof v !== 'string') throw new HttpError(422, `Field ${field} must be a string`);
  return v;
}

/** An optional string field. @throws HttpError 422 when present and not a string. */
export function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new HttpError(422, `Field ${field} must be a string`);
  return v;
}

/**
 * A key context field, checked against Vault's rules (≤ 10 entries, non-empty names ≤ 120
 * characters, string values ≤ 500 characters).
 * @param required - When false, an absent field is `{}`.
 * @throws HttpError 400 when required and absent; 422 when it breaks a rule.
 */
export function keyContext(body: Record<string, unknown>, field: string, required: boolean): KeyContext {
  const v = body[field];
  if (v === undefined || v === null) {
    if (required) throw new HttpError(400, `Missing required field: ${field}`);
    return {};
  }
  try {
    return { ...validateKeyContext(v, field) };
  } catch (e) {
    throw new HttpError(422, (e as Error).message);
  }
}

/** An object name: a non-empty string of at most 200 characters. @throws HttpError 400/422. */
export function objectName(body: Record<string, unknown>, field = 'name'): string {
  const name = requireString(body, field);
  if (name.length === 0) throw new HttpError(422, `Field ${field} must not be empty`);
  if (name.length > MAX_NAME_LENGTH) {
    throw new HttpError(422, `Field ${field} must be at most ${MAX_NAME_LENGTH} characters`);
  }
  return name;
}

/** A base64 field decoded to bytes. @throws HttpError 400 when absent or not strict base64, 422 when not a string. */
export function base64Field(body: Record<string, unknown>, field: string): Uint8Array {
  const text = requireString(body, field);
  try {
    return decodeBase64(text, field);
  } catch {
    throw new HttpError(400, `Field ${field} is not valid base64`);
  }
}
