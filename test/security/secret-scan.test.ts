/**
 * The standing secret scan, across core, cache and remote: every error path a test can reach
 * (bad arguments, bad keys from a provider, malformed and tampered messages, failed decryptions,
 * closed caches, malformed and failing Vault answers) is provoked with real secrets in play, and
 * no error may show one: not its `message`, not its `stack`, not anything in its `cause` chain
 * (followed to the end, errors and plain values alike), and not its `util.inspect` output with
 * hidden properties shown.
 *
 * The secrets are random per run (so no constant in the code can match by accident) and are
 * looked for in every textual form an error could carry them in: hex (either case), standard
 * and URL-safe base64, the bytes as `util.inspect` lists them, and the strings themselves.
 * Partial quotes count: any 12 consecutive characters of a textual form are a hit (a JSON parse
 * error, for one, quotes a slice of its input).
 *
 * What the scan does not cover, by design: an error a caller's own KeyProvider throws reaches the
 * caller unchanged (the documented contract), so it is checked to be that very object, not
 * scanned for what its author put in it.
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { CacheClosedError, cachedKeyProvider } from '@vault-envelope/cache';
import {
  atext,
  BlindIndex,
  type DataKey,
  Envelope,
  encodeBase64,
  type KeyContext,
  type KeyProvider,
  MemoryKeyProvider,
  makeDataKey,
  SharedDataKey,
  validateKeyContext,
} from '@vault-envelope/core';
import { VaultClient, VaultError } from '@vault-envelope/remote';
import { afterAll, describe, expect, test } from 'vitest';

/** The secrets of one run. */
const dataKey = new Uint8Array(randomBytes(32));
const otherKey = new Uint8Array(randomBytes(32));
const plaintext = `pt-${randomBytes(24).toString('hex')}`;
const objectValue = `ov-${randomBytes(24).toString('base64url')}`;
const apiKey = `sk_test_${randomBytes(24).toString('hex')}`;

const WINDOW = 12;

/** Every textual form the secret bytes could take in an error. */
function byteForms(b: Uint8Array): string[] {
  const buf = Buffer.from(b);
  const hex = buf.toString('hex');
  const inspected = [...b].join(', ');
  return [hex, hex.toUpperCase(), buf.toString('base64'), buf.toString('base64url'), inspected];
}

/** The fragments to look for: WINDOW-character slices of each form (whole bytes for the list). */
function fragments(forms: string[]): string[] {
  const out = new Set<string>();
  for (const f of forms) {
    if (f.includes(', ')) {
      const parts = f.split(', ');
      for (let i = 0; i + 6 <= parts.length; i++) out.add(parts.slice(i, i + 6).join(', '));
      continue;
    }
    for (let i = 0; i + WINDOW <= f.length; i++) out.add(f.slice(i, i + WINDOW));
  }
  return [...out];
}

const SECRETS: [string, string[]][] = [
  ['the data key', fragments(byteForms(dataKey))],
  ['another data key', fragments(byteForms(otherKey))],
  ['the plaintext', fragments([plaintext, ...byteForms(new TextEncoder().encode(plaintext))])],
  ['the object value', fragments([objectValue, ...byteForms(new TextEncoder().encode(objectValue))])],
  ['the API key', fragments([apiKey, Buffer.from(apiKey).toString('base64')])],
];

/** Every text an error shows: message, stack, the whole cause chain, and util.inspect. */
function textsOf(error: unknown): string[] {
  const texts: string[] = [inspect(error, { showHidden: true, depth: Number.POSITIVE_INFINITY })];
  const seen = new Set<unknown>();
  let e: unknown = error;
  while (e !== undefined && e !== null && !seen.has(e)) {
    seen.add(e);
    if (e instanceof Error) {
      texts.push(e.message, e.stack ?? '', String(e));
      if (e instanceof AggregateError) for (const inner of e.errors) texts.push(...textsOf(inner));
      e = e.cause;
    } else {
      texts.push(typeof e === 'object' ? inspect(e, { showHidden: true, depth: null }) : String(e));
      e = (e as { cause?: unknown }).cause;
    }
  }
  return texts;
}

/** Which secret, if any, one of `texts` shows. */
function leakIn(texts: string[]): string | undefined {
  for (const text of texts) {
    for (const [name, needles] of SECRETS) if (needles.some((n) => text.includes(n))) return name;
  }
  return undefined;
}

