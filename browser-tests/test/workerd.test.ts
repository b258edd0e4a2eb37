/**
 * The same check bundle in workerd, the Cloudflare Workers runtime, as a module Worker with the
 * default compatibility (no `nodejs_compat`), talking to the local Vault server with the Worker's
 * own `fetch`.
 * @module
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Report } from '../src/types.js';
import {
  API_KEY,
  checksBundle,
  loadVectors,
  loadWycheproofGcm,
  startVaults,
  type VaultServers,
} from './_fixtures.js';
import { reportTests } from './_report-tests.js';
import { startWorkerd, type Workerd } from './_workerd.js';

const vectors = loadVectors();
const wycheproof = loadWycheproofGcm();
let vaults: VaultServers;
let workerd: Workerd;
let report: Report;

beforeAll(async () => {
  const bundle = await checksBundle();
  vaults = await startVaults();
  workerd = await startWorkerd(bundle.code);
  report = await workerd.runAll({
    vectors,
    wycheproof,
    vault: { url: vaults.cors.url, apiKey: API_KEY, namePrefix: 'workerd' },
  });
}, 120_000);

afterAll(async () => {
  await workerd?.close();
  await vaults?.close();
});

describe('in workerd (Cloudflare Workers runtime)', () => {
  test('the calls reached the server over HTTP', () => {
    const { requests } = vaults.cors.stats();
    expect(requests['POST /vault/v1/keys/data-key']).toBeGreaterThanOrEqual(2);
    expect(requests['POST /vault/v1/keys/decrypt']).toBeGreaterThanOrEqual(2);
  });

  reportTests(() => report, vectors, { corsOff: false, userAgent: /^Cloudflare-Workers$/ }, wycheproof);
});
