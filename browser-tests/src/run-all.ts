/**
 * {@link runAll}: runs every group of checks (core, cache, remote) in the current runtime and
 * returns one JSON report, each group caught on its own so that one failure does not hide the
 * others.
 * @module
 */

import { NODE_GLOBALS, section } from './_util.js';
import { cacheChecks } from './cache-checks.js';
import { coreChecks } from './core-checks.js';
import { remoteChecks } from './remote-checks.js';
import type { CheckConfig, Report, RuntimeFacts } from './types.js';

function runtimeFacts(): RuntimeFacts {
  const g = globalThis as Record<string, unknown>;
  const globals: Record<string, string> = {};
  for (const name of [...NODE_GLOBALS, 'fetch', 'crypto']) {
    globals[name] = typeof g[name];
  }
  let codeFromStrings = true;
  try {
    new Function('return 1')();
  } catch {
    codeFromStrings = false;
  }
  const nav = (globalThis as { navigator?: { userAgent?: unknown } }).navigator;
  return {
    globals,
    getRandomValues: typeof globalThis.crypto?.getRandomValues === 'function',
    userAgent: typeof nav?.userAgent === 'string' ? nav.userAgent : undefined,
    codeFromStrings,
  };
}

/**
 * Runs every check.
 * @param config - The vectors, and the Vault server for the remote checks.
 * @returns The report (plain JSON).
 * @example
 * ```ts
 * const report = await runAll({ vectors, vault: { url, apiKey: 'sk_browser', namePrefix: 'chromium' } });
 * ```
 */
export async function runAll(config: CheckConfig): Promise<Report> {
  const report: Report = {
    runtime: runtimeFacts(),
    core: await section(() => coreChecks(config.vectors, config.wycheproof)),
    cache: await section(() => cacheChecks()),
  };
  if (config.vault !== undefined) {
    const vault = config.vault;
    report.remote = await section(() => remoteChecks(vault));
  }
  return report;
}
