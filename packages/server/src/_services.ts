/**
 * Service wiring: the database, the master key bound to it, and the stores on top (key ring,
 * idempotency records, objects), opened in that order and closed in reverse. A failure part-way
 * closes what was opened and zeroes the raw master key on every path, so a refused start leaves
 * nothing behind.
 * @module
 */
import { type Db, openDatabase } from './_db.js';
import { IdempotencyStore } from './_idempotency.js';
import { Keyring } from './_keyring.js';
import { bindMasterKey, loadMasterKey } from './_master.js';
import { ObjectStore } from './_objects.js';
import type { Services } from './_route.js';

/** The open services of one handler. */
export interface OpenServices extends Services {
  idempotency: IdempotencyStore;
  /** Zeroes the keys in memory and closes the database. */
  close(): void;
}

/**
 * Opens the services over one database.
 * @param storage - The data directory (`undefined`: in memory) and the configured master key.
 * @param now - The clock of the stores.
 * @returns The services.
 * @throws DatabaseError when the database can not be opened; MasterKeyError when the master key
 *   does not open it; TypeError / RangeError on a malformed configured master key.
 */
export function openServices(
  storage: { dataDir: string | undefined; masterKey: Uint8Array | string | undefined },
  now: () => number,
): OpenServices {
  const db: Db = openDatabase(storage.dataDir);
  let keyring: Keyring | undefined;
  try {
    const raw = loadMasterKey(storage.masterKey, storage.dataDir);
    try {
      keyring = new Keyring(db, bindMasterKey(db, raw), now);
    } finally {
      raw.fill(0);
    }
    const ring = keyring;
    const idempotency = new IdempotencyStore(db, now);
    const objects = new ObjectStore(db, ring, now);
    return {
      keyring: ring,
      objects,
      idempotency,
      close() {
        ring.close();
        db.close();
      },
    };
  } catch (e) {
    keyring?.close();
    db.close();
    throw e;
  }
}
