/**
 * What every case receives: the mode, the measuring settings, the server when one runs, and a
 * progress log (stderr, so that stdout carries only the result table).
 * @module
 */
import type { MeasureSettings } from './_measure.js';
import type { ServerHandle } from './_server.js';

/** The run a case belongs to. */
export interface RunContext {
  /** `bench:quick`: fewer sizes, shorter rounds. */
  quick: boolean;
  /** Settings of the crypto groups. */
  settings: MeasureSettings;
  /** Plaintext sizes of the hot path. */
  sizes: readonly number[];
  /** The local Vault server, or why there is none. */
  server: ServerHandle | { unavailable: string };
  /** Progress output. */
  log(line: string): void;
}

/** A case that did not run, and why. */
export interface Skipped {
  id: string;
  reason: string;
}

/**
 * The server, when the run has one.
 * @param ctx - The run.
 * @returns The handle or `undefined`.
 */
export function serverOf(ctx: RunContext): ServerHandle | undefined {
  return 'url' in ctx.server ? ctx.server : undefined;
}
