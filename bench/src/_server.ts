/**
 * The parent's handle on the local Vault server running in a child process (`_server-child.ts`).
 * @module
 */
import { type ChildProcess, fork } from 'node:child_process';
import type { ServerStats } from '@vault-envelope/server';

/** The API key the benchmark server accepts. */
export const BENCH_API_KEY = 'sk_bench';

/** A running benchmark server. */
export interface ServerHandle {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** The server's request counters. */
  stats(): Promise<ServerStats>;
  /** Zeroes the counters. */
  resetStats(): Promise<void>;
  /** Stops the server and its process. */
  close(): Promise<void>;
}

/**
 * Starts the local Vault server (in memory, rate limit off, key `sk_bench`) in a child process.
 * @returns The handle, once the server listens.
 * @throws Error when the server fails to start within 30 s.
 */
export function startServerProcess(): Promise<ServerHandle> {
  const child: ChildProcess = fork(new URL('./_server-child.js', import.meta.url), [], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    execArgv: [],
  });
  let nextId = 1;
  const waiting = new Map<number, (m: { stats?: ServerStats }) => void>();
  child.on('message', (m: { id?: number; stats?: ServerStats }) => {
    if (m.id !== undefined) {
      waiting.get(m.id)?.(m);
      waiting.delete(m.id);
    }
  });
  const ask = (type: 'stats' | 'reset' | 'close'): Promise<{ stats?: ServerStats }> =>
    new Promise((resolve, reject) => {
      if (!child.connected) {
        reject(new Error('the server process is gone'));
        return;
      }
      const id = nextId++;
      waiting.set(id, resolve);
      child.send({ id, type });
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error('the server did not start within 30 s'));
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server process exited with code ${code}`));
    });
    child.on('message', (m: { type?: string; url?: string; message?: string }) => {
      if (m.type === 'error') {
        clearTimeout(timer);
        reject(new Error(`the server failed to start: ${m.message}`));
      } else if (m.type === 'ready' && m.url !== undefined) {
        clearTimeout(timer);
        resolve({
          url: m.url,
          stats: async () => (await ask('stats')).stats!,
          resetStats: async () => {
            await ask('reset');
          },
          close: async () => {
            await ask('close').catch(() => undefined);
            await new Promise<void>((done) => {
              if (child.exitCode !== null) done();
              else child.once('exit', () => done());
            });
          },
        });
      }
    });
  });
}
