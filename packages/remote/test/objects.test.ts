/**
 * Every method of the client against the real local server on an ephemeral port: keys, objects,
 * paging over hundreds of objects, version conflicts, and each error class from a real response.
 */
import { Envelope, inspect } from '@vault-envelope/core';
import {
  AuthenticationError,
  BadRequestError,
  ConflictError,
  NetworkError,
  NotFoundError,
  PermissionError,
  RateLimitError,
  ServerError,
  TimeoutError,
  UnprocessableEntityError,
  VaultClient,
} from '@vault-envelope/remote';
import { type RunningServer, startServer } from '@vault-envelope/server';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { caught } from './_caught.js';

let srv: RunningServer;
let vault: VaultClient;
const fast = { limit: 2, delay: () => 5, jitter: false } as const;

beforeAll(async () => {
  srv = await startServer({
    port: 0,
    memory: true,
    apiKeys: ['sk_test', { key: 'sk_noperm', permissions: [] }],
    rateLimit: { limit: 100_000, windowMs: 60_000 },
  });
  vault = new VaultClient({ apiKey: 'sk_test', baseUrl: srv.url, retry: fast });
});

afterAll(async () => {
  await srv?.close();
});

describe('data keys', () => {
  test('createDataKey, decryptDataKey and rekey give the same 32 key bytes', async () => {
    const dk = await vault.createDataKey({ organization_id: 'org_1' });
    expect(dk.key).toHaveLength(32);
    expect(dk.key.buffer.byteLength).toBe(32); // memory of its own, not a view into a shared pool
    expect(dk.context).toEqual({ organization_id: 'org_1' });
    expect(dk.encryptedKeys.length).toBeGreaterThan(0);
    expect(JSON.stringify(dk)).not.toContain(Buffer.from(dk.key).toString('base64'));

    const again = await vault.decryptDataKey(dk.encryptedKeys);
    expect(again.id).toBe(dk.id);
    expect(again.key).toEqual(dk.key);
    expect(again.encryptedKeys).toEqual(dk.encryptedKeys);
    expect(again.encryptedKeys).not.toBe(dk.encryptedKeys);

    const moved = await vault.rekey(dk.encryptedKeys, { organization_id: 'org_2' });
    expect(moved.key).toEqual(dk.key);
    expect(moved.context).toEqual({ organization_id: 'org_2' });
    expect(moved.encryptedKeys).not.toEqual(dk.encryptedKeys);
    expect((await vault.decryptDataKey(moved.encryptedKeys)).key).toEqual(dk.key);
  });

  test('VaultClient is a KeyProvider for Envelope', async () => {
    const envelope = new Envelope({ keys: vault });
    const ct = await envelope.encrypt('123-45-6789', {
      context: { organization_id: 'org_1' },
      aad: 'users/42/ssn',
    });
    expect(await envelope.decryptToString(ct, { aad: 'users/42/ssn' })).toBe('123-45-6789');
  });

  test('rekeyDataKey returns only the new blob, and Envelope.rekey moves a message through it', async () => {
    const envelope = new Envelope({ keys: vault });
    const ct = await envelope.encrypt('123-45-6789', { context: { organization_id: 'org_1' }, aad: 'a' });
    const old = inspect(ct);
    const blob = await vault.rekeyDataKey(old.encryptedKeys, { organization_id: 'org_2' });
    expect(blob).toBeInstanceOf(Uint8Array);
    expect(blob).not.toEqual(old.encryptedKeys);
    expect((await vault.decryptDataKey(blob)).key).toEqual(
      (await vault.decryptDataKey(old.encryptedKeys)).key,
    );

    const moved = await envelope.rekey(ct, { organization_id: 'org_2' });
    const now = inspect(moved);
    expect([now.iv, now.tag, now.ciphertextLength]).toEqual([old.iv, old.tag, old.ciphertextLength]);
    expect(now.encryptedKeys).not.toEqual(old.encryptedKeys);
    expect(await envelope.decryptToString(moved, { aad: 'a' })).toBe('123-45-6789');
  });

  test('an empty context is accepted', async () => {
    const dk = await vault.createDataKey({});
    expect((await vault.decryptDataKey(dk.encryptedKeys)).key).toEqual(dk.key);
  });
});

