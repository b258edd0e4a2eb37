/**
 * `loadIndexKey` against the local server (a blind-index root key stored as a Vault object, as
 * `vault-envelope index-key create` writes it), and against a stand-in for every refusal; and
 * `keyBlobHeaders`: the headers that the blobs of WorkOS Vault and of the local server start with.
 */
import { readFileSync } from 'node:fs';
import { BlindIndex, decodeBase64, encodeBase64 } from '@vault-envelope/core';
import {
  VaultClient as Client,
  InvalidValueError,
  loadIndexKey,
  NotFoundError,
  type VaultClient,
  VaultError,
  type VaultObject,
} from '@vault-envelope/remote';
import { type RunningServer, startServer } from '@vault-envelope/server';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { caught } from './_caught.js';

let srv: RunningServer;
let vault: VaultClient;

beforeAll(async () => {
  srv = await startServer({ port: 0, memory: true, apiKeys: ['sk_index'], rateLimit: false });
  vault = new Client({ apiKey: 'sk_index', baseUrl: srv.url, retry: 0 });
});

afterAll(async () => {
  await srv?.close();
});

function randomKey(): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(32));
}

/** A stand-in client whose `readObjectByName` answers `value`. */
function holding(value: string): Pick<VaultClient, 'readObjectByName'> {
  return {
    readObjectByName: async (name) => {
      const n = typeof name === 'string' ? name : name.name;
      return { id: 'obj_1', name: n, value, metadata: {} as VaultObject['metadata'] };
    },
  };
}

describe('loadIndexKey against the local server', () => {
  test('reads back the 32 bytes stored under a name with a slash, in memory of their own', async () => {
    const key = randomKey();
    await vault.createObject({
      name: 'blind-index/users.email',
      value: encodeBase64(key),
      context: { app: 'idx' },
    });
    const loaded = await loadIndexKey(vault, 'blind-index/users.email');
    expect(loaded).toEqual(key);
    loaded.fill(0);
    expect(await loadIndexKey(vault, 'blind-index/users.email')).toEqual(key);
    // The key works as a blind index's root key: the same value indexes the same way.
    const a = new BlindIndex({ key, name: 'users.email' });
    const b = new BlindIndex({
      key: await loadIndexKey(vault, 'blind-index/users.email'),
      name: 'users.email',
    });
    expect(b.compute('ada@example.com')).toEqual(a.compute('ada@example.com'));
  });

  test('a missing object is NotFoundError; a stored value that is not a key is InvalidValueError', async () => {
    await expect(loadIndexKey(vault, 'blind-index/missing')).rejects.toBeInstanceOf(NotFoundError);
    const secretish = `${encodeBase64(randomKey()).slice(0, 43)}`;
    await vault.createObject({ name: 'blind-index/short', value: secretish, context: {} });
    const e = await caught(loadIndexKey(vault, 'blind-index/short'));
    expect(e).toBeInstanceOf(InvalidValueError);
    expect(InvalidValueError.is(e)).toBe(true);
    expect(e.code).toBe('INVALID_VALUE');
    expect(e.message).toBe(
      "the object's value must be the standard base64 of 32 bytes (44 characters), got 43 characters: GET /vault/v1/kv/name/blind-index%2Fshort returned 200",
    );
    expect(e.message).not.toContain(secretish.slice(0, 8));
  });

  test('a name that is not an object name is refused before anything is sent', async () => {
    const before = srv.stats().total;
    await expect(loadIndexKey(vault, '..')).rejects.toThrow(
      new TypeError('name must be one URL path segment (not "." or ".."), got a dot segment'),
    );
    await expect(loadIndexKey(vault, 'a\nb')).rejects.toThrow(TypeError);
    await expect(loadIndexKey(vault, 5 as never)).rejects.toThrow(
      new TypeError('name must be a string, got number'),
    );
    expect(srv.stats().total).toBe(before);
  });
});

