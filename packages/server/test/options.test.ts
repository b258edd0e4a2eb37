/**
 * Options given in code: every malformed or misspelt option is refused before anything is opened,
 * with a TypeError for a wrong type and a RangeError for a value out of range, in one message
 * shape (`<title> must be <what>, got <kind>`) that never quotes a key.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVaultHandler, type ServerOptions, startServer } from '@vault-envelope/server';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';

type ErrorClass = typeof TypeError | typeof RangeError;
type Case = [options: unknown, error: ErrorClass, message: string];

const MAX = Number.MAX_SAFE_INTEGER;

/** Options refused by both `createVaultHandler` and `startServer`, with their exact messages. */
const HANDLER_CASES: Case[] = [
  [{ maxBodyBytes: 0 }, RangeError, `maxBodyBytes must be in [1, ${MAX}], got 0`],
  [{ maxBodyBytes: 1.5 }, TypeError, 'maxBodyBytes must be an integer, got a fraction'],
  [{ log: true }, TypeError, 'log must be a function or false, got boolean'],
  [{ dataDir: 5 }, TypeError, 'dataDir must be a string, got number'],
  [{ dataDir: '' }, RangeError, 'dataDir must not be empty, got an empty string'],
  [{ memory: 'yes' }, TypeError, 'memory must be a boolean, got string'],
  [{ apiKeys: 'sk_one' }, TypeError, 'apiKeys must be an array, got string'],
  [{ apiKeys: ['pk_1234'] }, RangeError, 'apiKeys[0] must start with "sk_", got another prefix'],
  [{ apiKeys: ['sk_ok', 'sk'] }, RangeError, 'apiKeys[1] must be at least 4 characters, got 2'],
  [{ apiKeys: [5] }, TypeError, 'apiKeys[0] must be a string or an object, got number'],
  [{ apiKeys: [null] }, TypeError, 'apiKeys[0] must be a string or an object, got null'],
  [{ apiKeys: [{ key: 5 }] }, TypeError, 'apiKeys[0].key must be a string, got number'],
  [{ apiKeys: [{ key: 'pk_abcd' }] }, RangeError, 'apiKeys[0].key must start with "sk_", got another prefix'],
  [{ apiKeys: [{ key: 'sk_a', name: 1 }] }, TypeError, 'apiKeys[0].name must be a string, got number'],
  [
    { apiKeys: [{ key: 'sk_a', permissions: 'vault' }] },
    TypeError,
    'apiKeys[0].permissions must be an array, got string',
  ],
  [
    { apiKeys: [{ key: 'sk_a', permissions: [true] }] },
    TypeError,
    'apiKeys[0].permissions[0] must be a string, got boolean',
  ],
  [{ apiKeys: [{ key: 'sk_a', perms: [] }] }, TypeError, 'apiKeys[0] has an unknown option "perms"'],
  [{ rateLimit: 5 }, TypeError, 'rateLimit must be an object or false, got number'],
  [{ rateLimit: null }, TypeError, 'rateLimit must be an object or false, got null'],
  [{ rateLimit: {} }, TypeError, 'rateLimit.limit must be an integer, got undefined'],
  [{ rateLimit: { limit: 0 } }, RangeError, `rateLimit.limit must be in [1, ${MAX}], got 0`],
  [
    { rateLimit: { limit: 5, windowMs: 0 } },
    RangeError,
    'rateLimit.windowMs must be a finite number of milliseconds greater than 0, got 0',
  ],
  [{ rateLimit: { limit: 5, window: 1 } }, TypeError, 'rateLimit has an unknown option "window"'],
  [{ cors: 'yes' }, TypeError, 'cors must be a boolean or an object, got string'],
  [{ cors: {} }, TypeError, 'cors.origins must be an array, got undefined'],
  [{ cors: { origins: [''] } }, RangeError, 'cors.origins[0] must not be empty, got an empty string'],
  [{ masterKey: 5 }, TypeError, 'masterKey must be a string or a Uint8Array, got number'],
  [{ masterKey: new Uint8Array(16) }, RangeError, 'masterKey must be 32 bytes, got 16'],
  [{ masterKey: 'AAAA' }, RangeError, 'masterKey must be base64 of 32 bytes, got 3 bytes'],
  [{ masterKey: '%%%%' }, RangeError, 'masterKey must be base64 of 32 bytes, got malformed base64'],
  [{ faults: 5 }, TypeError, 'faults must be an object, got number'],
  [{ faults: { rate_500: 1 } }, TypeError, 'faults has an unknown option "rate_500"'],
  [{ faults: { rate500: 2 } }, RangeError, 'faults.rate500 must be in [0, 1], got 2'],
  [{ faults: { dropRate: '0.5' } }, TypeError, 'faults.dropRate must be a number, got string'],
  [{ faults: { rate429: Number.NaN } }, TypeError, 'faults.rate429 must be a number, got NaN'],
  [
    { faults: { rate500: 0.6, rate503: 0.6 } },
    RangeError,
    'faults.dropRate + faults.rate429 + faults.rate500 + faults.rate503 must be at most 1, got 1.2',
  ],
  [
    { faults: { latencyMs: -1 } },
    RangeError,
    'faults.latencyMs must be a finite number of milliseconds at least 0, got -1',
  ],
  [
    { faults: { latencyMs: [5, 1] } },
    RangeError,
    'faults.latencyMs[1] must be a finite number of milliseconds at least 5, got 1',
  ],
  [{ faults: { latencyMs: [1] } }, RangeError, 'faults.latencyMs must be [min, max], got 1 items'],
  [
    { faults: { latencyMs: 'slow' } },
    TypeError,
    'faults.latencyMs must be a number or [min, max], got string',
  ],
  [
    { faults: { retryAfterSeconds: -1 } },
    RangeError,
    `faults.retryAfterSeconds must be in [0, ${MAX}], got -1`,
  ],
  [{ faults: { routes: '/vault' } }, TypeError, 'faults.routes must be an array, got string'],
  [{ faults: { routes: [5] } }, TypeError, 'faults.routes[0] must be a string, got number'],
  [{ faults: { seed: 1.5 } }, TypeError, 'faults.seed must be an integer, got a fraction'],
];

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function refusal(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('createVaultHandler options', () => {
  for (const [options, error, message] of HANDLER_CASES) {
    test(message, () => {
      const e = refusal(() => createVaultHandler({ memory: true, ...(options as object) }));
      expect(e).toBeInstanceOf(error);
      expect((e as Error).message).toBe(message);
    });
  }

  test('the options must be an object; a misspelt or a server-only option is refused by name', () => {
    expect(() => createVaultHandler(null as never)).toThrow(
      new TypeError('createVaultHandler options must be an object, got null'),
    );
    expect(() => createVaultHandler({ memroy: true } as never)).toThrow(
      new TypeError('createVaultHandler options has an unknown option "memroy"'),
    );
    expect(() => createVaultHandler({ memory: true, port: 0 } as never)).toThrow(
      new TypeError('createVaultHandler options has an unknown option "port"'),
    );
  });

  test('a malformed option, the master key included, is refused before the data directory is created', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'vault-options-')), 'data');
    dirs.push(dir);
    expect(() => createVaultHandler({ dataDir: dir, maxBodyBytes: 0 })).toThrow(RangeError);
    expect(() => createVaultHandler({ dataDir: dir, masterKey: 'AAAA' })).toThrow(RangeError);
    expect(existsSync(dir)).toBe(false);
  });

  test('the edges of each range are accepted', () => {
    const accepted: Omit<ServerOptions, 'host' | 'port'>[] = [
      { maxBodyBytes: 1 },
      { rateLimit: { limit: 1, windowMs: 0.5 } },
      { rateLimit: false, log: false, cors: false },
      { cors: true, apiKeys: [] },
      { cors: { origins: [] }, apiKeys: ['sk_a', { key: 'sk_b', name: 'b', permissions: [] }] },
      { faults: { dropRate: 0.25, rate429: 0.25, rate500: 0.25, rate503: 0.25 } },
      { faults: { latencyMs: [0, 0], retryAfterSeconds: 0, routes: [], seed: -1 } },
      { masterKey: new Uint8Array(32), dataDir: '/unused-with-memory' },
    ];
    for (const options of accepted) createVaultHandler({ memory: true, ...options }).close();
  });

  test('setFaults checks as the option does, and keeps the settings it had when it refuses', async () => {
    const h = createVaultHandler({ memory: true, apiKeys: ['sk_test'], faults: { rate503: 1 } });
    try {
      expect(() => h.setFaults({ rate503: 1.5 })).toThrow(
        new RangeError('faults.rate503 must be in [0, 1], got 1.5'),
      );
      expect(() => h.setFaults(null as never)).toThrow(new TypeError('faults must be an object, got null'));
      const res = await h.fetch(
        new Request('http://vault/vault/v1/kv', { headers: { Authorization: 'Bearer sk_test' } }),
      );
      expect(res.status).toBe(503);
    } finally {
      h.close();
    }
  });

  test('property: a refused API key or master key is never quoted in the message', () => {
    const secret = fc.string({ minLength: 12, maxLength: 60 }).filter((s) => !s.startsWith('sk_'));
    fc.assert(
      fc.property(secret, (s) => {
        for (const options of [{ apiKeys: [s] }, { apiKeys: [{ key: s }] }, { masterKey: s }]) {
          const e = refusal(() => createVaultHandler({ memory: true, ...options }));
          expect(e).toBeInstanceOf(RangeError);
          expect((e as Error).message).not.toContain(s);
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('startServer options', () => {
  const cases: Case[] = [
    ['x', TypeError, 'startServer options must be an object, got string'],
    [{ prot: 0 }, TypeError, 'startServer options has an unknown option "prot"'],
    [{ port: 70000 }, RangeError, 'port must be in [0, 65535], got 70000'],
    [{ port: -1 }, RangeError, 'port must be in [0, 65535], got -1'],
    [{ port: 1.5 }, TypeError, 'port must be an integer, got a fraction'],
    [{ port: '8787' }, TypeError, 'port must be an integer, got string'],
    [{ host: '' }, RangeError, 'host must not be empty, got an empty string'],
    [{ host: 127 }, TypeError, 'host must be a string, got number'],
    // The handler's options are checked by the same rules, under the same titles.
    [
      { port: 0, memory: true, rateLimit: { limit: 0 } },
      RangeError,
      `rateLimit.limit must be in [1, ${MAX}], got 0`,
    ],
  ];
  for (const [options, error, message] of cases) {
    test(message, async () => {
      const e = await startServer(options as ServerOptions).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(error);
      expect((e as Error).message).toBe(message);
    });
  }
});
