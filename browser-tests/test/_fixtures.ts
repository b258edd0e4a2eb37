/**
 * What both runs share: the check bundle (built once per test file), the WorkOS vectors, and the
 * local Vault servers (one with CORS on, one with it off).
 * @module
 */
import { readFileSync } from 'node:fs';
import { type RunningServer, startServer } from '@vault-envelope/server';
import { type Bundle, buildBundle } from '../scripts/bundle.mjs';
import type { WorkosVector } from '../src/types.js';

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
