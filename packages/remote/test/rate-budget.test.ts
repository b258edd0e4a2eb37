/**
 * The client's rate budget: the headers it reads, the token bucket it starts with (exact numbers
 * on an injected clock), a model-based property against a simulated fixed-window server (random
 * latencies, reordering, clock skew: the server never has to refuse), the waiting queue (first
 * come first served, bounded by the deadline, aborted by the signal), and the local server over
 * real HTTP: N calls under a small limit never see a 429 and spread over the windows the budget
 * implies.
 */
import { __TESTS, RateLimitError, VaultClient } from '@vault-envelope/remote';
import { type RunningServer, startServer } from '@vault-envelope/server';
import fc from 'fast-check';
import { afterEach, describe, expect, test } from 'vitest';

const { RateBudget, rateReportOf, requestedWait } = __TESTS;

const MINUTE = 60_000;

function headers(h: Record<string, string>): Headers {
  return new Headers(h);
}

describe('rateReportOf', () => {
  const now = Date.parse('2026-01-01T00:00:10.400Z');

  test('Unix seconds, read against the server Date (whole seconds, rounded down)', () => {
    const reset = String(Date.parse('2026-01-01T00:01:00Z') / 1000);
    const r = rateReportOf(
      headers({
        'x-ratelimit-limit': '1000',
        'x-ratelimit-remaining': '998',
        'x-ratelimit-reset': reset,
        date: 'Thu, 01 Jan 2026 00:00:10 GMT',
      }),
      now,
    );
    expect(r).toEqual({ limit: 1000, remaining: 998, window: Number(reset) * 1000, endsIn: 50_000 });
  });

  test('without a Date header, against the client clock; a skewed client clock does not matter with one', () => {
    const reset = String(Date.parse('2026-01-01T00:01:00Z') / 1000);
    const base = { 'x-ratelimit-remaining': '5', 'x-ratelimit-reset': reset };
    expect(rateReportOf(headers(base), now)?.endsIn).toBe(49_600);
    const dated = { ...base, date: 'Thu, 01 Jan 2026 00:00:10 GMT' };
    expect(rateReportOf(headers(dated), now + 30_000)?.endsIn).toBe(50_000);
    expect(rateReportOf(headers(dated), now - 30_000)?.endsIn).toBe(50_000);
  });

  test('Unix milliseconds, and seconds from now (then windows have no identity)', () => {
    const ms = rateReportOf(
      headers({ 'x-ratelimit-remaining': '1', 'x-ratelimit-reset': String(now + 1234) }),
      now,
    );
    expect(ms).toEqual({ limit: undefined, remaining: 1, window: now + 1234, endsIn: 1234 });
    const delta = rateReportOf(headers({ 'x-ratelimit-remaining': '7', 'x-ratelimit-reset': '12' }), now);
    expect(delta).toEqual({ limit: undefined, remaining: 7, window: undefined, endsIn: 12_000 });
  });

  test('missing or malformed Remaining or Reset: no report; a bad Limit is ignored', () => {
    expect(rateReportOf(headers({ 'x-ratelimit-reset': '12' }), now)).toBeUndefined();
    expect(rateReportOf(headers({ 'x-ratelimit-remaining': '3' }), now)).toBeUndefined();
    expect(
      rateReportOf(headers({ 'x-ratelimit-remaining': '-1', 'x-ratelimit-reset': '1' }), now),
    ).toBeUndefined();
    expect(
      rateReportOf(headers({ 'x-ratelimit-remaining': '3', 'x-ratelimit-reset': 'soon' }), now),
    ).toBeUndefined();
    const r = rateReportOf(
      headers({ 'x-ratelimit-limit': '0', 'x-ratelimit-remaining': '3', 'x-ratelimit-reset': '1' }),
      now,
    );
    expect(r?.limit).toBeUndefined();
  });
});

