/**
 * Checks of request fields, mapped to the statuses of the Vault error table: a missing required
 * field is 400, a field of the wrong type or out of range is 422. Messages name the field, never
 * its value (it may be a secret).
 *
 * Strings are checked for what SQLite and UTF-8 can keep: a lone surrogate has no UTF-8 form and
 * would be stored as U+FFFD, so `"a\udc00b"` would read back as another string and two names
 * would become one; such a string is refused (422), never altered. Names that select a key or an
 * object (key-context names and values, object names) follow the text rules of every
 * `@vault-envelope` package (core's `isText`: well-formed, no C0 control character, no DEL), so a
 * NUL, a CR or an LF can never act as a separator or split a log line.
 * @module
 */
import { decodeBase64, isText, type KeyContext, validateKeyContext } from '@vault-envelope/core';
import { HttpError } from './_http-error.js';

/** Longest object name. */
export const MAX_NAME_LENGTH = 200;

/** A surrogate that is not half of a pair. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Whether `value` is well-formed Unicode (no lone surrogate), so that its UTF-8 form reads back
 * as the same string.
 * @param value - A string.
 * @returns True when it is well-formed.
 */
export function isWellFormed(value: string): boolean {
  return !LONE_SURROGATE.test(value);
}

/**
 * A required string field that must be well-formed Unicode (an object value, a plaintext).
 * @throws HttpError 400 when absent; 422 when not a string or when it holds a lone surrogate.
 */
export function requireWellFormed(body: Record<string, unknown>, field: string): string {
  const v = requireString(body, field);
  if (!isWellFormed(v)) throw notWellFormed(field);
  return v;
}

function notWellFormed(field: string): HttpError {
  return new HttpError(422, `Field ${field} must be well-formed Unicode, got a lone surrogate`);
}

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
 * An optional string field that must be well-formed Unicode (an AAD).
 * @throws HttpError 422 when present and not a string, or when it holds a lone surrogate.
 */
export function optionalWellFormed(body: Record<string, unknown>, field: string): string | undefined {
  const v = optionalString(body, field);
  if (v !== undefined && !isWellFormed(v)) throw notWellFormed(field);
  return v;
}

/**
 * A key context field, checked against Vault's rules (≤ 10 entries, non-empty names ≤ 120
 * characters, string values ≤ 500 characters) and the text rules (no lone surrogate, no control
 * character: two contexts must never share a key because a NUL or a replaced surrogate made
 * their entries look alike).
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
    // Core's check applies the text rules to every name and value (the same in every package).
    return { ...validateKeyContext(v, field) };
  } catch (e) {
    throw new HttpError(422, (e as Error).message);
  }
}

/**
 * An object name: a non-empty string of at most 200 characters, text by the rules above (so a
 * name never holds a CR or an LF: refused rather than made to work, because a name travels in
 * URL paths, query strings and list output, where a line break is at best unreadable and at worst
 * splits a line some tool logs), and not `.` or `..`: every URL parser (Node's, browsers', the
 * one under `fetch`) resolves those segments before a request is sent, `%2E%2E` included, so no
 * client could read such an object by name.
 * @throws HttpError 400 when absent; 422 when it breaks a rule.
 */
export function objectName(body: Record<string, unknown>, field = 'name'): string {
  const name = requireString(body, field);
  if (name.length === 0) throw new HttpError(422, `Field ${field} must not be empty`);
  if (name.length > MAX_NAME_LENGTH) {
    throw new HttpError(422, `Field ${field} must be at most ${MAX_NAME_LENGTH} characters`);
  }
  if (!isText(name)) {
    throw new HttpError(422, `Field ${field} must be well-formed text without control characters`);
  }
  if (name === '.' || name === '..') {
    throw new HttpError(422, `Field ${field} must not be "." or "..", which no URL can address`);
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
