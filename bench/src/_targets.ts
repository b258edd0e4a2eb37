/**
 * The project's performance targets, checked against one run's results. Every ratio is paired (both sides
 * timed in the same rounds); a target whose inputs were not measured is reported as such, never
 * as met.
 * @module
 */
import { TARGET_SIZE } from './_fixtures.js';
import { median } from './_stats.js';
import type { CacheResult } from './case-cache.js';
import type { CryptoResult, CryptoRow } from './case-crypto.js';
import type { HandlerResult } from './case-handler.js';

/** One target and what this run reached. */
export interface TargetCheck {
  id: string;
  description: string;
  /** The bound, e.g. `>= 1.0` or `<= 150 ns`. */
  want: string;
  /** What was measured (a ratio, or ns), or `null` when it could not be. */
  got: number | null;
  /** `null` when not measured. */
  met: boolean | null;
  /** The unit of `got`. */
  unit: '×' | 'ns' | 'calls';
}

function row(rows: readonly CryptoRow[], op: 'encrypt' | 'decrypt', id: string): CryptoRow | undefined {
  return rows.find((r) => r.op === op && r.size === TARGET_SIZE && r.id === id);
}

/** `a`'s throughput over `b`'s, paired by round. */
function paired(a: CryptoRow | undefined, b: CryptoRow | undefined): number | null {
  if (a === undefined || b === undefined || a.roundsNs.length !== b.roundsNs.length) return null;
  return median(a.roundsNs.map((ns, i) => b.roundsNs[i]! / ns));
}

function atLeast(id: string, description: string, bound: number, got: number | null): TargetCheck {
  return { id, description, want: `>= ${bound}`, got, met: got === null ? null : got >= bound, unit: '×' };
}

/**
 * Checks every target.
 * @param crypto - Cases 1 and 4, if run.
 * @param cache - Case 2, if run.
 * @param handler - Case 3, if run.
 * @returns One check per target, in a fixed order (hot path, peers, cache, request handler).
 */
export function checkTargets(
  crypto: CryptoResult | undefined,
  cache: CacheResult | undefined,
  handler: HandlerResult | undefined,
): TargetCheck[] {
  const rows = crypto?.rows ?? [];
  const checks: TargetCheck[] = [];
  const ours = (op: 'encrypt' | 'decrypt') => row(rows, op, 'envelope-fast');
  checks.push(
    atLeast(
      'fast-encrypt-vs-raw-node',
      'Envelope encrypt, fast backend, 256 B, over raw node:crypto with randomBytes(12) per call',
      1.0,
      paired(ours('encrypt'), row(rows, 'encrypt', 'raw-node')),
    ),
    atLeast(
      'fast-decrypt-vs-raw-node',
      'Envelope decrypt, fast backend, 256 B, over raw node:crypto',
      0.75,
      paired(ours('decrypt'), row(rows, 'decrypt', 'raw-node')),
    ),
  );
  for (const op of ['encrypt', 'decrypt'] as const) {
    checks.push(
      atLeast(
        `portable-${op}-vs-raw-noble`,
        `Envelope ${op}, portable backend, 256 B, over raw @noble/ciphers`,
        0.9,
        paired(row(rows, op, 'envelope-portable'), row(rows, op, 'raw-noble')),
      ),
    );
  }
  const peers: [string, string, number][] = [
    ['aws-sdk-cached', 'the AWS Encryption SDK v5 with its cache', 25],
    ['workos-stubbed', '@workos-inc/node 11, key call stubbed', 20],
    ['workos-real', '@workos-inc/node 11 with its real key call', 100],
  ];
  for (const [id, name, bound] of peers) {
    for (const op of ['encrypt', 'decrypt'] as const) {
      checks.push(
        atLeast(
          `${op}-vs-${id}`,
          `Envelope ${op}, fast, 256 B, over ${name}`,
          bound,
          paired(ours(op), row(rows, op, id)),
        ),
      );
    }
  }
  for (const id of ['cache-hit-decrypt', 'cache-hit-encrypt']) {
    const m = cache?.hit.find((h) => h.id === id);
    checks.push({
      id,
      description: `cache hit cost, median (${m?.label ?? id})`,
      want: '<= 150 ns',
      got: m?.medianNs ?? null,
      met: m === undefined ? null : m.medianNs <= 150,
      unit: 'ns',
    });
  }
  checks.push(
    atLeast(
      'handler-speedup',
      'request handler, requests/s with the cache over without',
      50,
      handler?.speedup ?? null,
    ),
  );
  const cachedRuns = handler?.runs.filter((r) => r.mode !== 'no-cache') ?? [];
  const worst =
    cachedRuns.length === 0 ? null : Math.max(...cachedRuns.map((r) => r.keyServiceCalls - r.expectedCalls));
  checks.push({
    id: 'handler-key-calls',
    description:
      'request handler with the cache: key-service calls minus (distinct keys × maxAge periods), worst run',
    want: '<= 0',
    got: worst,
    met: worst === null ? null : worst <= 0,
    unit: 'calls',
  });
  return checks;
}
