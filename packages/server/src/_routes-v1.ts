/**
 * The WorkOS Vault v1 routes (`../shared/spec/workos-vault-openapi.yaml`): data keys (create,
 * decrypt, rekey) and key-value objects (list, create, read by id and by name, update, delete,
 * metadata, versions), with the spec's paths, fields and status codes.
 * @module
 */
import { encodeBase64 } from '@vault-envelope/core';
import { HttpError } from './_http-error.js';
import type { IssuedKey, Keyring } from './_keyring.js';
import type { ListQuery, ObjectRecord, VersionRecord } from './_objects.js';
import type { ApiResult, RouteDef, RouteRequest, Services } from './_route.js';
import { base64Field, keyContext, objectName, requireString } from './_validate.js';

/** The environment every object of this server belongs to. */
export const ENVIRONMENT_ID = 'environment_local';

/** `ObjectMetadata` of the spec. */
export function metadata(o: ObjectRecord): Record<string, unknown> {
  return {
    id: o.id,
    environment_id: ENVIRONMENT_ID,
    key_id: o.keyId,
    context: o.context,
    updated_at: o.updatedAt,
    updated_by: { id: o.updatedBy.id, name: o.updatedBy.name },
    version_id: o.versionId,
  };
}

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

const ok = (body: unknown, status = 200): ApiResult => ({ status, body });

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

function versionCheck(body: Record<string, unknown>): string | null | undefined {
  const v = body['version_check'];
  if (v === undefined || v === null) return v;
  if (typeof v !== 'string') throw new HttpError(422, 'Field version_check must be a string or null');
  return v;
}

/**
 * The v1 routes.
 * @param s - The key ring and the object store.
 * @returns The route table.
 */
export function v1Routes(s: Services): RouteDef[] {
  const { keyring, objects } = s;
  return [
    {
      method: 'POST',
      path: '/vault/v1/keys/data-key',
      idempotency: 'memory',
      async handler(r: RouteRequest) {
        const context = keyContext(await r.json(), 'context', true);
        return ok({ ...dataKeyBody(keyring.issue(context)), context });
      },
    },
    {
      method: 'POST',
      path: '/vault/v1/keys/decrypt',
      idempotency: 'memory',
      async handler(r) {
        return ok(unwrapBody(keyring, base64Field(await r.json(), 'keys')));
      },
    },
    {
      method: 'POST',
      path: '/vault/v1/keys/rekey',
      idempotency: 'memory',
      async handler(r) {
        const body = await r.json();
        const blob = base64Field(body, 'encrypted_keys');
        const context = keyContext(body, 'context', true);
        const k = keyring.rewrap(blob, context);
        if (k === undefined) throw badKeys();
        return ok({ ...dataKeyBody(k), context });
      },
    },
    {
      method: 'GET',
      path: '/vault/v1/kv',
      handler(r) {
        const page = objects.list(listQuery(r.query));
        return ok({
          data: page.items.map((o) => ({ id: o.id, name: o.name, updated_at: o.updatedAt })),
          list_metadata: { before: page.before, after: page.after },
        });
      },
    },
    {
      method: 'POST',
      path: '/vault/v1/kv',
      idempotency: 'persist',
      async handler(r) {
        const body = await r.json();
        const name = objectName(body);
        const value = requireString(body, 'value');
        const context = keyContext(body, 'key_context', true);
        return ok(metadata(await objects.create(name, value, context, r.principal)), 201);
      },
    },
    {
      method: 'GET',
      path: '/vault/v1/kv/name/:name{.+}',
      async handler(r) {
        const o = objects.describeByName(r.params['name']!);
        return ok({ id: o.id, name: o.name, value: await objects.value(o), metadata: metadata(o) });
      },
    },
    {
      method: 'GET',
      path: '/vault/v1/kv/:id',
      async handler(r) {
        const o = objects.describe(r.params['id']!);
        return ok({ id: o.id, name: o.name, value: await objects.value(o), metadata: metadata(o) });
      },
    },
    {
      method: 'PUT',
      path: '/vault/v1/kv/:id',
      async handler(r) {
        const body = await r.json();
        const value = requireString(body, 'value');
        const o = await objects.update(r.params['id']!, value, versionCheck(body), r.principal);
        return ok({ id: o.id, name: o.name, metadata: metadata(o) }, 201);
      },
    },
    {
      method: 'DELETE',
      path: '/vault/v1/kv/:id',
      handler(r) {
        const name = objects.delete(r.params['id']!, r.query.get('version_check') ?? undefined);
        return ok({ name, success: true });
      },
    },
    {
      method: 'GET',
      path: '/vault/v1/kv/:id/metadata',
      handler(r) {
        const o = objects.describe(r.params['id']!);
        return ok({ id: o.id, name: o.name, metadata: metadata(o) });
      },
    },
    {
      method: 'GET',
      path: '/vault/v1/kv/:id/versions',
      handler(r) {
        return ok({
          data: objects.versions(r.params['id']!).map(versionBody),
          list_metadata: { before: null, after: null },
        });
      },
    },
  ];
}
