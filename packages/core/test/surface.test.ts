// The public surface of @vault-envelope/core, pinned: a new export, or one that goes, is a
// deliberate change to this list. Internals reach the tests through __TESTS only.
import * as core from '@vault-envelope/core';
import { describe, expect, test } from 'vitest';

describe('public surface', () => {
  test('the index exports exactly the public API and the test hook', () => {
    expect(Object.keys(core).sort()).toEqual([
      'BlindIndex',
      'DecryptionError',
      'Envelope',
      'EnvelopeError',
      'FormatError',
      'IV_LENGTH',
      'KEY_CONTEXT_LIMITS',
      'KeyDestroyedError',
      'KeyProviderError',
      'LEB128_U32_MAX',
      'LEGACY_IV_LENGTH',
      'MAX_PLAINTEXT_LENGTH',
      'MIN_KEY_BLOB_HEADER_LENGTH',
      'MemoryKeyProvider',
      'SharedDataKey',
      'TAG_LENGTH',
      '__TESTS',
      'aboolean',
      'abytes',
      'aduration',
      'afunction',
      'aint',
      'aobject',
      'aoptions',
      'asignal',
      'astring',
      'astringOrBytes',
      'atext',
      'blindIndexCandidates',
      'blindIndexVersion',
      'canonicalContext',
      'decodeBase64',
      'decodeLeb128u32',
      'encodeBase64',
      'encodeLeb128u32',
      'fastBackend',
      'fieldAad',
      'inspect',
      'isBytes',
      'isCiphertext',
      'isText',
      'kindOf',
      'makeDataKey',
      'parseCiphertext',
      'portableBackend',
      'selectBackend',
      'serializeFormatA',
      'validateKeyContext',
      'webBackend',
    ]);
  });

  test('__TESTS is frozen and holds only the internals the tests need', () => {
    expect(Object.isFrozen(core.__TESTS)).toBe(true);
    expect(Object.keys(core.__TESTS).sort()).toEqual([
      'SCRATCH_SIZE',
      'decodeBase64Portable',
      'decodePublicBase64',
      'utf8LengthPortable',
    ]);
    expect(() => {
      (core.__TESTS as { SCRATCH_SIZE: number }).SCRATCH_SIZE = 1;
    }).toThrow(TypeError);
  });
});
