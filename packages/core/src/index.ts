/**
 * `@vault-envelope/core`: AES-256-GCM envelope encryption in the WorkOS Vault ciphertext format.
 * No I/O, no timers, no static `node:` import: runs in Node, browsers and edge runtimes.
 * @module
 */

export { decodeBase64, encodeBase64 } from './_bytes.js';
export {
  type AeadBackend,
  type BackendChoice,
  fastBackend,
  type PreparedKey,
  portableBackend,
  selectBackend,
} from './aead.js';
export {
  aboolean,
  abytes,
  aduration,
  afunction,
  aint,
  aobject,
  aoptions,
  asignal,
  astring,
  astringOrBytes,
  isBytes,
  kindOf,
} from './assert.js';
export { BlindIndex, type BlindIndexOptions } from './blind-index.js';
export { Envelope } from './envelope.js';
export {
  DecryptionError,
  EnvelopeError,
  type EnvelopeErrorCode,
  FormatError,
  KeyDestroyedError,
  KeyProviderError,
} from './errors.js';
export { type FieldOptions, fieldAad, type WithStringFields } from './fields.js';
export {
  type CiphertextFormat,
  type CiphertextInfo,
  type CiphertextParts,
  IV_LENGTH,
  inspect,
  LEGACY_IV_LENGTH,
  MAX_PLAINTEXT_LENGTH,
  parseCiphertext,
  serializeFormatA,
  TAG_LENGTH,
} from './format.js';
export {
  type CreateDataKeyOptions,
  canonicalContext,
  type DataKey,
  KEY_CONTEXT_LIMITS,
  type KeyContext,
  type KeyProvider,
  type KeyRequestOptions,
  type KeyUsage,
  makeDataKey,
  SharedDataKey,
  validateKeyContext,
} from './keys.js';
export { decodeLeb128u32, encodeLeb128u32, LEB128_U32_MAX } from './leb128.js';
export { MemoryKeyProvider, type MemoryKeyProviderStats } from './memory-provider.js';
export type {
  Aad,
  BatchResult,
  DecryptItem,
  DecryptOptions,
  EncryptItem,
  EncryptOptions,
  EnvelopeOptions,
} from './types.js';
