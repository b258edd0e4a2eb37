/**
 * Runs the `vault-envelope` bin as a user does: a child `node` process on the built package,
 * with the API key and base URL of a local server in its environment.
 */
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type RunningServer, startServer } from '@vault-envelope/server';

export const BIN = fileURLToPath(new URL('../bin/vault-envelope.js', import.meta.url));

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Starts the local Vault-compatible server in memory, without a rate limit. */
export function localVault(): Promise<RunningServer> {
  return startServer({ port: 0, memory: true, rateLimit: false });
}

/** The environment a run gets: the server's key and URL, nothing of the parent's Vault settings. */
export function envFor(server: RunningServer | undefined, extra: Record<string, string | undefined> = {}) {
  const env: Record<string, string | undefined> = { ...process.env };
  delete env['WORKOS_API_KEY'];
  delete env['VAULT_BASE_URL'];
  delete env['DATABASE_URL'];
  if (server !== undefined) {
    env['WORKOS_API_KEY'] = server.apiKeys[0];
    env['VAULT_BASE_URL'] = server.url;
  }
  return { ...env, ...extra };
}

/** Runs the bin to completion. */
export function cli(args: string[], env: Record<string, string | undefined>, input?: string): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error !== null && typeof (error as { code?: unknown }).code !== 'number') {
          reject(error);
          return;
        }
        resolve({ code: error === null ? 0 : Number((error as { code: number }).code), stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

export { spawn };
