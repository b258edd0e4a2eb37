/**
 * The object routes: create, read, update with version checks, delete, versions, and list
 * paging with every filter; concurrent writers never lose an update.
 */
import { createVaultHandler, type RunningServer } from '@vault-envelope/server';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { client, sharedServer, testServer } from './_helpers.js';

const api = sharedServer().api;
const KV = '/vault/v1/kv';

let n = 0;
const unique = (prefix: string) => `${prefix}-${++n}-${Math.random().toString(36).slice(2, 8)}`;

async function create(name: string, value = 'v', key_context: Record<string, string> = { org: 'o1' }) {
  const r = await api('POST', KV, { name, value, key_context });
  expect(r.status).toBe(201);
  return r.body as { id: string; version_id: string; key_id: string; updated_at: string };
}

describe('create and read', () => {
  test('a value reads back by id and by name with its metadata', async () => {
    const name = unique('read');
    const m = await create(name, 'sécret ✓', { org: 'o1', region: 'eu' });
    expect(m).toMatchObject({ environment_id: 'environment_local', context: { org: 'o1', region: 'eu' } });
    expect(m.version_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(m).toHaveProperty('updated_by.id');
    for (const path of [`${KV}/${m.id}`, `${KV}/name/${encodeURIComponent(name)}`]) {
      const r = await api('GET', path);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ id: m.id, name, value: 'sécret ✓', metadata: m });
    }
  });

  test('names: duplicate is 409, over 200 characters is 422, 200 is fine, slashes work', async () => {
    const name = unique('dup');
    await create(name);
    expect((await api('POST', KV, { name, value: 'x', key_context: {} })).status).toBe(409);
    expect((await api('POST', KV, { name: 'n'.repeat(201), value: 'x', key_context: {} })).status).toBe(422);
    await create(`${'n'.repeat(190)}${n}`.slice(0, 200));
    const slashed = `${unique('a')}/b/c`;
    await create(slashed);
    expect((await api('GET', `${KV}/name/${slashed}`)).body.name).toBe(slashed);
  });

  test('missing fields are 400, wrong types 422', async () => {
    expect((await api('POST', KV, { value: 'x', key_context: {} })).status).toBe(400);
    expect((await api('POST', KV, { name: unique('m'), key_context: {} })).status).toBe(400);
    expect((await api('POST', KV, { name: unique('m'), value: 'x' })).status).toBe(400);
    expect((await api('POST', KV, { name: 5, value: 'x', key_context: {} })).status).toBe(422);
    expect((await api('POST', KV, { name: unique('m'), value: { a: 1 }, key_context: {} })).status).toBe(422);
    expect((await api('POST', KV, { name: unique('m'), value: 'x', key_context: { a: 1 } })).status).toBe(
      422,
    );
    expect((await api('POST', KV, '[1,2]')).status).toBe(422);
  });
});

