import { readFileSync } from 'node:fs';
import { type DataKey, type KeyContext, type KeyProvider, makeDataKey } from '@vault-envelope/core';

export const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
export const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export function loadJson<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./vectors/${name}`, import.meta.url), 'utf8')) as T;
}

/**
 * A KeyProvider with one fixed key, counting its calls and keeping every DataKey it handed out
 * (so tests can check that the Envelope zeroed them).
 */
export class FixedKeyProvider implements KeyProvider {
  calls = { create: 0, decrypt: 0 };
  issued: DataKey[] = [];
  constructor(
    readonly key: Uint8Array,
    readonly encryptedKeys: Uint8Array = new TextEncoder().encode('fixed-key-blob'),
  ) {}
  #make(context: KeyContext = {}): DataKey {
    const dk = makeDataKey({
      id: 'fixed',
      key: this.key.slice(),
      encryptedKeys: this.encryptedKeys.slice(),
      context,
    });
    this.issued.push(dk);
    return dk;
  }
  async createDataKey(context: KeyContext): Promise<DataKey> {
    this.calls.create++;
    return this.#make(context);
  }
  async decryptDataKey(encryptedKeys: Uint8Array): Promise<DataKey> {
    this.calls.decrypt++;
    if (Buffer.compare(encryptedKeys, this.encryptedKeys) !== 0) throw new Error('unknown key blob');
    return this.#make();
  }
}
