/**
 * `@workos-inc/node` 11's `vault.encrypt` / `vault.decrypt`, either with its key call answered
 * in process by a stub `fetch` (no network: the SDK's own cost), or pointed at a Vault-compatible
 * server (its real cost per call, key call included).
 * @module
 */
import { WorkOS } from '@workos-inc/node';

/** Options of {@link workosVault}. */
export interface WorkosVaultOptions {
  /** The API key (`sk_...`). */
  apiKey: string;
  /** Base URL of a Vault-compatible server, e.g. `http://127.0.0.1:8080`. */
  baseUrl?: string;
  /** A `fetch` that answers the key calls (the stubbed case). */
  fetch?: typeof globalThis.fetch;
}

/** The peer as the benchmark drives it. */
export interface WorkosVault {
  /** `vault.encrypt(data, context, aad)`: one create-data-key call, then local AES-GCM. */
  encrypt(data: string, context: Record<string, string>, aad?: string): Promise<string>;
  /** `vault.decrypt(ciphertext, aad)`: one decrypt call, then local AES-GCM. */
  decrypt(ciphertext: string, aad?: string): Promise<string>;
}

/**
 * Builds the @workos-inc/node contender.
 * @param options - API key and either a server URL or a stub fetch.
 * @returns Encrypt and decrypt as the SDK offers them.
 * @throws TypeError when `baseUrl` is not an http(s) URL.
 * @example
 * ```ts
 * const workos = workosVault({ apiKey: 'sk_bench', baseUrl: server.url });
 * const ct = await workos.encrypt('123-45-6789', { org: 'o1' });
 * ```
 */
export function workosVault(options: WorkosVaultOptions): WorkosVault {
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
  return {
    encrypt: (data, context, aad) => workos.vault.encrypt(data, context, aad),
    decrypt: (ciphertext, aad) => workos.vault.decrypt(ciphertext, aad),
  };
}
