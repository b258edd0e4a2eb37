/**
 * The master key: the one secret that wraps every key-encryption key. Taken from the options (the
 * CLI passes `VAULT_MASTER_KEY`), else read from `<dataDir>/master.key`, else generated there on
 * first start with file mode 0600; with no data directory, random for the life of the process.
 * A check value in the database tells a wrong master key from a right one at start.
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { abytes, astringOrBytes, decodeBase64, encodeBase64, type PreparedKey } from '@vault-envelope/core';
import { open, prepareKey, random, seal, utf8 } from './_crypto.js';
import type { Db } from './_db.js';
import { MasterKeyError } from './errors.js';

/** File name of the generated master key inside the data directory. */
export const MASTER_KEY_FILE = 'master.key';

const CHECK_AAD = utf8('vault-envelope-server master key check v1');
const CHECK_TEXT = utf8('vault-envelope-server');

/**
 * Turns a configured master key into 32 bytes (a copy the caller owns).
 * @param value - 32 bytes, or base64 of 32 bytes (surrounding whitespace ignored).
 * @param title - Its name, for messages.
 * @throws TypeError when it is neither bytes nor a string; RangeError when it is not 32 bytes or
 *   not base64 (the message gives a length at most, never the key).
 */
export function parseMasterKey(value: Uint8Array | string, title = 'masterKey'): Uint8Array {
  astringOrBytes(value, title);
  // A copy even of a Buffer (whose slice() is a view).
  if (typeof value !== 'string') return new Uint8Array(abytes(value, 32, title));
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64(value.trim(), title);
  } catch {
    throw new RangeError(`${title} must be base64 of 32 bytes, got malformed base64`);
  }
  if (bytes.length !== 32) {
    const n = bytes.length;
    bytes.fill(0);
    throw new RangeError(`${title} must be base64 of 32 bytes, got ${n} bytes`);
  }
  return bytes;
}

/**
 * Finds the master key: configured, in the data directory, or new.
 * @returns 32 bytes the caller owns (and zeroes after preparing).
 * @throws MasterKeyError when the key file exists but is malformed.
 */
export function loadMasterKey(
  configured: Uint8Array | string | undefined,
  dataDir: string | undefined,
): Uint8Array {
  if (configured !== undefined) return parseMasterKey(configured);
  if (dataDir === undefined) return random(32);
  const path = join(dataDir, MASTER_KEY_FILE);
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new MasterKeyError(`cannot read the master key file ${path}`, { cause: e });
    }
  }
  if (text !== undefined) {
    try {
      return parseMasterKey(text, 'master key file');
    } catch (cause) {
      throw new MasterKeyError(`the master key file ${path} is not base64 of 32 bytes`, { cause });
    }
  }
  const key = random(32);
  // 'wx': never overwrite a key another process wrote in between; 0600: owner only.
  writeFileSync(path, `${encodeBase64(key)}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}

/**
 * Prepares the master key for use against `db`: stores a check value on first use, and verifies
 * it on every later start.
 * @throws MasterKeyError when the key is not the one this database was created with.
 */
export function bindMasterKey(db: Db, key: Uint8Array): PreparedKey {
  const prepared = prepareKey(key);
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get('master_check') as
    | { value: string }
    | undefined;
  if (row === undefined) {
    const check = seal(prepared, CHECK_TEXT, CHECK_AAD);
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('master_check', encodeBase64(check));
    return prepared;
  }
  try {
    open(prepared, decodeBase64(row.value), CHECK_AAD);
  } catch (cause) {
    prepared.destroy();
    throw new MasterKeyError('the master key does not match this data directory', { cause });
  }
  return prepared;
}