describe('objects', () => {
  test('create, read, read by name, describe, update, versions, delete', async () => {
    const t0 = Date.now() - 1000;
    const meta = await vault.createObject({
      name: 'stripe-key',
      value: 'sk_live_1',
      context: { app: 'billing' },
    });
    expect(meta.context).toEqual({ app: 'billing' });
    expect(meta.updatedAt).toBeInstanceOf(Date);
    expect(meta.updatedAt.getTime()).toBeGreaterThanOrEqual(t0);
    expect(typeof meta.versionId).toBe('string');
    expect(typeof meta.environmentId).toBe('string');
    expect(typeof meta.updatedBy.id).toBe('string');

    const obj = await vault.readObject({ id: meta.id });
    expect(obj).toMatchObject({ id: meta.id, name: 'stripe-key', value: 'sk_live_1' });
    expect(obj.metadata.versionId).toBe(meta.versionId);
    expect((await vault.readObjectByName('stripe-key')).id).toBe(meta.id);
    expect((await vault.readObjectByName({ name: 'stripe-key' })).value).toBe('sk_live_1');

    const described = await vault.describeObject({ id: meta.id });
    expect(described).toEqual({ id: meta.id, name: 'stripe-key', metadata: obj.metadata });
    expect('value' in described).toBe(false);

    const upd = await vault.updateObject({ id: meta.id, value: 'sk_live_2', versionCheck: meta.versionId! });
    expect(upd.metadata.versionId).not.toBe(meta.versionId);
    expect(upd.metadata.context).toEqual({ app: 'billing' });
    const upd2 = await vault.updateObject({ id: meta.id, value: 'sk_live_3' });
    expect((await vault.readObject({ id: meta.id })).value).toBe('sk_live_3');

    const versions = await vault.listObjectVersions({ id: meta.id });
    expect(versions).toHaveLength(3);
    expect(versions.filter((v) => v.currentVersion).map((v) => v.id)).toEqual([upd2.metadata.versionId]);
    for (const v of versions) {
      expect(v.createdAt).toBeInstanceOf(Date);
      expect(typeof v.size).toBe('number');
      expect(typeof v.etag).toBe('string');
    }

    await vault.deleteObject({ id: meta.id, versionCheck: upd2.metadata.versionId! });
    expect(NotFoundError.is(await caught(vault.readObject({ id: meta.id })))).toBe(true);
  });

  test('names with slashes, spaces and unicode round-trip through the path', async () => {
    const name = 'tenants/42 é/🔑';
    const meta = await vault.createObject({ name, value: 'v', context: {} });
    expect((await vault.readObjectByName(name)).id).toBe(meta.id);
    await vault.deleteObject({ id: meta.id });
  });

  test('a value of 64 KiB with every kind of character survives', async () => {
    const value = 'aé€😀\u0000"\\\n'.repeat(8 * 1024);
    const meta = await vault.createObject({ name: 'big', value, context: {} });
    expect((await vault.readObject({ id: meta.id })).value).toBe(value);
    await vault.deleteObject({ id: meta.id });
  });
});

