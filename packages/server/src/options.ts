/**
 * The configuration surface of the local Vault server: {@link ServerOptions} for
 * `startServer`, {@link FaultOptions} for fault injection, their defaults, and the shapes the
 * server hands back.
 * @module
 */

/** Default largest request body: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES: number = 1024 * 1024;

/** Default rate limit: 1000 requests a minute per API key. */
export const DEFAULT_RATE_LIMIT: Readonly<{ limit: number; windowMs: number }> = Object.freeze({
  limit: 1000,
  windowMs: 60_000,
});

/**
 * Default bounds on connections of `startServer`: the header block within 10 s, the whole request
 * within 30 s (and no socket silent for twice that), an idle keep-alive connection closed after
 * 5 s, at most 512 open connections.
 */
export const DEFAULT_CONNECTION_LIMITS: Readonly<{
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  idleTimeoutMs: number;
  maxConnections: number;
}> = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 5_000,
  maxConnections: 512,
});

/** One API key the server accepts. */
export interface ApiKeyConfig {
  /** The secret, `sk_...`. */
  key: string;
  /** Display name, reported as `metadata.updated_by.name`. @default 'API key' */
  name?: string;
  /**
   * What the key may do. A key without `'vault'` is answered 403 on every Vault route.
   * @default ['vault']
   */
  permissions?: 'vault'[];
}

/**
 * Fault injection, for tests and benchmarks of clients. Off by default. Fractions are drawn per
 * request from one random number: `[0, dropRate)` drops, the next `rate429` answers 429, then
 * `rate500`, then `rate503`; their sum must not exceed 1.
 */
export interface FaultOptions {
  /** Latency added before the request is handled: a fixed number of ms, or a uniform `[min, max]`. */
  latencyMs?: number | [min: number, max: number];
  /** Fraction (0..1) of requests answered 429 with `Retry-After`. */
  rate429?: number;
  /** The `Retry-After` (seconds) of injected 429s. @default 1 */
  retryAfterSeconds?: number;
  /** Fraction (0..1) of requests answered 500. */
  rate500?: number;
  /** Fraction (0..1) of requests answered 503. */
  rate503?: number;
  /** Fraction (0..1) of requests whose TCP connection is destroyed without a response. */
  dropRate?: number;
  /** Only requests whose path starts with one of these prefixes are subject to faults. */
  routes?: string[];
  /** Seed of the random choice, for a reproducible sequence of faults. @default random */
  seed?: number;
}

/**
 * Options of `startServer` and (without `host`, `port` and the connection limits) of
 * `createVaultHandler`.
 */
export interface ServerOptions {
  /** Interface to listen on. @default '127.0.0.1' */
  host?: string;
  /** Port to listen on; 0 picks a free one. @default 8787 */
  port?: number;
  /**
   * Milliseconds a client has to send its whole header block; past it the answer is 408 and the
   * connection closes (a client that connects and sends nothing is closed too). At most
   * `requestTimeoutMs`. `startServer` only.
   * @default 10_000
   */
  headersTimeoutMs?: number;
  /**
   * Milliseconds a client has to send its whole request, body included (408 past it). A
   * connection without any traffic for twice this long is closed (a client that stops reading
   * its answer). `startServer` only.
   * @default 30_000
   */
  requestTimeoutMs?: number;
  /**
   * Milliseconds an idle keep-alive connection stays open (Node adds 1 s, so that a client that
   * reuses it just as the advertised `Keep-Alive: timeout` ends does not lose a request).
   * `startServer` only.
   * @default 5_000
   */
  idleTimeoutMs?: number;
  /**
   * Most connections open at once; past it new connections are closed at once (the client sees a
   * connection reset, which clients retry). `startServer` only.
   * @default 512
   */
  maxConnections?: number;
  /**
   * Directory of the SQLite database, the generated master key and the lock file `vault.lock`,
   * which one server at a time holds (a second one on the same directory refuses to start).
   * @default './.vault-data'
   */
  dataDir?: string;
  /** Keep everything in memory: no files at all. @default false */
  memory?: boolean;
  /** Accepted API keys. None given: one development key `sk_dev_...` is generated. */
  apiKeys?: (string | ApiKeyConfig)[];
  /**
   * The master key (32 bytes, or base64 of 32 bytes) that wraps every key-encryption key. Default:
   * read from `<dataDir>/master.key`, generated there (mode 0600) on the first start of a new data
   * directory (a directory that holds a database but no key file is refused); random with `memory`.
   */
  masterKey?: Uint8Array | string;
  /** Requests per window per API key, or `false` for none. @default { limit: 1000, windowMs: 60_000 } */
  rateLimit?: { limit: number; windowMs?: number } | false;
  /** Largest accepted request body. @default 1_048_576 (1 MiB) */
  maxBodyBytes?: number;
  /** CORS for browsers: `true` allows any origin. @default false */
  cors?: boolean | { origins: string[] };
  /** Fault injection. @default none */
  faults?: FaultOptions;
  /** Access-log sink, one line per request; `false` or absent: no log. */
  log?: ((line: string) => void) | false;
}

/** Options of `createVaultHandler`: those of `startServer` that do not concern sockets. */
export type HandlerOptions = Omit<
  ServerOptions,
  'host' | 'port' | 'headersTimeoutMs' | 'requestTimeoutMs' | 'idleTimeoutMs' | 'maxConnections'
>;

/** Request counters of a server, keyed by `'METHOD /route/:template'`. */
export interface ServerStats {
  /** Requests per route template, e.g. `'POST /vault/v1/keys/data-key'`, `'GET /vault/v1/kv/:id'`. */
  requests: Record<string, number>;
  /** All requests. */
  total: number;
}

/** The controls shared by a handler and a running server. */
export interface VaultControls {
  /** Request counters since start or the last {@link VaultControls.resetStats}. */
  stats(): ServerStats;
  /** Zeroes the request counters. */
  resetStats(): void;
  /** Replaces the fault injection settings; `undefined` turns faults off. */
  setFaults(faults: FaultOptions | undefined): void;
}

/** A running server, as `startServer` returns it. */
export interface RunningServer extends VaultControls {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:43121`. */
  url: string;
  /** The accepted API keys (the generated one when none was configured). */
  apiKeys: string[];
  /**
   * Stops accepting connections, cuts those whose request has not fully arrived (idle ones and
   * slow senders), lets requests that have arrived finish (for up to 10 s), closes the database
   * and releases the data directory.
   */
  close(): Promise<void>;
}

/** Node bindings the handler uses when it runs under `startServer` (to drop a connection). */
export interface NodeBindings {
  incoming: { socket: { destroy(): void } };
}

/** A web-standard request handler serving the Vault API, for in-process use. */
export interface VaultHandler extends VaultControls {
  /**
   * Answers one request. A request picked for a dropped connection rejects with a `TypeError`
   * (as `fetch` does when a connection breaks) when there is no socket to destroy.
   */
  fetch(request: Request, env?: NodeBindings): Promise<Response>;
  /** The accepted API keys. */
  readonly apiKeys: string[];
  /** Closes the database and releases the data directory. Requests after this are answered 503. */
  close(): void;
}
