/**
 * The `encrypted_keys` blob of this server: one data key, wrapped once under each key-encryption
 * key (KEK) of its key context. Versioned, with a magic prefix of our own (real WorkOS blobs start
 * `WOS.EKM.v1\0`; ours must never be mistaken for theirs):
 *
 * ```
 * "VES.EKM.v1\0"                      magic and version (11 bytes)
 * LEB128u32(len id) ‖ id               the data key's id, UTF-8
 * count[1]                             number of wrapped copies, 1..16
 * count × ( LEB128u32(len kekId) ‖ kekId ‖ IV[12] ‖ TAG[16] ‖ wrapped key[32] )
 * ```
 *
 * Each copy is AES-256-GCM of the 32-byte data key under its KEK, with AAD
 * `id ‖ 0x00 ‖ kekId`, so a copy moved into another blob (another id) does not open.
 * @module
 */
import { decodeLeb128u32, encodeLeb128u32 } from '@vault-envelope/core';
import { SEAL_OVERHEAD, utf8 } from './_crypto.js';

/** Magic prefix and format version. */
export const BLOB_MAGIC: Uint8Array = utf8('VES.EKM.v1\0');
/** Length of a wrapped 32-byte key: IV, tag and ciphertext. */
export const WRAPPED_LENGTH: number = SEAL_OVERHEAD + 32;
/** At most this many wrapped copies (10 context entries, with room to spare). */
export const MAX_COPIES = 16;
const MAX_ID_LENGTH = 128;

/** One wrapped copy of the data key. */
export interface WrappedCopy {
  /** Id of the KEK that wraps it. */
  kekId: string;
  /** `IV ‖ TAG ‖ CT`, 60 bytes. */
  wrapped: Uint8Array;
}

/** A decoded blob. */
export interface ParsedBlob {
  /** The data key's id. */
  id: string;
  /** The wrapped copies, in the order of the blob. */
  copies: WrappedCopy[];
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The AAD of one wrapped copy. */
export function copyAad(id: string, kekId: string): Uint8Array {
  return utf8(`${id}\0${kekId}`);
}

/** Fills slot `index` of a blob: `WRAPPED_LENGTH` bytes of `out` from `offset`. */
export type FillCopy = (index: number, out: Uint8Array, offset: number) => void;

/**
 * Lays out a blob in one buffer, sized up front: the header, then for each KEK its id and a slot
 * that `fill` seals the wrapped key into, in place (no per-copy buffer, no concatenation).
 * @param id - The data key's id.
 * @param kekIds - The ids of the KEKs, in blob order.
 * @param fill - Writes wrapped copy `index` into its slot.
 * @returns The blob.
 * @throws RangeError when there are no KEKs or too many, or an id is empty or too long.
 */
export function encodeBlob(id: string, kekIds: readonly string[], fill: FillCopy): Uint8Array {
  if (kekIds.length === 0 || kekIds.length > MAX_COPIES) {
    throw new RangeError(`a key blob holds 1..${MAX_COPIES} wrapped copies`);
  }
  const head = prefixed(id);
  const keks = kekIds.map(prefixed);
  let size = BLOB_MAGIC.length + head.prefix.length + head.bytes.length + 1;
  for (const k of keks) size += k.prefix.length + k.bytes.length + WRAPPED_LENGTH;
  const out = new Uint8Array(size);
  out.set(BLOB_MAGIC, 0);
  let at = put(out, BLOB_MAGIC.length, head);
  out[at++] = keks.length;
  for (let i = 0; i < keks.length; i++) {
    at = put(out, at, keks[i]!);
    fill(i, out, at);
    at += WRAPPED_LENGTH;
  }
  return out;
}

/** An id as `LEB128u32(len)` and its UTF-8. */
interface Prefixed {
  prefix: Uint8Array;
  bytes: Uint8Array;
}

/** @throws RangeError when the id is empty or longer than a blob allows. */
function prefixed(text: string): Prefixed {
  const bytes = utf8(text);
  if (bytes.length === 0 || bytes.length > MAX_ID_LENGTH) {
    throw new RangeError(`an id in a key blob is 1..${MAX_ID_LENGTH} bytes`);
  }
  return { prefix: encodeLeb128u32(bytes.length), bytes };
}

/** Writes `p` into `out` at `at`; returns the offset after it. */
function put(out: Uint8Array, at: number, p: Prefixed): number {
  out.set(p.prefix, at);
  out.set(p.bytes, at + p.prefix.length);
  return at + p.prefix.length + p.bytes.length;
}

function readString(bytes: Uint8Array, at: number): { value: string; next: number } | undefined {
  const { value: len, length } = decodeLeb128u32(bytes, at);
  const start = at + length;
  if (len === 0 || len > MAX_ID_LENGTH || start + len > bytes.length) return undefined;
  return { value: decoder.decode(bytes.subarray(start, start + len)), next: start + len };
}

/**
 * Decodes a blob strictly: right magic, every length in bounds, no trailing bytes.
 * @returns The blob, or `undefined` when the bytes are not a well-formed blob of this server
 *   (a foreign blob, a truncated or padded one, or garbage). Never throws.
 */
export function parseBlob(bytes: Uint8Array): ParsedBlob | undefined {
  try {
    if (bytes.length < BLOB_MAGIC.length + 2) return undefined;
    for (let i = 0; i < BLOB_MAGIC.length; i++) if (bytes[i] !== BLOB_MAGIC[i]) return undefined;
    const id = readString(bytes, BLOB_MAGIC.length);
    if (id === undefined || id.next >= bytes.length) return undefined;
    const count = bytes[id.next]!;
    if (count === 0 || count > MAX_COPIES) return undefined;
    let at = id.next + 1;
    const copies: WrappedCopy[] = [];
    for (let i = 0; i < count; i++) {
      const kek = readString(bytes, at);
      if (kek === undefined || kek.next + WRAPPED_LENGTH > bytes.length) return undefined;
      copies.push({ kekId: kek.value, wrapped: bytes.subarray(kek.next, kek.next + WRAPPED_LENGTH) });
      at = kek.next + WRAPPED_LENGTH;
    }
    if (at !== bytes.length) return undefined;
    return { id: id.value, copies };
  } catch {
    // decodeLeb128u32 throws FormatError on a truncated or overlong length, TextDecoder on bad UTF-8.
    return undefined;
  }
}
