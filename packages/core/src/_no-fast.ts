/**
 * The `#fast` subpath import outside Node (see the platform module): no `node:crypto` backend.
 * @module
 */
import type { AeadBackend } from './aead.js';

/**
 * The `node:crypto` backend: never outside the Node build.
 * @returns `undefined`.
 */
export function createFastBackend(): AeadBackend | undefined {
  return undefined;
}
