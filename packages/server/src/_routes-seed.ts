/**
 * The older route names from the WorkOS Vault reference (`/vault/key/...`, `/vault/object/...`),
 * which existing scripts still call, served on the same store and keys as the v1 routes. Objects
 * hold a JSON object (`data`), stored as its JSON text, so a v1 client reads it as a string
 * value; versions are counted 1, 2, 3, ... per object.
 *
 * `encrypt-data` / `decrypt-data` encrypt locally with a caller-given data key: the ciphertext is
 * WorkOS format A when `encrypted_key` is given (so any WorkOS SDK can decrypt it through Vault),
 * else the bare `IV[12] ‖ TAG[16] ‖ CT` in base64. `decrypt-data` reads both, and formats legacy
 * and B.
 * @module
 */
import { encodeBase64, IV_LENGTH, parseCiphertext, serializeFormatA, TAG_LENGTH } from '@vault-envelope/core';
import { MAX_JSON_DEPTH, nestsDeeperThan } from './_body.js';
import { openParts, prepareKey, seal, utf8 } from './_crypto.js';
import { HttpError } from './_http-error.js';
import type { ObjectRecord } from './_records.js';
import { ok, type RouteDef, type RouteRequest, type Services } from './_route.js';
import {
  base64Field,
  keyContext,
  objectName,
  optionalString,
  optionalWellFormed,
  requireString,
  requireWellFormed,
} from './_validate.js';
import { dataKeyBody, ENVIRONMENT_ID, listQuery, unwrapBody, versionBody } from './_wire.js';

function summary(o: ObjectRecord): Record<string, unknown> {
  return { id: o.id, name: o.name, created_at: o.createdAt, updated_at: o.updatedAt, version: o.version };
}

/**
 * The stored value back as `data`: the JSON object it was, or null (and `value`) when it is not
 * one. A value nested deeper than a request body may be (a string written through the v1 routes)
 * comes back as text too: parsing it into `data` would make the answer too deep to serialise, and
 * the object unreadable here.
 */
function dataOf(value: string): Record<string, unknown> {
  if (nestsDeeperThan(value, MAX_JSON_DEPTH - 1)) return { data: null, value };
  try {
    const data = JSON.parse(value) as unknown;
    if (typeof data === 'object' && data !== null && !Array.isArray(data)) return { data };
  } catch {
    // Written through the v1 API as plain text.
  }
  return { data: null, value };
}

function dataField(body: Record<string, unknown>): string {
  const data = body['data'];
  if (data === undefined || data === null) throw new HttpError(400, 'Missing required field: data');
  if (typeof data !== 'object' || Array.isArray(data))
    throw new HttpError(422, 'Field data must be a JSON object');
  return JSON.stringify(data);
}

function queryId(r: RouteRequest, field = 'id'): string {
  const id = r.query.get(field);
  if (id === null || id === '') throw new HttpError(400, `Missing required query parameter: ${field}`);
  return id;
}

function dataKeyField(body: Record<string, unknown>): Uint8Array {
  const key = base64Field(body, 'data_key');
  if (key.length !== 32) {
    key.fill(0);
    throw new HttpError(422, 'Field data_key must be base64 of 32 bytes');
  }
  return key;
}

function aadField(body: Record<string, unknown>): Uint8Array | undefined {
  const aad = optionalWellFormed(body, 'aad');
  return aad === undefined || aad === '' ? undefined : utf8(aad);
}

/** Decrypts a ciphertext of `encrypt-data`: format A/legacy/B first, then the bare layout. */
function decryptLocal(key: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array | undefined): Uint8Array {
  const prepared = prepareKey(key);
  try {
    try {
      return openParts(prepared, parseCiphertext(ciphertext), aad);
    } catch {
      // Not an SDK layout under this key: try the bare IV ‖ TAG ‖ CT below.
    }
    if (ciphertext.length >= IV_LENGTH + TAG_LENGTH) {
      try {
        return openParts(
          prepared,
          {
            iv: ciphertext.subarray(0, IV_LENGTH),
            tag: ciphertext.subarray(IV_LENGTH, IV_LENGTH + TAG_LENGTH),
            ciphertext: ciphertext.subarray(IV_LENGTH + TAG_LENGTH),
          },
          aad,
        );
      } catch {
        // Reported below, the same way for every cause.
      }
    }
    throw new HttpError(400, 'Ciphertext could not be decrypted with this data key');
  } finally {
    prepared.destroy();
  }
}

/**
 * The routes under the older names.
 * @param s - The key ring and the object store.
 * @returns The route table.
 */
