/**
 * Model-based test: random sequences of calls against the cache and against a plain reference
 * model (arrays, linear scans, no cleverness), with a fake clock. After every command the key the
 * cache returned must be the one the model predicts, and every counter must match. Commands:
 * encrypt, decrypt, clock steps, provider failures, `clear()` and `retire()` (one context or all).
 */
import { type CachedKeyProvider, cachedKeyProvider, type KeyCacheStats } from '@vault-envelope/cache';
import { type DataKey, SharedDataKey } from '@vault-envelope/core';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { CountingProvider, FakeClock, httpError } from './_helpers.js';

interface Limits {
  maxAge: number;
  capacity: number;
  maxMessages: number;
  maxBytes: number | undefined;
  staleIfError: number | undefined;
}

interface ModelEntry {
  /** The object the real cache returned when the model created this entry. */
  obj: DataKey | undefined;
  ctx: number | undefined;
  blob: string;
  /** When the key was last fetched or confirmed (its decryption age). */
  created: number;
  /** When it was first fetched (its encryption age, never renewed). */
  encCreated: number;
  messages: number;
  bytes: number;
}

/** The counters of the cache, without the gauges. */
type Counters = Omit<KeyCacheStats, 'partition' | 'size' | 'inFlight'>;

class Model {
  /** Least recently used first. */
  entries: ModelEntry[] = [];
  /** Blobs a Decrypt command can ask for, as hex, with their bytes and key. */
  blobs: { hex: string; bytes: Uint8Array; key: Uint8Array }[] = [];
  failNext: 'transient' | 'fatal' | undefined;
  c: Counters = {
    hits: 0,
    misses: 0,
    coalesced: 0,
    remoteCalls: 0,
    refreshes: 0,
    uncached: 0,
    evictions: 0,
    expirations: 0,
    retired: 0,
    retiredOnRequest: 0,
    staleServes: 0,
  };
  constructor(readonly limits: Limits) {}

  get maxBytes(): number {
    return this.limits.maxBytes ?? Number.MAX_SAFE_INTEGER;
  }

  sweep(now: number): void {
    const deadline = this.limits.maxAge + (this.limits.staleIfError ?? 0);
    const keep = this.entries.filter((e) => now - e.created <= deadline);
    this.c.expirations += this.entries.length - keep.length;
    this.entries = keep;
  }

  touch(e: ModelEntry): void {
    this.entries = this.entries.filter((x) => x !== e);
    this.entries.push(e);
  }

  insert(e: ModelEntry): void {
    this.entries.push(e);
    while (this.entries.length > this.limits.capacity) {
      this.entries.shift();
      this.c.evictions++;
    }
  }

  /** Consumes the injected failure of the next provider call. */
  takeFailure(): 'transient' | 'fatal' | undefined {
    const f = this.failNext;
    this.failNext = undefined;
    return f;
  }
}