/** A clock a test moves by hand. */
function manualClock(start = 1_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

describe('the token bucket before any rate-limit header', () => {
  test('a tenth of the budget at once, then the rest spread over the minute', () => {
    const clock = manualClock();
    const b = new RateBudget(60, clock.now);
    for (let i = 0; i < 6; i++) expect(b.take()).toBe(0);
    // 55 tokens a minute refill (60 - 6 + 1: see the module header): one every 60000/55 ms.
    expect(b.take()).toBe(Math.ceil(MINUTE / 55));
    clock.advance(Math.floor(MINUTE / 55));
    expect(b.take()).toBeGreaterThan(0);
    clock.advance(1);
    expect(b.take()).toBe(0);
    expect(b.inFlight).toBe(7);
  });

  test('one request a minute is possible (and no more)', () => {
    const clock = manualClock();
    const b = new RateBudget(1, clock.now);
    expect(b.take()).toBe(0);
    expect(b.take()).toBe(MINUTE);
    clock.advance(MINUTE - 1);
    expect(b.take()).toBe(1);
    clock.advance(1);
    expect(b.take()).toBe(0);
  });

  test('property: no half-open span of 60 s ever holds more than requestsPerMinute grants', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 1, max: 50 })), {
          maxLength: 150,
        }),
        (limit, steps) => {
          const clock = manualClock();
          const b = new RateBudget(limit, clock.now);
          const grants: number[] = [];
          for (const [advance, tries] of steps) {
            clock.advance(advance);
            for (let i = 0; i < tries; i++) {
              if (b.take() !== 0) break;
              grants.push(clock.now());
              b.settle(undefined);
            }
          }
          // Sliding window over the grant times: the grant `limit` places later must be 60 s on.
          for (let i = limit; i < grants.length; i++) {
            expect(grants[i]! - grants[i - limit]!).toBeGreaterThanOrEqual(MINUTE);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

/**
 * A fixed-window limiter as the local server has it: a window opens with the first request after
 * the last one ended; answers carry Limit, Remaining, Reset (Unix seconds, rounded up), a Date
 * (rounded down), and `Retry-After` on a 429.
 */
class FixedWindowServer {
  #start = Number.NEGATIVE_INFINITY;
  #count = 0;
  refused = 0;
  counted = 0;
  constructor(
    readonly limit: number,
    readonly windowMs: number,
    readonly sendDate: boolean,
  ) {}

  answer(serverNow: number): { status: number; headers: Headers } {
    if (serverNow >= this.#start + this.windowMs) {
      this.#start = serverNow;
      this.#count = 0;
    }
    this.#count++;
    this.counted++;
    const end = this.#start + this.windowMs;
    const h: Record<string, string> = {
      'x-ratelimit-limit': String(this.limit),
      'x-ratelimit-remaining': String(Math.max(0, this.limit - this.#count)),
      'x-ratelimit-reset': String(Math.ceil(end / 1000)),
    };
    if (this.sendDate) h['date'] = new Date(serverNow).toUTCString();
    if (this.#count > this.limit) {
      this.refused++;
      h['retry-after'] = String(Math.max(1, Math.ceil((end - serverNow) / 1000)));
      return { status: 429, headers: new Headers(h) };
    }
    return { status: 200, headers: new Headers(h) };
  }
}

describe('model: the budget against a fixed-window server', () => {
  const scenario = fc
    .record({
      limit: fc.integer({ min: 1, max: 12 }),
      windowMs: fc.integer({ min: 200, max: 4_000 }),
      sendDate: fc.boolean(),
      // Server clock minus client clock. Without a Date header the client reads the reset on its
      // own clock, which is only safe when it does not run ahead of the server's.
      skew: fc.integer({ min: -40_000, max: 40_000 }),
      latencies: fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 2, maxLength: 40 }),
      steps: fc.array(
        fc.record({ want: fc.integer({ min: 0, max: 12 }), advance: fc.integer({ min: 0, max: 1_500 }) }),
        {
          minLength: 1,
          maxLength: 50,
        },
      ),
      prior: fc.integer({ min: 1, max: 12 }),
    })
    .map((s) => ({ ...s, skew: s.sendDate ? s.skew : Math.abs(s.skew), prior: Math.min(s.prior, s.limit) }));

  test('property: an eager client never makes the server refuse, and always gets a token again', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const EPOCH = 1_767_225_600_000; // the client's Date.now() at t = 0
        let t = 0;
        const budget = new RateBudget(s.prior, () => t);
        const server = new FixedWindowServer(s.limit, s.windowMs, s.sendDate);
        type Event = { at: number; kind: 'arrive' | 'deliver'; id: number };
        const events: Event[] = [];
        const answers = new Map<number, { status: number; headers: Headers }>();
        let nextId = 0;
        let lat = 0;
        const latency = (): number => s.latencies[lat++ % s.latencies.length]!;
        let pending = 0;
        let sending = true;

        const drain = (): void => {
          while (sending && pending > 0 && budget.take() === 0) {
            pending--;
            const id = nextId++;
            const up = latency();
            const down = latency();
            events.push({ at: t + up, kind: 'arrive', id }, { at: t + up + down, kind: 'deliver', id });
          }
        };
        const runUntil = (until: number): void => {
          for (;;) {
            events.sort((a, b) => a.at - b.at || (a.kind === 'arrive' ? -1 : 1));
            const e = events[0];
            if (e === undefined || e.at > until) {
              // Nothing more before `until`: move there, let the client send what it may, and
              // go on if that sent something that lands by then.
              t = until;
              drain();
              if (!events.some((x) => x.at <= until)) return;
              continue;
            }
            events.shift();
            t = e.at;
            if (e.kind === 'arrive') {
              answers.set(e.id, server.answer(EPOCH + t + s.skew));
            } else {
              const a = answers.get(e.id)!;
              const clientNow = EPOCH + t;
              const pause = a.status === 429 ? requestedWait(a.headers, clientNow, true) : undefined;
              budget.settle(rateReportOf(a.headers, clientNow), pause);
              drain();
            }
          }
        };

        for (const step of s.steps) {
          pending += step.want;
          drain();
          runUntil(t + step.advance);
        }
        // Let everything in flight land (sending nothing more, forgetting the demand left), then
        // let every window and the bucket refill: a token is there again.
        sending = false;
        pending = 0;
        runUntil(t + 1_000);
        expect(server.refused).toBe(0);
        expect(budget.inFlight).toBe(0);
        t += s.windowMs + 2_000 + MINUTE;
        expect(budget.nextTokenIn()).toBe(0);
        // And the rest of the demand is served, never refused.
        // And more demand is served, never refused, in time: at worst one bucket of the server's
        // limit a minute (the budget does not know how long the server's windows are).
        sending = true;
        pending = 3 * s.limit;
        const start = t;
        for (let i = 0; i < 10_000 && (pending > 0 || events.length > 0); i++) {
          const next = Math.min(...events.map((e) => e.at), t + Math.max(1, budget.nextTokenIn()));
          runUntil(next);
        }
        expect(pending).toBe(0);
        expect(server.refused).toBe(0);
        expect(t - start).toBeLessThanOrEqual(3 * MINUTE + 3 * (s.windowMs + 2_000));
      }),
      { numRuns: Number(process.env.MODEL_RUNS ?? 400) },
    );
  });

  test('property: a server that says nothing leaves the client on its own budget', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.integer({ min: 0, max: 3_000 }), { maxLength: 100 }),
        (limit, advances) => {
          let t = 0;
          const b = new RateBudget(limit, () => t);
          const sent: number[] = [];
          for (const a of advances) {
            t += a;
            while (b.take() === 0) {
              sent.push(t);
              b.settle(rateReportOf(new Headers({ date: new Date().toUTCString() }), Date.now()));
            }
          }
          for (let i = limit; i < sent.length; i++)
            expect(sent[i]! - sent[i - limit]!).toBeGreaterThanOrEqual(MINUTE);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('the server word, exactly', () => {
  const report = (remaining: number, endsIn: number, window?: number, limit?: number) => ({
    limit,
    remaining,
    window,
    endsIn,
  });

  test('Remaining less what is in flight, until the reset; then the quota is back', () => {
    const clock = manualClock();
    const b = new RateBudget(6_000, clock.now);
    expect(b.take()).toBe(0);
    expect(b.take()).toBe(0);
    expect(b.take()).toBe(0); // three in flight
    b.settle(report(4, 1_000, 5_000, 10)); // the server counted 6; two others still in flight
    expect(b.inFlight).toBe(2);
    expect(b.take()).toBe(0);
    expect(b.take()).toBe(0);
    expect(b.take()).toBe(1_000);
    clock.advance(1_000);
    // The window is over: the bucket at the server's limit (10 a minute: 1 at once).
    expect(b.take()).toBe(0);
    expect(b.take()).toBeGreaterThan(0);
  });

  test('within a window the lowest count wins; a late answer about an older window is ignored', () => {
    const clock = manualClock();
    const b = new RateBudget(6_000, clock.now);
    for (let i = 0; i < 4; i++) b.take();
    b.settle(report(5, 2_000, 9_000)); // window 9000: 5 left, 3 in flight → 2
    b.settle(report(9, 2_000, 9_000)); // an answer generated earlier: does not raise it (2 in flight)
    expect(b.take()).toBe(0);
    expect(b.take()).toBe(0);
    expect(b.take()).toBe(2_000);
    clock.advance(2_000);
    b.take();
    b.settle(report(7, 3_000, 10_000)); // the next window
    b.settle(report(0, 500, 9_000)); // late news of window 9000: ignored
    expect(b.take()).toBe(0);
  });

  test('a 429 pauses every request for the wait it asked for', () => {
    const clock = manualClock();
    const b = new RateBudget(6_000, clock.now);
    b.take();
    b.settle(undefined, 1_500);
    expect(b.take()).toBe(1_500);
    clock.advance(1_500);
    expect(b.take()).toBe(0);
  });
});

describe('waiting for a token', () => {
  /** A budget whose server window is spent for `ms` (then the bucket holds `burst` tokens). */
  function spent(ms: number, perMinute: number): InstanceType<typeof RateBudget> {
    const b = new RateBudget(perMinute);
    b.take();
    b.settle({ limit: undefined, remaining: 0, window: undefined, endsIn: ms });
    return b;
  }

  test('waiters are served first come, first served once tokens come back', async () => {
    const b = spent(120, 60); // then 6 tokens at once
    const order: number[] = [];
    const far = performance.now() + 10_000;
    const waits = [0, 1, 2].map(async (i) => {
      const r = await b.acquire(far);
      order.push(i);
      return r;
    });
    expect(await Promise.all(waits)).toEqual([0, 0, 0]);
    expect(order).toEqual([0, 1, 2]);
    expect(b.inFlight).toBe(3);
  });

  test('a token that can not come before the deadline is refused at once, with the wait', async () => {
    const b = spent(5_000, 60);
    const t0 = performance.now();
    const refused = await b.acquire(t0 + 200);
    expect(refused).toBeGreaterThan(4_500);
    expect(refused).toBeLessThanOrEqual(5_000);
    expect(performance.now() - t0).toBeLessThan(150);
    expect(b.inFlight).toBe(0);
  });

  test('a deadline that passes in the queue refuses that waiter and keeps the others', async () => {
    const b = spent(80, 5); // then 1 token, and the next in 12 s
    const now = performance.now();
    const first = b.acquire(now + 10_000);
    const second = b.acquire(now + 300);
    expect(await first).toBe(0);
    expect(await second).toBeGreaterThan(0);
    expect(b.inFlight).toBe(1);
  });

  test('an aborted signal rejects the waiter with its reason', async () => {
    const b = spent(10_000, 60);
    const c = new AbortController();
    const reason = new Error('caller gave up');
    const p = b.acquire(performance.now() + 20_000, c.signal);
    setTimeout(() => c.abort(reason), 30);
    await expect(p).rejects.toBe(reason);
    expect(b.inFlight).toBe(0);
  });
});

describe('against the local server (real HTTP)', () => {
  let srv: RunningServer | undefined;
  afterEach(async () => {
    await srv?.close();
    srv = undefined;
  });

  /** A fetch that records the rate-limit headers of every answer. */
  function recordingFetch(seen: { status: number; reset: string | null }[]): typeof globalThis.fetch {
    return (async (input: RequestInfo | URL, init?: RequestInit) => {
      const res = await globalThis.fetch(input, init);
      seen.push({ status: res.status, reset: res.headers.get('x-ratelimit-reset') });
      return res;
    }) as typeof globalThis.fetch;
  }

  test('N concurrent calls under a limit of 5 a window: no 429, each window within its limit', async () => {
    const log: string[] = [];
    srv = await startServer({
      port: 0,
      memory: true,
      apiKeys: ['sk_budget'],
      rateLimit: { limit: 5, windowMs: 1_000 },
      log: (line) => log.push(line),
    });
    const seen: { status: number; reset: string | null }[] = [];
    const vault = new VaultClient({
      apiKey: 'sk_budget',
      baseUrl: srv.url,
      rateLimit: { requestsPerMinute: 5 },
      fetch: recordingFetch(seen),
    });
    const N = 13;
    const keys = await Promise.all(
      Array.from({ length: N }, (_, i) => vault.createDataKey({ n: String(i) })),
    );
    expect(keys.every((k) => k.key.length === 32)).toBe(true);
    // Exactly N requests reached the server, none was refused, none retried.
    expect(srv.stats().total).toBe(N);
    expect(log.filter((l) => / 429 /.test(l))).toEqual([]);
    expect(seen.every((s) => s.status === 200)).toBe(true);
    // The calls spread over at least ceil(N / 5) windows, at most 5 in each.
    const perWindow = new Map<string, number>();
    for (const s of seen) perWindow.set(s.reset!, (perWindow.get(s.reset!) ?? 0) + 1);
    expect(perWindow.size).toBeGreaterThanOrEqual(Math.ceil(N / 5));
    for (const n of perWindow.values()) expect(n).toBeLessThanOrEqual(5);
  });

  test('the default budget against the default local server: a burst of 300 calls, no 429', async () => {
    srv = await startServer({ port: 0, memory: true, apiKeys: ['sk_burst'] });
    const vault = new VaultClient({ apiKey: 'sk_burst', baseUrl: srv.url, retry: 0 });
    const dk = await vault.createDataKey({ org: 'o' });
    const out = await Promise.all(Array.from({ length: 300 }, () => vault.decryptDataKey(dk.encryptedKeys)));
    expect(out.every((k) => k.id === dk.id)).toBe(true);
    expect(srv.stats().total).toBe(301);
  });

  test('a server that sends no rate-limit headers: the configured budget spaces the calls', async () => {
    srv = await startServer({ port: 0, memory: true, apiKeys: ['sk_quiet'], rateLimit: false });
    const sentAt: number[] = [];
    const vault = new VaultClient({
      apiKey: 'sk_quiet',
      baseUrl: srv.url,
      rateLimit: { requestsPerMinute: 120 }, // 12 at once, then one every 60000/109 ms
      hooks: { beforeRequest: [() => void sentAt.push(performance.now())] },
    });
    await Promise.all(Array.from({ length: 14 }, () => vault.listObjects()));
    expect(srv.stats().total).toBe(14);
    // The 13th and 14th waited for their tokens (a lower bound of the wait, not a speed).
    expect(sentAt[12]! - sentAt[0]!).toBeGreaterThanOrEqual(MINUTE / 109 - 20);
    expect(sentAt[13]! - sentAt[0]!).toBeGreaterThanOrEqual((2 * MINUTE) / 109 - 20);
  });

  test('a call whose deadline comes before its token fails at once with RateLimitError, nothing sent', async () => {
    srv = await startServer({ port: 0, memory: true, apiKeys: ['sk_dl'], rateLimit: false });
    const vault = new VaultClient({
      apiKey: 'sk_dl',
      baseUrl: srv.url,
      deadline: 1_000,
      rateLimit: { requestsPerMinute: 1 },
    });
    await vault.listObjects();
    const t0 = performance.now();
    const e = await vault.listObjects().catch((x: unknown) => x);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(e).toBeInstanceOf(RateLimitError);
    expect((e as RateLimitError).retryAfter).toBeGreaterThan(50);
    expect(srv.stats().total).toBe(1);
  });
});
