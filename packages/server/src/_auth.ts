/**
 * API keys: `Authorization: Bearer sk_...`. Keys are looked up by their SHA-256, so the time a
 * lookup takes says nothing about the secret, and only hashes are kept past start-up. A key's
 * public id stands for it in metadata (`updated_by.id`, which every caller reads), idempotency
 * scopes and limits: `key_` and 26 hex digits of an HMAC-SHA256 of the key under a secret derived
 * from the master key. Stable across restarts of one data directory, and of no use to anyone
 * without the master key: an unkeyed hash of the key would let a caller test guesses of a weak
 * key offline. The key itself is never logged or echoed.
 * @module
 */
import { sha256, token } from './_crypto.js';
import { HttpError } from './_http-error.js';
import type { CheckedKey } from './_options.js';

/** An authenticated caller. */
export interface Principal {
  /** Public id of the key, e.g. `key_3f2a...`. */
  id: string;
  /** Display name of the key. */
  name: string;
}

interface KeyEntry extends Principal {
  vault: boolean;
}

/** A new development key, `sk_dev_` and 32 random characters. */
export function generateDevKey(): string {
  return `sk_dev_${token(24)}`;
}

/** The set of accepted keys. */
export class ApiKeys {
  readonly #byHash = new Map<string, KeyEntry>();
  /** The key strings, as configured or generated, for the caller that started the server. */
  readonly keys: string[];

  /**
   * @param configured - Keys from the options, already checked; none: one development key with
   *   the Vault permission is generated.
   * @param publicId - The public id of a key (`key_...`).
   */
  constructor(configured: readonly CheckedKey[] | undefined, publicId: (key: string) => string) {
    const list = configured ?? [{ key: generateDevKey(), name: 'API key', vault: true }];
    this.keys = [];
    for (const { key, name, vault } of list) {
      this.keys.push(key);
      this.#byHash.set(sha256(key).toString('hex'), { id: publicId(key), name, vault });
    }
  }

  /**
   * Authenticates a request by its `Authorization` header.
   * @returns The caller.
   * @throws HttpError 401 when the header is missing, malformed or names an unknown key; 403
   *   when the key lacks the Vault permission.
   */
  authenticate(authorization: string | null | undefined): Principal {
    if (authorization === null || authorization === undefined) {
      throw new HttpError(401, 'Unauthorized: missing API key');
    }
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (m === null || !m[1]!.startsWith('sk_')) throw new HttpError(401, 'Unauthorized: invalid API key');
    const entry = this.#byHash.get(sha256(m[1]!).toString('hex'));
    if (entry === undefined) throw new HttpError(401, 'Unauthorized: invalid API key');
    if (!entry.vault) throw new HttpError(403, 'Forbidden: this API key lacks the Vault permission');
    return { id: entry.id, name: entry.name };
  }
}
