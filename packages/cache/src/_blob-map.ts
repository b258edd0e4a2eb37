/**
 * A map keyed by the exact bytes of a wrapped-key blob, for the decrypt side's hot path.
 *
 * Why not a string key: turning a blob into a string (`latin1Slice`, base64) and looking it up
 * makes V8 hash every character of a fresh string on every call: in our measurements (bench/hit.mjs)
 * that lookup alone cost 1.3-1.8x this whole cache hit for 100-160 byte blobs and 3-4x for 400
 * bytes, and it grows with the blob. Instead the map key is a small
 * integer mixed from the length and a sample of the bytes (the tail of a wrapped key is an AEAD
 * tag or ciphertext, so it is random), and an exact comparison of all bytes confirms the match.
 * Blobs that share a sample chain in one bucket; lookups stay exact, only slower.
 * @module
 */

/** What a {@link BlobMap} holds: a value that carries its own key bytes and bucket link. */
export interface BlobKeyed<T> {
  /** The exact key bytes (owned by the value; never mutated). */
  readonly blob: Uint8Array;
  /** The next value in the same bucket. */
  nextSame: T | undefined;
}

interface NodeBufferCompare {
  compare(a: Uint8Array, b: Uint8Array): number;
}

// Node's native comparison beats a JavaScript loop from about 48 bytes on; found on globalThis,
// never imported, so that this module runs in browsers and edge runtimes.
const NodeBuffer: NodeBufferCompare | undefined = (globalThis as { Buffer?: NodeBufferCompare }).Buffer;
const NATIVE_COMPARE_FROM = 48;

/** Exact byte equality (the blobs are not secret, so an early exit is fine). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  if (NodeBuffer !== undefined && n >= NATIVE_COMPARE_FROM) return NodeBuffer.compare(a, b) === 0;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

const FNV_PRIME = 0x01000193;

/** A 30-bit bucket number from the length, the last 8 bytes and 4 bytes from the middle. */
export function blobHash(b: Uint8Array): number {
  const n = b.length;
  let h = Math.imul(n ^ 0x811c9dc5, FNV_PRIME);
  for (let i = n > 8 ? n - 8 : 0; i < n; i++) h = Math.imul(h ^ b[i]!, FNV_PRIME);
  if (n > 16) {
    const m = (n >>> 1) - 2;
    h = Math.imul(h ^ b[m]!, FNV_PRIME);
    h = Math.imul(h ^ b[m + 1]!, FNV_PRIME);
    h = Math.imul(h ^ b[m + 2]!, FNV_PRIME);
    h = Math.imul(h ^ b[m + 3]!, FNV_PRIME);
  }
  // 30 bits stay a small integer in every V8 configuration, so Map hashing is cheap.
  return (h ^ (h >>> 15)) & 0x3fffffff;
}

/** Values keyed by exact blob bytes. */
export class BlobMap<T extends BlobKeyed<T>> {
  readonly #buckets = new Map<number, T>();

  /** The value whose blob equals `bytes`, if any. */
  get(bytes: Uint8Array): T | undefined {
    let v = this.#buckets.get(blobHash(bytes));
    while (v !== undefined && !sameBytes(v.blob, bytes)) v = v.nextSame;
    return v;
  }

  /** Adds `value` under its own blob, replacing a value with the same bytes. */
  set(value: T): void {
    this.delete(this.get(value.blob));
    const h = blobHash(value.blob);
    value.nextSame = this.#buckets.get(h);
    this.#buckets.set(h, value);
  }

  /** Removes exactly `value` (no-op when it is not in the map). */
  delete(value: T | undefined): void {
    if (value === undefined) return;
    const h = blobHash(value.blob);
    let v = this.#buckets.get(h);
    if (v === value) {
      if (value.nextSame === undefined) this.#buckets.delete(h);
      else this.#buckets.set(h, value.nextSame);
    } else {
      while (v !== undefined && v.nextSame !== value) v = v.nextSame;
      if (v === undefined) return;
      v.nextSame = value.nextSame;
    }
    value.nextSame = undefined;
  }

  /** Removes everything. */
  clear(): void {
    this.#buckets.clear();
  }
}
