// Blind indexes keyed per tenant, and versioned values for moving to a new index key.
import { createHmac, hkdfSync } from 'node:crypto';
import { BlindIndex, blindIndexCandidates, blindIndexVersion, isText } from '@vault-envelope/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

const root = new Uint8Array(32).fill(9);

describe('per-tenant keys', () => {
  test('the key is HKDF-SHA256(index key, "vault-envelope/blind-index/tenant/v1", tenant)', () => {
    const email = new BlindIndex({ key: root, name: 'users.email', bits: 256 });
    const indexKey = Buffer.from(
      hkdfSync('sha256', root, 'vault-envelope/blind-index/v1', 'users.email', 32),
    );
    const tenantKey = Buffer.from(
      hkdfSync('sha256', indexKey, 'vault-envelope/blind-index/tenant/v1', 'org_1', 32),
    );
    const expected = createHmac('sha256', tenantKey).update('ada@example.com').digest('hex');
    const org1 = email.forTenant('org_1');
    expect(org1.compute('ada@example.com')).toBe(expected);
    expect(org1.tenant).toBe('org_1');
    expect(email.tenant).toBeUndefined();
  });

  test('the same value in two tenants gives unrelated index values; one tenant is stable (property)', () => {
    const email = new BlindIndex({ key: root, name: 'users.email', normalize: (s) => s.toLowerCase() });
    const tenant = fc.string({ minLength: 1, maxLength: 16 }).filter(isText);
    fc.assert(
      fc.property(tenant, tenant, fc.emailAddress(), (a, b, value) => {
        fc.pre(a !== b);
        const ia = email.forTenant(a);
        const ib = email.forTenant(b);
        expect(ia.compute(value)).toBe(email.forTenant(a).compute(value.toUpperCase()));
        expect(ia.compute(value)).not.toBe(ib.compute(value));
        expect(ia.compute(value)).not.toBe(email.compute(value));
        expect(ia.bits).toBe(64);
      }),
      { numRuns: 200 },
    );
  });

  test('bits, normalizer and version carry over; bad tenants and nesting are refused', () => {
    const idx = new BlindIndex({ key: root, bits: 20, version: 3, normalize: (s) => s.trim() });
    const t = idx.forTenant('org_1');
    expect(t.bits).toBe(20);
    expect(t.version).toBe(3);
    expect(t.compute(' x ')).toBe(t.compute('x'));
    expect(t.compute('x')).toMatch(/^v3:[0-9a-f]{6}$/);
    expect(() => idx.forTenant('')).toThrow(new RangeError('tenant must not be empty, got an empty string'));
    expect(() => idx.forTenant('a\u0000')).toThrow(TypeError);
    expect(() => t.forTenant('org_2')).toThrow(
      new TypeError('this BlindIndex is already keyed for a tenant'),
    );
    idx.destroy();
    expect(() => idx.forTenant('org_1')).toThrow(new TypeError('this BlindIndex was destroyed'));
    expect(t.compute('x')).toMatch(/^v3:/); // its own key, not destroyed with the parent's
  });
});

describe('versions', () => {
  test('a version is written into the value; without one, plain hex (version 0)', () => {
    const v0 = new BlindIndex({ key: root });
    const v2 = new BlindIndex({ key: new Uint8Array(32).fill(1), version: 2 });
    expect(v0.compute('a')).toMatch(/^[0-9a-f]{16}$/);
    expect(v2.compute('a')).toMatch(/^v2:[0-9a-f]{16}$/);
    expect(blindIndexVersion(v0.compute('a'))).toBe(0);
    expect(blindIndexVersion(v2.compute('a'))).toBe(2);
    expect(v2.computeBytes('a')).toHaveLength(8); // the raw MAC carries no version
    expect(v0.version).toBe(0);
  });

  test('candidates for a lookup during a reindex: one per index, newest first, without repeats', () => {
    const v1 = new BlindIndex({ key: root, version: 1 });
    const v2 = new BlindIndex({ key: new Uint8Array(32).fill(1), version: 2 });
    const same = new BlindIndex({ key: root, version: 1 });
    expect(blindIndexCandidates([v2, v1, same], 'a@x.io')).toEqual([
      v2.compute('a@x.io'),
      v1.compute('a@x.io'),
    ]);
    expect(() => blindIndexCandidates([], 'a')).toThrow(
      new TypeError('indexes must be a non-empty array of BlindIndex, got array'),
    );
    expect(() => blindIndexCandidates([v1, {} as BlindIndex], 'a')).toThrow(
      new TypeError('indexes[1] must be a BlindIndex, got object'),
    );
  });

  test('version checks, and reading a stored value back', () => {
    expect(() => new BlindIndex({ key: root, version: 0 })).toThrow(RangeError);
    expect(() => new BlindIndex({ key: root, version: 1.5 })).toThrow(TypeError);
    expect(() => new BlindIndex({ key: root, versoin: 2 } as never)).toThrow(
      new TypeError('BlindIndex options has an unknown option "versoin"'),
    );
    for (const bad of ['', 'v0:ab', 'v01:ab', 'V2:ab', 'v2:', 'v2:AB', 'abg', 'v2ab', 'v99999999999:ab']) {
      expect(() => blindIndexVersion(bad)).toThrow(RangeError);
    }
    expect(() => blindIndexVersion(2 as never)).toThrow(
      new TypeError('blind index value must be a string, got number'),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.string({ maxLength: 20 }),
        (version, value) => {
          const idx = new BlindIndex({ key: root, version, bits: 8 });
          expect(blindIndexVersion(idx.compute(value))).toBe(version);
        },
      ),
    );
  });
});
