/**
 * `@vault-envelope/core`: AES-256-GCM envelope encryption in the WorkOS Vault ciphertext format.
 * No I/O, no timers, no static `node:` import: runs in Node, browsers and edge runtimes.
 *
 * This file only composes and re-exports. What it exports is the public API, plus one
 * deliberate way in for this package's own tests (`__TESTS`), so that no internal helper
 * has to be exported for a test's sake.
 * @module
 */

import { decodeBase64Portable, decodePublicBase64, utf8LengthPortable } from './_bytes.js';
import { SCRATCH_SIZE } from './_sealer.js';

export { decodeBase64, encodeBase64 } from './_bytes.js';
export type { RekeyItem, RekeyOptions } from './_rekey.js';
export {
  type AeadBackend,
  type BackendChoice,
  fastBackend,
  type PreparedKey,
  portableBackend,
  selectBackend,
  webBackend,
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
  atext,
  isBytes,
  isText,
  kindOf,
} from './assert.js';
export {
  BlindIndex,
  type BlindIndexOptions,
  blindIndexCandidates,
  blindIndexVersion,
} from './blind-index.js';
export { Envelope } from './envelope.js';
export {
  DecryptionError,
  EnvelopeError,
  type EnvelopeErrorCode,
  FormatError,
  KeyDestroyedError,
  KeyProviderError,
} from './errors.js';
export {
  type DecryptedFields,
  type DecryptFieldList,
  type DecryptFieldsManyOptions,
  type DecryptFieldsOptions,
  type EncryptedFields,
  type EncryptFieldList,
  type EncryptFieldsManyOptions,
  type EncryptFieldsOptions,
  type FieldId,
  type FieldKind,
  type FieldList,
  type FieldListOptions,
  type FieldName,
  type FieldOptions,
  type FieldReadOptions,
  type FieldsManyOptions,
  type FieldValue,
  fieldAad,
  type IdName,
  type ListedName,
  type OnlyFields,
  type RecordId,
  type TextFieldName,
} from './fields.js';
export {
  type CiphertextFormat,
  type CiphertextInfo,
  type CiphertextParts,
  IV_LENGTH,
  inspect,
  isCiphertext,
  type KeyBlobHeaderOptions,
  LEGACY_IV_LENGTH,
  MAX_PLAINTEXT_LENGTH,
  MIN_KEY_BLOB_HEADER_LENGTH,
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
  type SharedDataKeyHandle,
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
  EnvelopeStats,
  Tenant,
} from './types.js';

/**
 * Internals of `@vault-envelope/core`, exported for its own tests only. **Unstable and outside
 * semver: not for applications.** Any member may change or go away in any release, a patch
 * release included; nothing here is part of the supported API. Frozen, so that no test can
 * patch an internal for the tests that run after it.
 *
 * - `decodeBase64Portable`: the table-driven strict base64 decoder used where `Buffer` is
 *   missing (browsers, edge runtimes); tests check that it and the Node path accept and reject
 *   exactly the same texts.
 * - `decodePublicBase64`: the decoder for ciphertexts, whose result may be a view into Node's
 *   shared Buffer pool (never for secrets).
 * - `SCRATCH_SIZE`: the size of the Envelope's scratch buffers, so tests can aim at both sides of it.
 * - `utf8LengthPortable`: the UTF-8 length used where `Buffer` is missing (chunked `encodeInto`);
 *   tests check it against `TextEncoder.encode` on any string, lone surrogates included.
 *
 * @example
 * ```ts
 * import { __TESTS } from '@vault-envelope/core';
 * __TESTS.decodeBase64Portable('aGk='); // Uint8Array [0x68, 0x69]
 * ```
 * @hidden (left out of the API reference)
 */
export const __TESTS: Readonly<{
  decodeBase64Portable: (text: string, title?: string) => Uint8Array;
  decodePublicBase64: (text: string, title?: string) => Uint8Array;
  SCRATCH_SIZE: number;
  utf8LengthPortable: (text: string) => number;
}> = /* @__PURE__ */ Object.freeze({
  decodeBase64Portable,
  decodePublicBase64,
  SCRATCH_SIZE,
  utf8LengthPortable,
});