/** Runs `f`, which must fail (throw, reject, or give failed batch results), and returns the errors. */
async function failures(f: () => unknown): Promise<unknown[]> {
  let value: unknown;
  try {
    value = await f();
  } catch (error) {
    return [error];
  }
  if (Array.isArray(value)) {
    const errors = value
      .filter((r: { ok?: boolean }) => r?.ok === false)
      .map((r: { error: unknown }) => r.error);
    if (errors.length > 0) return errors;
  }
  throw new Error('expected this case to fail, and it did not');
}

/** The error paths, by package. Each must fail; none may show a secret. */
type Case = [string, () => unknown];

const context: KeyContext = { organization_id: 'org_scan' };

/** A provider whose keys are `dataKey` (copies), with a blob that names nothing secret. */
function fixedProvider(key: Uint8Array = dataKey): KeyProvider {
  const blob = new TextEncoder().encode('scan-blob-v1');
  const make = (): DataKey =>
    makeDataKey({ id: 'k_scan', key: key.slice(), encryptedKeys: blob.slice(), context });
  return { createDataKey: async () => make(), decryptDataKey: async () => make() };
}

/** A provider that answers with what `answer` makes (a malformed key, say). */
function answering(answer: () => unknown): KeyProvider {
  return { createDataKey: async () => answer() as DataKey, decryptDataKey: async () => answer() as DataKey };
}

const envelope = new Envelope({ keys: fixedProvider() });
const mem = new MemoryKeyProvider();
const viaMem = new Envelope({ keys: mem });
const ciphertext = await envelope.encrypt(plaintext, { context, aad: 'row-1' });
const binaryCiphertext = await envelope.encryptToBytes(new Uint8Array([0xff, 0xfe, ...dataKey]), { context });
const tampered = (() => {
  const b = Buffer.from(ciphertext, 'base64');
  b[b.length - 1]! ^= 1;
  return b.toString('base64');
})();

const coreCases: Case[] = [
  [
    'encrypt: a context value with a NUL',
    () => envelope.encrypt(plaintext, { context: { org: `${objectValue}\0` } }),
  ],
  [
    'encrypt: a context value too long',
    () => envelope.encrypt(plaintext, { context: { org: objectValue.repeat(20) } }),
  ],
  [
    'encrypt: a context that is not an object',
    () => envelope.encrypt(plaintext, { context: plaintext as never }),
  ],
  [
    'encrypt: AAD of the wrong type',
    () => envelope.encrypt(plaintext, { context, aad: { plaintext } as never }),
  ],
  ['encrypt: a plaintext of the wrong type', () => envelope.encrypt({ plaintext } as never, { context })],
  ['encrypt: options that are a string', () => envelope.encrypt(plaintext, plaintext as never)],
  ['decrypt: the wrong AAD', () => envelope.decrypt(ciphertext, { aad: 'row-2' })],
  ['decryptToString: the wrong AAD', () => envelope.decryptToString(ciphertext, { aad: objectValue })],
  ['decrypt: a tampered message', () => envelope.decrypt(tampered, { aad: 'row-1' })],
  ['decrypt: a plaintext passed as a ciphertext', () => envelope.decrypt(plaintext)],
  ['decrypt: the key passed as a ciphertext (base64)', () => envelope.decrypt(encodeBase64(dataKey))],
  ['decrypt: the key passed as a ciphertext (bytes)', () => envelope.decrypt(dataKey)],
  ['decrypt: an unknown format', () => envelope.decrypt(ciphertext, { format: plaintext as never })],
  ['Envelope: an unknown backend', () => new Envelope({ keys: mem, backend: plaintext as never })],
  ['decryptToString: a binary plaintext', () => envelope.decryptToString(binaryCiphertext)],
  [
    'encryptMany: bad items among good ones',
    () =>
      envelope.encryptMany([
        { plaintext, context: { org: `${objectValue}\n` } },
        { plaintext, context, aad: 5 as never },
        { plaintext: { objectValue } as never, context },
      ]),
  ],
  [
    'decryptMany: tampered and malformed items',
    () =>
      envelope.decryptManyToString([
        { ciphertext: tampered, aad: 'row-1' },
        { ciphertext: plaintext },
        { ciphertext, aad: 'x' },
      ]),
  ],
  [
    'provider: a key of 31 bytes',
    () =>
      new Envelope({
        keys: answering(() => ({
          id: 'k',
          key: dataKey.slice(0, 31),
          encryptedKeys: new Uint8Array([1]),
          context,
        })),
      }).encrypt(plaintext, { context }),
  ],
  [
    'provider: a key as a hex string',
    () =>
      new Envelope({
        keys: answering(() => ({
          id: 'k',
          key: Buffer.from(dataKey).toString('hex'),
          encryptedKeys: new Uint8Array([1]),
        })),
      }).encrypt(plaintext, { context }),
  ],
  [
    'provider: an id that is the key',
    () =>
      new Envelope({
        keys: answering(() => ({
          id: dataKey.slice(),
          key: dataKey.slice(),
          encryptedKeys: new Uint8Array([1]),
        })),
      }).encrypt(plaintext, { context }),
  ],
  [
    'provider: an empty key blob',
    () =>
      new Envelope({
        keys: answering(() => ({ id: 'k', key: dataKey.slice(), encryptedKeys: new Uint8Array(0) })),
      }).decrypt(ciphertext, { aad: 'row-1' }),
  ],
  [
    'provider: an all-zero key',
    () => new Envelope({ keys: fixedProvider(new Uint8Array(32)) }).encrypt(plaintext, { context }),
  ],
  [
    'provider: the wrong key',
    () => new Envelope({ keys: fixedProvider(otherKey) }).decryptToString(ciphertext, { aad: 'row-1' }),
  ],
  ['MemoryKeyProvider: a blob that is the key', () => mem.decryptDataKey(dataKey.slice())],
  [
    'MemoryKeyProvider: a tampered blob',
    async () => {
      const blob = (await mem.createDataKey(context)).encryptedKeys;
      blob[blob.length - 1]! ^= 1;
      return viaMem.decrypt(
        await new Envelope({
          keys: answering(() => makeDataKey({ id: 'k', key: dataKey.slice(), encryptedKeys: blob })),
        }).encrypt(plaintext, { context }),
      );
    },
  ],
  [
    'SharedDataKey.create: a short key',
    () =>
      SharedDataKey.create(
        makeDataKey({ id: 'k', key: dataKey.slice(), encryptedKeys: new Uint8Array([1]) }) && {
          id: 'k',
          key: dataKey.slice(0, 16),
          encryptedKeys: new Uint8Array([1]),
          context,
        },
      ),
  ],
  [
    'SharedDataKey: read after its owner destroyed it',
    () => {
      const h = SharedDataKey.create(
        makeDataKey({ id: 'k', key: dataKey.slice(), encryptedKeys: new Uint8Array([1]) }),
      );
      h.destroy();
      return h.shared.key;
    },
  ],
  [
    'validateKeyContext: a value with a lone surrogate',
    () => validateKeyContext({ org: `${objectValue}\udc00` }),
  ],
  ['atext: a secret with a control character', () => atext(`${plaintext}\u0007`, 'field')],
  ['BlindIndex: a 31-byte key', () => new BlindIndex({ key: dataKey.slice(0, 31) })],
  [
    'BlindIndex: a value of the wrong type',
    () => new BlindIndex({ key: dataKey.slice() }).compute({ plaintext } as never),
  ],
];

