/**
 * Request shaping for {@link Envelope}: what a caller passes, checked once at the public edge and
 * turned into what the sealer and the key provider take (AAD bytes, the plaintext's UTF-8
 * length, key request options), and the one conversion on the way out (plaintext bytes to text).
 * Kept apart from the Envelope so that the single-message methods and the batches shape their
 * inputs the same way.
 * @module
 */
import { aname, messageAad } from './_aad.js';
import { fromUtf8, utf8, utf8Length } from './_bytes.js';
import { aobject, astringOrBytes, kindOf } from './assert.js';
import { FormatError } from './errors.js';
import { MAX_PLAINTEXT_LENGTH } from './format.js';
import {
  type CreateDataKeyOptions,
  type KeyContext,
  type KeyRequestOptions,
  validateKeyContext,
} from './keys.js';
import type { EncryptOptions } from './types.js';

/**
 * AAD as bytes, or `undefined` for none. An empty string is none, as it is to AES-GCM.
 * @param aad - The caller's AAD.
 * @param title - Its name, for messages.
 * @throws TypeError when it is neither a string nor bytes.
 */
export function toAad(aad: unknown, title = 'aad'): Uint8Array | undefined {
  if (aad === undefined) return undefined;
  const a = astringOrBytes(aad, title);
  if (typeof a !== 'string') return a;
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

/** Plaintext bytes, and whether we made them (and so must zero them). */
export interface PlaintextBytes {
  bytes: Uint8Array;
  owned: boolean;
}

/**
 * The plaintext as bytes: a string is encoded into bytes we own, bytes are used as they are.
 * @throws As {@link plaintextLength}.
 */
export function plaintextBytes(plaintext: unknown, title = 'plaintext'): PlaintextBytes {
  plaintextLength(plaintext, title);
  const owned = typeof plaintext === 'string';
  return { bytes: owned ? utf8(plaintext as string) : (plaintext as Uint8Array), owned };
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
 * @throws TypeError / RangeError on bad arguments.
 */
export function encryptRequest(
  plaintext: unknown,
  options: EncryptOptions,
  requireTenant: boolean,
): EncryptRequest {
  aobject(options, 'encrypt options');
  const context = validateKeyContext(options.context);
  const aad = requestAad(options.aad, options.tenant, requireTenant);
  const length = plaintextLength(plaintext);
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