export function seedRoutes(s: Services): RouteDef[] {
  const { keyring, objects } = s;
  return [
    {
      method: 'POST',
      path: '/vault/key/create-data-key',
      idempotency: 'memory',
      async handler(r) {
        const context = keyContext(await r.json(true), 'context', false);
        const body = dataKeyBody(keyring.issue(context));
        return ok({ plaintext_key: body.data_key, encrypted_key: body.encrypted_keys, ...body, context });
      },
    },
    {
      method: 'POST',
      path: '/vault/key/decrypt-data-key',
      idempotency: 'memory',
      async handler(r) {
        const body = unwrapBody(keyring, base64Field(await r.json(), 'encrypted_key'));
        return ok({ plaintext_key: body.data_key, ...body });
      },
    },
    {
      method: 'POST',
      path: '/vault/key/encrypt-data',
      idempotency: 'memory',
      async handler(r) {
        const body = await r.json();
        const plaintext = utf8(requireWellFormed(body, 'plaintext'));
        const encryptedKey =
          body['encrypted_key'] === undefined ? undefined : base64Field(body, 'encrypted_key');
        const key = dataKeyField(body);
        const prepared = prepareKey(key);
        key.fill(0);
        try {
          const sealed = seal(prepared, plaintext, aadField(body));
          if (encryptedKey === undefined || encryptedKey.length === 0) {
            return ok({ ciphertext: encodeBase64(sealed) });
          }
          const a = serializeFormatA({
            iv: sealed.subarray(0, IV_LENGTH),
            tag: sealed.subarray(IV_LENGTH, IV_LENGTH + TAG_LENGTH),
            encryptedKeys: encryptedKey,
            ciphertext: sealed.subarray(IV_LENGTH + TAG_LENGTH),
          });
          return ok({ ciphertext: encodeBase64(a) });
        } finally {
          prepared.destroy();
          plaintext.fill(0);
        }
      },
    },
    {
      method: 'POST',
      path: '/vault/key/decrypt-data',
      idempotency: 'memory',
      async handler(r) {
        const body = await r.json();
        const ciphertext = base64Field(body, 'ciphertext');
        const key = dataKeyField(body);
        try {
          const pt = decryptLocal(key, ciphertext, aadField(body));
          let text: string;
          try {
            text = new TextDecoder('utf-8', { fatal: true }).decode(pt);
          } catch {
            text = '';
            pt.fill(0);
            throw new HttpError(422, 'The plaintext is not UTF-8 text');
          }
          pt.fill(0);
          return ok({ plaintext: text });
        } finally {
          key.fill(0);
        }
      },
    },
    {
      method: 'POST',
      path: '/vault/object/create',
      idempotency: 'persist',
      async handler(r) {
        const body = await r.json();
        const name = objectName(body);
        const data = dataField(body);
        const context = keyContext(body, 'key_context', false);
        return ok(summary(await objects.create(name, data, context, r.principal)), 201);
      },
    },
    {
      method: 'GET',
      path: '/vault/object/get',
      async handler(r) {
        const o = objects.describe(queryId(r));
        return ok({ ...summary(o), ...dataOf(await objects.value(o)) });
      },
    },
    {
      method: 'GET',
      path: '/vault/object/get-by-name',
      async handler(r) {
        const o = objects.describeByName(queryId(r, 'name'));
        return ok({ ...summary(o), ...dataOf(await objects.value(o)) });
      },
    },
    {
      method: 'GET',
      path: '/vault/object/list',
      handler(r) {
        const page = objects.list(listQuery(r.query));
        return ok({
          data: page.items.map(summary),
          list_metadata: { before: page.before, after: page.after },
        });
      },
    },
    {
      method: 'PUT',
      path: '/vault/object/update',
      async handler(r) {
        const body = await r.json();
        const id = requireString(body, 'id');
        const data = dataField(body);
        let check = optionalString(body, 'version_check');
        const expected = body['version'];
        if (expected !== undefined && expected !== null) {
          if (typeof expected !== 'number' || !Number.isSafeInteger(expected)) {
            throw new HttpError(422, 'Field version must be an integer');
          }
          const current = objects.describe(id);
          if (current.version !== expected)
            throw new HttpError(409, 'Version check failed: the object has a newer version');
          check ??= current.versionId;
        }
        return ok(summary(await objects.update(id, data, check, r.principal)));
      },
    },
    {
      method: 'DELETE',
      path: '/vault/object/delete',
      async handler(r) {
        const body = await r.json();
        const id = requireString(body, 'id');
        const name = objects.delete(id, optionalString(body, 'version_check'));
        return ok({ id, name, success: true });
      },
    },
    {
      method: 'GET',
      path: '/vault/object/metadata',
      handler(r) {
        const o = objects.describe(queryId(r));
        return ok({
          ...summary(o),
          key_context: o.context,
          key_id: o.keyId,
          version_id: o.versionId,
          environment_id: ENVIRONMENT_ID,
          updated_by: o.updatedBy,
        });
      },
    },
    {
      method: 'GET',
      path: '/vault/object/version',
      async handler(r) {
        const id = queryId(r);
        const text = queryId(r, 'version');
        const n = /^\d{1,9}$/.test(text) ? Number(text) : 0;
        if (n < 1) throw new HttpError(422, 'version must be a positive integer');
        const o = objects.describe(id);
        const { version, value } = await objects.version(id, n);
        return ok({
          id: o.id,
          name: o.name,
          version: version.number,
          version_id: version.id,
          created_at: version.createdAt,
          current_version: version.current,
          ...dataOf(value),
        });
      },
    },
    {
      method: 'GET',
      path: '/vault/object/versions',
      handler(r) {
        const data = objects.versions(queryId(r)).map((v) => ({ version: v.number, ...versionBody(v) }));
        return ok({ data, list_metadata: { before: null, after: null } });
      },
    },
  ];
}
