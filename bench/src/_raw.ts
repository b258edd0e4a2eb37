/**
 * The raw baselines: AES-256-GCM called directly on node:crypto, @noble/ciphers and WebCrypto,
 * doing the same work as the Envelope's hot path and nothing more: a UTF-8 string in, a format A
 * message (`IV ‖ TAG ‖ LEB128(len K) ‖ K ‖ CT`) in standard base64 out, and back. The fixed
 * part `LEB128(len K) ‖ K` is laid out once up front, as hand-written code with one key would.
 * @module
 */
import { createCipheriv, createDecipheriv, randomBytes, randomFillSync } from 'node:crypto';
import { gcm } from '@noble/ciphers/aes.js';
import { encodeLeb128u32 } from '@vault-envelope/core';
import type { KeyMaterial } from './_fixtures.js';

/** A field cipher that writes and reads format A base64. */
export interface FieldCipher {
  /** Stable id. */
  id: string;
  /** Name in tables and charts. */
  label: string;
  /** True when `encrypt` and `decrypt` return values rather than promises. */
  sync: boolean;
  /** Encrypts a string to format A base64. */
  encrypt(plaintext: string): string | Promise<string>;
  /** Decrypts format A base64 to the string. */
  decrypt(ciphertext: string): string | Promise<string>;
}

const IV = 12;
const TAG = 16;
const HEAD = IV + TAG;
const GCM_OPTS = { authTagLength: TAG } as const;
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** `LEB128(len K) ‖ K`, the part of every message that does not change. */
function keyHeader(blob: Uint8Array): Buffer {
  return Buffer.concat([encodeLeb128u32(blob.length), blob]);
}

/** Where the ciphertext starts in a format A message (reads the LEB128 length). */
function ciphertextOffset(msg: Uint8Array): number {
  let len = 0;
  let shift = 0;
  let i = HEAD;
  for (;;) {
    const b = msg[i++];
    if (b === undefined || shift > 28) throw new Error('malformed message');
    len += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
  }
  const at = i + len;
  if (at > msg.length) throw new Error('malformed message');
  return at;
}

/**
 * node:crypto, one `createCipheriv` per call.
 * @param material - Key and blob.
 * @param pooledIv - Draw IVs from a 4 KiB pool of `randomFillSync` output instead of one
 *   `randomBytes(12)` per call (a common hand optimisation; informative only).
 * @returns The baseline.
 */
export function rawNode(material: KeyMaterial, pooledIv = false): FieldCipher {
  const key = material.key;
  const kh = keyHeader(material.blob);
  const pool = Buffer.alloc(341 * IV);
  let poolAt = pool.length;
  const nextIv = (): Buffer => {
    if (poolAt === pool.length) {
      randomFillSync(pool);
      poolAt = 0;
    }
    const iv = pool.subarray(poolAt, poolAt + IV);
    poolAt += IV;
    return iv;
  };
  return {
    id: pooledIv ? 'raw-node-pooled-iv' : 'raw-node',
    label: pooledIv ? 'raw node:crypto, pooled IV' : 'raw node:crypto',
    sync: true,
    encrypt(plaintext) {
      const iv = pooledIv ? nextIv() : randomBytes(IV);
      const c = createCipheriv('aes-256-gcm', key, iv, GCM_OPTS);
      const ct = c.update(plaintext, 'utf8');
      c.final();
      const out = Buffer.allocUnsafe(HEAD + kh.length + ct.length);
      iv.copy(out, 0);
      c.getAuthTag().copy(out, IV);
      kh.copy(out, HEAD);
      ct.copy(out, HEAD + kh.length);
      return out.toString('base64');
    },
    decrypt(ciphertext) {
      const msg = Buffer.from(ciphertext, 'base64');
      const at = ciphertextOffset(msg);
      const d = createDecipheriv('aes-256-gcm', key, msg.subarray(0, IV), GCM_OPTS);
      d.setAuthTag(msg.subarray(IV, HEAD));
      const pt = d.update(msg.subarray(at));
      d.final();
      return pt.toString('utf8');
    },
  };
}

/** Format A base64 from an IV and `CT ‖ TAG`, the order @noble/ciphers and WebCrypto return. */
function layoutSealed(iv: Uint8Array, sealed: Uint8Array, kh: Uint8Array): string {
  const n = sealed.length - TAG;
  const out = Buffer.allocUnsafe(HEAD + kh.length + n);
  out.set(iv, 0);
  out.set(sealed.subarray(n), IV);
  out.set(kh, HEAD);
  out.set(sealed.subarray(0, n), HEAD + kh.length);
  return out.toString('base64');
}

/** The IV and `CT ‖ TAG` of a format A message, the order @noble/ciphers and WebCrypto take. */
function openSealed(ciphertext: string): { iv: Uint8Array<ArrayBuffer>; sealed: Uint8Array<ArrayBuffer> } {
  const msg = Buffer.from(ciphertext, 'base64');
  const ct = msg.subarray(ciphertextOffset(msg));
  const sealed = new Uint8Array(ct.length + TAG);
  sealed.set(ct, 0);
  sealed.set(msg.subarray(IV, HEAD), ct.length);
  return { iv: Uint8Array.from(msg.subarray(0, IV)), sealed };
}

/**
 * @noble/ciphers `gcm`, IVs from `crypto.getRandomValues` per call.
 * @param material - Key and blob.
 * @returns The baseline.
 */
export function rawNoble(material: KeyMaterial): FieldCipher {
  const key = Uint8Array.from(material.key);
  const kh = keyHeader(material.blob);
  return {
    id: 'raw-noble',
    label: 'raw @noble/ciphers',
    sync: true,
    encrypt(plaintext) {
      const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV));
      return layoutSealed(iv, gcm(key, iv).encrypt(utf8Encoder.encode(plaintext)), kh);
    },
    decrypt(ciphertext) {
      const { iv, sealed } = openSealed(ciphertext);
      return utf8Decoder.decode(gcm(key, iv).decrypt(sealed));
    },
  };
}

/**
 * WebCrypto (`crypto.subtle`), the key imported once, every call awaited one by one.
 * @param material - Key and blob.
 * @returns The baseline.
 */
export async function rawWebCrypto(material: KeyMaterial): Promise<FieldCipher> {
  const subtle = globalThis.crypto.subtle;
  const key = await subtle.importKey('raw', Uint8Array.from(material.key), 'AES-GCM', false, [
    'encrypt',
    'decrypt',
  ]);
  const kh = keyHeader(material.blob);
  return {
    id: 'raw-webcrypto',
    label: 'raw WebCrypto',
    sync: false,
    async encrypt(plaintext) {
      const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV));
      const sealed = await subtle.encrypt({ name: 'AES-GCM', iv }, key, utf8Encoder.encode(plaintext));
      return layoutSealed(iv, new Uint8Array(sealed), kh);
    },
    async decrypt(ciphertext) {
      const { iv, sealed } = openSealed(ciphertext);
      return utf8Decoder.decode(await subtle.decrypt({ name: 'AES-GCM', iv }, key, sealed));
    },
  };
}
