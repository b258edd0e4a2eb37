/**
 * `@workos-inc/node` 11's `vault.encrypt` / `vault.decrypt`, set up three ways, each a different
 * claim about its cost:
 *
 * - **HTTP stubbed:** its key call answered in process by a stub `fetch`. Timed: the SDK's request
 *   layer (request building, headers, JSON in and out, response handling) plus its local crypto.
 * - **Key methods stubbed:** its `vault.createDataKey` / `vault.decryptDataKey`, the two methods
 *   `encrypt` and `decrypt` call for the data key, replaced on the instance by ones that answer at
 *   once. Timed: only what the SDK does locally (base64 in and out, the layout, a WebCrypto key
 *   import and AES-GCM call per message), as if it had a perfect key cache.
 * - **Real key call:** pointed at a Vault-compatible server. Timed: its real cost per call, a
 *   key-service round trip included.
 * @module
 */
import { WorkOS } from '@workos-inc/node';

/** A data key the SDK's key methods hand out in process (see {@link WorkosVaultOptions.dataKey}). */
export interface WorkosDataKey {
  /** The key id Vault would return. */
  id: string;
  /** The 32 key bytes. Encoded to base64 once, as Vault's response carries it. */
  key: Uint8Array;
  /** The key blob (`encrypted_keys`). Encoded to base64 once. */
  encryptedKeys: Uint8Array;
  /** The key context `createDataKey` reports back. */
  context: Record<string, string>;
}

/** Options of {@link workosVault}: at most one of `baseUrl`, `fetch` and `dataKey`. */
export interface WorkosVaultOptions {
  /** The API key (`sk_...`). */
  apiKey: string;
  /** Base URL of a Vault-compatible server, e.g. `http://127.0.0.1:8080`. */
  baseUrl?: string;
  /** A `fetch` that answers the key calls (HTTP stubbed: the SDK's request layer still runs). */
  fetch?: typeof globalThis.fetch;
  /**
   * Replace the SDK's `vault.createDataKey` and `vault.decryptDataKey` with methods that return
   * this key at once (key methods stubbed: no request is made, only the SDK's local work runs).
   * `decryptDataKey` rejects any blob but this key's, as a cache would.
   */
  dataKey?: WorkosDataKey;
}

/** The peer as the benchmark drives it. */
export interface WorkosVault {
  /** `vault.encrypt(data, context, aad)`: one create-data-key call, then local AES-GCM. */
  encrypt(data: string, context: Record<string, string>, aad?: string): Promise<string>;
  /** `vault.decrypt(ciphertext, aad)`: one decrypt call, then local AES-GCM. */
  decrypt(ciphertext: string, aad?: string): Promise<string>;
}

/** Swaps the instance's two key methods for in-process ones (the prototype's are left alone). */
function stubKeyMethods(workos: WorkOS, dataKey: WorkosDataKey): void {
  if (dataKey.key.length !== 32) throw new RangeError('dataKey.key must be 32 bytes');
  // Encoded once: the SDK gets the same base64 strings its HTTP path would deserialize.
  const key = Buffer.from(dataKey.key).toString('base64');
  const blob = Buffer.from(dataKey.encryptedKeys).toString('base64');
  const pair = Object.freeze({
    context: Object.freeze({ ...dataKey.context }),
    dataKey: Object.freeze({ key, id: dataKey.id }),
    encryptedKeys: blob,
  });
  const decrypted = Object.freeze({ key, id: dataKey.id });
  const vault = workos.vault;
  vault.createDataKey = async () => pair;
  vault.decryptDataKey = async ({ keys }) => {
    if (keys !== blob) throw new Error('unknown key blob');
    return decrypted;
  };
}

/**
 * Builds the @workos-inc/node contender.
 * @param options - API key and one of a server URL, a stub fetch or a data key for the key methods.
 * @returns Encrypt and decrypt as the SDK offers them.
 * @throws TypeError when `baseUrl` is not an http(s) URL, or when more than one of `baseUrl`,
 *   `fetch` and `dataKey` is given.
 * @throws RangeError when `dataKey.key` is not 32 bytes.
 * @example
 * ```ts
 * const workos = workosVault({ apiKey: 'sk_bench', baseUrl: server.url });
 * const ct = await workos.encrypt('123-45-6789', { org: 'o1' });
 * ```
 */
export function workosVault(options: WorkosVaultOptions): WorkosVault {
  const ways = [options.baseUrl, options.fetch, options.dataKey].filter((x) => x !== undefined);
  if (ways.length > 1) throw new TypeError('give at most one of baseUrl, fetch and dataKey');
  const settings: ConstructorParameters<typeof WorkOS>[1] = { maxRetries: 0 };
  if (options.baseUrl !== undefined) {
    const url = new URL(options.baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('baseUrl must be http(s)');
    settings.apiHostname = url.hostname;
    settings.https = url.protocol === 'https:';
    if (url.port !== '') settings.port = Number(url.port);
  }
  if (options.fetch !== undefined) settings.fetchFn = options.fetch;
  const workos = new WorkOS(options.apiKey, settings);
  if (options.dataKey !== undefined) stubKeyMethods(workos, options.dataKey);
  return {
    encrypt: (data, context, aad) => workos.vault.encrypt(data, context, aad),
    decrypt: (ciphertext, aad) => workos.vault.decrypt(ciphertext, aad),
  };
}
