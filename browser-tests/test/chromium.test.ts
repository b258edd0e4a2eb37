/**
 * The check bundle in headless Chromium (Debian's), served from a local static server, talking
 * to the local Vault server across origins (CORS). The checks run in the page; the report comes
 * back through `page.evaluate` and is asserted here.
 * @module
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Report } from '../src/types.js';
import { type Chromium, launchChromium } from './_chromium.js';
import {
  API_KEY,
  checksBundle,
  loadVectors,
  loadWycheproofGcm,
  startVaults,
  type VaultServers,
} from './_fixtures.js';
import { reportTests } from './_report-tests.js';
import { type StaticServer, serveChecks } from './_static-server.js';

const vectors = loadVectors();
const wycheproof = loadWycheproofGcm();
let vaults: VaultServers;
let site: StaticServer;
let browser: Chromium;
let page: Page;
let report: Report;
const pageErrors: string[] = [];
const consoleErrors: { text: string; url: string }[] = [];

beforeAll(async () => {
  const bundle = await checksBundle();
  vaults = await startVaults();
  site = await serveChecks(bundle.code, [vaults.cors.url, vaults.plain.url]);
  browser = await launchChromium();
  page = await browser.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`${e.name}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push({ text: m.text(), url: m.location().url });
  });
  await page.goto(`${site.url}/`);
  await page.waitForFunction(() => document.title === 'ready', undefined, { timeout: 30_000 });
  const config = {
    vectors,
    wycheproof,
    vault: { url: vaults.cors.url, apiKey: API_KEY, namePrefix: 'chromium', corsOffUrl: vaults.plain.url },
  };
  report = await page.evaluate(
    (c) =>
      (window as unknown as { vaultEnvelope: { runAll(c: unknown): Promise<Report> } }).vaultEnvelope.runAll(
        c,
      ),
    config,
  );
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await vaults?.close();
});

describe('in headless Chromium', () => {
  test('the page is a secure context on http://127.0.0.1 and ran without uncaught errors', async () => {
    expect(await page.evaluate(() => window.isSecureContext)).toBe(true);
    expect(await page.evaluate(() => navigator.userAgent)).toMatch(/HeadlessChrome\/\d+/);
    expect(pageErrors).toEqual([]);
  });

  test('the only console errors are the expected 401 and 404 answers and the CORS refusal', () => {
    const unexpected = consoleErrors.filter(
      (e) =>
        !`${e.text} ${e.url}`.includes(vaults.plain.url) &&
        !/^Failed to load resource: the server responded with a status of (401|404) /.test(e.text),
    );
    expect(unexpected).toEqual([]);
    // The refused cross-origin call shows in the console: Chromium did block it for CORS.
    expect(consoleErrors.some((e) => /CORS policy/.test(e.text) && e.text.includes(vaults.plain.url))).toBe(
      true,
    );
  });

  test('the calls reached the CORS server over HTTP', () => {
    const { requests } = vaults.cors.stats();
    expect(requests['POST /vault/v1/keys/data-key']).toBeGreaterThanOrEqual(2);
    expect(requests['POST /vault/v1/keys/decrypt']).toBeGreaterThanOrEqual(2);
    // Cross-origin JSON POSTs are preflighted: the browser asked the server first.
    const preflights = Object.entries(requests)
      .filter(([route]) => route.startsWith('OPTIONS '))
      .reduce((n, [, count]) => n + count, 0);
    expect(preflights).toBeGreaterThanOrEqual(1);
  });

  reportTests(() => report, vectors, { corsOff: true, userAgent: /HeadlessChrome\/\d+/ }, wycheproof);
});
