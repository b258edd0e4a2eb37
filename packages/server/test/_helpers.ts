/**
 * Test helpers: a server on an ephemeral port, a small JSON client for it, and the CLI as a child
 * process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type RunningServer, type ServerOptions, startServer } from '@vault-envelope/server';
import { afterAll, beforeAll } from 'vitest';

/** The CLI's entry point (runs the built package). */
export const BIN: string = fileURLToPath(new URL('../bin/vault-envelope-server.js', import.meta.url));

/** One HTTP exchange. */
export interface Reply {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read reply fields directly
  body: any;
  text: string;
}

/** Sends a request; `body` is JSON-encoded unless it is a string. */
export async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  key = 'sk_test',
): Promise<Reply> {
  const h: Record<string, string> = { 'Content-Type': 'application/json', ...headers };
  if (key !== '') h['Authorization'] = `Bearer ${key}`;
  const init: RequestInit = { method, headers: h };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(base + path, init);
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** A client bound to one server. */
export function client(server: { url: string }, key = 'sk_test') {
  return (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    call(server.url, method, path, body, headers, key);
}

/** Starts an in-memory server on port 0 with the key `sk_test` and no rate limit. */
export function testServer(options: ServerOptions = {}): Promise<RunningServer> {
  return startServer({ port: 0, memory: true, apiKeys: ['sk_test'], rateLimit: false, ...options });
}

/**
 * One test server for the enclosing `describe` (or file): started before its tests, closed after.
 * @returns `api(...)` bound to it, and `server()` for the server itself.
 */
export function sharedServer(options: ServerOptions = {}) {
  let running: RunningServer | undefined;
  beforeAll(async () => {
    running = await testServer(options);
  });
  afterAll(() => running?.close());
  return {
    server: () => running!,
    api: (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
      call(running!.url, method, path, body, headers),
  };
}

/** A CLI child process. */
export interface Cli {
  child: ChildProcess;
  /** The URL it printed first. */
  url: string;
  /** Every line of stdout so far. */
  lines: string[];
  /** Everything on stderr so far. */
  stderr(): string;
}

/**
 * Spawns the CLI and resolves with its URL (the first line it prints); rejects with its stderr
 * when it exits first.
 */
export async function spawnCli(
  args: string[],
  env: Record<string, string> = {},
  spawnOptions: { nodeArgs?: string[]; cwd?: string } = {},
): Promise<Cli> {
  const child = spawn(process.execPath, [...(spawnOptions.nodeArgs ?? []), BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(spawnOptions.cwd === undefined ? {} : { cwd: spawnOptions.cwd }),
  });
  const lines: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const rl = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    rl.on('line', (line) => {
      lines.push(line);
      if (lines.length === 1) resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`CLI exited with ${code}: ${stderr}`)));
  });
  return { child, url, lines, stderr: () => stderr };
}

/** Resolves when the child has exited. */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}
