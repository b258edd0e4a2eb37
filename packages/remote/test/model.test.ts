/**
 * Model-based property: any sequence of create / update / delete / read / list through the client,
 * against the real local server, agrees with a plain in-memory map (fast-check `commands`).
 * Version checks are drawn too: none, the current version, or a stale one.
 */
import { ConflictError, NotFoundError, VaultClient } from '@vault-envelope/remote';
import { type RunningServer, startServer } from '@vault-envelope/server';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';

let srv: RunningServer;
let vault: VaultClient;

beforeAll(async () => {
  srv = await startServer({ port: 0, memory: true, apiKeys: ['sk_model'], rateLimit: false });
  vault = new VaultClient({ apiKey: 'sk_model', baseUrl: srv.url, retry: 0 });
});

afterAll(async () => {
  await srv?.close();
});

/** What the store should hold: name → value. */
interface Model {
  values: Map<string, string>;
}

/** What the test knows of the real store: ids (kept after delete) and version ids. */
interface Real {
  prefix: string;
  ids: Map<string, string>;
  current: Map<string, string>;
  previous: Map<string, string>;
}

type Check = 'none' | 'current' | 'stale';
const NAMES = 4;
const name = (r: Real, k: number) => `${r.prefix}-${k}`;

function versionFor(r: Real, n: string, check: Check): string | undefined {
  if (check === 'none') return undefined;
  if (check === 'current') return r.current.get(n);
  return r.previous.get(n) ?? 'ver_never_issued';
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  return undefined;
}

class Create implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly k: number,
    readonly value: string,
  ) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const n = name(r, this.k);
    const p = vault.createObject({ name: n, value: this.value, context: { model: r.prefix } });
    if (m.values.has(n)) {
      expect(ConflictError.is(await rejection(p))).toBe(true);
      return;
    }
    const meta = await p;
    m.values.set(n, this.value);
    r.ids.set(n, meta.id);
    r.current.set(n, meta.versionId!);
    r.previous.delete(n);
  }
  toString = () => `create(${this.k}, ${JSON.stringify(this.value)})`;
}

class Update implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly k: number,
    readonly value: string,
    readonly versionCheck: Check,
  ) {}
  check = (_m: Readonly<Model>) => true;
  async run(m: Model, r: Real): Promise<void> {
    const n = name(r, this.k);
    const id = r.ids.get(n);
    if (id === undefined) return; // never existed: no id to address
    const check = versionFor(r, n, this.versionCheck);
    const p = vault.updateObject(
      check === undefined ? { id, value: this.value } : { id, value: this.value, versionCheck: check },
    );
    if (!m.values.has(n)) {
      expect(NotFoundError.is(await rejection(p))).toBe(true);
      return;
    }
    if (this.versionCheck === 'stale') {
      expect(ConflictError.is(await rejection(p))).toBe(true);
      return;
    }
    const out = await p;
    expect(out.id).toBe(id);
    m.values.set(n, this.value);
    r.previous.set(n, r.current.get(n)!);
    r.current.set(n, out.metadata.versionId!);
  }
  toString = () => `update(${this.k}, ${JSON.stringify(this.value)}, ${this.versionCheck})`;
}

class Delete implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly k: number,
    readonly versionCheck: Check,
  ) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const n = name(r, this.k);
    const id = r.ids.get(n);
    if (id === undefined) return;
    const check = versionFor(r, n, this.versionCheck);
    const p = vault.deleteObject(check === undefined ? { id } : { id, versionCheck: check });
    if (!m.values.has(n)) {
      expect(NotFoundError.is(await rejection(p))).toBe(true);
      return;
    }
    if (this.versionCheck === 'stale') {
      expect(ConflictError.is(await rejection(p))).toBe(true);
      return;
    }
    await p;
    m.values.delete(n);
  }
  toString = () => `delete(${this.k}, ${this.versionCheck})`;
}

class Read implements fc.AsyncCommand<Model, Real> {
  constructor(readonly k: number) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const n = name(r, this.k);
    const expected = m.values.get(n);
    const byName = vault.readObjectByName(n);
    if (expected === undefined) expect(NotFoundError.is(await rejection(byName))).toBe(true);
    else expect((await byName).value).toBe(expected);
    const id = r.ids.get(n);
    if (id === undefined) return;
    const byId = vault.readObject({ id });
    if (expected === undefined) expect(NotFoundError.is(await rejection(byId))).toBe(true);
    else {
      const o = await byId;
      expect(o.value).toBe(expected);
      expect(o.metadata.versionId).toBe(r.current.get(n));
    }
  }
  toString = () => `read(${this.k})`;
}

class List implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const seen: string[] = [];
    for await (const o of vault.objects({ search: `${r.prefix}-`, limit: 2 })) seen.push(o.name);
    expect(seen.sort()).toEqual([...m.values.keys()].sort());
  }
  toString = () => 'list()';
}

test('any sequence of object calls agrees with an in-memory map', async () => {
  let run = 0;
  const k = fc.integer({ min: 0, max: NAMES - 1 });
  const value = fc.string({ unit: 'grapheme', maxLength: 30 });
  const check = fc.constantFrom<Check>('none', 'current', 'stale');
  const commands = fc.commands(
    [
      fc.tuple(k, value).map(([a, b]) => new Create(a, b)),
      fc.tuple(k, value, check).map(([a, b, c]) => new Update(a, b, c)),
      fc.tuple(k, check).map(([a, c]) => new Delete(a, c)),
      k.map((a) => new Read(a)),
      fc.constant(new List()),
    ],
    { maxCommands: 30 },
  );
  await fc.assert(
    fc.asyncProperty(commands, async (cmds) => {
      const real: Real = { prefix: `m${run++}`, ids: new Map(), current: new Map(), previous: new Map() };
      await fc.asyncModelRun(() => ({ model: { values: new Map() }, real }), cmds);
    }),
    { numRuns: 40 },
  );
});
