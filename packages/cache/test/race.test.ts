/**
 * Race tests: fast-check's scheduler decides the order in which provider answers and caller
 * arrivals happen, and explores many orders.
 */
import { cachedKeyProvider } from '@vault-envelope/cache';
import {
  type CreateDataKeyOptions,
  type DataKey,
  type KeyContext,
  type KeyProvider,
  type KeyRequestOptions,
  MemoryKeyProvider,
  SharedDataKey,
} from '@vault-envelope/core';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { FakeClock, flush } from './_helpers.js';

const ctx = { organization_id: 'org_1' };

/** A provider whose every answer is released by the scheduler, and that can fail its first calls. */
function scheduledProvider(s: fc.Scheduler, failFirst = 0) {
  const inner = new MemoryKeyProvider();
  const calls: string[] = [];
  let failures = failFirst;
  const answer = s.scheduleFunction(async function providerAnswer(f: () => Promise<DataKey>) {
    if (failures > 0) {
      failures--;
      throw new Error('provider failed');
    }
    return f();
  });
  const provider: KeyProvider = {
    createDataKey(context: KeyContext, _o?: CreateDataKeyOptions) {
      calls.push('create');
      return answer(() => inner.createDataKey(context));
    },
    decryptDataKey(blob: Uint8Array, _o?: KeyRequestOptions) {
      calls.push('decrypt');
      return answer(() => inner.decryptDataKey(blob));
    },
  };
  return { inner, calls, provider };
}

test('a cold burst of 3000 concurrent lookups makes exactly 1 provider call', async () => {
  await fc.assert(
    fc.asyncProperty(fc.scheduler(), fc.boolean(), async (s, decryptSide) => {
      const { inner, calls, provider } = scheduledProvider(s);
      const blob = (await inner.createDataKey(ctx)).encryptedKeys;
      const keys = cachedKeyProvider(provider, { maxAge: 60_000 });
      const lookup = () => (decryptSide ? keys.decryptDataKey(blob.slice()) : keys.createDataKey(ctx));
      const all = Promise.all(Array.from({ length: 3000 }, lookup));
      await s.waitAll();
      const got = await all;
      expect(calls.length).toBe(1);
      expect(new Set(got).size).toBe(1);
      expect(got[0]).toBeInstanceOf(SharedDataKey);
      expect(keys.stats()).toMatchObject({ misses: 3000, coalesced: 2999, remoteCalls: 1, hits: 0 });
      expect(await lookup()).toBe(got[0]);
    }),
    { numRuns: 10 },
  );
});

test('callers arriving in any order while a fetch is in flight share it; aborts end only their own wait', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.scheduler(),
      fc.array(fc.record({ decrypt: fc.boolean(), abort: fc.boolean() }), { minLength: 1, maxLength: 30 }),
      async (s, callers) => {
        const { inner, calls, provider } = scheduledProvider(s);
        const dk = await inner.createDataKey(ctx);
        const keys = cachedKeyProvider(provider, { maxAge: 60_000 });
        const results = callers.map(async (c, i) => {
          await s.schedule(Promise.resolve(), `arrive ${i}`);
          const ac = new AbortController();
          const p = c.decrypt
            ? keys.decryptDataKey(dk.encryptedKeys, { signal: ac.signal })
            : keys.createDataKey(ctx, { signal: ac.signal });
          if (c.abort)
            s.schedule(Promise.resolve(), `abort ${i}`).then(() => ac.abort(new Error(`left ${i}`)));
          return p.then(
            (k) => ({ k, aborted: ac.signal.aborted }),
            (e: Error) => ({ e, aborted: ac.signal.aborted }),
          );
        });
        await s.waitAll();
        const outcomes = await Promise.all(results);
        // At most one call per side, whatever the order and whoever left.
        expect(calls.filter((c) => c === 'create').length).toBeLessThanOrEqual(1);
        expect(calls.filter((c) => c === 'decrypt').length).toBeLessThanOrEqual(1);
        const keysSeen = new Set<DataKey>();
        outcomes.forEach((o, i) => {
          if ('e' in o) {
            // Only a caller that aborted is rejected, and with its own reason.
            expect(o.aborted).toBe(true);
            expect(o.e.message).toBe(`left ${i}`);
          } else {
            keysSeen.add(o.k);
            // A decrypt caller gets the key of the blob it asked for.
            if (callers[i]!.decrypt) expect(o.k.key).toEqual(dk.key);
          }
        });
        // Encrypt callers all got one key; decrypt callers one (maybe the same, if the create
        // finished first and served the blob).
        expect(keysSeen.size).toBeLessThanOrEqual(2);
        expect(keys.stats().inFlight).toBe(0);
      },
    ),
    { numRuns: 60 },
  );
});

test('a failed fetch reaches only the callers waiting on it, never a caller arriving later', async () => {
  await fc.assert(
    fc.asyncProperty(fc.scheduler(), fc.integer({ min: 1, max: 25 }), async (s, n) => {
      const { calls, provider } = scheduledProvider(s, 1);
      const keys = cachedKeyProvider(provider, { maxAge: 60_000 });
      let failureDelivered = false;
      const results = Array.from({ length: n }, async (_, i) => {
        await s.schedule(Promise.resolve(), `arrive ${i}`);
        const arrivedAfterFailure = failureDelivered;
        try {
          const k = await keys.createDataKey(ctx);
          return { ok: true, arrivedAfterFailure, k };
        } catch {
          failureDelivered = true;
          return { ok: false, arrivedAfterFailure };
        }
      });
      await s.waitAll();
      const outcomes = await Promise.all(results);
      for (const o of outcomes) {
        if (o.arrivedAfterFailure) expect(o.ok).toBe(true);
      }
      // The first caller always arrives before the failure, so it is the one that saw it.
      expect(outcomes.some((o) => !o.ok)).toBe(true);
      expect(calls.length).toBe(outcomes.some((o) => o.ok) ? 2 : 1);
      expect(keys.stats().size).toBe(outcomes.some((o) => o.ok) ? 1 : 0);
    }),
    { numRuns: 80 },
  );
});