describe('paging', () => {
  const N = 230;
  const names: string[] = [];

  beforeAll(async () => {
    for (let i = 0; i < N; i++) names.push(`page-${String(i).padStart(4, '0')}`);
    // Eight at a time: enough concurrency to be quick without tripping anything.
    for (let i = 0; i < N; i += 8) {
      await Promise.all(
        names
          .slice(i, i + 8)
          .map((name) => vault.createObject({ name, value: name, context: { t: 'paging' } })),
      );
    }
  });

  test('objects() walks every page, in order, each object once', async () => {
    const seen: string[] = [];
    for await (const o of vault.objects({ search: 'page-', order: 'asc', limit: 17 })) seen.push(o.name);
    expect(seen).toEqual(names);
  });

  test('objects() with the default page size of 100, descending', async () => {
    srv.resetStats();
    const seen: string[] = [];
    for await (const o of vault.objects({ search: 'page-', order: 'desc' })) seen.push(o.name);
    expect(seen).toEqual([...names].reverse());
    expect(srv.stats().requests['GET /vault/v1/kv']).toBe(3);
  });

  test('listObjects pages by hand with after and back with before', async () => {
    const p1 = await vault.listObjects({ search: 'page-', order: 'asc', limit: 100 });
    expect(p1.data.map((o) => o.name)).toEqual(names.slice(0, 100));
    expect(p1.listMetadata.after).not.toBeNull();
    const p2 = await vault.listObjects({
      search: 'page-',
      order: 'asc',
      limit: 100,
      after: p1.listMetadata.after!,
    });
    expect(p2.data.map((o) => o.name)).toEqual(names.slice(100, 200));
    const back = await vault.listObjects({
      search: 'page-',
      order: 'asc',
      limit: 100,
      before: p2.listMetadata.before!,
    });
    expect(back.data.map((o) => o.name)).toEqual(names.slice(0, 100));
  });

  test('breaking out of objects() stops fetching', async () => {
    srv.resetStats();
    let n = 0;
    for await (const _ of vault.objects({ search: 'page-', limit: 10 })) if (++n === 15) break;
    expect(srv.stats().requests['GET /vault/v1/kv']).toBe(2);
  });

  test('updatedAfter filters by last change', async () => {
    const future = new Date(Date.now() + 60_000);
    expect((await vault.listObjects({ search: 'page-', updatedAfter: future })).data).toEqual([]);
    const past = await vault.listObjects({ search: 'page-', updatedAfter: '2000-01-01T00:00:00Z', limit: 5 });
    expect(past.data).toHaveLength(5);
  });
});

