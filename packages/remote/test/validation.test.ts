/**
 * Arguments are checked before anything is sent: a wrong type is a TypeError, a wrong size or
 * range a RangeError, and the injected fetch is never called. Every message is asserted exactly:
 * `<title> must be <what>, got <kind>`, never the value passed.
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

  const key =
    'apiKey must be a WorkOS API key (pass { apiKey } or set the WORKOS_API_KEY environment variable)';

  test('a missing API key is a clear TypeError', () => {
    vi.stubEnv('WORKOS_API_KEY', '');
    expect(() => new VaultClient()).toThrow(new TypeError(`${key}, got undefined`));
    expect(() => new VaultClient({})).toThrow(new TypeError(`${key}, got undefined`));
    expect(() => new VaultClient({ apiKey: '' })).toThrow(new TypeError(`${key}, got an empty string`));
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

  const ms = 'must be a finite number of milliseconds greater than 0';
  const url = 'baseUrl must be an absolute http or https URL';
  test.each([
    ['apiKey: 42', { apiKey: 42 }, new TypeError('apiKey must be a string, got number')],
    [
      'apiKey with a line break',
      { apiKey: 'sk_a\r\nX-Evil: 1' },
      new TypeError(
        'apiKey must be well-formed text without control characters, got a control character at index 4',
      ),
    ],
    [
      'apiKey with a NUL',
      { apiKey: 'sk_a\u0000b' },
      new TypeError(
        'apiKey must be well-formed text without control characters, got a control character at index 4',
      ),
    ],
    ['baseUrl: 5', { baseUrl: 5 }, new TypeError('baseUrl must be a string, got number')],
    [
      'baseUrl not a URL',
      { baseUrl: 'not a url' },
      new TypeError(`${url}, got a string that is not an absolute URL`),
    ],
    ['baseUrl ftp:', { baseUrl: 'ftp://x' }, new TypeError(`${url}, got a URL of another scheme`)],
    [
      'baseUrl with a query',
      { baseUrl: 'http://x/?a=1' },
      new TypeError(`${url} without a query or a fragment, got a URL with one`),
    ],
    [
      'baseUrl with a fragment',
      { baseUrl: 'http://x/#f' },
      new TypeError(`${url} without a query or a fragment, got a URL with one`),
    ],
    ['timeout: -1', { timeout: -1 }, new RangeError(`timeout ${ms}, got -1`)],
    ['timeout: 0', { timeout: 0 }, new RangeError(`timeout ${ms}, got 0`)],
    ['timeout: "5"', { timeout: '5' }, new TypeError('timeout must be a number of milliseconds, got string')],
    [
      'deadline: NaN',
      { deadline: Number.NaN },
      new TypeError('deadline must be a number of milliseconds, got NaN'),
    ],
    [
      'deadline: Infinity',
      { deadline: Number.POSITIVE_INFINITY },
      new RangeError(`deadline ${ms}, got Infinity`),
    ],
    ['retry: 101', { retry: 101 }, new RangeError('retry must be in [0, 100], got 101')],
    ['retry.limit: -1', { retry: { limit: -1 } }, new RangeError('retry.limit must be in [0, 100], got -1')],
    ['fetch: "x"', { fetch: 'x' }, new TypeError('fetch must be a function, got string')],
    ['userAgent: 5', { userAgent: 5 }, new TypeError('userAgent must be a string, got number')],
    ['hooks: "x"', { hooks: 'x' }, new TypeError('hooks must be an object, got string')],
    [
      'hooks.afterResponse: a function',
      { hooks: { afterResponse: () => {} } },
      new TypeError('hooks.afterResponse must be an array of functions, got function'),
    ],
    [
      'hooks.beforeRetry: ["x"]',
      { hooks: { beforeRetry: [() => {}, 'x'] } },
      new TypeError('hooks.beforeRetry[1] must be a function, got string'),
    ],
  ])('%s is refused with its exact message', (_, options, error) => {
    expect(() => new VaultClient({ apiKey: 'sk', ...(options as object) })).toThrow(error);
  });

  test('the options must be an object', () => {
    expect(() => new VaultClient('sk' as never)).toThrow(
      new TypeError('VaultClient options must be an object, got string'),
    );
    expect(() => new VaultClient(null as never)).toThrow(
      new TypeError('VaultClient options must be an object, got null'),
    );
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
    // The checks are core's validateKeyContext (its wording is core's); the client names the
    // argument in the title.
    const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v']));
    await expect(vault.createDataKey(eleven)).rejects.toThrow(RangeError);
    await expect(vault.createDataKey({ k: 'v'.repeat(501) })).rejects.toThrow(RangeError);
    await expect(vault.createDataKey({ ['n'.repeat(121)]: 'v' })).rejects.toThrow(RangeError);
    await expect(vault.createDataKey({ k: 1 } as never)).rejects.toThrow(TypeError);
    await expect(vault.createDataKey(null as never)).rejects.toThrow(
      new TypeError('key context must be an object, got null'),
    );
    await expect(vault.createObject({ name: 'n', value: 'v', context: eleven })).rejects.toThrow(
      new RangeError('context must have at most 10 entries, got 11'),
    );
    await expect(vault.rekey(new Uint8Array(4), eleven)).rejects.toThrow(
      new RangeError('new key context must have at most 10 entries, got 11'),
    );
    await expect(vault.rekey(new Uint8Array(4), 'ctx' as never)).rejects.toThrow(
      new TypeError('new key context must be an object, got string'),
    );
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
        else
          await expect(p).rejects.toThrow(new RangeError(`name must be at most 200 characters, got ${len}`));
      }),
      { numRuns: 60 },
    );
    expect(calls()).toBeGreaterThan(0);
  });

  test('object calls', async () => {
    const { vault, calls } = offline();
    const cases: [Promise<unknown>, Error][] = [
      [
        vault.createObject({ name: '', value: 'v', context: {} }),
        new RangeError('name must not be empty, got an empty string'),
      ],
      [
        vault.createObject({ name: 'n', value: 5 as never, context: {} }),
        new TypeError('value must be a string, got number'),
      ],
      [
        vault.createObject(undefined as never),
        new TypeError('createObject options must be an object, got undefined'),
      ],
      [vault.readObject({ id: '' }), new RangeError('id must not be empty, got an empty string')],
      [vault.readObject({ id: 7 as never }), new TypeError('id must be a string, got number')],
      [vault.readObject(null as never), new TypeError('readObject options must be an object, got null')],
      [
        vault.readObjectByName('n'.repeat(201)),
        new RangeError('name must be at most 200 characters, got 201'),
      ],
      [vault.readObjectByName({ name: 3 } as never), new TypeError('name must be a string, got number')],
      [vault.describeObject({} as never), new TypeError('id must be a string, got undefined')],
      [
        vault.updateObject({ id: 'o', value: 'v', versionCheck: 3 as never }),
        new TypeError('versionCheck must be a string, got number'),
      ],
      [
        vault.deleteObject({ id: 'o', versionCheck: '' }),
        new RangeError('versionCheck must not be empty, got an empty string'),
      ],
      [vault.listObjectVersions({ id: null as never }), new TypeError('id must be a string, got null')],
      [
        vault.readObject({ id: 'o', signal: 'x' as never }),
        new TypeError('options.signal must be an AbortSignal, got string'),
      ],
      [
        vault.readObjectByName('n', Promise.resolve({}) as never),
        new TypeError('options must be an object, got Promise'),
      ],
    ];
    for (const [p, error] of cases) await expect(p).rejects.toThrow(error);
    expect(calls()).toBe(0);
  });

  test('list options', async () => {
    const { vault, calls } = offline();
    const cases: [Promise<unknown>, Error][] = [
      [vault.listObjects({ limit: 0 }), new RangeError('limit must be in [1, 100], got 0')],
      [vault.listObjects({ limit: 101 }), new RangeError('limit must be in [1, 100], got 101')],
      [vault.listObjects({ limit: 2.5 }), new TypeError('limit must be an integer, got a fraction')],
      [
        vault.listObjects({ order: 'up' as never }),
        new RangeError("order must be 'asc' or 'desc', got another string"),
      ],
      [vault.listObjects({ order: 1 as never }), new TypeError('order must be a string, got number')],
      [
        vault.listObjects({ updatedAfter: 'yesterday' }),
        new RangeError('updatedAfter must be a valid date, got a string that is not a date'),
      ],
      [
        vault.listObjects({ updatedAfter: new Date(Number.NaN) }),
        new RangeError('updatedAfter must be a valid date, got an invalid Date'),
      ],
      [
        vault.listObjects({ updatedAfter: 5 as never }),
        new TypeError('updatedAfter must be a Date or a string, got number'),
      ],
      [vault.listObjects({ after: '' }), new RangeError('after must not be empty, got an empty string')],
      [vault.listObjects({ before: 9 as never }), new TypeError('before must be a string, got number')],
      [vault.listObjects({ search: [] as never }), new TypeError('search must be a string, got array')],
      [vault.listObjects(null as never), new TypeError('listObjects options must be an object, got null')],
    ];
    for (const [p, error] of cases) await expect(p).rejects.toThrow(error);
    expect(() => vault.objects({ limit: 500 })).toThrow(new RangeError('limit must be in [1, 100], got 500'));
    expect(calls()).toBe(0);
  });

  test('key blobs must be non-empty bytes', async () => {
    const { vault, calls } = offline();
    await expect(vault.decryptDataKey('abc' as never)).rejects.toThrow(
      new TypeError('encryptedKeys must be a Uint8Array, got string'),
    );
    await expect(vault.decryptDataKey(new Uint8Array(0))).rejects.toThrow(
      new RangeError('encryptedKeys must not be empty, got 0 bytes'),
    );
    await expect(vault.rekey([1, 2] as never, {})).rejects.toThrow(
      new TypeError('encryptedKeys must be a Uint8Array, got array'),
    );
    await expect(vault.decryptDataKey(new Uint8Array(4), { signal: {} as never })).rejects.toThrow(
      new TypeError('options.signal must be an AbortSignal, got object'),
    );
    expect(calls()).toBe(0);
  });

  test('property: a message never quotes the string that was refused', async () => {
    const { vault, calls } = offline();
    const secret = fc.string({ minLength: 4, maxLength: 40 }).map((s) => `S3CR3T${s}`);
    await fc.assert(
      fc.asyncProperty(secret, async (s) => {
        const refused: unknown[] = [];
        const collect = async (p: Promise<unknown>) => {
          await p.then(
            () => refused.push(undefined),
            (e: unknown) => refused.push(e),
          );
        };
        const sync = (f: () => unknown) => {
          try {
            f();
            refused.push(undefined);
          } catch (e) {
            refused.push(e);
          }
        };
        sync(() => new VaultClient({ apiKey: `${s}\n` }));
        sync(() => new VaultClient({ apiKey: 'sk', baseUrl: `ftp://${s}` }));
        sync(() => new VaultClient({ apiKey: 'sk', baseUrl: `not a url ${s}` }));
        sync(() => new VaultClient({ apiKey: 'sk', baseUrl: `http://x/?q=${s}` }));
        await collect(vault.listObjects({ order: s as never }));
        await collect(vault.listObjects({ updatedAfter: s }));
        await collect(vault.readObjectByName(s.repeat(30)));
        await collect(vault.createObject({ name: 'n', value: s as never, context: s as never }));
        for (const e of refused) {
          expect(e).toBeInstanceOf(Error);
          expect((e as Error).message).not.toContain('S3CR3T');
        }
      }),
      { numRuns: 40 },
    );
    expect(calls()).toBe(0);
  });
});
