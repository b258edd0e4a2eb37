/**
 * Strict base64 on the paths of the builds without `Buffer` (browsers, workers, edge runtimes):
 * the runtime's `Uint8Array.fromBase64` with `lastChunkHandling: 'strict'`, and `atob` where
 * there is no `fromBase64` either. This file loads core with the `#node` subpath import as the
 * browser build has it (no Node helpers) and with `Uint8Array.fromBase64` written from its
 * specification (Node 20 has none), and holds both paths to the RFC's strict reading, which the
 * Node path is held to in format.test.ts: the three accept and reject exactly the same texts.
 */
import { afterAll, describe, expect, test, vi } from 'vitest';

const installed = await vi.hoisted(async () => {
  const { fromBase64Spec } = await import('./_base64.js');
  const calls = { n: 0 };
  const had = Object.hasOwn(Uint8Array, 'fromBase64');
  Object.defineProperty(Uint8Array, 'fromBase64', {
    value: (text: string, options: Parameters<typeof fromBase64Spec>[1]) => {
      calls.n++;
      return fromBase64Spec(text, options);
    },
    configurable: true,
    writable: true,
  });
  return { calls, had };
});

// The browser build's `#node`: no Buffer-based helpers.
vi.mock('#node', () => ({ node: undefined }));

import {
  __TESTS,
  decodeBase64,
  Envelope,
  encodeBase64,
  FormatError,
  MemoryKeyProvider,
} from '@vault-envelope/core';
import fc from 'fast-check';
import { base64Texts, strictBase64 } from './_base64.js';

afterAll(() => {
  if (!installed.had) Reflect.deleteProperty(Uint8Array, 'fromBase64');
});

const run = (f: (t: string) => Uint8Array, t: string) => {
  try {
    return Buffer.from(f(t)).toString('hex');
  } catch (e) {
    expect(e).toBeInstanceOf(FormatError);
    return 'FormatError';
  }
};

describe('strict base64 without Buffer', () => {
  test('the Uint8Array.fromBase64 and atob paths accept exactly the strict texts of the RFC, with their bytes (property)', () => {
    const before = installed.calls.n;
    fc.assert(
      fc.property(base64Texts, (t) => {
        const model = strictBase64(t);
        const expected = model === undefined ? 'FormatError' : Buffer.from(model).toString('hex');
        expect({ t, fromBase64: run(decodeBase64, t) }).toEqual({ t, fromBase64: expected });
        expect({ t, pooled: run(__TESTS.decodePublicBase64, t) }).toEqual({ t, pooled: expected });
        expect({ t, atob: run(__TESTS.decodeBase64Portable, t) }).toEqual({ t, atob: expected });
      }),
      { numRuns: 5000 },
    );
    // The texts of a multiple of 4 went through the runtime's fromBase64.
    expect(installed.calls.n).toBeGreaterThan(before + 1000);
  });

  test('btoa encodes what every decoder reads back (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const text = encodeBase64(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64'));
        expect(decodeBase64(text)).toEqual(bytes);
        expect(__TESTS.decodeBase64Portable(text)).toEqual(bytes);
      }),
    );
  });

  test('an Envelope on this build round-trips, and refuses a base64 character swapped for a wide twin', async () => {
    const envelope = new Envelope({ keys: new MemoryKeyProvider() });
    const text = await envelope.encrypt('no Buffer here', { context: { organization_id: 'org_1' } });
    expect(await envelope.decryptToString(text)).toBe('no Buffer here');
    const twin = String.fromCharCode(0x100 + text.charCodeAt(0)) + text.slice(1);
    await expect(envelope.decrypt(twin)).rejects.toThrow(
      new FormatError('ciphertext is not valid standard base64'),
    );
  });
});
