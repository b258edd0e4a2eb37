/**
 * Contract: every response of every v1 route, success and error, validates against the schemas of
 * the WorkOS OpenAPI spec (test/fixtures/workos-vault-openapi.yaml, a copy of the Vault part of
 * WorkOS's published OpenAPI specification), with a status the spec documents for the operation
 * or one of the statuses every route can give (401, 403, 413, 422, 429).
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import formats from 'ajv-formats';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { client, type Reply, sharedServer, testServer } from './_helpers.js';

type Method = 'get' | 'post' | 'put' | 'delete';
interface Operation {
  responses: Record<string, { content?: { 'application/json'?: { schema: { $ref: string } } } }>;
}

const spec = parse(
  readFileSync(new URL('./fixtures/workos-vault-openapi.yaml', import.meta.url), 'utf8'),
) as {
  paths: Record<string, Partial<Record<Method, Operation>>>;
  components: unknown;
};
const ajv = new Ajv({ strict: false, allErrors: true });
// ajv-formats is CommonJS: its function is the module itself, typed as the default export.
const addFormats = (formats as unknown as { default: typeof formats.default }).default ?? formats;
addFormats(ajv);
ajv.addSchema({ $id: 'spec', components: spec.components });

/** Statuses any route may answer besides the ones its operation lists. */
const COMMON = new Set([401, 403, 413, 422, 429]);
const covered = new Map<string, Set<number>>();

/** Checks one reply against the spec and records that the operation was covered. */
function conforms(reply: Reply, path: string, method: Method): void {
  const op = spec.paths[path]?.[method];
  expect(op, `${method} ${path} is in the spec`).toBeDefined();
  const declared = op!.responses[String(reply.status)];
  expect(declared !== undefined || COMMON.has(reply.status), `${reply.status} for ${method} ${path}`).toBe(
    true,
  );
  const ref = declared?.content?.['application/json']?.schema.$ref ?? '#/components/schemas/Error';
  const validate = ajv.getSchema(`spec${ref}`)!;
  const valid = validate(reply.body);
  expect(valid, `${method} ${path} ${reply.status}: ${ajv.errorsText(validate.errors)}`).toBe(true);
  expect(reply.headers.get('x-request-id')).toMatch(/^req_/);
  expect(reply.headers.get('content-type')).toContain('application/json');
  const key = `${method} ${path}`;
  if (!covered.has(key)) covered.set(key, new Set());
  covered.get(key)!.add(reply.status);
}

const shared = sharedServer();
const api = shared.api;

const KEYS = '/vault/v1/keys';
const KV = '/vault/v1/kv';

describe('keys', () => {
  test('data-key: 200, 400 missing context, 422 bad context, 400 malformed JSON', async () => {
    const p = `${KEYS}/data-key`;
    conforms(await api('POST', p, { context: { organization_id: 'org_1' } }), p, 'post');
    conforms(await api('POST', p, { context: {} }), p, 'post');
    conforms(await api('POST', p, {}), p, 'post');
    conforms(await api('POST', p, { context: { a: 1 } }), p, 'post');
    conforms(await api('POST', p, '{"context":'), p, 'post');
  });

  test('decrypt: 200, 400 tampered, 400 not base64, 400 missing', async () => {
    const p = `${KEYS}/decrypt`;
    const dk = (await api('POST', `${KEYS}/data-key`, { context: { a: 'b' } })).body;
    conforms(await api('POST', p, { keys: dk.encrypted_keys }), p, 'post');
    const bytes = Buffer.from(dk.encrypted_keys, 'base64');
    bytes[bytes.length - 1]! ^= 1;
    conforms(await api('POST', p, { keys: bytes.toString('base64') }), p, 'post');
    conforms(await api('POST', p, { keys: 'not base64!' }), p, 'post');
    conforms(await api('POST', p, {}), p, 'post');
  });

  test('rekey: 200, 400 foreign blob, 422 bad context', async () => {
    const p = `${KEYS}/rekey`;
    const dk = (await api('POST', `${KEYS}/data-key`, { context: { a: 'b' } })).body;
    conforms(await api('POST', p, { encrypted_keys: dk.encrypted_keys, context: { c: 'd' } }), p, 'post');
    const foreign = Buffer.from('WOS.EKM.v1\0bf51ccec-78b4-5200-b383-35730e71ef61').toString('base64');
    conforms(await api('POST', p, { encrypted_keys: foreign, context: {} }), p, 'post');
    conforms(await api('POST', p, { encrypted_keys: dk.encrypted_keys, context: 'x' }), p, 'post');
  });
});

