/**
 * What both runs share: the check bundle (built once per test file), the WorkOS vectors, and the
 * local Vault servers (one with CORS on, one with it off).
 * @module
 */
import { readFileSync } from 'node:fs';
import { type RunningServer, startServer } from '@vault-envelope/server';
import { type Bundle, buildBundle } from '../scripts/bundle.mjs';
import type { GcmGroup, WorkosVector } from '../src/types.js';

/** The API key the test servers accept. */
export const API_KEY = 'sk_browser';

/**
 * The WorkOS vectors, from core's test data.
 * @returns The vectors.
 */
export function loadVectors(): WorkosVector[] {
  const url = new URL('../../packages/core/test/vectors/workos_vectors.json', import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as WorkosVector[];
}

/**
 * The Wycheproof AES-GCM groups with 256-bit keys, 128-bit tags and 96- or 256-bit IVs, from
 * core's test data, for the web backend's checks.
 * @returns The groups.
 */
export function loadWycheproofGcm(): GcmGroup[] {
  const url = new URL('../../packages/core/test/vectors/aes_gcm_test.json', import.meta.url);
  const all = (JSON.parse(readFileSync(url, 'utf8')) as { testGroups: GcmGroup[] }).testGroups;
  return all.filter((g) => g.keySize === 256 && g.tagSize === 128 && (g.ivSize === 96 || g.ivSize === 256));
}

/**
 * Builds the check bundle (core + cache + remote + the checks), unminified for readable stacks.
 * @returns The bundle.
 */
export function checksBundle(): Promise<Bundle> {
  return buildBundle();
}

/** Two local Vault servers: `cors` answers browsers from any origin, `plain` has CORS off (the default). */
export interface VaultServers {
  cors: RunningServer;
  plain: RunningServer;
  close(): Promise<void>;
}

/**
 * Starts the two servers on free ports, in memory.
 * @returns The servers.
 */
export async function startVaults(): Promise<VaultServers> {
  const cors = await startServer({ port: 0, memory: true, apiKeys: [API_KEY], cors: true });
  const plain = await startServer({ port: 0, memory: true, apiKeys: [API_KEY] });
  return {
    cors,
    plain,
    async close() {
      await Promise.all([cors.close(), plain.close()]);
    },
  };
}