interface Real {
  keys: CachedKeyProvider;
  clock: FakeClock;
  provider: CountingProvider;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const contexts = [{ org: 'a' }, { org: 'b' }, { org: 'a', env: 'prod' }];

function checkStats(m: Model, r: Real): void {
  const { partition: _p, size, inFlight, ...counters } = r.keys.stats();
  expect(counters).toEqual(m.c);
  expect(size).toBe(m.entries.length);
  expect(inFlight).toBe(0);
  const s = r.keys.stats();
  expect(s.remoteCalls).toBe(s.misses - s.coalesced + s.refreshes);
  expect(r.provider.calls.length).toBe(s.remoteCalls);
}

class Encrypt implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly ctx: number,
    readonly usage: { messages: number; bytes: number } | undefined,
  ) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const now = r.clock.now;
    const opts = this.usage === undefined ? undefined : { usage: this.usage };
    const got = r.keys.createDataKey(contexts[this.ctx]!, opts).then(
      (v) => ({ ok: true as const, v }),
      (e: unknown) => ({ ok: false as const, e }),
    );
    m.sweep(now);
    const msgs = this.usage?.messages ?? 1;
    const bytes = this.usage?.bytes ?? 0;
    const L = m.limits;
    if (
      msgs > L.maxMessages ||
      bytes > m.maxBytes ||
      (this.usage === undefined && L.maxBytes !== undefined)
    ) {
      m.c.misses++;
      m.c.uncached++;
      m.c.remoteCalls++;
      const fail = m.takeFailure();
      const res = await got;
      expect(res.ok).toBe(fail === undefined);
      if (res.ok) expect(res.v).not.toBeInstanceOf(SharedDataKey);
      return checkStats(m, r);
    }
    const e = m.entries.find((x) => x.ctx === this.ctx);
    if (e !== undefined) {
      if (now - e.encCreated <= L.maxAge) {
        if (e.messages + msgs <= L.maxMessages && e.bytes + bytes <= m.maxBytes) {
          e.messages += msgs;
          e.bytes += bytes;
          m.touch(e);
          m.c.hits++;
          const res = await got;
          expect(res.ok && res.v === e.obj).toBe(true);
          return checkStats(m, r);
        }
        m.c.retired++;
      }
      e.ctx = undefined;
    }
    m.c.misses++;
    m.c.remoteCalls++;
    const fail = m.takeFailure();
    const res = await got;
    if (fail !== undefined) {
      expect(res.ok).toBe(false);
      return checkStats(m, r);
    }
    if (!res.ok) throw res.e;
    expect(res.v).toBeInstanceOf(SharedDataKey);
    expect(m.entries.some((x) => x.obj === res.v)).toBe(false);
    const blob = res.v.encryptedKeys;
    m.blobs.push({ hex: hex(blob), bytes: blob, key: res.v.key });
    m.insert({
      obj: res.v,
      ctx: this.ctx,
      blob: hex(blob),
      created: now,
      encCreated: now,
      messages: msgs,
      bytes,
    });
    checkStats(m, r);
  }
  toString = () => `Encrypt(${this.ctx}, ${JSON.stringify(this.usage)})`;
}

class Decrypt implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.blobs.length > 0;
  async run(m: Model, r: Real): Promise<void> {
    const now = r.clock.now;
    const b = m.blobs[this.pick % m.blobs.length]!;
    const got = r.keys.decryptDataKey(b.bytes.slice()).then(
      (v) => ({ ok: true as const, v }),
      (e: unknown) => ({ ok: false as const, e }),
    );
    m.sweep(now);
    const e = m.entries.find((x) => x.blob === b.hex);
    if (e !== undefined && now - e.created <= m.limits.maxAge) {
      m.touch(e);
      m.c.hits++;
      const res = await got;
      expect(res.ok && res.v === e.obj).toBe(true);
      return checkStats(m, r);
    }
    m.c.misses++;
    m.c.remoteCalls++;
    const fail = m.takeFailure();
    const res = await got;
    if (fail !== undefined) {
      if (fail === 'transient' && m.limits.staleIfError !== undefined && e !== undefined) {
        m.c.staleServes++;
        expect(res.ok && res.v === e.obj).toBe(true);
      } else {
        expect(res.ok).toBe(false);
      }
      return checkStats(m, r);
    }
    if (!res.ok) throw res.e;
    expect(res.v.key).toEqual(b.key);
    if (e !== undefined) {
      // Confirmed in place: same object, new decryption clock; its encryption age is unchanged.
      expect(res.v).toBe(e.obj);
      e.created = now;
      m.touch(e);
    } else {
      m.insert({
        obj: res.v,
        ctx: undefined,
        blob: b.hex,
        created: now,
        encCreated: now,
        messages: 0,
        bytes: 0,
      });
    }
    checkStats(m, r);
  }
  toString = () => `Decrypt(${this.pick})`;
}

class Advance implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(_m: Model, r: Real): Promise<void> {
    r.clock.advance(this.ms);
  }
  toString = () => `Advance(${this.ms})`;
}

