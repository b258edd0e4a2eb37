/**
 * The same check bundle in an edge-like runtime: a `vm` context with only web globals (no
 * `process`, `Buffer`, `require`) and no code generation from strings, talking to the local Vault
 * server with the context's `fetch`.
 * @module
 */
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Report } from '../src/types.js';
import { type EdgeModule, loadInEdgeContext, NODE_GLOBALS } from './_edge.js';
import {
  API_KEY,
  checksBundle,
  loadVectors,
  loadWycheproofGcm,
  startVaults,
  type VaultServers,
} from './_fixtures.js';
import { reportTests } from './_report-tests.js';

const vectors = loadVectors();
const wycheproof = loadWycheproofGcm();
let vaults: VaultServers;
let edge: EdgeModule;
let report: Report;

beforeAll(async () => {
  const bundle = await checksBundle();
  vaults = await startVaults();
  edge = await loadInEdgeContext(bundle.code);
  report = await edge.runAll({
    vectors,
    wycheproof,
    vault: { url: vaults.cors.url, apiKey: API_KEY, namePrefix: 'edge' },
  });
}, 120_000);

afterAll(async () => {
  await vaults?.close();
});

describe('in an edge-like vm context', () => {
  test('the context has no Node globals and refuses eval', () => {
    for (const name of NODE_GLOBALS) {
      expect(vm.runInContext(`typeof ${name}`, edge.context), name).toBe('undefined');
    }
    expect(() => vm.runInContext('eval("1 + 1")', edge.context)).toThrow(
      /Code generation from strings disallowed/,
    );
  });

  test('the calls reached the server over HTTP', () => {
    const { requests } = vaults.cors.stats();
    expect(requests['POST /vault/v1/keys/data-key']).toBeGreaterThanOrEqual(2);
    expect(requests['POST /vault/v1/keys/decrypt']).toBeGreaterThanOrEqual(2);
  });

  reportTests(
    () => report,
    vectors,
    { corsOff: false, userAgent: /^vault-envelope edge-like vm$/ },
    wycheproof,
  );
});
