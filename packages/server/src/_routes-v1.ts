/**
 * The WorkOS Vault v1 routes, as its OpenAPI description gives them: data keys (create,
 * decrypt, rekey) and key-value objects (list, create, read by id and by name, update, delete,
 * metadata, versions), with the spec's paths, fields and status codes.
 * @module
 */
import { HttpError } from './_http-error.js';
import type { ObjectRecord } from './_records.js';
import { ok, type RouteDef, type RouteRequest, type Services } from './_route.js';
import { base64Field, keyContext, objectName, requireWellFormed } from './_validate.js';
import { badKeys, dataKeyBody, ENVIRONMENT_ID, listQuery, unwrapBody, versionBody } from './_wire.js';

/** `ObjectMetadata` of the spec. */
function metadata(o: ObjectRecord): Record<string, unknown> {
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
        const value = requireWellFormed(body, 'value');
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
        const value = requireWellFormed(body, 'value');
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
