/**
 * Inputs shared by the cases: a data key and a realistic key blob, plaintexts of a given size,
 * and a KeyProvider that always hands out one shared key (the ideal cache: a hit that costs
 * nothing but a byte comparison), so the hot path can be timed on its own.
 * @module
 */
import { randomBytes } from 'node:crypto';
import {
  type DataKey,
  type KeyProvider,
  type KeyRequestOptions,
  makeDataKey,
  SharedDataKey,
} from '@vault-envelope/core';

/** Sizes of the hot-path case, in bytes. */
export const FULL_SIZES: readonly number[] = [32, 256, 1024, 16 * 1024, 1024 * 1024];
/** Sizes of `bench:quick`. */
export const QUICK_SIZES: readonly number[] = [256, 16 * 1024];

/** The size every target is stated at. */
export const TARGET_SIZE = 256;

/** A key context like the ones users pass. */
export const CONTEXT: Readonly<Record<string, string>> = Object.freeze({ organization_id: 'org_bench_1' });

/** One data key and its wrapped blob, as every contender of the hot path uses them. */
export interface KeyMaterial {
  /** The 32 key bytes (a Buffer, as node:crypto likes it). */
  key: Buffer;
  /** A key blob shaped like WorkOS Vault's: `WOS.EKM.v1\0`, a key id, then wrapped bytes. */
  blob: Uint8Array;
}

/**
 * Makes a fresh data key and a 110-byte blob with the `WOS.EKM.v1\0` prefix of real Vault blobs
 * (the length of the blobs the live API returns for a one-entry context).
 * @returns The key material.
 */
export function makeKeyMaterial(): KeyMaterial {
  const magic = Buffer.from('WOS.EKM.v1\0', 'latin1');
  const blob = new Uint8Array(110);
  blob.set(magic, 0);
  blob.set(randomBytes(blob.length - magic.length), magic.length);
  return { key: randomBytes(32), blob };
}

/**
 * A plaintext of exactly `size` UTF-8 bytes (ASCII, so bytes and characters agree), looking like
 * field data rather than one repeated byte.
 * @param size - Bytes.
 * @returns The string.
 */
export function plaintextOf(size: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-ABCDEFGHIJKLMNOPQRSTUVWXYZ ';
  let s = '';
  for (let i = 0; i < size; i++) s += alphabet[(i * 7 + (i >> 6)) % alphabet.length];
  return s;
}

/**
 * A KeyProvider that always returns one {@link SharedDataKey}: the hot path with a cached key and
 * nothing else. `decryptDataKey` and `cachedDataKey` (the synchronous hit a cache answers) check
 * the blob, as any cache must.
 */
export class PinnedKeyProvider implements KeyProvider {
  readonly #shared: SharedDataKey;
  readonly #resolved: Promise<DataKey>;

  /** @param material - The key and blob to hand out. */
  constructor(material: KeyMaterial) {
    this.#shared = SharedDataKey.create(
      makeDataKey({
        id: 'bench_key_1',
        key: Uint8Array.from(material.key),
        encryptedKeys: material.blob.slice(),
      }),
    ).shared;
    this.#resolved = Promise.resolve(this.#shared);
  }

  createDataKey(): Promise<DataKey> {
    return this.#resolved;
  }

  decryptDataKey(encryptedKeys: Uint8Array, _options?: KeyRequestOptions): Promise<DataKey> {
    if (!this.#shared.wraps(encryptedKeys)) return Promise.reject(new Error('unknown key blob'));
    return this.#resolved;
  }

  /** The synchronous hit a cache answers (as `@vault-envelope/cache` does), after the same check. */
  cachedDataKey(encryptedKeys: Uint8Array): DataKey | undefined {
    return this.#shared.wraps(encryptedKeys) ? this.#shared : undefined;
  }
}
