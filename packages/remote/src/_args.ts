/**
 * The checks of what a call puts on the wire, run before anything is sent (core's assert
 * vocabulary, one message shape: `<title> must be <what>, got <kind>`, never the value).
 *
 * Two rules come on top of types and lengths:
 * - Every string must be well-formed Unicode. A lone surrogate has no UTF-8 encoding: the
 *   server would store U+FFFD in its place, so two different names would become one and a
 *   value would read back changed. Identifiers (object names and ids, versions, cursors,
 *   key-context names and values) must also be text by core's `atext` rules (no C0 control
 *   character, no DEL); an object's value may hold any well-formed text, newlines included.
 * - An id or a name goes into a URL path, percent-encoded. `encodeURIComponent` leaves `.`
 *   alone, and every URL parser (WHATWG, so fetch, ky and `Request`) resolves the segments
 *   `.` and `..` (encoded as `%2E` too): `GET /vault/v1/kv/..` is sent as `GET /vault/v1/`.
 *   So `.` and `..` are refused, and ids (UUIDs at Vault) may not hold `/` or `\` either,
 *   which some proxies decode before they route. Names may hold `/` (`blind-index/users.email`):
 *   it is sent as `%2F`, which no URL parser turns back into a separator.
 * @module
 */
import {
  abytes,
  aoptions,
  asignal,
  astring,
  atext,
  type KeyContext,
  validateKeyContext,
} from '@vault-envelope/core';
import { MAX_OBJECT_NAME_LENGTH } from './types.js';

// A surrogate that is not part of a pair (the same test as core's isText, without the
// control characters).
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Checks that `value` is a well-formed Unicode string (no lone surrogate); any other character,
 * control characters included, is allowed.
 * @param value - The value.
 * @param title - Its name, for messages.
 * @returns The value.
 * @throws TypeError when it is not a string or holds a lone surrogate (the message gives the
 *   position, never the text).
 */
export function awellFormed(value: unknown, title: string): string {
  const s = astring(value, title);
  // String.prototype.isWellFormed (ES2024) is a fast native scan where the runtime has it.
  const native = (s as { isWellFormed?: () => boolean }).isWellFormed;
  if (typeof native === 'function' && native.call(s)) return s;
  const bad = LONE_SURROGATE.exec(s);
  if (bad !== null) {
    throw new TypeError(`${title} must be well-formed Unicode, got a lone surrogate at index ${bad.index}`);
  }
  return s;
}

/** Checks an object id: text, and one URL path segment. */
export function objectId(value: unknown, title = 'id'): string {
  const id = atext(value, title, 1);
  const rule = `${title} must be one URL path segment (not "." or "..", no "/" or "\\")`;
  if (id === '.' || id === '..') throw new TypeError(`${rule}, got a dot segment`);
  if (id.includes('/')) throw new TypeError(`${rule}, got a string with a slash`);
  if (id.includes('\\')) throw new TypeError(`${rule}, got a string with a backslash`);
  return id;
}

/** Checks an object name: text of 1..200 characters that a URL path keeps as it is. */
export function objectName(value: unknown): string {
  const name = atext(value, 'name', 1, MAX_OBJECT_NAME_LENGTH);
  if (name === '.' || name === '..') {
    throw new TypeError('name must be one URL path segment (not "." or ".."), got a dot segment');
  }
  return name;
}

/** Checks a version id given as `versionCheck`: `undefined` and `null` mean "no check". */
export function versionCheck(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : atext(value, 'versionCheck', 1);
}

/**
 * Checks a key context: core's rules (at most 10 entries of string values, the lengths), and
 * text rules for every name and value.
 * @param value - The context.
 * @param title - Its name, for messages (`'key context'`, `'new key context'`, `'context'`).
 * @returns The context.
 * @throws TypeError/RangeError as core's `validateKeyContext`; TypeError for a name or a value
 *   with a control character or a lone surrogate.
 */
export function keyContext(value: unknown, title = 'key context'): KeyContext {
  const context = validateKeyContext(value, title);
  for (const name of Object.keys(context)) {
    atext(name, `${title} name`);
    atext(context[name], `${title} value`);
  }
  return context;
}

/** Checks the options object every call takes and returns its `signal`, if any. */
export function callSignal(options: unknown): AbortSignal | undefined {
  return options === undefined
    ? undefined
    : asignal(aoptions(options, 'options')['signal'], 'options.signal');
}

/** Checks a wrapped-key blob: non-empty bytes, as Vault issued them. */
export function blobOf(encryptedKeys: unknown): Uint8Array {
  const blob = abytes(encryptedKeys, undefined, 'encryptedKeys');
  if (blob.length === 0) throw new RangeError('encryptedKeys must not be empty, got 0 bytes');
  return blob;
}
