/**
 * A real HTTP server on an ephemeral loopback port whose answers a test scripts request by
 * request: a status with headers and a body, a delay, or a dropped connection. For the
 * transport's unit tests (retries, timeouts, headers), where the local Vault server's fault
 * injection is too coarse to pin one exact sequence.
 * @module
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request as the server saw it. */
export interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What the script does with one request. */
export type Answer =
  | { status: number; headers?: Record<string, string>; body?: unknown; delayMs?: number }
  | { drop: true }
  | { hang: true }
  /** Sends the status line, headers and the first bytes of a body, then stalls. */
  | { stall: true };

/** A scripted server. */
export interface ScriptedServer {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

/**
 * Starts a server that answers request `n` (0-based) with `script(seen, n)`.
 * @param script - The answer for each request.
 * @returns The server; close it after the test.
 */
export async function scriptedServer(script: (req: Seen, n: number) => Answer): Promise<ScriptedServer> {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const n = seen.length;
      seen.push(s);
      const a = script(s, n);
      if ('drop' in a) {
        req.socket.destroy();
        return;
      }
      if ('hang' in a) return;
      if ('stall' in a) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        res.write('{"id":');
        return;
      }
      const send = (): void => {
        const body = a.body === undefined ? '' : typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
        res.writeHead(a.status, { 'content-type': 'application/json', ...(a.headers ?? {}) });
        res.end(body);
      };
      if (a.delayMs === undefined) send();
      else {
        const t = setTimeout(() => {
          timers.delete(t);
          send();
        }, a.delayMs);
        timers.add(t);
      }
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A valid `ObjectMetadata` wire body for scripted answers. */
export function wireMetadata(id = 'obj_1'): Record<string, unknown> {
  return {
    id,
    environment_id: 'environment_test',
    key_id: 'key_1',
    context: { app: 'test' },
    updated_at: '2024-06-15T10:30:00Z',
    updated_by: { id: 'key_test', name: 'Test key' },
    version_id: 'ver_1',
  };
}