test('concurrent encrypt callers never get one key for more than maxMessages messages', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.scheduler(),
      fc.integer({ min: 1, max: 8 }),
      fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 1, maxLength: 40 }),
      async (s, maxMessages, usages) => {
        const { provider } = scheduledProvider(s);
        const keys = cachedKeyProvider(provider, { maxAge: 60_000, maxMessages });
        const results = usages.map(async (messages, i) => {
          await s.schedule(Promise.resolve(), `arrive ${i}`);
          return { messages, k: await keys.createDataKey(ctx, { usage: { messages, bytes: 0 } }) };
        });
        await s.waitAll();
        const perKey = new Map<DataKey, number>();
        for (const { messages, k } of await Promise.all(results)) {
          if (messages > maxMessages) {
            expect(k).not.toBeInstanceOf(SharedDataKey);
            continue;
          }
          perKey.set(k, (perKey.get(k) ?? 0) + messages);
        }
        for (const total of perKey.values()) expect(total).toBeLessThanOrEqual(maxMessages);
      },
    ),
    { numRuns: 100 },
  );
});

test('refresh-ahead never blocks callers while a valid key exists', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.scheduler(),
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 0, max: 199 }),
      async (s, n, into) => {
        const clock = new FakeClock();
        const inner = new MemoryKeyProvider();
        let scheduled = false;
        const later = s.scheduleFunction(async function refreshAnswer(c: KeyContext) {
          return inner.createDataKey(c);
        });
        const provider: KeyProvider = {
          createDataKey: (c) => (scheduled ? later(c) : inner.createDataKey(c)),
          decryptDataKey: (b) => inner.decryptDataKey(b),
        };
        const keys = cachedKeyProvider(provider, { maxAge: 1000, refreshAhead: 200, clock: clock.read });
        const first = await keys.createDataKey(ctx);
        scheduled = true;
        clock.advance(800 + into); // inside the refresh window, before expiry
        // Every call resolves at once with the current key, while the refresh waits in the scheduler.
        const got = await Promise.all(Array.from({ length: n }, () => keys.createDataKey(ctx)));
        for (const k of got) expect(k).toBe(first);
        expect(s.count()).toBe(1);
        expect(keys.stats().refreshes).toBe(1);
        await s.waitAll();
        await flush();
        const next = await keys.createDataKey(ctx);
        expect(next).not.toBe(first);
        expect(keys.stats()).toMatchObject({ refreshes: 1, remoteCalls: 2, misses: 1 });
      },
    ),
    { numRuns: 40 },
  );
});

test('any interleaving of calls, failures, clear() and close(): nothing hangs, counters add up, every key ends zeroed', async () => {
  const step = fc.oneof(
    fc.record({
      op: fc.constant('create' as const),
      ctx: fc.integer({ min: 0, max: 2 }),
      messages: fc.integer({ min: 1, max: 3 }),
    }),
    fc.record({ op: fc.constant('decrypt' as const), blob: fc.integer({ min: 0, max: 2 }) }),
    fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 700 }) }),
    fc.constant({ op: 'clear' as const }),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.scheduler(),
      fc.array(step, { maxLength: 30 }),
      fc.integer({ min: 0, max: 3 }),
      async (s, steps, fails) => {
        const { inner, calls, provider } = scheduledProvider(s, fails);
        const clock = new FakeClock();
        const blobs: Uint8Array[] = [];
        for (let i = 0; i < 3; i++) blobs.push((await inner.createDataKey({ b: String(i) })).encryptedKeys);
        const keys = cachedKeyProvider(provider, {
          maxAge: 1000,
          maxMessages: 4,
          capacity: 2,
          refreshAhead: 300,
          staleIfError: 500,
          isTransientError: () => true,
          clock: clock.read,
        });
        const handedOut: DataKey[] = [];
        const settled = steps.map(async (st, i) => {
          await s.schedule(Promise.resolve(), `step ${i}`);
          if (st.op === 'advance') return clock.advance(st.ms);
          if (st.op === 'clear') return keys.clear();
          const p =
            st.op === 'create'
              ? keys.createDataKey({ t: String(st.ctx) }, { usage: { messages: st.messages, bytes: 0 } })
              : keys.decryptDataKey(blobs[st.blob]!);
          await p.then(
            (k) => void handedOut.push(k),
            () => {},
          );
        });
        await s.waitAll();
        await Promise.all(settled); // nothing hangs
        const st = keys.stats();
        expect(st.remoteCalls).toBe(st.misses - st.coalesced + st.refreshes);
        expect(calls.length).toBe(st.remoteCalls);
        const closing = keys.close();
        await s.waitAll();
        await closing;
        expect(keys.stats()).toMatchObject({ size: 0, inFlight: 0 });
        for (const k of handedOut) {
          if (k instanceof SharedDataKey) expect(k.destroyed).toBe(true);
        }
      },
    ),
    { numRuns: 150 },
  );
});
