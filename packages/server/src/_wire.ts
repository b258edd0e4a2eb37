/**
 * The wire shapes both route tables share (the v1 routes and the older route names from the
 * WorkOS Vault reference): the data-key and version bodies, the unwrap answer and its 400, and
 * the list query. Bodies that hold a data key zero the key bytes once they are encoded.
 * @module
 */
import { encodeBase64 } from '@vault-envelope/core';
import { HttpError } from './_http-error.js';
import type { IssuedKey, Keyring } from './_keyring.js';
import type { ListQuery } from './_objects.js';
import type { VersionRecord } from './_records.js';

/** The environment every object of this server belongs to. */
export const ENVIRONMENT_ID = 'environment_local';

/** `ObjectVersion` of the spec. */
export function versionBody(v: VersionRecord): Record<string, unknown> {
  return { id: v.id, created_at: v.createdAt, current_version: v.current, size: v.size, etag: v.etag };
}

/** The key fields of a data-key answer; zeroes the key bytes once encoded. */
export function dataKeyBody(k: IssuedKey): { id: string; data_key: string; encrypted_keys: string } {
  try {
    return { id: k.id, data_key: encodeBase64(k.key), encrypted_keys: encodeBase64(k.encryptedKeys) };
  } finally {
    k.key.fill(0);
  }
}

/** A 400 for a key blob that does not unwrap. */
export function badKeys(): HttpError {
  return new HttpError(400, 'Encrypted keys could not be decrypted');
}

/**
 * Unwraps a blob into the fields of a decrypt answer; zeroes the key bytes once encoded.
 * @throws HttpError 400 when the blob does not unwrap.
 */
export function unwrapBody(keyring: Keyring, blob: Uint8Array): { id: string; data_key: string } {
  const dk = keyring.unwrap(blob);
  if (dk === undefined) throw badKeys();
  try {
    return { id: dk.id, data_key: encodeBase64(dk.key) };
  } finally {
    dk.key.fill(0);
  }
}

/** Parses the list query of `GET /vault/v1/kv`. @throws HttpError 422. */
export function listQuery(q: URLSearchParams): ListQuery {
  const limitText = q.get('limit');
  let limit = 10;
  if (limitText !== null) {
    limit = /^\d{1,4}$/.test(limitText) ? Number(limitText) : Number.NaN;
    if (!(limit >= 1 && limit <= 100)) throw new HttpError(422, 'limit must be an integer from 1 to 100');
  }
  const order = q.get('order') ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw new HttpError(422, 'order must be "asc" or "desc"');
  const before = q.get('before') ?? undefined;
  const after = q.get('after') ?? undefined;
  if (before !== undefined && after !== undefined) {
    throw new HttpError(422, 'before and after can not be used together');
  }
  let updatedAfter: string | undefined;
  const ua = q.get('updatedAfter');
  if (ua !== null) {
    // ISO 8601 date or date-time; anything Date can not read exactly is refused, not guessed.
    const t = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(ua)
      ? Date.parse(ua)
      : Number.NaN;
    if (Number.isNaN(t)) throw new HttpError(422, 'updatedAfter must be an ISO 8601 date-time');
    updatedAfter = new Date(t).toISOString();
  }
  return { limit, order, before, after, search: q.get('search') ?? undefined, updatedAfter };
}
