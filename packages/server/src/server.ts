/**
 * {@link startServer}: the Vault API on Node's `http` server, through `@hono/node-server`'s
 * request listener. Closing is graceful: the server stops accepting connections, lets in-flight
 * requests finish (answering them with `Connection: close`), closes idle keep-alive connections,
 * then closes the database.
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { checkServerOptions } from './_options.js';
import { buildHandler } from './handler.js';
import type { NodeBindings, RunningServer, ServerOptions } from './options.js';

/** How long `close()` waits for in-flight requests before it cuts the remaining connections. */
const CLOSE_GRACE_MS = 10_000;

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Starts a local WorkOS Vault–compatible server.
 *
 * @param options - See {@link ServerOptions}; everything is optional.
 * @returns The running server: its `url` (no trailing slash), the accepted `apiKeys`, request
 *   `stats()`, `setFaults()` and a graceful `close()`.
 * @throws TypeError / RangeError on malformed or unknown options; MasterKeyError when the master
 *   key does not open the data directory; DatabaseError when the database can not be opened; the
 *   listen error (e.g. `EADDRINUSE`) when the port is taken.
 * @example
 * ```ts
 * const server = await startServer({ port: 0, memory: true, apiKeys: ['sk_test'] });
 * const res = await fetch(`${server.url}/vault/v1/keys/data-key`, {
 *   method: 'POST',
 *   headers: { Authorization: 'Bearer sk_test', 'Content-Type': 'application/json' },
 *   body: JSON.stringify({ context: { organization_id: 'org_1' } }),
 * });
 * await server.close();
 * ```
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const { host, port, handler: config } = checkServerOptions(options);
  const handler = buildHandler(config);
  const listener = getRequestListener((request, env) =>
    handler.fetch(request, env as unknown as NodeBindings),
  );

  let closing = false;
  const active = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    active.add(res);
    res.once('close', () => {
      active.delete(res);
      // A keep-alive connection that just went idle is closed at once while shutting down.
      if (closing) server.closeIdleConnections();
    });
    if (closing) res.setHeader('Connection', 'close');
    void listener(req, res);
  });
  server.keepAliveTimeout = 5_000;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    handler.close();
    throw e;
  }

  const address = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;

  return {
    url: `http://${urlHost(host)}:${address.port}`,
    apiKeys: handler.apiKeys,
    stats: () => handler.stats(),
    resetStats: () => handler.resetStats(),
    setFaults: (faults) => handler.setFaults(faults),
    close(): Promise<void> {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        // In-flight answers tell their clients that this connection ends with them.
        for (const res of active) if (!res.headersSent) res.setHeader('Connection', 'close');
        const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          handler.close();
          resolve();
        });
        server.closeIdleConnections();
      });
      return closed;
    },
  };
}
