/**
 * `@vault-envelope/cache`: a `KeyProvider` wrapper that remembers unwrapped WorkOS Vault
 * data keys, bounded by age, capacity and use, with one provider call per key however many
 * callers ask. No I/O of its own, no timers, no static `node:` import.
 * @module
 */
import { BlobMap, blobHash } from './_blob-map.js';
import { ContextMap } from './_context-map.js';

export { CachedKeyProvider, cachedKeyProvider } from './cached-provider.js';
export { CacheClosedError, KeyCacheError, type KeyCacheErrorCode } from './errors.js';
export type { KeyCacheOptions, KeyCacheStats } from './options.js';
export { isTransientError } from './transient.js';

/**
 * Internals exposed for this package's own tests: the two hot-path indexes (`BlobMap`, keyed
 * by the exact bytes of a wrapped key, and `ContextMap`, keyed by a key context in any key
 * order) and the bucket hash of `BlobMap`, so that their invariants can be checked directly,
 * bucket collisions included, which the public API reaches only by chance.
 *
 * Unstable: not part of the public API, outside semantic versioning, and may change or vanish in
 * any release. Not for applications; use {@link cachedKeyProvider} instead.
 * @example
 * ```ts
 * const { ContextMap } = __TESTS;
 * const m = new ContextMap<number>();
 * m.set({ a: '1', b: '2' }, 7);
 * m.get({ b: '2', a: '1' }); // 7
 * ```
 * @hidden (left out of the API reference)
 */
export const __TESTS: Readonly<{
  BlobMap: typeof BlobMap;
  ContextMap: typeof ContextMap;
  blobHash: typeof blobHash;
}> = Object.freeze({ BlobMap, ContextMap, blobHash });