describe('loadIndexKey refuses every value that is not exactly a key', () => {
  const key = randomKey();
  const good = encodeBase64(key);
  const refusals: [string, string, string][] = [
    [
      '30 bytes',
      encodeBase64(key.subarray(0, 30)),
      'must be the standard base64 of 32 bytes (44 characters), got 40 characters',
    ],
    [
      '33 bytes',
      encodeBase64(new Uint8Array(33).fill(7)),
      'must be the standard base64 of 32 bytes, got 33 bytes',
    ],
    [
      '31 bytes in 44 characters',
      encodeBase64(new Uint8Array(31).fill(7)),
      'must be the standard base64 of 32 bytes, got 31 bytes',
    ],
    [
      'a trailing newline',
      `${good}\n`,
      'must be the standard base64 of 32 bytes (44 characters), got 45 characters',
    ],
    [
      'a leading space',
      ` ${good.slice(0, 43)}`,
      'must be the standard base64 of 32 bytes, got 44 characters that are not',
    ],
    [
      'the URL-safe alphabet',
      encodeBase64(new Uint8Array(32).fill(0xfb)).replace(/\+/g, '-').replace(/\//g, '_'),
      'must be the standard base64 of 32 bytes, got 44 characters that are not',
    ],
    [
      'non-zero padding bits',
      `${good.slice(0, 42)}B=`,
      'must be the standard base64 of 32 bytes, got 44 characters that are not',
    ],
    ['32 zero bytes', encodeBase64(new Uint8Array(32)), 'must be a key, got 32 zero bytes'],
    ['an empty value', '', 'must be the standard base64 of 32 bytes (44 characters), got 0 characters'],
  ];
  test.each(refusals)('%s', async (_, value, what) => {
    const e = await caught(loadIndexKey(holding(value), 'blind-index/x'));
    expect(e).toBeInstanceOf(InvalidValueError);
    expect(e.message).toBe(`the object's value ${what}: GET /vault/v1/kv/name/blind-index%2Fx returned 200`);
  });

  test('property: accepted exactly when the value is the canonical base64 of 32 bytes, not all zero', async () => {
    const near = fc.oneof(
      fc.uint8Array({ minLength: 30, maxLength: 34 }).map((b) => encodeBase64(b)),
      fc.string({ minLength: 40, maxLength: 48 }),
      fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => {
        const s = encodeBase64(b);
        return `${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
      }),
    );
    await fc.assert(
      fc.asyncProperty(near, async (value) => {
        let expected: Uint8Array | undefined;
        try {
          const d = decodeBase64(value, 'v');
          if (d.length === 32 && d.some((b) => b !== 0)) expected = d;
        } catch {
          expected = undefined;
        }
        const got = await loadIndexKey(holding(value), 'k').catch((e: unknown) => e);
        if (expected === undefined) {
          expect(got).toBeInstanceOf(InvalidValueError);
          expect(VaultError.is(got) && (got as Error).message).not.toContain(value.slice(0, 12) || '\u0000');
        } else {
          expect(got).toEqual(expected);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('keyBlobHeaders', () => {
  const text = (b: Uint8Array): string => new TextDecoder().decode(b);

  test('WOS.EKM. and VES.EKM.v1\\0, each at least 6 bytes', () => {
    const headers = vault.keyBlobHeaders;
    expect(headers.map(text)).toEqual(['WOS.EKM.', 'VES.EKM.v1\u0000']);
    for (const h of headers) expect(h.length).toBeGreaterThanOrEqual(6);
  });

  test('the local server’s blobs and a WorkOS blob each start with one of them', async () => {
    const starts = (blob: Uint8Array): boolean =>
      vault.keyBlobHeaders.some((h) => h.every((byte, i) => blob[i] === byte));
    const dk = await vault.createDataKey({ org: 'o' });
    expect(starts(dk.encryptedKeys)).toBe(true);
    expect(text(dk.encryptedKeys.subarray(0, 11))).toBe('VES.EKM.v1\u0000');
    // A real WorkOS blob: the one of the test vector taken from the real API, and the example
    // of the OpenAPI spec (base64 of `WOS.EKM.v1\0` and a key id).
    const vectors = JSON.parse(
      readFileSync(new URL('../../core/test/vectors/workos_vectors.json', import.meta.url), 'utf8'),
    ) as { name: string; encrypted_keys: string }[];
    const real = vectors.filter((v) => v.name.includes('real-api'));
    expect(real.length).toBeGreaterThan(0);
    for (const v of real) expect(starts(decodeBase64(v.encrypted_keys, 'blob'))).toBe(true);
    expect(
      starts(decodeBase64('V09TLkVLTS52MQBiZjUxY2NlYy03OGI0LTUyMDAtYjM4My0zNTczMGU3MWVmNjE=', 'blob')),
    ).toBe(true);
    expect(starts(new TextEncoder().encode('XYZ.EKM.v1\u0000...'))).toBe(false);
  });

  test('a holder can not change what another reads: fresh bytes each time, a frozen list', () => {
    const first = vault.keyBlobHeaders;
    first[0]!.fill(0);
    expect(Object.isFrozen(first)).toBe(true);
    expect(text(vault.keyBlobHeaders[0]!)).toBe('WOS.EKM.');
  });
});
