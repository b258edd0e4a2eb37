/**
 * Arguments are checked before anything is sent: a wrong type is a TypeError, a wrong size or
 * range a RangeError, and the injected fetch is never called.
 */
import { NetworkError, VaultClient } from '@vault-envelope/remote';
import fc from 'fast-check';
import { afterEach, describe, expect, test, vi } from 'vitest';

function offline(): { vault: VaultClient; calls: () => number } {
  let n = 0;
  const fetch = (async () => {
    n++;
    throw new Error('fetch must not be called');
  }) as typeof globalThis.fetch;
  return { vault: new VaultClient({ apiKey: 'sk_test', fetch, retry: 0 }), calls: () => n };
}

describe('constructor', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  test('a missing API key is a clear TypeError', () => {
    vi.stubEnv('WORKOS_API_KEY', '');
    expect(() => new VaultClient()).toThrow(
      new TypeError(
        'VaultClient needs a WorkOS API key: pass { apiKey } or set the WORKOS_API_KEY environment variable',
      ),
    );
    expect(() => new VaultClient({ apiKey: '' })).toThrow(TypeError);
  });

  test('the API key defaults to WORKOS_API_KEY', async () => {
    vi.stubEnv('WORKOS_API_KEY', 'sk_from_env');
    let auth: string | null = null;
    const fetch = (async (input: Request) => {
      auth = input.headers.get('authorization');
      return new Response(JSON.stringify({ data: [], list_metadata: {} }), { status: 200 });
    }) as unknown as typeof globalThis.fetch;
    await new VaultClient({ fetch }).listObjects();
    expect(auth).toBe('Bearer sk_from_env');
  });

  test('bad options are rejected', () => {
    expect(() => new VaultClient({ apiKey: 42 as never })).toThrow(TypeError);
    expect(() => new VaultClient({ apiKey: 'sk_a\r\nX-Evil: 1' })).toThrow(TypeError);
    expect(() => new VaultClient({ apiKey: 'sk', baseUrl: 'not a url' })).toThrow(TypeError);
    expect(() => new VaultClient({ apiKey: 'sk', baseUrl: 'ftp://x' })).toThrow(TypeError);
    expect(() => new VaultClient({ apiKey: 'sk', baseUrl: 'http://x/?a=1' })).toThrow(TypeError);
    expect(() => new VaultClient({ apiKey: 'sk', timeout: -1 })).toThrow(RangeError);
    expect(() => new VaultClient({ apiKey: 'sk', timeout: 0 })).toThrow(RangeError);
    expect(() => new VaultClient({ apiKey: 'sk', deadline: Number.NaN })).toThrow(TypeError);
    expect(() => new VaultClient({ apiKey: 'sk', retry: { limit: -1 } })).toThrow(RangeError);
    expect(() => new VaultClient({ apiKey: 'sk', fetch: 'x' as never })).toThrow(TypeError);
    expect(() => new VaultClient({ apiKey: 'sk', hooks: { beforeRetry: ['x'] as never } })).toThrow(
      TypeError,
    );
    expect(() => new VaultClient('sk' as never)).toThrow(TypeError);
  });

  test('the client does not show its API key when logged', () => {
    const vault = new VaultClient({ apiKey: 'sk_do_not_print' });
    expect(JSON.stringify(vault)).not.toContain('sk_do_not_print');
    expect(String(vault)).not.toContain('sk_do_not_print');
  });
});

