/**
 * Request shaping for {@link Envelope}: what a caller passes, checked once at the public edge and
 * turned into what the sealer and the key provider take (AAD bytes, the plaintext's UTF-8
 * length, key request options), and the one conversion on the way out (plaintext bytes to text).
 * Kept apart from the Envelope so that the single-message methods and the batches shape their
 * inputs the same way.
 * @module
 */
import { aname, messageAad } from './_aad.js';
import { base64Length, encodeBase64, fromUtf8, maxStringLength, utf8, utf8Length } from './_bytes.js';
import { aobject, astringOrBytes, copyBytes, kindOf } from './assert.js';
import { FormatError } from './errors.js';
import { IV_LENGTH, MAX_PLAINTEXT_LENGTH, TAG_LENGTH } from './format.js';
import {
  type CreateDataKeyOptions,
  type KeyContext,
  type KeyRequestOptions,
  validateKeyContext,
} from './keys.js';
import type { EncryptOptions } from './types.js';

/**
 * AAD as bytes of our own, or `undefined` for none. An empty string is none, as it is to AES-GCM.
 * Byte AAD is copied at call time (it is small): the key request comes between the call and the
 * sealing, and a caller changing its bytes meanwhile must not change what the message is bound to.
 * @param aad - The caller's AAD.
 * @param title - Its name, for messages.
 * @throws TypeError when it is neither a string nor bytes (or its buffer is detached).
 */
export function toAad(aad: unknown, title = 'aad'): Uint8Array | undefined {
  if (aad === undefined) return undefined;
  const a = astringOrBytes(aad, title);
  if (typeof a !== 'string') return copyBytes(a);
  return a.length === 0 ? undefined : utf8(a);
}

/**
 * The AAD of a request that may name a tenant: the caller's AAD as it is without one (what the
 * official SDKs compute from the same string), the tenant-bound message AAD with one.
 * @param aad - The caller's AAD.
 * @param tenant - The caller's tenant, if any.
 * @param requireTenant - The Envelope's `requireTenant`: a missing tenant is a TypeError.
 * @param title - The AAD's name, for messages; the tenant's is `tenantTitle`.
 * @throws TypeError / RangeError on a bad AAD or tenant, or a missing one that is required.
 */
export function requestAad(
  aad: unknown,
  tenant: unknown,
  requireTenant: boolean,
  title = 'aad',
  tenantTitle = 'tenant',
): Uint8Array | undefined {
  if (tenant === undefined) {
    if (requireTenant) throw missingTenant(tenantTitle);
    return toAad(aad, title);
  }
  return messageAad(aname(tenant, tenantTitle), toAad(aad, title));
}

/**
 * The TypeError for a call without a tenant on an Envelope created with `requireTenant: true`.
 * @internal
 */
export function missingTenant(title = 'tenant'): TypeError {
  return new TypeError(
    `${title} must be a non-empty string (this Envelope has requireTenant set), got ${kindOf(undefined)}`,
  );
}

/**
 * Checks, once the key has arrived, that a byte plaintext still has the length it had at call
 * time. It is not copied (it may be large, and copying it would double the hot path's memory
 * traffic), so a resizable buffer shrunk or grown, or a buffer transferred or detached during
 * the key request, would otherwise be sealed into a message that can never decrypt.
 * @param plaintext - The caller's bytes.
 * @param length - Their length at call time.
 * @throws TypeError when the buffer was detached; RangeError when the length changed.
 */
export function aunchanged(plaintext: Uint8Array, length: number): void {
  if (plaintext.length === length) return;
  if (isDetached(plaintext)) {
    throw new TypeError('plaintext must not be detached while its key is fetched, got a detached buffer');
  }
  throw new RangeError(
    `plaintext must keep its length of ${length} bytes while its key is fetched, got ${plaintext.length}`,
  );
}

/** Whether the memory under `bytes` was detached (transferred). */
function isDetached(bytes: Uint8Array): boolean {
  const buffer = bytes.buffer as ArrayBufferLike & { detached?: boolean; resizable?: boolean };
  // `detached` is ES2024; before it, a fixed-size buffer that lost every byte was detached.
  return buffer.detached === true || (buffer.byteLength === 0 && buffer.resizable !== true);
}

/**
 * Checks, after the key arrived, that a byte ciphertext's parts still have their bytes: the
 * caller may have detached (transferred) or shrunk its buffer meanwhile, which leaves the views
 * empty. Then the error says so, rather than the backend's complaint about an empty IV.
 * @throws TypeError when the buffer was detached; RangeError when it shrank.
 */
export function aintact(parts: { iv: Uint8Array; tag: Uint8Array }): void {
  if (parts.tag.length === TAG_LENGTH && parts.iv.length !== 0) return;
  if (isDetached(parts.tag)) {
    throw new TypeError('ciphertext must not be detached while its key is fetched, got a detached buffer');
  }
  throw new RangeError('ciphertext must keep its bytes while its key is fetched, got a buffer that shrank');
}

/** The shortest format A header: IV, tag, a one-byte LEB128 length and a one-byte key blob. */
const MIN_HEADER_A = IV_LENGTH + TAG_LENGTH + 2;

/**
 * Messages below this many bytes fit in a string on every engine (their base64 is under 90
 * million characters; 32-bit V8, the smallest limit known, allows 2^28-16), so the hot path skips
 * the check for them.
 */
