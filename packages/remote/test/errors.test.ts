import { runInNewContext } from 'node:vm';
import {
  __TESTS,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  InvalidValueError,
  NetworkError,
  NotFoundError,
  PermissionError,
  RateLimitError,
  ServerError,
  TimeoutError,
  UnprocessableEntityError,
  VaultError,
} from '@vault-envelope/remote';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

const { errorForStatus } = __TESTS;

const req = { method: 'GET', path: '/vault/v1/kv/obj_1', requestId: 'req_1', serverMessage: 'nope' };

describe('errorForStatus', () => {
  const table = [
    [400, BadRequestError, 'BAD_REQUEST'],
    [401, AuthenticationError, 'AUTHENTICATION'],
    [403, PermissionError, 'PERMISSION'],
    [404, NotFoundError, 'NOT_FOUND'],
    [408, TimeoutError, 'TIMEOUT'],
    [409, ConflictError, 'CONFLICT'],
    [422, UnprocessableEntityError, 'UNPROCESSABLE_ENTITY'],
    [429, RateLimitError, 'RATE_LIMIT'],
    [500, ServerError, 'SERVER'],
    [503, ServerError, 'SERVER'],
  ] as const;
  test.each(table)('%i maps to its class', (status, cls, code) => {
    const e = errorForStatus(status, req);
    expect(e).toBeInstanceOf(cls);
    expect(e).toBeInstanceOf(VaultError);
    expect(e.code).toBe(code);
    expect(e.status).toBe(status);
    expect(e.requestId).toBe('req_1');
    expect(e.method).toBe('GET');
    expect(e.path).toBe('/vault/v1/kv/obj_1');
    expect(e.serverMessage).toBe('nope');
    expect(e.attempts).toBe(1);
  });

  test('the message names the request, status, server message and request id', () => {
    expect(errorForStatus(404, req).message).toBe(
      'Vault found no such object: GET /vault/v1/kv/obj_1 returned 404: nope (request id req_1)',
    );
    expect(errorForStatus(503, { ...req, attempts: 4 }).message).toBe(
      'Vault failed to handle the request: GET /vault/v1/kv/obj_1 returned 503: nope (request id req_1) after 4 attempts',
    );
    expect(new NetworkError({ method: 'POST', path: '/vault/v1/kv', cause: new Error('x') }).message).toBe(
      'could not reach Vault: POST /vault/v1/kv',
    );
  });

  test('an unknown 4xx is a plain VaultError with code UNEXPECTED_STATUS', () => {
    const e = errorForStatus(418, req);
    expect(e.constructor).toBe(VaultError);
    expect(e.code).toBe('UNEXPECTED_STATUS');
    expect(e.message).toBe(
      'Vault answered with unexpected status 418: GET /vault/v1/kv/obj_1 returned 418: nope (request id req_1)',
    );
  });

  test('RateLimitError carries retryAfter in seconds', () => {
    const e = errorForStatus(429, req, 2.5) as RateLimitError;
    expect(e.retryAfter).toBe(2.5);
    expect((errorForStatus(429, req) as RateLimitError).retryAfter).toBeUndefined();
  });

  test('every status in 100..599 outside 2xx maps to a VaultError with that status', () => {
    fc.assert(
      fc.property(fc.integer({ min: 300, max: 599 }), (status) => {
        const e = errorForStatus(status, req);
        return VaultError.is(e) && e.status === status && (status < 500 || ServerError.is(e));
      }),
    );
  });

  test('the server message is trimmed to 300 characters', () => {
    const e = errorForStatus(400, { ...req, serverMessage: 'x'.repeat(5000) });
    expect(e.serverMessage).toHaveLength(300);
    expect(e.message.length).toBeLessThan(420);
  });
});

