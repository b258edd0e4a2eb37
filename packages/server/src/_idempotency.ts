/**
 * `Idempotency-Key` on POST: the first request with a key runs; a retry with the same key and the
 * same request (method, path and body bytes) gets the first response again, and creates nothing
 * twice; the same key with another request is refused with 422. A retry that arrives while the
 * first is still running waits for it. Keys are scoped per API key and remembered for 24 hours.
 *
 * Responses of the object routes are also written to SQLite, so a retry after a restart still
 * replays. Responses of the key routes carry plaintext data keys and stay in memory only.
 * Server errors (5xx) are not remembered: a retry after one runs again.
 * @module
 */
import { sha256 } from './_crypto.js';
import type { Db } from './_db.js';
import { HttpError } from './_http-error.js';

/** A response as remembered: status and JSON text. */
export interface StoredResponse {
  status: number;
  body: string;
}

interface Entry {
  fingerprint: string;
  expires: number;
  result: Promise<StoredResponse>;
}

/** How long a key is remembered. */
export const IDEMPOTENCY_TTL_MS: number = 24 * 60 * 60 * 1000;
const MAX_ENTRIES = 10_000;
const MAX_KEY_LENGTH = 255;

/** What identifies a request, besides its key: a retry must repeat all of it. */
export interface RequestIdentity {
  method: string;
  path: string;
  body: Uint8Array;
}

/** Fingerprint of a request: SHA-256 over method, path and body. */
function fingerprint(r: RequestIdentity): string {
  return sha256(r.method, ' ', r.path, '\n', r.body).toString('base64');
}

/** The remembered requests. */
export class IdempotencyStore {
  readonly #memory = new Map<string, Entry>();
  readonly #select;
  readonly #insert;
  readonly #now: () => number;

  /**
   * @param db - The database (its `idempotency` table); expired rows are purged here.
   * @param now - Clock, for tests.
   */
  constructor(db: Db, now: () => number = Date.now) {
    this.#now = now;
    db.prepare('DELETE FROM idempotency WHERE created_at < ?').run(now() - IDEMPOTENCY_TTL_MS);
    this.#select = db.prepare(
      'SELECT fingerprint, status, body, created_at FROM idempotency WHERE scope = ? AND key = ?',
    );
    this.#insert = db.prepare(
      'INSERT OR REPLACE INTO idempotency (scope, key, fingerprint, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
  }

  /**
   * Runs `produce` once per (scope, key).
   * @param scope - The API key's public id.
   * @param key - The `Idempotency-Key` header.
   * @param request - Method, path and body of the request.
   * @param persist - Whether to write the response to the database too.
   * @param produce - Makes the response.
   * @returns The response, and whether it is a replay.
   * @throws HttpError 422 when the key is malformed or was used with another request.
   */
  async run(
    scope: string,
    key: string,
    request: RequestIdentity,
    persist: boolean,
    produce: () => Promise<StoredResponse>,
  ): Promise<{ response: StoredResponse; replayed: boolean }> {
    if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
      throw new HttpError(422, `Idempotency-Key must be 1..${MAX_KEY_LENGTH} characters`);
    }
    const print = fingerprint(request);
    const id = `${scope}\0${key}`;
    const t = this.#now();
    let entry = this.#memory.get(id);
    if (entry !== undefined && entry.expires <= t) {
      this.#memory.delete(id);
      entry = undefined;
    }
    if (entry === undefined && persist) {
      const row = this.#select.get(scope, key) as
        | { fingerprint: string; status: number; body: string; created_at: number }
        | undefined;
      if (row !== undefined && row.created_at + IDEMPOTENCY_TTL_MS > t) {
        entry = {
          fingerprint: row.fingerprint,
          expires: row.created_at + IDEMPOTENCY_TTL_MS,
          result: Promise.resolve({ status: row.status, body: row.body }),
        };
      }
    }
    if (entry !== undefined) {
      if (entry.fingerprint !== print) {
        throw new HttpError(422, 'Idempotency-Key was already used with a different request');
      }
      return { response: await entry.result, replayed: true };
    }
    const result = produce();
    this.#remember(id, { fingerprint: print, expires: t + IDEMPOTENCY_TTL_MS, result });
    let response: StoredResponse;
    try {
      response = await result;
    } catch (e) {
      this.#memory.delete(id);
      throw e;
    }
    if (response.status >= 500) {
      this.#memory.delete(id);
    } else if (persist) {
      this.#insert.run(scope, key, print, response.status, response.body, t);
    }
    return { response, replayed: false };
  }

  #remember(id: string, entry: Entry): void {
    if (this.#memory.size >= MAX_ENTRIES) {
      const oldest = this.#memory.keys().next().value as string;
      this.#memory.delete(oldest);
    }
    this.#memory.set(id, entry);
  }
}
