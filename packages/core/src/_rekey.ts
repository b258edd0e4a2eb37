/**
 * Rekey: moves a stored message to a new key context without re-encrypting it. The key service
 * re-wraps the data key inside the message's key blob under the new context
 * ({@link KeyProvider.rekeyDataKey}, Vault's `POST /vault/v1/keys/rekey`) and the new blob takes
 * the old one's place; the IV, the tag and the ciphertext are copied unchanged.
 *
 * Why that is sound: the data key's 32 bytes do not change, only the key-encryption keys that
 * can unwrap them, and none of the layouts authenticates the key blob (it is not part of the
 * GCM input), so the body verifies under the new blob exactly as under the old one. A blob that
 * wraps another key only makes authentication fail. No new GCM invocation happens, so no IV is
 * used twice.
 *
 * A message keeps its layout (A, legacy or B) and the form of its key blob (the .NET SDK's
 * variant, where K is the base64 text of the blob, gets the new blob as text again): a rekey
 * changes where the key is wrapped, not which SDKs can read the message. The batch form makes one
 * key-service call per distinct pair of key blob and new context.
 * @module
 */
import { encodeBase64 } from './_bytes.js';
import { type KeyBlobHeaders, TEXT, textKeyBlob } from './_key-blob.js';
import { signalOptions } from './_request.js';
import { aobject, isBytes, kindOf } from './assert.js';
import { KeyProviderError } from './errors.js';
import {
  type CiphertextFormat,
  type CiphertextParts,
  ciphertextBytes,
  parseWith,
  serializeFormatA,
} from './format.js';
import {
  canonicalContext,
  type KeyContext,
  type KeyProvider,
  type KeyRequestOptions,
  validateKeyContext,
} from './keys.js';
import { leb128Length, writeLeb128u32 } from './leb128.js';
import type { BatchResult } from './types.js';

/** Options of {@link Envelope.rekey}. */
export interface RekeyOptions extends KeyRequestOptions {
  /** Force a layout instead of detecting it. */
  format?: CiphertextFormat;
}

/** One item of {@link Envelope.rekeyMany}. */
export interface RekeyItem<T extends string | Uint8Array = string | Uint8Array> {
  /** Base64 text or raw bytes; the result has the same form. */
  ciphertext: T;
  /** The key context to move the message's data key to. */
  context: KeyContext;
  /** Force a layout instead of detecting it. */
  format?: CiphertextFormat;
}

/** The provider's rekey, or a TypeError when it has none. */
function rekeyOf(keys: KeyProvider): NonNullable<KeyProvider['rekeyDataKey']> {
  if (typeof keys.rekeyDataKey !== 'function') {
    throw new TypeError(
      'the key provider must implement rekeyDataKey to rekey messages (VaultClient, MemoryKeyProvider and the cache do), got none',
    );
  }
  return keys.rekeyDataKey.bind(keys);
}

/** Lays the parts out again in their own layout, with `blob` as the key blob. */
function relayout(parts: CiphertextParts, blob: Uint8Array): Uint8Array {
  if (parts.format === 'A') return serializeFormatA({ ...parts, encryptedKeys: blob });
  const k = blob.length;
  const out = new Uint8Array(
    parts.iv.length + parts.tag.length + leb128Length(k) + k + parts.ciphertext.length,
  );
  if (parts.format === 'B') {
    // B: LEB128(len K) ‖ K ‖ NONCE ‖ CT ‖ TAG
    let at = writeLeb128u32(k, out, 0);
    out.set(blob, at);
    at += k;
    out.set(parts.iv, at);
    out.set(parts.ciphertext, at + parts.iv.length);
    out.set(parts.tag, out.length - parts.tag.length);
    return out;
  }
  // legacy: IV[32] ‖ TAG ‖ LEB128(len K) ‖ K ‖ CT
  out.set(parts.iv, 0);
  out.set(parts.tag, parts.iv.length);
  const at = writeLeb128u32(k, out, parts.iv.length + parts.tag.length);
  out.set(blob, at);
  out.set(parts.ciphertext, at + k);
  return out;
}