/** A provider that counts, for the cache cases. */
const cacheCases: Case[] = [
  [
    'cache: a malformed key from the provider',
    () =>
      new Envelope({
        keys: cachedKeyProvider(
          answering(() => ({ id: 'k', key: dataKey.slice(0, 20), encryptedKeys: new Uint8Array([1]) })),
          { maxAge: 1000 },
        ),
      }).encrypt(plaintext, { context }),
  ],
  [
    'cache: an all-zero key from the provider',
    () => cachedKeyProvider(fixedProvider(new Uint8Array(32)), { maxAge: 1000 }).createDataKey(context),
  ],
  [
    'cache: a context value with a control character',
    () => cachedKeyProvider(fixedProvider(), { maxAge: 1000 }).createDataKey({ org: `${objectValue}\r` }),
  ],
  [
    'cache: a blob that is a string',
    () => cachedKeyProvider(fixedProvider(), { maxAge: 1000 }).decryptDataKey(plaintext as never),
  ],
  [
    'cache: options of the wrong type',
    () => cachedKeyProvider(fixedProvider(), { maxAge: plaintext as never }),
  ],
  [
    'cache: retire() of a malformed context',
    () => cachedKeyProvider(fixedProvider(), { maxAge: 1000 }).retire({ org: `${objectValue}\0` }),
  ],
  [
    'cache: calls after close()',
    async () => {
      const keys = cachedKeyProvider(fixedProvider(), { maxAge: 1000 });
      await keys.createDataKey(context);
      await keys.close();
      const e = await keys.createDataKey(context).catch((x: unknown) => x);
      expect(CacheClosedError.is(e)).toBe(true);
      throw e;
    },
  ],
  [
    'cache: the wrong AAD through the cache',
    async () => {
      const cached = new Envelope({ keys: cachedKeyProvider(fixedProvider(), { maxAge: 1000 }) });
      return cached.decrypt(await cached.encrypt(plaintext, { context, aad: 'a' }), { aad: 'b' });
    },
  ],
];