describe('version conflicts', () => {
  test('a stale versionCheck on update and delete is a ConflictError; the current one works', async () => {
    const meta = await vault.createObject({ name: 'locked', value: 'v1', context: {} });
    const v1 = meta.versionId!;
    const u = await vault.updateObject({ id: meta.id, value: 'v2', versionCheck: v1 });
    const e1 = await caught(vault.updateObject({ id: meta.id, value: 'v3', versionCheck: v1 }));
    expect(e1).toBeInstanceOf(ConflictError);
    expect(e1.status).toBe(409);
    expect(e1.attempts).toBe(1);
    expect((await vault.readObject({ id: meta.id })).value).toBe('v2');
    const e2 = await caught(vault.deleteObject({ id: meta.id, versionCheck: v1 }));
    expect(e2).toBeInstanceOf(ConflictError);
    await vault.deleteObject({ id: meta.id, versionCheck: u.metadata.versionId! });
  });

  test('two writers racing on one version: exactly one wins', async () => {
    const meta = await vault.createObject({ name: 'race', value: 'v0', context: {} });
    const results = await Promise.allSettled(
      ['a', 'b', 'c', 'd'].map((value) =>
        vault.updateObject({ id: meta.id, value, versionCheck: meta.versionId! }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(ConflictError.is(r.reason)).toBe(true);
  });

  test('creating a name twice is a ConflictError', async () => {
    await vault.createObject({ name: 'dup', value: 'x', context: {} });
    const e = await caught(vault.createObject({ name: 'dup', value: 'y', context: {} }));
    expect(e).toBeInstanceOf(ConflictError);
    expect(e.method).toBe('POST');
    expect(e.path).toBe('/vault/v1/kv');
  });
});

describe('each error class from a real response', () => {
  test('400 BadRequestError: a key blob the server did not issue', async () => {
    const e = await caught(vault.decryptDataKey(new Uint8Array([1, 2, 3, 4])));
    expect(e).toBeInstanceOf(BadRequestError);
    expect(e.status).toBe(400);
    expect(e.requestId).toMatch(/\S/);
    expect(e.serverMessage).toMatch(/\S/);
  });

  test('401 AuthenticationError: an unknown key', async () => {
    const bad = new VaultClient({ apiKey: 'sk_wrong', baseUrl: srv.url, retry: fast });
    const e = await caught(bad.listObjects());
    expect(e).toBeInstanceOf(AuthenticationError);
    expect(e.status).toBe(401);
    expect(e.message).not.toContain('sk_wrong');
  });

  test('403 PermissionError: a key without the Vault permission', async () => {
    const noperm = new VaultClient({ apiKey: 'sk_noperm', baseUrl: srv.url, retry: fast });
    const e = await caught(noperm.createDataKey({}));
    expect(e).toBeInstanceOf(PermissionError);
    expect(e.status).toBe(403);
  });

  test('404 NotFoundError on each id route', async () => {
    for (const call of [
      () => vault.readObject({ id: 'obj_missing' }),
      () => vault.readObjectByName('missing-name'),
      () => vault.describeObject({ id: 'obj_missing' }),
      () => vault.updateObject({ id: 'obj_missing', value: 'v' }),
      () => vault.deleteObject({ id: 'obj_missing' }),
      () => vault.listObjectVersions({ id: 'obj_missing' }),
    ]) {
      const e = await caught(call());
      expect(e).toBeInstanceOf(NotFoundError);
      expect(e.attempts).toBe(1);
    }
  });

  test('422 UnprocessableEntityError: before and after together', async () => {
    const e = await caught(vault.listObjects({ before: 'a', after: 'b' }));
    expect(e).toBeInstanceOf(UnprocessableEntityError);
    expect(e.status).toBe(422);
  });

  test('429 RateLimitError from the real rate limiter, with retryAfter (client budget off)', async () => {
    const limited = await startServer({ port: 0, memory: true, apiKeys: ['sk_rl'], rateLimit: { limit: 2 } });
    try {
      const c = new VaultClient({
        apiKey: 'sk_rl',
        baseUrl: limited.url,
        retry: { maxRetryAfter: 500 },
        rateLimit: false,
      });
      await c.listObjects();
      await c.listObjects();
      const t0 = performance.now();
      const e = (await caught(c.listObjects())) as RateLimitError;
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(e).toBeInstanceOf(RateLimitError);
      expect(e.retryAfter).toBeGreaterThan(0);
      expect(e.retryAfter).toBeLessThanOrEqual(60);
    } finally {
      await limited.close();
    }
  });

  test('the same limit with the client budget on: the third call is refused at once and never sent', async () => {
    const limited = await startServer({ port: 0, memory: true, apiKeys: ['sk_rl'], rateLimit: { limit: 2 } });
    try {
      const c = new VaultClient({ apiKey: 'sk_rl', baseUrl: limited.url, deadline: 5_000 });
      await c.listObjects();
      await c.listObjects();
      const e = (await caught(c.listObjects())) as RateLimitError;
      expect(e).toBeInstanceOf(RateLimitError);
      expect(e.status).toBeUndefined();
      expect(e.attempts).toBe(0);
      expect(e.retryAfter).toBeGreaterThan(5);
      expect(e.retryAfter).toBeLessThanOrEqual(62);
      expect(e.message).toBe(
        "the client's rate budget has no request left before the call's deadline: GET /vault/v1/kv",
      );
      expect(limited.stats().requests['GET /vault/v1/kv']).toBe(2);
    } finally {
      await limited.close();
    }
  });

  test('5xx ServerError, TimeoutError and NetworkError through fault injection', async () => {
    const faulty = await startServer({ port: 0, memory: true, apiKeys: ['sk_f'] });
    try {
      const c = new VaultClient({ apiKey: 'sk_f', baseUrl: faulty.url, retry: fast, timeout: 150 });
      faulty.setFaults({ rate500: 1 });
      const e500 = await caught(c.listObjects());
      expect(e500).toBeInstanceOf(ServerError);
      expect(e500.status).toBe(500);
      expect(e500.attempts).toBe(3);
      faulty.setFaults({ rate503: 1 });
      expect((await caught(c.listObjects())).status).toBe(503);
      faulty.setFaults({ latencyMs: 400 });
      expect(await caught(c.listObjects())).toBeInstanceOf(TimeoutError);
      faulty.setFaults({ dropRate: 1 });
      const net = await caught(c.listObjects());
      expect(net).toBeInstanceOf(NetworkError);
      expect(net.attempts).toBe(3);
    } finally {
      await faulty.close();
    }
  });

  test('NetworkError when nothing listens', async () => {
    const gone = await startServer({ port: 0, memory: true, apiKeys: ['sk_x'] });
    const url = gone.url;
    await gone.close();
    const c = new VaultClient({ apiKey: 'sk_x', baseUrl: url, retry: { limit: 1, delay: () => 1 } });
    const e = await caught(c.listObjects());
    expect(e).toBeInstanceOf(NetworkError);
    expect(e.cause).toBeDefined();
  });
});
