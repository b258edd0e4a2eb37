/**
 * The two hot-path indexes of the cache, checked against a plain `Map` model through the
 * package's test hook. The blob pool is built to collide: blobs of one length that differ only in
 * bytes the bucket hash does not sample, so lookups walk bucket chains and deletes unlink from
 * their middle, which the public API reaches only by chance.
 */
import { __TESTS } from '@vault-envelope/cache';
import { canonicalContext, type KeyContext } from '@vault-envelope/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

const { BlobMap, ContextMap, blobHash } = __TESTS;

interface Item {
  readonly blob: Uint8Array;
  nextSame: Item | undefined;
  readonly tag: number;
}

/** 40-byte blobs equal in the sampled bytes (length, last 8, 4 in the middle), distinct in byte 0 or 1. */
function collidingPool(size: number): Uint8Array[] {
  return Array.from({ length: size }, (_, i) => {
    const b = new Uint8Array(40).fill(7);
    b[0] = i & 0xff;
    b[1] = i >> 8;
    return b;
  });
}

/** A few blobs of other lengths and contents, some longer than the native-compare threshold. */
function otherPool(): Uint8Array[] {
  return [new Uint8Array(1), Uint8Array.of(1, 2, 3), new Uint8Array(64).fill(9), new Uint8Array(200).fill(1)];
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('BlobMap', () => {
  test('the colliding pool does collide (the test below walks chains)', () => {
    const pool = collidingPool(8);
    expect(new Set(pool.map(blobHash)).size).toBe(1);
  });

  test('property: agrees with a Map keyed by the bytes, through colliding set/delete/get', () => {
    const pool = [...collidingPool(4), ...otherPool().slice(1, 3)];
    const op = fc.record({
      kind: fc.constantFrom('set', 'delete', 'get'),
      at: fc.nat({ max: pool.length - 1 }),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const map = new BlobMap<Item>();
        const model = new Map<string, Item>();
        let tag = 0;
        for (const { kind, at } of ops) {
          // A lookup with a copy of the bytes: matching is by content, never by identity.
          const blob = pool[at]!;
          const probe = Uint8Array.from(blob);
          if (kind === 'set') {
            const item: Item = { blob: Uint8Array.from(blob), nextSame: undefined, tag: tag++ };
            map.set(item);
            model.set(hex(blob), item);
          } else if (kind === 'delete') {
            map.delete(map.get(probe));
            model.delete(hex(blob));
          }
          for (const b of pool) expect(map.get(Uint8Array.from(b))).toBe(model.get(hex(b)));
        }
      }),
      { numRuns: 300 },
    );
  });

  test('deleting a value that is not in the map changes nothing', () => {
    const [a, b] = collidingPool(2) as [Uint8Array, Uint8Array];
    const map = new BlobMap<Item>();
    const x: Item = { blob: a, nextSame: undefined, tag: 1 };
    map.set(x);
    map.delete({ blob: b, nextSame: undefined, tag: 2 });
    map.delete(undefined);
    expect(map.get(a)).toBe(x);
    map.clear();
    expect(map.get(a)).toBeUndefined();
  });
});

describe('ContextMap', () => {
  const names = ['organization_id', 'app', 'b', 'a'];
  const values = ['org_1', 'org_2', '', 'x'];
  /** A context with its entries in a random order. */
  const context = fc
    .uniqueArray(fc.constantFrom(...names), { maxLength: names.length })
    .chain((ns) =>
      fc.tuple(
        fc.constant(ns),
        fc.array(fc.constantFrom(...values), { minLength: ns.length, maxLength: ns.length }),
      ),
    )
    .map(([ns, vs]) => Object.fromEntries(ns.map((n, i) => [n, vs[i]!])) as KeyContext);

  test('property: agrees with a Map keyed by the canonical context, in any key order', () => {
    const op = fc.record({ kind: fc.constantFrom('set', 'deleteIf', 'deleteOther', 'get'), context });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const map = new ContextMap<number>();
        const model = new Map<string, number>();
        const seen: KeyContext[] = [];
        let n = 0;
        for (const { kind, context: c } of ops) {
          seen.push(c);
          const key = canonicalContext(c);
          const reordered = Object.fromEntries(Object.entries(c).reverse()) as KeyContext;
          if (kind === 'set') {
            map.set(c, n);
            model.set(key, n++);
          } else if (kind === 'deleteIf' && model.has(key)) {
            map.deleteIf(reordered, model.get(key)!);
            model.delete(key);
          } else if (kind === 'deleteOther') {
            // deleteIf removes only the value given: a stale holder never removes a newer value.
            map.deleteIf(reordered, -1);
          }
          // Every context seen so far, not only this one: a delete must not prune a neighbour.
          for (const s of seen) expect(map.get(s)).toBe(model.get(canonicalContext(s)));
        }
      }),
    );
  });

  test('a context with a non-string value finds nothing', () => {
    const map = new ContextMap<number>();
    map.set({ a: '1' }, 1);
    expect(map.get({ a: 1 } as never)).toBeUndefined();
    expect(map.get({ a: '1' })).toBe(1);
    expect(map.get({})).toBeUndefined();
    map.set({}, 0);
    expect(map.get({})).toBe(0);
    map.clear();
    expect(map.get({ a: '1' })).toBeUndefined();
  });
});
