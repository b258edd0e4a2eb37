/**
 * {@link startServer}: the Vault API on Node's `http` server, through `@hono/node-server`'s
 * request listener.
 *
 * Slow and vanishing clients are bounded: the header block must arrive within
 * `headersTimeoutMs`, the whole request within `requestTimeoutMs` (and a socket may go without
 * traffic for twice that, so a client that stops reading its answer is let go), an idle keep-alive
 * connection closes after `idleTimeoutMs` (and the 1 s Node adds, so that a client reusing the
 * connection just as its advertised `Keep-Alive: timeout` ends does not lose a request), and past `maxConnections` open connections new ones
 * are refused. Node enforces the first two from a periodic check; its interval is derived from
 * them, so a timeout fires within a quarter of its length (at most a second) late, not Node's
 * default 30 s.
 *
 * Requests Node refuses before any handler sees them (a header block over 16 KiB, a malformed
 * request line, a timeout) are answered as every other error is: JSON `{"error": ...}` with an
 * `X-Request-ID`, and an access-log line; never an echo of the request (it may carry an API key).
 *
 * Closing is graceful for requests the server is working on and short for the rest: the server
 * stops accepting connections, cuts at once every connection whose request has not fully arrived
 * (idle keep-alive ones, and slow clients part-way through their headers or body, which would
 * otherwise hold it for the whole grace period), lets requests that have arrived finish (answering
 * them with `Connection: close`), then closes the database. After a grace period of 10 s the
 * remaining connections are cut too.
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { getRequestListener } from '@hono/node-server';
import { RequestIds } from './_observe.js';
import { checkServerOptions } from './_options.js';
import { buildHandler } from './handler.js';
import type { NodeBindings, RunningServer, ServerOptions } from './options.js';

/** How long `close()` waits for requests that have arrived before it cuts their connections. */
export const CLOSE_GRACE_MS = 10_000;

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The status and message of an answer to a request Node's HTTP parser refused. */
function refusal(code: string | undefined): [status: number, reason: string, message: string] {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'Request Header Fields Too Large', 'Request header fields too large'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'Request Timeout', 'Request timeout: the request did not arrive in time'];
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return [413, 'Payload Too Large', 'Chunk extensions too large'];
    default:
      return [400, 'Bad Request', 'Bad request: malformed HTTP'];
  }
}

/**
 * Starts a local WorkOS Vault–compatible server.
 *
 * @param options - See {@link ServerOptions}; everything is optional.
 * @returns The running server: its `url` (no trailing slash), the accepted `apiKeys`, request
 *   `stats()`, `setFaults()` and a graceful `close()`.
 * @throws TypeError / RangeError on malformed or unknown options; MasterKeyError when the master
 *   key does not open the data directory, or is missing beside its database; DatabaseError when
 *   the database can not be opened or is damaged, or another server holds the data directory;
 *   the listen error (e.g. `EADDRINUSE`) when the port is taken.
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
  const { host, port, limits, handler: config } = checkServerOptions(options);
  const ids = new RequestIds();
  const handler = buildHandler(config, Date.now, ids);
  const log = config.log;
  /** A request id for an answer made outside the handler, and its access-log line. */
  const refused = (status: number): string => {
    const id = ids.next();
    log?.(`${new Date().toISOString()} (refused by the HTTP parser) ${status} - ${id}`);
    return id;
  };
  const listener = getRequestListener(
    (request, env) => handler.fetch(request, env as unknown as NodeBindings),
    {
      // HTTP/1.0 has no Host header, and nothing here depends on it.
      hostname: 'localhost',
      // A request target the URL parser refuses (a backslash, an invalid Host): the same JSON 400.
      errorHandler: () => {
        const message = 'Bad request: malformed request target';
        const id = refused(400);
        return new Response(JSON.stringify({ error: message }), {
          status: 400,
          headers: { 'Content-Type': 'application/json', 'X-Request-ID': id, Connection: 'close' },
        });
      },
    },
  );

  let closing = false;
  const sockets = new Set<Socket>();
  /** The request each connection is being answered for. */
  const inFlight = new Map<Socket, { req: IncomingMessage; res: ServerResponse }>();
  const server = createServer(
    {
      // Node would answer a missing Host itself, with an empty body and no request id.
      requireHostHeader: false,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.idleTimeoutMs,
      connectionsCheckingInterval: Math.max(
        10,
        Math.min(1000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4)),
      ),
    },
    (req: IncomingMessage, res: ServerResponse) => {
      const socket = req.socket;
      const current = { req, res };
      inFlight.set(socket, current);
      res.once('close', () => {
        if (inFlight.get(socket) === current) inFlight.delete(socket);
        // A keep-alive connection that just went idle is closed at once while shutting down.
        if (closing) server.closeIdleConnections();
      });
      if (closing) res.setHeader('Connection', 'close');
      void listener(req, res);
    },
  );
  server.maxConnections = limits.maxConnections;
  // A socket with no traffic for this long is closed, also while its answer is being written (a
  // client that stops reading). Twice the request timeout, so that a request that is late gets
  // its 408 from the request timeout before the socket is cut without an answer.
  server.timeout = 2 * limits.requestTimeoutMs;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('drop', () => {
    log?.(`${new Date().toISOString()} (connection refused: maxConnections ${limits.maxConnections}) - -`);
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // Node has already silenced later socket errors. Nothing can be said on a socket that is gone,
    // or in the middle of an answer that has begun.
    const answering = (socket as { _httpMessage?: ServerResponse })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || answering?.headersSent === true) {
      socket.destroy();
      return;
    }
    const [status, reason, message] = refusal(error.code);
    const id = refused(status);
    const body = JSON.stringify({ error: message });
    socket.once('finish', () => socket.destroy());
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nX-Request-ID: ${id}\r\nConnection: close\r\n\r\n${body}`,
    );
  });

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
        // Answers in flight tell their clients that this connection ends with them.
        for (const { res } of inFlight.values()) if (!res.headersSent) res.setHeader('Connection', 'close');
        const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          handler.close();
          resolve();
        });
        // Cut what is not a request the server is working on: idle connections, and clients
        // part-way through sending one (headers or body), who are never waited for.
        for (const socket of sockets) {
          const current = inFlight.get(socket);
          if (current === undefined || !current.req.complete) socket.destroy();
        }
      });
      return closed;
    },
  };
}
