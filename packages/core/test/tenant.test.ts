// The tenant binding of single messages and batch items (opt-in: without a tenant the AAD is
// exactly the caller's, as the official SDKs compute it), `requireTenant`, and the Envelope's
// option checks.
import { DecryptionError, Envelope, isText, type KeyProvider, MemoryKeyProvider } from '@vault-envelope/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

const context = { organization_id: 'org_1' };
const keys = new MemoryKeyProvider();
const envelope = new Envelope({ keys });
const utf8 = (s: string) => new TextEncoder().encode(s);

describe('single messages', () => {
  test('with a tenant, the AAD is utf8("vault-envelope/message/v1|t=" + esc(tenant) + "|a=") ‖ aad', async () => {
    const ct = await envelope.encrypt('x', { context, tenant: 'org_1', aad: 'users/42/ssn' });
    expect(
      await envelope.decryptToString(ct, { aad: 'vault-envelope/message/v1|t=org_1|a=users/42/ssn' }),
    ).toBe('x');
    const bin = await envelope.encrypt('x', { context, tenant: 'a|b%', aad: new Uint8Array([0, 255]) });
    const aad = new Uint8Array([...utf8('vault-envelope/message/v1|t=a%7Cb%25|a='), 0, 255]);
    expect(await envelope.decryptToString(bin, { aad })).toBe('x');
    const none = await envelope.encrypt('x', { context, tenant: 'org_1' });
    expect(await envelope.decryptToString(none, { aad: 'vault-envelope/message/v1|t=org_1|a=' })).toBe('x');
    expect(await envelope.decryptToString(none, { tenant: 'org_1', aad: '' })).toBe('x');
  });

  test('without a tenant, the AAD is exactly the caller’s', async () => {
    const ct = await envelope.encrypt('x', { context, aad: 'users/42/ssn' });
    expect(await envelope.decryptToString(ct, { aad: 'users/42/ssn' })).toBe('x');
    await expect(
      envelope.decryptToString(ct, { aad: 'users/42/ssn', tenant: 'org_1' }),
    ).rejects.toBeInstanceOf(DecryptionError);
  });

  test('a message moved to another tenant fails (property)', async () => {
    const tenant = fc.string({ minLength: 1, maxLength: 12 }).filter(isText);
    await fc.assert(
      fc.asyncProperty(tenant, tenant, fc.option(fc.string(), { nil: undefined }), async (a, b, aad) => {
        fc.pre(a !== b);
        const opts = aad === undefined ? {} : { aad };
        const ct = await envelope.encrypt('secret', { context, tenant: a, ...opts });
        expect(await envelope.decryptToString(ct, { tenant: a, ...opts })).toBe('secret');
        await expect(envelope.decryptToString(ct, { tenant: b, ...opts })).rejects.toBeInstanceOf(
          DecryptionError,
        );
        await expect(envelope.decryptToString(ct, opts)).rejects.toBeInstanceOf(DecryptionError);
      }),
      { numRuns: 100 },
    );
  });

  test('a tenant must be text of 1 to 500 code units', async () => {
    await expect(envelope.encrypt('x', { context, tenant: '' })).rejects.toThrow(
      new RangeError('tenant must not be empty, got an empty string'),
    );
    await expect(envelope.encrypt('x', { context, tenant: 'a\nb' })).rejects.toThrow(
      new TypeError(
        'tenant must be well-formed text without control characters, got a control character at index 1',
      ),
    );
    await expect(envelope.encrypt('x', { context, tenant: 'x'.repeat(501) })).rejects.toThrow(RangeError);
    await expect(envelope.decrypt('', { tenant: 7 as never })).rejects.toThrow(
      new TypeError('tenant must be a string, got number'),
    );
  });
});

describe('batches', () => {
  test('each item may carry its own tenant', async () => {
    const sealed = await envelope.encryptMany([
      { plaintext: 'a', context, tenant: 'org_1', aad: 'k' },
      { plaintext: 'b', context, tenant: 'org_2', aad: 'k' },
      { plaintext: 'c', context, aad: 'k' },
    ]);
    const [a, b, c] = sealed.map((r) => (r.ok ? r.value : ''));
    const opened = await envelope.decryptManyToString([
      { ciphertext: a!, tenant: 'org_1', aad: 'k' },
      { ciphertext: b!, tenant: 'org_1', aad: 'k' },
      { ciphertext: c!, aad: 'k' },
    ]);
    expect(opened[0]).toEqual({ ok: true, value: 'a' });
    expect(opened[1]!.ok === false && DecryptionError.is(opened[1]!.error)).toBe(true);
    expect(opened[2]).toEqual({ ok: true, value: 'c' });
  });
});

describe('requireTenant', () => {
  const message = (title: string) =>
    `${title} must be a non-empty string (this Envelope has requireTenant set), got undefined`;

  test('every single-message and batch call without a tenant is a TypeError, before any key request', async () => {
    let calls = 0;
    const counting: KeyProvider = {
      createDataKey(c, o) {
        calls++;
        return keys.createDataKey(c, o);
      },
      decryptDataKey(b, o) {
        calls++;
        return keys.decryptDataKey(b, o);
      },
    };
    const strict = new Envelope({ keys: counting, requireTenant: true });
    const ct = await strict.encrypt('x', { context, tenant: 'org_1' });
    expect(calls).toBe(1);
    await expect(strict.encrypt('x', { context })).rejects.toThrow(new TypeError(message('tenant')));
    await expect(strict.encryptToBytes('x', { context })).rejects.toThrow(new TypeError(message('tenant')));
    await expect(strict.decrypt(ct)).rejects.toThrow(new TypeError(message('tenant')));
    await expect(strict.decryptToString(ct, { aad: 'x' })).rejects.toThrow(new TypeError(message('tenant')));
    const sealed = await strict.encryptMany([
      { plaintext: 'x', context },
      { plaintext: 'y', context, tenant: 'org_1' },
    ]);
    expect(sealed[0]).toMatchObject({ ok: false, error: new TypeError(message('items[0].tenant')) });
    expect(sealed[1]!.ok).toBe(true);
    const opened = await strict.decryptManyToString([
      { ciphertext: ct },
      { ciphertext: ct, tenant: 'org_1' },
    ]);
    expect(opened[0]).toMatchObject({ ok: false, error: new TypeError(message('items[0].tenant')) });
    expect(opened[1]).toEqual({ ok: true, value: 'x' });
    expect(calls).toBe(3);
    expect(await strict.decryptToString(ct, { tenant: 'org_1' })).toBe('x');
  });
});

describe('Envelope options', () => {
  test('an unknown or mistyped option is a TypeError (a misspelt requireTenant must not pass silently)', () => {
    expect(() => new Envelope({ keys, requireTenat: true } as never)).toThrow(
      new TypeError('Envelope options has an unknown option "requireTenat"'),
    );
    expect(() => new Envelope({ keys, requireTenant: 'yes' } as never)).toThrow(
      new TypeError('requireTenant must be a boolean, got string'),
    );
    expect(() => new Envelope({ keys, keyBlobEncoding: 'base64' } as never)).toThrow(
      new TypeError(`keyBlobEncoding must be 'binary' or 'base64-text', got another string`),
    );
    expect(() => new Envelope(undefined as never)).toThrow(
      new TypeError('Envelope options must be an object, got undefined'),
    );
  });
});
