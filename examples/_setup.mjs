// Shared by the examples: where Vault is, and how an example reports a bad configuration.
//
// With no configuration, an example starts the local Vault-compatible server in-process, on a
// SQLite file in a fresh temporary directory, and removes it afterwards. Set WORKOS_API_KEY (and
// optionally VAULT_BASE_URL, e.g. http://127.0.0.1:8787 for `pnpm run server`) to use another Vault.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { VaultClient } from '@vault-envelope/remote';
import { startServer } from '@vault-envelope/server';

/** A configuration mistake: reported as one line, without a stack trace. */
export class ConfigError extends Error {}

/**
 * Connects to Vault.
 * @returns {Promise<{ client: VaultClient, where: string, local: import('@vault-envelope/server').RunningServer | undefined, close(): Promise<void> }>}
 */
export async function openVault() {
  const apiKey = process.env.WORKOS_API_KEY;
  const baseUrl = process.env.VAULT_BASE_URL;
  if (apiKey !== undefined || baseUrl !== undefined) {
    if (!apiKey) {
      throw new ConfigError(
        'VAULT_BASE_URL is set but WORKOS_API_KEY is not: set both, or neither to use the local server',
      );
    }
    if (!apiKey.startsWith('sk_')) throw new ConfigError('WORKOS_API_KEY must start with sk_');
    if (baseUrl !== undefined && !URL.canParse(baseUrl)) {
      throw new ConfigError(`VAULT_BASE_URL is not a URL: ${JSON.stringify(baseUrl)}`);
    }
    const client = new VaultClient({ apiKey, ...(baseUrl ? { baseUrl } : {}) });
    return { client, where: baseUrl ?? 'https://api.workos.com', local: undefined, close: async () => {} };
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'vault-envelope-'));
  // No rate limit: the demo compares a run without cache, which calls Vault on every request.
  const local = await startServer({ port: 0, dataDir, rateLimit: false });
  const client = new VaultClient({ apiKey: local.apiKeys[0], baseUrl: local.url });
  return {
    client,
    where: `${local.url} (local server, SQLite in ${dataDir})`,
    local,
    close: async () => {
      await local.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Runs an example's main function: a configuration mistake or an unreachable Vault ends in one
 * clear line on stderr and exit code 1; anything else is a bug and shows its stack.
 * @param {() => Promise<void>} fn
 */
export function run(fn) {
  const name = basename(process.argv[1] ?? 'example', '.mjs');
  fn().then(
    () => process.exit(0),
    (error) => {
      if (
        error instanceof ConfigError ||
        error?.name === 'NetworkError' ||
        error?.name === 'AuthenticationError'
      ) {
        console.error(`${name}: ${error.message}`);
      } else {
        console.error(error);
      }
      process.exit(1);
    },
  );
}

/**
 * A progress bar on stderr: redrawn in place on a terminal, a line every 10% otherwise.
 * @param {string} label
 * @param {number} total
 */
export function progress(label, total) {
  const tty = process.stderr.isTTY === true;
  const start = performance.now();
  let lastDecile = -1;
  return {
    /** @param {number} done */
    update(done) {
      const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
      const rate = done / ((performance.now() - start) / 1000 || 1);
      if (tty) {
        const width = 30;
        const fill = Math.round((pct / 100) * width);
        process.stderr.write(
          `\r  ${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${String(pct).padStart(3)}% ${done}/${total} ${rate.toFixed(0)}/s`,
        );
        if (done >= total) process.stderr.write('\n');
      } else if (Math.floor(pct / 10) !== lastDecile) {
        lastDecile = Math.floor(pct / 10);
        process.stderr.write(`  ${label}: ${pct}% (${done}/${total})\n`);
      }
    },
  };
}

/** A deterministic pseudo-random generator (mulberry32), so every run writes the same people. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = [
  'ada',
  'alan',
  'grace',
  'edsger',
  'barbara',
  'donald',
  'frances',
  'ken',
  'radia',
  'tim',
  'margaret',
  'john',
];
const LAST = [
  'lovelace',
  'turing',
  'hopper',
  'dijkstra',
  'liskov',
  'knuth',
  'allen',
  'thompson',
  'perlman',
  'lee',
  'hamilton',
  'mccarthy',
];

/** The i-th generated user (1-based), the same on every run. */
export function user(i, orgs = 5) {
  const r = rng(i * 7919);
  const pick = (list) => list[Math.floor(r() * list.length)];
  const first = pick(FIRST);
  const last = pick(LAST);
  const pad = (n, w) => String(n).padStart(w, '0');
  return {
    id: i,
    org_id: `org_${(i % orgs) + 1}`,
    name: `${first[0].toUpperCase()}${first.slice(1)} ${last[0].toUpperCase()}${last.slice(1)}`,
    ssn: `${pad(100 + Math.floor(r() * 800), 3)}-${pad(10 + Math.floor(r() * 89), 2)}-${pad(Math.floor(r() * 10000), 4)}`,
    dob: `${1940 + Math.floor(r() * 60)}-${pad(1 + Math.floor(r() * 12), 2)}-${pad(1 + Math.floor(r() * 28), 2)}`,
    email: `${first}.${last}.${i}@example.com`,
  };
}

/** Median and 99th percentile of a list of numbers. */
export function percentiles(values) {
  const s = [...values].sort((a, b) => a - b);
  const at = (q) => (s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))]);
  return { p50: at(0.5), p99: at(0.99) };
}

/**
 * Sends `total` requests from `concurrency` workers and measures them.
 * @param {number} total
 * @param {number} concurrency
 * @param {(i: number) => Promise<void>} request - throws on a wrong answer
 */
export async function load(total, concurrency, request) {
  const latencies = [];
  let next = 0;
  let errors = 0;
  let firstError;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t0 = performance.now();
        try {
          await request(i);
        } catch (e) {
          errors++;
          firstError ??= e;
        }
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return { requests: total, errors, firstError, rps: total / seconds, ...percentiles(latencies) };
}