/** A scripted fetch: answers each request with what `answer` returns for it. */
type Script = (request: {
  url: string;
  method: string;
  body: string;
  signal: AbortSignal;
}) => Response | Promise<Response>;
/** An answer that never comes: the request ends only when its signal aborts. */
const hang: Script = ({ signal }) =>
  new Promise<Response>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', 'x-request-id': 'req_scan' },
  });

const sentRequests: string[] = [];
function client(script: Script, extra: Record<string, unknown> = {}): VaultClient {
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const req = new Request(input, init);
    const body = await req.text();
    sentRequests.push(body);
    // The signal of the caller's Request, not of our copy: on Node 20 a Request's signal stops
    // following its parent's once garbage collection takes the links between them, and `hang`
    // would then never end (seen after a collection at the wrong moment).
    const signal = input instanceof Request ? input.signal : req.signal;
    return script({ url: req.url, method: req.method, body, signal });
  };
  return new VaultClient({
    apiKey,
    baseUrl: 'http://vault.test',
    retry: 0,
    fetch: fetch as typeof globalThis.fetch,
    ...extra,
  });
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const goodKeyAnswer = {
  id: 'dk_1',
  data_key: b64(dataKey),
  encrypted_keys: b64(new TextEncoder().encode('WOS.EKM.v1\0scan')),
};

const remoteCases: Case[] = [
  [
    'remote: a 502 whose body (not JSON) echoes the request',
    () =>
      client(
        ({ body }) =>
          new Response(`bad gateway: Authorization: Bearer ${apiKey}\n${body}`, {
            status: 502,
            headers: { 'content-type': 'text/plain' },
          }),
      ).createObject({ name: 'n', value: objectValue, context }),
  ],
  [
    'remote: a JSON 400 whose message echoes the API key and the value',
    () =>
      client(() => json(400, { message: `key ${apiKey} may not store ${objectValue}` })).createObject({
        name: 'n',
        value: objectValue,
        context,
      }),
  ],
  [
    'remote: an API key with a NUL is refused before any request',
    () =>
      Promise.resolve().then(
        () => new VaultClient({ apiKey: `${apiKey}\u0000`, fetch: (() => {}) as never }),
      ),
  ],
  [
    'remote: data_key not base64',
    () => client(() => json(200, { ...goodKeyAnswer, data_key: `${b64(dataKey)}!` })).createDataKey(context),
  ],
  [
    'remote: data_key of 31 bytes',
    () =>
      client(() => json(200, { ...goodKeyAnswer, data_key: b64(dataKey.slice(0, 31)) })).createDataKey(
        context,
      ),
  ],
  [
    'remote: data_key of 64 bytes',
    () =>
      client(() =>
        json(200, { ...goodKeyAnswer, data_key: b64(new Uint8Array([...dataKey, ...otherKey])) }),
      ).createDataKey(context),
  ],
  [
    'remote: encrypted_keys not base64',
    () =>
      client(() => json(200, { ...goodKeyAnswer, encrypted_keys: `${plaintext}%` })).createDataKey(context),
  ],
  [
    'remote: no id beside a good key',
    () => client(() => json(200, { ...goodKeyAnswer, id: 5 })).createDataKey(context),
  ],
  ['remote: a body that is an array', () => client(() => json(200, [goodKeyAnswer])).createDataKey(context)],
  [
    'remote: decrypt answer with a short key',
    () =>
      client(() => json(200, { ...goodKeyAnswer, data_key: b64(dataKey.slice(1)) })).decryptDataKey(
        new Uint8Array([1, 2, 3]),
      ),
  ],
  [
    'remote: 401 with a JSON error',
    () => client(() => json(401, { message: 'Unauthorized' })).createDataKey(context),
  ],
  [
    'remote: 403 with a JSON error',
    () =>
      client(() => json(403, { error: 'forbidden' })).createObject({
        name: 'n',
        value: objectValue,
        context,
      }),
  ],
  [
    'remote: 404 reading an object',
    () => client(() => json(404, { message: 'Not Found' })).readObject({ id: 'obj_1' }),
  ],
  [
    'remote: 409 updating an object',
    () =>
      client(() => json(409, { message: 'version mismatch' })).updateObject({
        id: 'obj_1',
        value: objectValue,
        versionCheck: 'v1',
      } as never),
  ],
  [
    'remote: 422 creating an object',
    () =>
      client(() => json(422, { message: 'name is invalid' })).createObject({
        name: 'n',
        value: objectValue,
        context,
      }),
  ],
  [
    'remote: 429 without retries',
    () => client(() => json(429, { message: 'slow down' })).createDataKey(context),
  ],
  [
    'remote: 500 with a JSON error',
    () =>
      client(() => json(500, { error: 'internal' })).createObject({ name: 'n', value: objectValue, context }),
  ],
  [
    'remote: 503 with an empty body',
    () => client(() => new Response('', { status: 503 })).decryptDataKey(new Uint8Array([9])),
  ],
  [
    'remote: an object answer whose value is not a string',
    () =>
      client(() => json(200, { id: 'obj_1', name: 'n', value: 5, metadata: {} })).readObject({ id: 'obj_1' }),
  ],
  [
    'remote: the network fails',
    () =>
      client(() => Promise.reject(new TypeError('fetch failed'))).createObject({
        name: 'n',
        value: objectValue,
        context,
      }),
  ],
  [
    'remote: the attempt times out',
    () => client(hang, { timeout: 20, deadline: 200 }).createDataKey(context),
  ],
  [
    'remote: a value of the wrong type',
    () => client(() => json(200, {})).createObject({ name: 'n', value: { objectValue } as never, context }),
  ],
  [
    'remote: a context value with a control character',
    () =>
      client(() => json(200, {})).createObject({
        name: 'n',
        value: objectValue,
        context: { org: `${objectValue}\0` },
      }),
  ],
  [
    'remote: an API key of the wrong type',
    () => new VaultClient({ apiKey: dataKey as never, baseUrl: 'http://vault.test' }),
  ],
  ['remote: a bad timeout beside the API key', () => new VaultClient({ apiKey, timeout: -1 })],
  [
    'remote, cache and core: a 500 under an Envelope',
    () =>
      new Envelope({
        keys: cachedKeyProvider(
          client(() => json(500, { error: 'internal' })),
          { maxAge: 1000 },
        ),
      }).decrypt(ciphertext, { aad: 'row-1' }),
  ],
  [
    'remote, cache and core: the wrong AAD',
    async () => {
      const keys = cachedKeyProvider(
        client(() => json(200, goodKeyAnswer)),
        { maxAge: 1000 },
      );
      const e = new Envelope({ keys });
      return e.decrypt(await e.encrypt(plaintext, { context, aad: 'one' }), { aad: 'two' });
    },
  ],
];

