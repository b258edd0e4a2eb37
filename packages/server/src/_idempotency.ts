/**
 * `Idempotency-Key` on POST: the first request with a key runs; a retry with the same key and the
 * same request (method, path and body bytes) gets the first response again, and creates nothing
 * twice; the same key with another request is refused with 422. A retry that arrives while the
 * first is still running waits for it. Keys are scoped per API key and remembered for 24 hours.
 *
 * Remembered answers are kept in memory sealed (AES-256-GCM under a key derived from the master
 * key, bound to the scope and key), never as text: the answers of the key routes hold plaintext
 * data keys, which a heap dump must not find for a day. A replay opens its answer, sends it, and
 * drops it. Responses of the object routes (metadata, never a value) are also written to SQLite,
 * so a retry after a restart still replays.
 *
 * In SQLite a key is claimed before its request runs (a row with status 0) and completed after,
 * each step refusing to touch a row that holds an answer: a stored answer is never replaced, even
 * if a second server shared the file. A claim left by a server that was killed is dropped at the
 * next start (when this server holds the data directory's lock, no other can be running).
 * Server errors (5xx) are not remembered: a retry after one runs again.
 * @module
 */
import type { PreparedKey } from '@vault-envelope/core';
import { open, seal, sha256, utf8 } from './_crypto.js';
import type { Db } from './_db.js';
import { HttpError } from './_http-error.js';

/** A response as remembered: status and JSON text. */
export interface StoredResponse {
  status: number;
  body: string;
}

/** A request still running: later duplicates wait for it. */
interface Running {
  fingerprint: string;
  expires: number;
  running: Promise<StoredResponse>;
}

/** A remembered answer, sealed. */
interface Done {
  fingerprint: string;
  expires: number;
  status: number;
  sealed: Uint8Array;
}

type Entry = Running | Done;

interface Row {
  fingerprint: string;
  status: number;
  body: string;
  created_at: number;
}

/** How long a key is remembered. */
export const IDEMPOTENCY_TTL_MS: number = 24 * 60 * 60 * 1000;
/** At most this many keys are remembered in memory; the oldest is forgotten past this. */
export const MAX_IDEMPOTENCY_ENTRIES = 10_000;
const MAX_KEY_LENGTH = 255;
/** The status of a claimed row whose request has not answered yet. */
const PENDING = 0;

const decoder = new TextDecoder();

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

function differentRequest(): HttpError {
  return new HttpError(422, 'Idempotency-Key was already used with a different request');
}

function inProgress(): HttpError {
  return new HttpError(409, 'A request with this Idempotency-Key is still in progress', {
    'Retry-After': '1',
  });
}

/** The remembered requests. */
export class IdempotencyStore {
  readonly #memory = new Map<string, Entry>();
  readonly #key: PreparedKey;
  readonly #select;
  readonly #claim;
  readonly #complete;
  readonly #release;
  readonly #now: () => number;

  /**
   * @param db - The database (its `idempotency` table); expired rows and claims left by a killed
   *   server are purged here.
   * @param key - The prepared key that seals remembered answers; the store destroys it on
   *   {@link IdempotencyStore.close}.
   * @param now - Clock, for tests.
   */
  constructor(db: Db, key: PreparedKey, now: () => number = Date.now) {
    this.#now = now;
    this.#key = key;
    db.prepare('DELETE FROM idempotency WHERE created_at < ? OR status = ?').run(
      now() - IDEMPOTENCY_TTL_MS,
      PENDING,
    );
    this.#select = db.prepare(
      'SELECT fingerprint, status, body, created_at FROM idempotency WHERE scope = ? AND key = ?',
    );
    // A new claim, or one over an expired row; never over a live one.
    this.#claim = db.prepare(
      "INSERT INTO idempotency (scope, key, fingerprint, status, body, created_at) VALUES (?, ?, ?, 0, '', ?) " +
        "ON CONFLICT (scope, key) DO UPDATE SET fingerprint = excluded.fingerprint, status = 0, body = '', " +
        'created_at = excluded.created_at WHERE idempotency.created_at <= ?',
    );
    this.#complete = db.prepare(
      'UPDATE idempotency SET status = ?, body = ? WHERE scope = ? AND key = ? AND fingerprint = ? AND status = 0',
    );
    this.#release = db.prepare(
      'DELETE FROM idempotency WHERE scope = ? AND key = ? AND fingerprint = ? AND status = 0',
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
   * @throws HttpError 422 when the key is malformed or was used with another request; 409 when
   *   another server process is running a request with this key.
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
    if (entry !== undefined) {
      if (entry.fingerprint !== print) throw differentRequest();
      if ('running' in entry) return { response: await entry.running, replayed: true };
      return { response: this.#open(id, entry), replayed: true };
    }
    if (persist) {
      const stored = this.#stored(scope, key, print, t);
      if (stored !== undefined) return { response: stored, replayed: true };
      const cutoff = t - IDEMPOTENCY_TTL_MS;
      if (this.#claim.run(scope, key, print, t, cutoff).changes === 0) {
        // Claimed by another process between the look-up and the claim: answer as it stands now.
        const now = this.#stored(scope, key, print, t);
        if (now !== undefined) return { response: now, replayed: true };
        throw inProgress();
      }
    }
    const running = produce();
    const mine: Running = { fingerprint: print, expires: t + IDEMPOTENCY_TTL_MS, running };
    this.#remember(id, mine);
    let response: StoredResponse;
    try {
      response = await running;
    } catch (e) {
      this.#forget(id, mine);
      if (persist) this.#release.run(scope, key, print);
      throw e;
    }
    if (response.status >= 500) {
      this.#forget(id, mine);
      if (persist) this.#release.run(scope, key, print);
    } else {
      if (persist) this.#complete.run(response.status, response.body, scope, key, print);
      if (this.#memory.get(id) === mine) this.#memory.set(id, this.#seal(id, mine, response));
    }
    return { response, replayed: false };
  }

  /** Zeroes the sealing key and forgets every answer. */
  close(): void {
    this.#memory.clear();
    this.#key.destroy();
  }

  /**
   * The stored answer for (scope, key), if a live one exists.
   * @throws HttpError 422 when it belongs to another request; 409 when it is still a claim.
   */
  #stored(scope: string, key: string, print: string, t: number): StoredResponse | undefined {
    const row = this.#select.get(scope, key) as Row | undefined;
    if (row === undefined || row.created_at + IDEMPOTENCY_TTL_MS <= t) return undefined;
    if (row.fingerprint !== print) throw differentRequest();
    if (row.status === PENDING) throw inProgress();
    return { status: row.status, body: row.body };
  }

  #seal(id: string, running: Running, response: StoredResponse): Done {
    const text = utf8(response.body);
    try {
      return {
        fingerprint: running.fingerprint,
        expires: running.expires,
        status: response.status,
        sealed: seal(this.#key, text, utf8(id)),
      };
    } finally {
      text.fill(0);
    }
  }

  #open(id: string, done: Done): StoredResponse {
    const text = open(this.#key, done.sealed, utf8(id));
    try {
      return { status: done.status, body: decoder.decode(text) };
    } finally {
      text.fill(0);
    }
  }

  #forget(id: string, entry: Entry): void {
    if (this.#memory.get(id) === entry) this.#memory.delete(id);
  }

  #remember(id: string, entry: Entry): void {
    if (this.#memory.size >= MAX_IDEMPOTENCY_ENTRIES) {
      const oldest = this.#memory.keys().next().value as string;
      this.#memory.delete(oldest);
    }
    this.#memory.set(id, entry);
  }
}
