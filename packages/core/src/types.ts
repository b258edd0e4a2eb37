/**
 * The option and result types of {@link Envelope}'s message and batch methods, in one place so
 * that the class, the request shaping and the batches share them without importing each other.
 * The types of the record-field helpers live with them, in the fields module.
 * @module
 */
import type { BackendChoice } from './aead.js';
import type { CiphertextFormat } from './format.js';
import type { KeyContext, KeyProvider } from './keys.js';

/** Associated data: a UTF-8 string or bytes. None and empty are the same to AES-GCM. */
export type Aad = string | Uint8Array;

/** Options of {@link Envelope}. */
export interface EnvelopeOptions {
  /** Where data keys come from: a `VaultClient`, a `cachedKeyProvider(...)`, a `MemoryKeyProvider`. */
  keys: KeyProvider;
  /**
   * The AES-GCM implementation.
   * @default 'auto' (node:crypto where the runtime has it, else @noble/ciphers)
   */
  backend?: BackendChoice;
}

/** Options of {@link Envelope.encrypt}. */
export interface EncryptOptions {
  /** The key context the data key is created under. */
  context: KeyContext;
  /** Associated data the ciphertext is bound to; decryption must present the same. */
  aad?: Aad;
  /** Aborts the key request. */
  signal?: AbortSignal;
}

/** Options of {@link Envelope.decrypt}. */
export interface DecryptOptions {
  /** The associated data given at encryption. */
  aad?: Aad;
  /** Force a layout instead of detecting it. */
  format?: CiphertextFormat;
  /** Aborts the key request. */
  signal?: AbortSignal;
}

/** The outcome of one item of a batch call. */
export type BatchResult<T> = { ok: true; value: T } | { ok: false; error: Error };

/** One item of {@link Envelope.encryptMany}. */
export interface EncryptItem {
  /** A string (encoded as UTF-8) or bytes. */
  plaintext: string | Uint8Array;
  /** The key context; items with equal contexts share one data key. */
  context: KeyContext;
  /** Associated data the ciphertext is bound to. */
  aad?: Aad;
}

/** One item of {@link Envelope.decryptMany}. */
export interface DecryptItem {
  /** Base64 text or raw bytes; items with the same wrapped key share one key lookup. */
  ciphertext: string | Uint8Array;
  /** The associated data given at encryption. */
  aad?: Aad;
  /** Force a layout instead of detecting it. */
  format?: CiphertextFormat;
}