describe('arguments are checked before sending', () => {
  test('key contexts: more than 10 entries, long names/values, non-strings', async () => {
    const { vault, calls } = offline();
    const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v']));
    await expect(vault.createDataKey(eleven)).rejects.toThrow(RangeError);
    await expect(vault.createDataKey({ k: 'v'.repeat(501) })).rejects.toThrow(RangeError);
    await expect(vault.createDataKey({ ['n'.repeat(121)]: 'v' })).rejects.toThrow(RangeError);
    await expect(vault.createDataKey({ k: 1 } as never)).rejects.toThrow(TypeError);
    await expect(vault.createDataKey(null as never)).rejects.toThrow(TypeError);
    await expect(vault.createObject({ name: 'n', value: 'v', context: eleven })).rejects.toThrow(RangeError);
    await expect(vault.rekey(new Uint8Array(4), eleven)).rejects.toThrow(RangeError);
    expect(calls()).toBe(0);
  });

  test('property: any context of more than 10 entries is refused without a request', async () => {
    const { vault, calls } = offline();
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), fc.string({ maxLength: 20 }), {
          minKeys: 11,
          maxKeys: 30,
        }),
        async (ctx) => {
          await expect(vault.createDataKey(ctx)).rejects.toThrow(RangeError);
        },
      ),
      { numRuns: 50 },
    );
    expect(calls()).toBe(0);
  });

  test('property: names of 1..200 characters pass validation, longer ones do not', async () => {
    const { vault, calls } = offline();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 400 }), async (len) => {
        const p = vault.createObject({ name: 'x'.repeat(len), value: 'v', context: {} });
        if (len <= 200)
          await expect(p).rejects.toBeInstanceOf(NetworkError); // validation passed, fetch ran
        else await expect(p).rejects.toThrow(RangeError);
      }),
      { numRuns: 60 },
    );
    expect(calls()).toBeGreaterThan(0);
  });

  test('object calls', async () => {
    const { vault, calls } = offline();
    await expect(vault.createObject({ name: '', value: 'v', context: {} })).rejects.toThrow(RangeError);
    await expect(vault.createObject({ name: 'n', value: 5 as never, context: {} })).rejects.toThrow(
      TypeError,
    );
    await expect(vault.createObject(undefined as never)).rejects.toThrow(TypeError);
    await expect(vault.readObject({ id: '' })).rejects.toThrow(RangeError);
    await expect(vault.readObject({ id: 7 as never })).rejects.toThrow(TypeError);
    await expect(vault.readObjectByName('n'.repeat(201))).rejects.toThrow(RangeError);
    await expect(vault.describeObject({} as never)).rejects.toThrow(TypeError);
    await expect(vault.updateObject({ id: 'o', value: 'v', versionCheck: 3 as never })).rejects.toThrow(
      TypeError,
    );
    await expect(vault.deleteObject({ id: 'o', versionCheck: '' })).rejects.toThrow(RangeError);
    await expect(vault.listObjectVersions({ id: null as never })).rejects.toThrow(TypeError);
    await expect(vault.readObject({ id: 'o', signal: 'x' as never })).rejects.toThrow(TypeError);
    expect(calls()).toBe(0);
  });

  test('list options', async () => {
    const { vault, calls } = offline();
    await expect(vault.listObjects({ limit: 0 })).rejects.toThrow(RangeError);
    await expect(vault.listObjects({ limit: 101 })).rejects.toThrow(RangeError);
    await expect(vault.listObjects({ limit: 2.5 })).rejects.toThrow(TypeError);
    await expect(vault.listObjects({ order: 'up' as never })).rejects.toThrow(RangeError);
    await expect(vault.listObjects({ updatedAfter: 'yesterday' })).rejects.toThrow(RangeError);
    await expect(vault.listObjects({ updatedAfter: 5 as never })).rejects.toThrow(TypeError);
    await expect(vault.listObjects({ after: '' })).rejects.toThrow(RangeError);
    expect(() => vault.objects({ limit: 500 })).toThrow(RangeError);
    expect(calls()).toBe(0);
  });

  test('key blobs must be non-empty bytes', async () => {
    const { vault, calls } = offline();
    await expect(vault.decryptDataKey('abc' as never)).rejects.toThrow(TypeError);
    await expect(vault.decryptDataKey(new Uint8Array(0))).rejects.toThrow(RangeError);
    await expect(vault.rekey([1, 2] as never, {})).rejects.toThrow(TypeError);
    expect(calls()).toBe(0);
  });
});