describe('update and delete', () => {
  test('update keeps the key context, answers 201 and makes a new version', async () => {
    const m = await create(unique('upd'), 'one', { org: 'keep' });
    const u = await api('PUT', `${KV}/${m.id}`, { value: 'two', version_check: m.version_id });
    expect(u.status).toBe(201);
    expect(u.body.metadata.context).toEqual({ org: 'keep' });
    expect(u.body.metadata.version_id).not.toBe(m.version_id);
    expect(u.body.metadata.key_id).not.toBe(m.key_id);
    expect((await api('GET', `${KV}/${m.id}`)).body.value).toBe('two');
    // Without a version check an update always applies.
    expect((await api('PUT', `${KV}/${m.id}`, { value: 'three', version_check: null })).status).toBe(201);
    expect((await api('PUT', `${KV}/${m.id}`, { value: 'four' })).status).toBe(201);
    const versions = (await api('GET', `${KV}/${m.id}/versions`)).body.data;
    expect(versions).toHaveLength(4);
    expect(versions.filter((v: { current_version: boolean }) => v.current_version)).toHaveLength(1);
    expect(versions[0].current_version).toBe(true);
    expect(versions[3].id).toBe(m.version_id);
    expect(versions[3].size).toBe(3);
  });

  test('a stale version_check is 409 on update and delete; a fresh one works', async () => {
    const m = await create(unique('stale'));
    const u = await api('PUT', `${KV}/${m.id}`, { value: 'x', version_check: m.version_id });
    expect((await api('PUT', `${KV}/${m.id}`, { value: 'y', version_check: m.version_id })).status).toBe(409);
    expect((await api('DELETE', `${KV}/${m.id}?version_check=${m.version_id}`)).status).toBe(409);
    const d = await api('DELETE', `${KV}/${m.id}?version_check=${u.body.metadata.version_id}`);
    expect(d.status).toBe(200);
  });

  test('update of a missing object is 404; wrong types are 422', async () => {
    expect((await api('PUT', `${KV}/missing`, { value: 'x' })).status).toBe(404);
    const m = await create(unique('types'));
    expect((await api('PUT', `${KV}/${m.id}`, { value: 1 })).status).toBe(422);
    expect((await api('PUT', `${KV}/${m.id}`, { value: 'x', version_check: 5 })).status).toBe(422);
  });

  test('delete removes every version; the name can be reused', async () => {
    const name = unique('del');
    const m = await create(name);
    await api('PUT', `${KV}/${m.id}`, { value: 'v2' });
    const d = await api('DELETE', `${KV}/${m.id}`);
    expect(d.body).toEqual({ name, success: true });
    expect((await api('GET', `${KV}/${m.id}`)).status).toBe(404);
    expect((await api('GET', `${KV}/${m.id}/versions`)).status).toBe(404);
    expect((await api('DELETE', `${KV}/${m.id}`)).status).toBe(404);
    const again = await create(name);
    expect(again.id).not.toBe(m.id);
    expect((await api('GET', `${KV}/${again.id}/versions`)).body.data).toHaveLength(1);
  });

  test('concurrent writers with version checks: exactly one wins each round, no lost update', async () => {
    const m = await create(unique('race'), '0');
    let current = m.version_id;
    for (let round = 1; round <= 5; round++) {
      const writers = Array.from({ length: 8 }, (_, w) =>
        api('PUT', `${KV}/${m.id}`, { value: `${round}:${w}`, version_check: current }),
      );
      const replies = await Promise.all(writers);
      const winners = replies.filter((r) => r.status === 201);
      expect(winners).toHaveLength(1);
      expect(replies.filter((r) => r.status === 409)).toHaveLength(7);
      current = winners[0]!.body.metadata.version_id;
      const read = await api('GET', `${KV}/${m.id}`);
      expect(read.body.metadata.version_id).toBe(current);
      expect(read.body.value).toMatch(new RegExp(`^${round}:`));
    }
    expect((await api('GET', `${KV}/${m.id}/versions`)).body.data).toHaveLength(6);
  });

  test('concurrent read-modify-write counters with retry on 409 lose no increment', async () => {
    const m = await create(unique('counter'), '0');
    const increment = async () => {
      for (;;) {
        const r = await api('GET', `${KV}/${m.id}`);
        const next = String(Number(r.body.value) + 1);
        const u = await api('PUT', `${KV}/${m.id}`, {
          value: next,
          version_check: r.body.metadata.version_id,
        });
        if (u.status === 201) return;
        expect(u.status).toBe(409);
      }
    };
    await Promise.all(Array.from({ length: 10 }, increment));
    expect((await api('GET', `${KV}/${m.id}`)).body.value).toBe('10');
  });
});

describe('times', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  test('property: created and updated times never go backwards, whatever the clock does', async () => {
    const base = Date.UTC(2030, 0, 1);
    // Clock readings of one create and then of each update, as offsets from base (a clock that
    // steps back, as NTP may, included).
    const readings = fc.array(fc.integer({ min: -1e9, max: 1e9 }), { minLength: 2, maxLength: 8 });
    await fc.assert(
      fc.asyncProperty(readings, async (offsets) => {
        vi.useFakeTimers({ toFake: ['Date'] });
        const h = createVaultHandler({ memory: true, apiKeys: ['sk_test'], rateLimit: false });
        const send = async (method: string, path: string, body?: unknown) => {
          const init: RequestInit = { method, headers: { Authorization: 'Bearer sk_test' } };
          if (body !== undefined) init.body = JSON.stringify(body);
          const res = await h.fetch(new Request(`http://vault${path}`, init));
          // biome-ignore lint/suspicious/noExplicitAny: test reads reply fields directly
          return (await res.json()) as any;
        };
        try {
          vi.setSystemTime(base + offsets[0]!);
          const { id } = await send('POST', KV, { name: 'clock', value: 'v0', key_context: {} });
          for (let i = 1; i < offsets.length; i++) {
            vi.setSystemTime(base + offsets[i]!);
            await send('PUT', `${KV}/${id}`, { value: `v${i}` });
          }
          // Each write is stamped with the latest clock reading so far.
          const expected: string[] = [];
          let latest = Number.NEGATIVE_INFINITY;
          for (const o of offsets) {
            latest = Math.max(latest, o);
            expected.push(new Date(base + latest).toISOString());
          }
          const versions = (await send('GET', `${KV}/${id}/versions`)).data as { created_at: string }[];
          expect(versions.map((v) => v.created_at).reverse()).toEqual(expected);
          expect((await send('GET', `${KV}/${id}/metadata`)).metadata.updated_at).toBe(expected.at(-1));
        } finally {
          h.close();
          vi.useRealTimers();
        }
      }),
      { numRuns: 25 },
    );
  });
});