describe('objects', () => {
  test('every kv route, success and error', async () => {
    const created = await api('POST', KV, {
      name: 'contract-1',
      value: 's3cr3t',
      key_context: { org: 'o1' },
    });
    conforms(created, KV, 'post');
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    conforms(await api('POST', KV, { name: 'contract-1', value: 'x', key_context: {} }), KV, 'post');
    conforms(await api('POST', KV, { name: 'contract-2', key_context: {} }), KV, 'post');
    conforms(await api('POST', KV, { name: 'x'.repeat(201), value: 'v', key_context: {} }), KV, 'post');

    conforms(await api('GET', KV), KV, 'get');
    conforms(
      await api('GET', `${KV}?limit=1&order=asc&search=contract&updatedAfter=2020-01-01T00:00:00Z`),
      KV,
      'get',
    );
    conforms(await api('GET', `${KV}?limit=0`), KV, 'get');

    const byId = `${KV}/{id}`;
    conforms(await api('GET', `${KV}/${id}`), byId, 'get');
    conforms(await api('GET', `${KV}/nope`), byId, 'get');
    const byName = `${KV}/name/{name}`;
    conforms(await api('GET', `${KV}/name/contract-1`), byName, 'get');
    conforms(await api('GET', `${KV}/name/missing`), byName, 'get');

    const updated = await api('PUT', `${KV}/${id}`, { value: 'v2', version_check: created.body.version_id });
    conforms(updated, byId, 'put');
    expect(updated.status).toBe(201);
    conforms(
      await api('PUT', `${KV}/${id}`, { value: 'v3', version_check: created.body.version_id }),
      byId,
      'put',
    );
    conforms(await api('PUT', `${KV}/${id}`, { version_check: null }), byId, 'put');

    conforms(await api('GET', `${KV}/${id}/metadata`), `${byId}/metadata`, 'get');
    conforms(await api('GET', `${KV}/nope/metadata`), `${byId}/metadata`, 'get');
    conforms(await api('GET', `${KV}/${id}/versions`), `${byId}/versions`, 'get');
    conforms(await api('GET', `${KV}/nope/versions`), `${byId}/versions`, 'get');

    conforms(await api('DELETE', `${KV}/${id}?version_check=stale`), byId, 'delete');
    conforms(await api('DELETE', `${KV}/${id}`), byId, 'delete');
    conforms(await api('DELETE', `${KV}/${id}`), byId, 'delete');
  });

  test('auth, rate-limit and size errors conform too', async () => {
    conforms(await client(shared.server(), 'sk_unknown')('GET', KV), KV, 'get');
    conforms(await client(shared.server(), '')('GET', KV), KV, 'get');
    const small = await testServer({ maxBodyBytes: 64, rateLimit: { limit: 1 } });
    try {
      const s = client(small);
      conforms(
        await s('POST', `${KEYS}/data-key`, { context: { big: 'x'.repeat(100) } }),
        `${KEYS}/data-key`,
        'post',
      );
      conforms(await s('GET', KV), KV, 'get');
    } finally {
      await small.close();
    }
  });
});

test('every v1 operation of the spec was exercised, with a success and an error', () => {
  for (const [path, ops] of Object.entries(spec.paths)) {
    for (const method of Object.keys(ops)) {
      const statuses = [...(covered.get(`${method} ${path}`) ?? [])];
      expect(
        statuses.some((s) => s < 300),
        `${method} ${path} success`,
      ).toBe(true);
      expect(
        statuses.some((s) => s >= 400),
        `${method} ${path} error`,
      ).toBe(true);
    }
  }
});
