/**
 * The crash test: a table is migrated by the CLI, which is killed with SIGKILL at random moments
 * (mid-batch, mid-transaction, mid-Vault-call, wherever the clock lands), then run again until it
 * completes. Afterwards every row must hold a ciphertext that decrypts, under its own row's AAD,
 * to the row's original value: a row encrypted twice would decrypt to a ciphertext, a row left
 * in clear would not parse, a lost row would not be there. The job's counters, committed with
 * each batch, must add up to exactly one change per row.
 */
import { spawn } from 'node:child_process';
import { cachedKeyProvider } from '@vault-envelope/cache';
import { Envelope, fieldAad } from '@vault-envelope/core';
import { VaultClient } from '@vault-envelope/remote';
import type { RunningServer } from '@vault-envelope/server';
import { expect } from 'vitest';
import { BIN, cli, envFor } from './_cli.js';

/** A deterministic generator (mulberry32), so a failing seed can be replayed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The original value of row `i`. */
export const secret = (i: number): string => `ssn-${i}-${(i * 7919) % 10007}`;

export interface CrashPlan {
  server: RunningServer;
  /** The connection string the CLI opens. */
  db: string;
  table: string;
  rows: number;
  kills: number;
  /** The rows the checkpoint says are done (0 before the first batch). */
  done(): Promise<number>;
  batchSize: number;
  seed: number;
  /** Every row's id and ssn, read after the last run. */
  readAll(): Promise<{ id: number; ssn: string }[]>;
  /** The job's checkpoint counters. */
  counts(): Promise<Record<string, number>>;
}

export interface CrashFigures {
  killedMidRun: number;
  runs: number;
  seconds: number;
}

/**
 * Runs the CLI once and SIGKILLs it once the job's checkpoint shows `target` rows done, plus a
 * random jitter (so the kill lands anywhere in a batch: planning, Vault calls, the transaction):
 * whether it was killed, and its exit code if not.
 */
function runAndKill(
  args: string[],
  env: Record<string, string | undefined>,
  done: () => Promise<number>,
  target: number,
  jitterMs: number,
): Promise<{ killed: boolean; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: 'ignore' });
    let exited = false;
    child.on('exit', (code, signal) => {
      exited = true;
      resolve({ killed: signal === 'SIGKILL', code });
    });
    const poll = async () => {
      while (!exited && (await done().catch(() => 0)) < target) await new Promise((r) => setTimeout(r, 15));
      if (exited) return;
      setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, jitterMs);
    };
    void poll();
  });
}

export async function crashTest(p: CrashPlan): Promise<CrashFigures> {
  const started = performance.now();
  const env = envFor(p.server);
  const args = [
    'migrate',
    'encrypt',
    '--db',
    p.db,
    '--table',
    p.table,
    '--columns',
    'ssn',
    '--context',
    'organization_id={org_id}',
    '--namespace',
    'users',
    '--batch-size',
    String(p.batchSize),
    '--quiet',
  ];
  const random = rng(p.seed);
  let killedMidRun = 0;
  let runs = 0;
  let complete = false;
  // Kill runs at random moments until the kills are used up or a run finishes the job by itself
  // (running again after that would start a new pass, which this test does not measure).
  for (let k = 0; k < p.kills && !complete; k++) {
    // Somewhere in the next stretch of the table, so that every kill finds work left to do.
    const before = await p.done();
    const span = (p.rows - before) / (p.kills - k + 1);
    const r = await runAndKill(args, env, p.done, before + random() * span, random() * 40);
    runs++;
    if (r.killed) killedMidRun++;
    else {
      expect(r.code, `seed ${p.seed}: a run that was not killed must succeed`).toBe(0);
      complete = true;
    }
  }
  if (!complete) {
    const last = await cli(args, env);
    runs++;
    expect(last.stderr, `seed ${p.seed}`).toBe('');
    expect(last.code, `seed ${p.seed}`).toBe(0);
    expect(last.stdout, `seed ${p.seed}`).toMatch(/complete\n$/);
  }

  const rows = await p.readAll();
  expect(rows.length, `seed ${p.seed}`).toBe(p.rows);
  const keys = cachedKeyProvider(new VaultClient({ apiKey: p.server.apiKeys[0]!, baseUrl: p.server.url }), {
    maxAge: 60_000,
  });
  const envelope = new Envelope({ keys });
  const plain = await envelope.decryptManyToString(
    rows.map((r) => ({ ciphertext: r.ssn, aad: fieldAad({ id: r.id, field: 'ssn', namespace: 'users' }) })),
  );
  keys.close();
  const wrong = rows.filter((r, i) => {
    const x = plain[i]!;
    return !x.ok || x.value !== secret(r.id);
  });
  expect(wrong.map((r) => r.id).slice(0, 10), `seed ${p.seed}: rows not decrypting to their value`).toEqual(
    [],
  );
  // Exactly once: the counters committed with each batch add up to one change per row.
  const counts = await p.counts();
  expect({ rows: counts['rows'], changed: counts['changed'] }, `seed ${p.seed}`).toEqual({
    rows: p.rows,
    changed: p.rows,
  });
  const verify = await cli(
    [
      'migrate',
      'verify',
      '--db',
      p.db,
      '--table',
      p.table,
      '--columns',
      'ssn',
      '--namespace',
      'users',
      '--quiet',
    ],
    env,
  );
  expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  return { killedMidRun, runs, seconds: (performance.now() - started) / 1000 };
}
