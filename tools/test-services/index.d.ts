/** A PostgreSQL server started by {@link startPostgres}. */
export interface RunningPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication, loopback only). */
  url: string;
  host: string;
  port: number;
  user: string;
  database: string;
  /** The temporary directory (data and socket), removed by `stop()`. */
  dir: string;
  /** Shuts the server down and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** The directory of the PostgreSQL server binaries used. */
export function postgresBin(): string;

/** Starts a throwaway PostgreSQL server from Debian's binaries; fails (never skips) without them. */
export function startPostgres(options?: {
  bin?: string;
  fsync?: boolean;
  timeoutMs?: number;
}): Promise<RunningPostgres>;

/** Creates a database on a running server; returns its connection string. */
export function createDatabase(url: string, name: string): Promise<string>;

/** The `pnpm test:services` server's connection string, or undefined in the default run. */
export function servicesPostgresUrl(): string | undefined;
