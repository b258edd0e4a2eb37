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
  /**
   * Make every call name its tenant: a field call, a batch item or a single-message call without
   * `tenant` is a TypeError. Multi-tenant applications turn this on, so that a forgotten tenant
   * fails at once instead of writing values that any tenant's handler could read.
   * @default false
   */
  requireTenant?: boolean;
  /**
   * Key-blob headers to recognise besides the built-in ones (`WOS.EKM.`, `VES.EKM.v1\0`,
   * `VE.MEM.v1\0`) and those the provider declares (`keys.keyBlobHeaders`): at least 6 bytes
   * each. Used by {@link Envelope.isCiphertext}, the field helpers and layout detection.
   */
  keyBlobHeaders?: readonly Uint8Array[];
  /**
   * How the key blob is stored in the messages this Envelope writes. `'binary'` is what every
   * official SDK but .NET reads. `'base64-text'` is the .NET SDK's variant (the UTF-8 bytes of
   * the blob's base64 text), for data that .NET services must read; the other SDKs can not read
   * it. Reading accepts both either way.
   * @default 'binary'
   */
  keyBlobEncoding?: 'binary' | 'base64-text';
}

/** Counters of an {@link Envelope}, from {@link Envelope.stats}. */
export interface EnvelopeStats {
  /**
   * Values the field helpers served as they were, not decrypted, because `allowPlaintext` was
   * on and they were not ciphertext (the migration read mode). Zero when the mode is off.
   */
  plaintextServed: number;
}

/**
 * The tenant a value is bound to: an identity string (for example the organization id) bound
 * into the AAD, so that a value moved to another tenant's row fails to decrypt. Text (no
 * control character, no lone surrogate), 1 to 500 code units. When decrypting, it must be the
 * request's authenticated tenant, never a column of the row being read.
 */
export type Tenant = string;

/** Options of {@link Envelope.encrypt}. */
export interface EncryptOptions {
  /** The key context the data key is created under. */
  context: KeyContext;
  /** Associated data the ciphertext is bound to; decryption must present the same. */
  aad?: Aad;
  /**
   * Binds the message to a tenant (see {@link Tenant}); decryption must give the same. Without
   * it the AAD is exactly `aad`, as the official SDKs compute it.
   */
  tenant?: Tenant;
  /** Aborts the key request. */
  signal?: AbortSignal;
}

/** Options of {@link Envelope.decrypt}. */
export interface DecryptOptions {
  /** The associated data given at encryption. */
  aad?: Aad;
  /** The tenant given at encryption: the request's authenticated tenant. */
  tenant?: Tenant;
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
  /** Binds the item to a tenant, as {@link EncryptOptions.tenant}. */
  tenant?: Tenant;
}

/** One item of {@link Envelope.decryptMany}. */
export interface DecryptItem {
  /** Base64 text or raw bytes; items with the same wrapped key share one key lookup. */
  ciphertext: string | Uint8Array;
  /** The associated data given at encryption. */
  aad?: Aad;
  /** The tenant given at encryption. */
  tenant?: Tenant;
  /** Force a layout instead of detecting it. */
  format?: CiphertextFormat;
}