describe('type guards', () => {
  const d = { method: 'GET', path: '/vault/v1/kv/x' };
  const byDetails = [
    BadRequestError,
    AuthenticationError,
    PermissionError,
    NotFoundError,
    ConflictError,
    UnprocessableEntityError,
    RateLimitError,
    ServerError,
    TimeoutError,
    NetworkError,
  ] as const;
  const classes = [...byDetails, InvalidValueError] as const;
  const instances: VaultError[] = [
    ...byDetails.map((C) => new C(d)),
    new InvalidValueError('must be a key, got 32 zero bytes', d),
  ];

  test('VaultError.is accepts every subclass; a subclass accepts only its own case', () => {
    for (const e of instances) expect(VaultError.is(e)).toBe(true);
    for (const C of classes) {
      for (const e of instances) expect(C.is(e), `${C.name}.is(${e.name})`).toBe(e instanceof C);
    }
    expect(NotFoundError.is(errorForStatus(404, req))).toBe(true);
    expect(ConflictError.is(errorForStatus(404, req))).toBe(false);
  });

  test('every subclass has its own static code, the code of its instances', () => {
    expect(new Set(classes.map((C) => C.code)).size).toBe(classes.length);
    for (const [i, C] of classes.entries()) expect(instances[i]!.code).toBe(C.code);
  });

  test('a plain VaultError (unexpected status, invalid response) is a VaultError of no subclass', () => {
    const plain = [
      errorForStatus(418, req),
      new VaultError('Vault sent an unexpected response', 'INVALID_RESPONSE', d),
    ];
    for (const e of plain) {
      expect(VaultError.is(e)).toBe(true);
      for (const C of classes) expect(C.is(e)).toBe(false);
    }
  });

  test('anything else is no VaultError, whatever its name or code', () => {
    for (const x of [
      new Error('x'),
      null,
      undefined,
      'NOT_FOUND',
      { code: 'NOT_FOUND' },
      Object.assign(new Error('x'), { name: 'NotFoundError', code: 'NOT_FOUND' }),
      { code: 'NOT_FOUND', [Symbol.for('vault-envelope.VaultError')]: 'yes' },
      { code: 'CACHE_CLOSED', [Symbol.for('vault-envelope.KeyCacheError')]: true },
    ]) {
      expect(VaultError.is(x)).toBe(false);
      expect(NotFoundError.is(x)).toBe(false);
    }
  });

  test('they work across copies of the package (brand by Symbol.for, not instanceof)', () => {
    const foreign = { code: 'CONFLICT', [Symbol.for('vault-envelope.VaultError')]: true };
    expect(VaultError.is(foreign)).toBe(true);
    expect(ConflictError.is(foreign)).toBe(true);
    expect(NotFoundError.is(foreign)).toBe(false);
  });

  test('they work across realms: an error made in another vm context', () => {
    const other = runInNewContext(`
      class NotFoundError extends Error {}
      const e = new NotFoundError('not found');
      Object.defineProperty(e, Symbol.for('vault-envelope.VaultError'), { value: true });
      e.code = 'NOT_FOUND';
      e;
    `) as unknown;
    expect(other instanceof Error).toBe(false); // another realm's Error
    expect(VaultError.is(other)).toBe(true);
    expect(NotFoundError.is(other)).toBe(true);
    expect(ServerError.is(other)).toBe(false);
  });

  test('they work unbound (errors.filter(NotFoundError.is))', () => {
    const mixed: unknown[] = [...instances, new Error('x'), errorForStatus(418, req)];
    expect(mixed.filter(VaultError.is)).toHaveLength(instances.length + 1);
    for (const [i, C] of classes.entries()) expect(mixed.filter(C.is)).toEqual([instances[i]]);
  });

  test('RateLimitError from the client budget says so; InvalidValueError says what, never the value', () => {
    const budget = new RateLimitError({ method: 'GET', path: '/vault/v1/kv', attempts: 0 }, 12, 'budget');
    expect(budget.message).toBe(
      "the client's rate budget has no request left before the call's deadline: GET /vault/v1/kv",
    );
    expect(budget.status).toBeUndefined();
    expect(budget.attempts).toBe(0);
    expect(budget.retryAfter).toBe(12);
    const invalid = new InvalidValueError('must be a key, got 32 zero bytes', { ...d, status: 200 });
    expect(invalid.message).toBe(
      "the object's value must be a key, got 32 zero bytes: GET /vault/v1/kv/x returned 200",
    );
    expect(invalid.code).toBe('INVALID_VALUE');
    expect(invalid.name).toBe('InvalidValueError');
  });

  test('cause is kept', () => {
    const cause = new TypeError('fetch failed');
    expect(new NetworkError({ method: 'GET', path: '/p', cause }).cause).toBe(cause);
  });
});