describe('list', () => {
  let listServer: RunningServer;
  let list: ReturnType<typeof client>;
  const names: string[] = [];

  beforeAll(async () => {
    listServer = await testServer();
    list = client(listServer);
    for (let i = 0; i < 23; i++) {
      const name = `item-${String(i).padStart(2, '0')}${i % 3 === 0 ? '-fizz' : ''}`;
      names.push(name);
      expect((await list('POST', KV, { name, value: String(i), key_context: {} })).status).toBe(201);
    }
  });
  afterAll(() => listServer.close());

  async function walk(query: string, direction: 'after' | 'before' = 'after') {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    for (;;) {
      const r = await list('GET', `${KV}?${query}${cursor === null ? '' : `&${direction}=${cursor}`}`);
      expect(r.status).toBe(200);
      const page = r.body.data.map((o: { name: string }) => o.name);
      seen.push(...(direction === 'after' ? page : page.reverse()));
      pages++;
      cursor = r.body.list_metadata[direction];
      if (cursor === null) return { seen, pages };
    }
  }

  test('default: 10 newest first, after cursor', async () => {
    const r = await list('GET', KV);
    expect(r.body.data).toHaveLength(10);
    expect(r.body.data[0].name).toBe(names[22]);
    expect(r.body.list_metadata.before).toBeNull();
    expect(r.body.list_metadata.after).toBe(r.body.data[9].id);
    expect(r.body.data[0]).toEqual({
      id: expect.any(String),
      name: names[22],
      updated_at: expect.any(String),
    });
  });

  test('property: paging forward visits every object exactly once, in order, for any limit and order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 30 }),
        fc.constantFrom('asc', 'desc'),
        async (limit, order) => {
          const { seen, pages } = await walk(`limit=${limit}&order=${order}`);
          expect(seen).toEqual(order === 'asc' ? names : [...names].reverse());
          expect(pages).toBe(Math.max(1, Math.ceil(names.length / limit)));
        },
      ),
      { numRuns: 15 },
    );
  });

  test('paging backwards with before from the last page returns to the start', async () => {
    const first = await list('GET', `${KV}?limit=5&order=asc`);
    let after = first.body.list_metadata.after;
    let last = first;
    while (after !== null) {
      last = await list('GET', `${KV}?limit=5&order=asc&after=${after}`);
      after = last.body.list_metadata.after;
    }
    expect(last.body.list_metadata.before).not.toBeNull();
    const back = await list('GET', `${KV}?limit=5&order=asc&before=${last.body.list_metadata.before}`);
    expect(back.body.data.map((o: { name: string }) => o.name)).toEqual(names.slice(15, 20));
    expect(back.body.list_metadata.after).toBe(back.body.data[4].id);
  });

  test('search filters by name substring, case-insensitively', async () => {
    const { seen } = await walk('limit=2&search=FIZZ');
    expect(seen).toEqual(names.filter((x) => x.includes('fizz')).reverse());
  });

  test('updatedAfter filters by last change', async () => {
    const all = (await list('GET', `${KV}?limit=100&order=asc`)).body.data;
    const pivot = all[17].updated_at as string;
    await new Promise((r) => setTimeout(r, 5));
    const touched = await list('PUT', `${KV}/${all[3].id}`, { value: 'new' });
    // A date-time without fractional seconds is accepted: the whole second before the update
    // (dropping only the milliseconds would name the update's own instant when it lands on
    // .000, and the filter is strictly after).
    const second = Math.floor((Date.parse(touched.body.metadata.updated_at) - 1) / 1000) * 1000;
    const since = new Date(second).toISOString().replace(/\.000Z$/, 'Z');
    const r = await list('GET', `${KV}?limit=100&updatedAfter=${encodeURIComponent(since)}`);
    expect(r.body.data.map((o: { id: string }) => o.id)).toContain(all[3].id);
    // Its own instant is not after itself.
    const own = await list(
      'GET',
      `${KV}?limit=100&updatedAfter=${encodeURIComponent(touched.body.metadata.updated_at)}`,
    );
    expect(own.body.data.map((o: { id: string }) => o.id)).not.toContain(all[3].id);
    const after = await list('GET', `${KV}?limit=100&updatedAfter=${encodeURIComponent(pivot)}`);
    for (const o of after.body.data) expect(o.updated_at > pivot).toBe(true);
  });

  test('a cursor of a deleted object still pages', async () => {
    const page = await list('GET', `${KV}?limit=3&order=asc`);
    const gone = await list('POST', KV, { name: 'temp-cursor', value: 'x', key_context: {} });
    const p1 = await list('GET', `${KV}?limit=1&order=desc`);
    expect(p1.body.data[0].id).toBe(gone.body.id);
    await list('DELETE', `${KV}/${gone.body.id}`);
    const next = await list('GET', `${KV}?limit=2&order=desc&after=${gone.body.id}`);
    expect(next.status).toBe(200);
    expect(next.body.data[0].name).toBe(names[22]);
    expect(page.status).toBe(200);
  });

  test('bad list parameters are 422', async () => {
    for (const q of [
      'limit=0',
      'limit=101',
      'limit=abc',
      'order=up',
      'updatedAfter=yesterday',
      'after=nope',
      'before=a&after=b',
    ]) {
      const r = await list('GET', `${KV}?${q}`);
      expect(r.status, q).toBe(422);
    }
    expect((await list('GET', `${KV}?limit=100`)).status).toBe(200);
  });
});