class FailNext implements fc.AsyncCommand<Model, Real> {
  constructor(readonly kind: 'transient' | 'fatal') {}
  check = (m: Readonly<Model>) => m.failNext === undefined;
  async run(m: Model, r: Real): Promise<void> {
    m.failNext = this.kind;
    r.provider.failures = [this.kind === 'transient' ? httpError(503) : httpError(403)];
  }
  toString = () => `FailNext(${this.kind})`;
}

class Clear implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const held = m.entries.map((e) => e.obj as SharedDataKey);
    r.keys.clear();
    m.entries = [];
    for (const k of held) expect(k.destroyed).toBe(true);
    checkStats(m, r);
  }
  toString = () => 'Clear';
}

class Retire implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ctx: number | undefined) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const n = r.keys.retire(this.ctx === undefined ? undefined : contexts[this.ctx]);
    m.sweep(r.clock.now);
    let expected = 0;
    for (const e of m.entries) {
      if (e.ctx === undefined || (this.ctx !== undefined && e.ctx !== this.ctx)) continue;
      // Retired from encryption only: it stays, and keeps serving decryption of its blob.
      e.ctx = undefined;
      expected++;
    }
    m.c.retiredOnRequest += expected;
    expect(n).toBe(expected);
    checkStats(m, r);
  }
  toString = () => `Retire(${this.ctx ?? ''})`;
}

const limitsArb: fc.Arbitrary<Limits> = fc.record({
  maxAge: fc.integer({ min: 1, max: 200 }),
  capacity: fc.integer({ min: 1, max: 4 }),
  maxMessages: fc.integer({ min: 1, max: 5 }),
  maxBytes: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }),
  staleIfError: fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined }),
});

const encryptArb = fc
  .tuple(
    fc.integer({ min: 0, max: contexts.length - 1 }),
    fc.option(
      fc.record({ messages: fc.integer({ min: 0, max: 6 }), bytes: fc.integer({ min: 0, max: 45 }) }),
      {
        nil: undefined,
      },
    ),
  )
  .map(([c, u]) => new Encrypt(c, u));
const decryptArb = fc.nat().map((n) => new Decrypt(n));

// Encrypt and Decrypt are listed twice to weigh them; most clock steps are short, some expire all.
const commandsArb = fc.commands(
  [
    encryptArb,
    encryptArb,
    decryptArb,
    decryptArb,
    fc.integer({ min: 0, max: 20 }).map((ms) => new Advance(ms)),
    fc.integer({ min: 0, max: 250 }).map((ms) => new Advance(ms)),
    fc.constantFrom('transient' as const, 'fatal' as const).map((k) => new FailNext(k)),
    fc.constant(new Clear()),
    fc.option(fc.integer({ min: 0, max: contexts.length - 1 }), { nil: undefined }).map((c) => new Retire(c)),
  ],
  { maxCommands: 80, size: '+1' },
);

test('the cache agrees with a reference model: ages, usage limits, LRU capacity and every counter', async () => {
  await fc.assert(
    fc.asyncProperty(limitsArb, commandsArb, async (limits, cmds) => {
      const clock = new FakeClock();
      const provider = new CountingProvider();
      const options: Parameters<typeof cachedKeyProvider>[1] = {
        maxAge: limits.maxAge,
        capacity: limits.capacity,
        maxMessages: limits.maxMessages,
        clock: clock.read,
      };
      if (limits.maxBytes !== undefined) options.maxBytes = limits.maxBytes;
      if (limits.staleIfError !== undefined) options.staleIfError = limits.staleIfError;
      const keys = cachedKeyProvider(provider, options);
      const model = new Model(limits);
      // Two blobs the cache has never seen, so that Decrypt has something from the start.
      for (const ctx of contexts.slice(0, 2)) {
        const dk = await provider.inner.createDataKey(ctx);
        model.blobs.push({ hex: hex(dk.encryptedKeys), bytes: dk.encryptedKeys, key: dk.key });
      }
      await fc.asyncModelRun(() => ({ model, real: { keys, clock, provider } }), cmds);
      await keys.close();
    }),
    { numRuns: 300 },
  );
});