/** Checks what a provider's rekey returned. */
function checkBlob(blob: unknown): Uint8Array {
  if (!isBytes(blob) || blob.length === 0) {
    throw new KeyProviderError(
      `the key provider's rekeyDataKey must return non-empty bytes, got ${kindOf(blob)}`,
    );
  }
  return blob;
}

/** A checked, parsed rekey request. */
interface Planned {
  parts: CiphertextParts;
  context: KeyContext;
  /** The blob as the key service issued it (decoded from the .NET variant's text), ours. */
  blob: Uint8Array;
  /** The message was base64 text. */
  text: boolean;
  /** K is the .NET variant (the blob's base64 text). */
  textBlob: boolean;
}

function plan(
  ciphertext: unknown,
  context: unknown,
  format: unknown,
  title: string,
  headers: KeyBlobHeaders,
): Planned {
  const ct = ciphertext as string | Uint8Array;
  const bytes = ciphertextBytes(ct, `${title}ciphertext`);
  const checked = validateKeyContext(context, `${title}context`);
  const parts = parseWith(bytes, format as CiphertextFormat | undefined, headers);
  // The provider gets the blob in memory of its own (a base64 message decodes into a shared pool).
  const blob = headers.providerBlob(parts.encryptedKeys);
  const textBlob = headers.match(parts.encryptedKeys) === TEXT;
  return { parts, context: checked, blob, text: typeof ct === 'string', textBlob };
}

function finish(p: Planned, blob: Uint8Array): string | Uint8Array {
  const message = relayout(p.parts, p.textBlob ? textKeyBlob(blob) : blob);
  return p.text ? encodeBase64(message) : message;
}

/**
 * {@link Envelope.rekey}: one message to a new key context, one key-service call.
 * @throws TypeError when the provider has no `rekeyDataKey` or an argument is malformed;
 *   FormatError when the message is malformed (no key-service call is made).
 */
export async function rekeyMessage(
  keys: KeyProvider,
  headers: KeyBlobHeaders,
  ciphertext: string | Uint8Array,
  context: KeyContext,
  options: RekeyOptions,
): Promise<string | Uint8Array> {
  aobject(options, 'rekey options');
  const rekey = rekeyOf(keys);
  const p = plan(ciphertext, context, options.format, '', headers);
  const blob = checkBlob(await rekey(p.blob, p.context, signalOptions(options.signal)));
  return finish(p, blob);
}

/**
 * {@link Envelope.rekeyMany}: one key-service call per distinct (key blob, new context) pair,
 * results in input order; a malformed item fails alone, a failed call fails its group.
 * @throws TypeError when the provider has no `rekeyDataKey`, `items` is not an array or
 *   `options` not an object.
 */
export async function rekeyMessages(
  keys: KeyProvider,
  headers: KeyBlobHeaders,
  items: unknown,
  options: KeyRequestOptions,
): Promise<BatchResult<string | Uint8Array>[]> {
  if (!Array.isArray(items)) throw new TypeError(`items must be an array, got ${kindOf(items)}`);
  aobject(options, 'batch options');
  const rekey = rekeyOf(keys);
  const keyOpts = signalOptions(options.signal);
  const results: BatchResult<string | Uint8Array>[] = new Array(items.length);
  const groups = new Map<string, { blob: Uint8Array; context: KeyContext; members: [number, Planned][] }>();
  for (let i = 0; i < items.length; i++) {
    try {
      const it = aobject(items[i], `items[${i}]`);
      const p = plan(it['ciphertext'], it['context'], it['format'], `items[${i}].`, headers);
      const id = `${encodeBase64(p.blob)}\n${canonicalContext(p.context)}`;
      let g = groups.get(id);
      if (g === undefined) {
        g = { blob: p.blob, context: p.context, members: [] };
        groups.set(id, g);
      }
      g.members.push([i, p]);
    } catch (error) {
      results[i] = { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
    }
  }
  await Promise.all(
    [...groups.values()].map(async (g) => {
      let blob: Uint8Array;
      try {
        blob = checkBlob(await rekey(g.blob, g.context, keyOpts));
      } catch (error) {
        const e = error instanceof Error ? error : new Error(String(error));
        for (const [i] of g.members) results[i] = { ok: false, error: e };
        return;
      }
      for (const [i, p] of g.members) results[i] = { ok: true, value: finish(p, blob) };
    }),
  );
  return results;
}
