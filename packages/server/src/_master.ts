/**
 * The master key: the one secret that wraps every key-encryption key. Taken from the options (the
 * CLI passes `VAULT_MASTER_KEY`), else read from `<dataDir>/master.key`, else generated there on
 * first start with file mode 0600; with no data directory, random for the life of the process.
 * A data directory that holds a database but no key file is refused: a key is only ever made for
 * a new directory. A check value in the database tells a wrong master key from a right one at
 * start.
 * @module
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { abytes, astringOrBytes, decodeBase64, encodeBase64, type PreparedKey } from '@vault-envelope/core';
import { open, prepareKey, random, seal, utf8 } from './_crypto.js';
import { DB_FILE, type Db } from './_db.js';
import { masterOpensKeks } from './_keyring.js';
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
 * Finds the master key without writing anything: configured, or read from the data directory.
 * @param configured - The configured key, if any.
 * @param dataDir - The data directory (`undefined`: in memory).
 * @returns 32 bytes the caller owns (and zeroes after preparing), or `undefined` when there is
 *   none yet and one is to be made ({@link newMasterKey}).
 * @throws MasterKeyError when the key file exists but is unreadable or malformed, or when it is
 *   missing while the data directory holds a database: a new key would open none of its data,
 *   and writing one would only turn this clear refusal into a misleading "does not match" later.
 */
export function findMasterKey(
  configured: Uint8Array | string | undefined,
  dataDir: string | undefined,
): Uint8Array | undefined {
  if (configured !== undefined) return parseMasterKey(configured);
  if (dataDir === undefined) return undefined;
  const path = join(dataDir, MASTER_KEY_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // ENOTDIR: the data directory is not a directory; that is reported when it is created.
    if (code !== 'ENOENT' && code !== 'ENOTDIR') {
      throw new MasterKeyError(`cannot read the master key file ${path}`, { cause: e });
    }
    if (existsSync(join(dataDir, DB_FILE))) {
      throw new MasterKeyError(
        `the data directory ${dataDir} holds a database but no master key file ${path}: restore ` +
          'that file, or pass the key it was created with (VAULT_MASTER_KEY); no new key is made',
      );
    }
    return undefined;
  }
  try {
    return parseMasterKey(text, 'master key file');
  } catch (cause) {
    throw new MasterKeyError(`the master key file ${path} is not base64 of 32 bytes`, { cause });
  }
}

/**
 * A new master key: random, and with a data directory written to `<dataDir>/master.key` (mode
 * 0600, never over an existing file). Called with the data directory locked, after
 * {@link findMasterKey} found none.
 * @returns 32 bytes the caller owns.
 * @throws MasterKeyError when a database appeared meanwhile, or the file can not be written.
 */
export function newMasterKey(dataDir: string | undefined): Uint8Array {
  const key = random(32);
  if (dataDir === undefined) return key;
  const path = join(dataDir, MASTER_KEY_FILE);
  try {
    if (existsSync(join(dataDir, DB_FILE))) {
      throw new MasterKeyError(`the data directory ${dataDir} holds a database but no master key file`);
    }
    // 'wx': never overwrite a key another process wrote in between; 0600: owner only.
    writeFileSync(path, `${encodeBase64(key)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    key.fill(0);
    if (MasterKeyError.is(e)) throw e;
    throw new MasterKeyError(`cannot write the master key file ${path}`, { cause: e });
  }
  return key;
}

/**
 * Prepares the master key for use against `db`: verifies it against the check value stored on
 * first use. When the check value is missing from a database that holds keys, the key is
 * verified against a stored key-encryption key instead (the check value is only a shortcut for
 * that) and the check value written again; a key that opens nothing is never accepted, so a
 * server never starts with a key that would answer every stored object with a 500.
 * @throws MasterKeyError when the key is not the one this database was created with, or can not
 *   be verified (objects but neither a check value nor a key-encryption key).
 */
export function bindMasterKey(db: Db, key: Uint8Array): PreparedKey {
  const prepared = prepareKey(key);
  try {
    const row = db.prepare('SELECT value FROM meta WHERE key = ?').get('master_check') as
      | { value: string }
      | undefined;
    if (row === undefined) {
      const opens = masterOpensKeks(db, prepared);
      if (opens === false) throw new MasterKeyError('the master key does not match this data directory');
      if (opens === undefined && db.prepare('SELECT 1 FROM objects LIMIT 1').get() !== undefined) {
        throw new MasterKeyError(
          'the master key can not be verified: the database holds objects but neither its master ' +
            'key check value nor any key-encryption key',
        );
      }
      const check = seal(prepared, CHECK_TEXT, CHECK_AAD);
      db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('master_check', encodeBase64(check));
      return prepared;
    }
    try {
      open(prepared, decodeBase64(row.value), CHECK_AAD);
    } catch (cause) {
      throw new MasterKeyError('the master key does not match this data directory', { cause });
    }
    return prepared;
  } catch (e) {
    prepared.destroy();
    throw e;
  }
}