export const TEXT_CHECK_FROM: number = 2 ** 26;

/**
 * Checks that a format A message of `messageLength` bytes can be returned as base64 text in this
 * runtime (see `maxStringLength`); no check where the runtime does not tell its limit.
 * @param messageLength - The message's length in bytes (or a lower bound of it).
 * @param title - What the output is, for the message (`'encrypt output'`).
 * @param bytesMethod - The method that returns bytes instead, named in the message.
 * @throws RangeError when the base64 text would be longer than the runtime's longest string.
 */
export function afitsInText(messageLength: number, title: string, bytesMethod: string): void {
  if (messageLength < TEXT_CHECK_FROM) return;
  const limit = maxStringLength();
  if (limit === undefined) return;
  const n = base64Length(messageLength);
  if (n > limit) {
    throw new RangeError(
      `${title} must be at most ${limit} characters of base64 (the longest string this runtime makes), got ${n}; use ${bytesMethod}() for a plaintext this large`,
    );
  }
}

/**
 * {@link afitsInText} before any key is asked for: a plaintext of `length` bytes makes a message
 * of at least `length` plus the shortest header.
 */
export function aplaintextFitsInText(length: number, title: string, bytesMethod: string): void {
  afitsInText(length + MIN_HEADER_A, title, bytesMethod);
}

/**
 * A format A message as base64, checked against the runtime's string limit first (for a batch,
 * whose messages are sealed before they are encoded: one whose key blob took it over the limit
 * the plaintext alone did not reach).
 * @throws RangeError as {@link afitsInText}.
 */
export function messageText(message: Uint8Array, title: string, bytesMethod: string): string {
  afitsInText(message.length, title, bytesMethod);
  return encodeBase64(message);
}

/**
 * The UTF-8 length of a plaintext, checked against the GCM limit, without encoding it.
 * @throws TypeError when it is neither a string nor bytes; RangeError above the limit.
 */
function plaintextLength(plaintext: unknown, title = 'plaintext'): number {
  astringOrBytes(plaintext, title);
  const n = typeof plaintext === 'string' ? utf8Length(plaintext) : (plaintext as Uint8Array).length;
  // NIST SP 800-38D §5.2.1.1: one GCM invocation encrypts at most 2^36-32 bytes.
  if (n > MAX_PLAINTEXT_LENGTH) {
    throw new RangeError(`${title} must be at most ${MAX_PLAINTEXT_LENGTH} bytes (the GCM limit), got ${n}`);
  }
  return n;
}

/** Plaintext bytes, their length at call time, and whether we made them (and must zero them). */
export interface PlaintextBytes {
  bytes: Uint8Array;
  length: number;
  owned: boolean;
}

/**
 * The plaintext as bytes: a string is encoded into bytes we own, bytes are used as they are.
 * @throws As {@link plaintextLength}.
 */
export function plaintextBytes(plaintext: unknown, title = 'plaintext'): PlaintextBytes {
  plaintextLength(plaintext, title);
  const owned = typeof plaintext === 'string';
  const bytes = owned ? utf8(plaintext as string) : (plaintext as Uint8Array);
  return { bytes, length: bytes.length, owned };
}

/** Options of a `createDataKey` call, without `undefined` members (`exactOptionalPropertyTypes`). */
export function keyOptions(
  signal: AbortSignal | undefined,
  usage?: { messages: number; bytes: number },
): CreateDataKeyOptions {
  const o: CreateDataKeyOptions = {};
  if (signal !== undefined) o.signal = signal;
  if (usage !== undefined) o.usage = usage;
  return o;
}

/** Options of a `decryptDataKey` call, or of a batch: the signal, if any. */
export function signalOptions(signal: AbortSignal | undefined): KeyRequestOptions {
  return signal === undefined ? {} : { signal };
}

/** A checked single-message encryption request. */
export interface EncryptRequest {
  context: KeyContext;
  aad: Uint8Array | undefined;
  /** The plaintext's UTF-8 length. */
  length: number;
  keyOptions: CreateDataKeyOptions;
}

/**
 * Checks the arguments of a single-message encryption, before any key is asked for.
 * @param text - The message will be returned as base64 text: check that it can be.
 * @throws TypeError / RangeError on bad arguments, or when `text` and the message could not be
 *   returned as a string in this runtime.
 */
export function encryptRequest(
  plaintext: unknown,
  options: EncryptOptions,
  requireTenant: boolean,
  text: boolean,
): EncryptRequest {
  aobject(options, 'encrypt options');
  const context = validateKeyContext(options.context);
  const aad = requestAad(options.aad, options.tenant, requireTenant);
  const length = plaintextLength(plaintext);
  if (text && length >= TEXT_CHECK_FROM) aplaintextFitsInText(length, 'encrypt output', 'encryptToBytes');
  return { context, aad, length, keyOptions: keyOptions(options.signal, { messages: 1, bytes: length }) };
}

/**
 * UTF-8 plaintext bytes to a string; the bytes are zeroed either way.
 * @throws FormatError when they are not valid UTF-8.
 */
export function textOf(bytes: Uint8Array): string {
  try {
    return fromUtf8(bytes);
  } catch {
    throw new FormatError('the plaintext is not valid UTF-8; use decrypt() for binary data');
  } finally {
    bytes.fill(0);
  }
}
