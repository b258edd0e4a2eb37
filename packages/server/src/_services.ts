/**
 * Service wiring: the data directory's lock, the master key, the database, the master key bound
 * to it, and the stores on top (key ring, idempotency records, objects), opened in that order and
 * closed in reverse. A failure part-way closes what was opened and zeroes the raw master key on
 * every path, so a refused start leaves nothing behind.
 *
 * The order is what makes a refusal safe: the master key is looked for before anything is
 * written (a data directory with a database and no key is refused untouched); the lock is taken
 * before a key file or a database is created, so two servers can never both think a directory
 * new; the database's integrity is checked before a migration or the master key's check value
 * writes to it.
 * @module
 */
import { mkdirSync } from 'node:fs';
import type { PreparedKey } from '@vault-envelope/core';
import { deriveKey, hmacHex, macKey, prepareKey } from './_crypto.js';
import { type Db, openDatabase } from './_db.js';
import { IdempotencyStore } from './_idempotency.js';
import { Keyring } from './_keyring.js';
import { type DirLock, lockDataDir } from './_lock.js';
import { bindMasterKey, findMasterKey, newMasterKey } from './_master.js';
import { ObjectStore } from './_objects.js';
import type { Services } from './_route.js';
import { DatabaseError } from './errors.js';

/** The open services of one handler. */
export interface OpenServices extends Services {
  idempotency: IdempotencyStore;
  /**
   * The public id of an API key: `key_` and 26 hex digits of its HMAC under a key derived from
   * the master key.
   */
  publicId(apiKey: string): string;
  /** Zeroes the keys in memory, closes the database and releases the lock. */
  close(): void;
}

/**
 * Opens the services over one database.
 * @param storage - The data directory (`undefined`: in memory) and the configured master key.
 * @param now - The clock of the stores.
 * @returns The services.
 * @throws DatabaseError when the data directory can not be created or locked (another server
 *   holds it), or the database can not be opened or is damaged; MasterKeyError when the master
 *   key does not open it or is missing beside an existing database; TypeError / RangeError on a
 *   malformed configured master key.
 */
export function openServices(
  storage: { dataDir: string | undefined; masterKey: Uint8Array | string | undefined },
  now: () => number,
): OpenServices {
  const { dataDir } = storage;
  let raw = findMasterKey(storage.masterKey, dataDir);
  let lock: DirLock | undefined;
  let db: Db | undefined;
  let master: PreparedKey | undefined;
  let sealing: PreparedKey | undefined;
  let keyring: Keyring | undefined;
  try {
    if (dataDir !== undefined) {
      try {
        mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      } catch (cause) {
        throw new DatabaseError('cannot open the Vault database', { cause });
      }
      lock = lockDataDir(dataDir);
    }
    raw ??= newMasterKey(dataDir);
    const opened = openDatabase(dataDir);
    db = opened;
    master = bindMasterKey(opened, raw);
    const sealKey = deriveKey(raw, 'idempotency');
    const idKey = deriveKey(raw, 'api key id');
    let ids: ReturnType<typeof macKey>;
    try {
      sealing = prepareKey(sealKey);
      ids = macKey(idKey);
    } finally {
      sealKey.fill(0);
      idKey.fill(0);
    }
    keyring = new Keyring(opened, master, now);
    master = undefined; // the keyring owns it now
    const ring = keyring;
    const idempotency = new IdempotencyStore(opened, sealing, now);
    sealing = undefined; // the store owns it now
    const objects = new ObjectStore(opened, ring, now);
    const held = lock;
    return {
      keyring: ring,
      objects,
      idempotency,
      publicId: (apiKey) => `key_${hmacHex(ids, apiKey).slice(0, 26)}`,
      close() {
        idempotency.close();
        ring.close();
        opened.close();
        held?.release();
      },
    };
  } catch (e) {
    keyring?.close();
    master?.destroy();
    sealing?.destroy();
    db?.close();
    lock?.release();
    throw e;
  } finally {
    raw?.fill(0);
    raw = undefined;
  }
}
