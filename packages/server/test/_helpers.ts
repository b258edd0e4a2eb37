/**
 * Test helpers: a server on an ephemeral port and a small JSON client for it.
 */
import { type RunningServer, type ServerOptions, startServer } from '@vault-envelope/server';
import { afterAll, beforeAll } from 'vitest';

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
