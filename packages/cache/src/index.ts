/**
 * `@vault-envelope/cache`: a `KeyProvider` wrapper that remembers unwrapped WorkOS Vault
 * data keys, bounded by age, capacity and use, with one provider call per key however many
 * callers ask. No I/O of its own, no timers, no static `node:` import.
 * @module
 */

export { CachedKeyProvider, cachedKeyProvider } from './cached-provider.js';
export { CacheClosedError, KeyCacheError, type KeyCacheErrorCode } from './errors.js';
export type { KeyCacheOptions, KeyCacheStats } from './options.js';
export { isTransientError } from './transient.js';