describe('no error shows a data key, a plaintext, an object value or the API key', () => {
  afterAll(() => {
    // The scripted server did receive the secrets: the scan is meaningful only if they were in play.
    expect(sentRequests.some((b) => b.includes(objectValue))).toBe(true);
  });

  test('the scan finds a secret when one is there (it is not vacuous)', () => {
    const cases: unknown[] = [
      new Error(`key ${Buffer.from(dataKey).toString('hex').slice(10, 24)}`),
      new Error('outer', { cause: new Error(`inner ${plaintext.slice(5, 20)}`) }),
      Object.assign(new Error('x'), { value: objectValue }),
      new Error('outer', { cause: { detail: apiKey } }),
      new Error(`bytes ${[...dataKey.slice(3, 10)].join(', ')}`),
      new Error('y', {
        cause: new Error('z', { cause: Buffer.from(dataKey).toString('base64url').slice(0, 13) }),
      }),
    ];
    for (const e of cases) expect(leakIn(textsOf(e))).toBeDefined();
    expect(leakIn(textsOf(new Error('nothing here')))).toBeUndefined();
  });

  for (const [pkg, cases] of [
    ['core', coreCases],
    ['cache', cacheCases],
    ['remote', remoteCases],
  ] as const) {
    test.each(cases)(`${pkg}: %s`, async (_name, run) => {
      const errors = await failures(run);
      for (const error of errors) {
        expect(error).toBeInstanceOf(Error);
        expect(leakIn(textsOf(error))).toBeUndefined();
      }
    });
  }

  test('the typed errors among them are the packages’ own (a scan of foreign errors would prove less)', async () => {
    const e = await failures(remoteCases[0]![1]);
    expect(VaultError.is(e[0])).toBe(true);
  });

  test("a provider's own error reaches the caller unchanged: the same object, nothing added", async () => {
    const own = new Error(`provider says ${plaintext}`);
    const throwing: KeyProvider = {
      createDataKey: async () => {
        throw own;
      },
      decryptDataKey: async () => {
        throw own;
      },
    };
    const keys = cachedKeyProvider(throwing, { maxAge: 1000 });
    await expect(new Envelope({ keys }).encrypt('x', { context })).rejects.toBe(own);
    await expect(new Envelope({ keys }).decrypt(ciphertext)).rejects.toBe(own);
    expect(own.message).toBe(`provider says ${plaintext}`);
    expect(own.cause).toBeUndefined();
  });
});
