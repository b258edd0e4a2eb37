/**
 * The cache checks, run inside the bundle: an Envelope over `cachedKeyProvider` over a
 * `MemoryKeyProvider`, so that the counters on both sides show which calls the cache answered.
 * @module
 */
import { cachedKeyProvider } from '@vault-envelope/cache';
import { Envelope, MemoryKeyProvider } from '@vault-envelope/core';
import { plainStats } from './_util.js';
import type { CacheReport } from './types.js';

const MESSAGES = 25;
const CALLERS = 8;

/**
 * Runs the cache checks.
 * @returns Counters of the cache and of the provider behind it.
 * @throws Whatever an unexpected failure throws (caught by the caller's `section`).
 * @example
 * ```ts
 * (await cacheChecks()).provider.created; // 1: one data key served every encryption
 * ```
 */
export async function cacheChecks(): Promise<CacheReport> {
  const provider = new MemoryKeyProvider();
  const keys = cachedKeyProvider(provider, { maxAge: 60_000 });
  const envelope = new Envelope({ keys });
  const context = { organization_id: 'org_cache' };
  const sealed: string[] = [];
  for (let i = 0; i < MESSAGES; i++)
    sealed.push(await envelope.encrypt(`message ${i}`, { context, aad: `m/${i}` }));
  let allEqual = true;
  for (let i = 0; i < MESSAGES; i++) {
    if ((await envelope.decryptToString(sealed[i]!, { aad: `m/${i}` })) !== `message ${i}`) allEqual = false;
  }
  const stats = plainStats(keys.stats());
  await keys.close();

  // A fresh cache, many callers at once for one key it has never seen: one provider call.
  const other = new MemoryKeyProvider();
  const writer = new Envelope({ keys: other });
  const ct = await writer.encrypt('shared', { context });
  const fresh = cachedKeyProvider(other, { maxAge: 60_000 });
  const reader = new Envelope({ keys: fresh });
  const before = other.stats().decrypted;
  const texts = await Promise.all(Array.from({ length: CALLERS }, () => reader.decryptToString(ct)));
  if (texts.some((t) => t !== 'shared')) allEqual = false;
  const concurrent = {
    callers: CALLERS,
    stats: plainStats(fresh.stats()),
    providerDecrypted: other.stats().decrypted - before,
  };
  await fresh.close();
  return { messages: MESSAGES, allEqual, provider: provider.stats(), stats, concurrent };
}
