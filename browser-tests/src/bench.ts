/**
 * The browser bench (`pnpm bench:browser`), run inside headless Chromium: the Envelope on the
 * backend `'auto'` picks there (web: WebCrypto) and on the portable one (@noble/ciphers), against
 * the same work written by hand with `crypto.subtle` and with @noble/ciphers: a UTF-8 string in,
 * a format A message in standard base64 out, and back, under a key the provider already holds.
 * All four use the runtime's own base64 (`Uint8Array.fromBase64`/`toBase64`) where it has them.
 *
 * It also times raw `crypto.subtle` against raw @noble/ciphers alone (no base64, no layout) at
 * small sizes: the crossover below which noble would win, which decides when the web backend
 * uses WebCrypto.
 *
 * Each contender of one size and direction is timed in the same interleaved rounds (the order
 * rotates every round); a round's value is the time per call over a batch of calls lasting about
 * `roundMs`; every ratio is the median over rounds of the ratio within a round. Before timing,
 * every contender's message must decrypt with every other contender, and a message with one bit
 * flipped must be refused by every contender.
 *
 * The contenders, the validation and the crossover's operations are exported for the workerd
 * bench (`bench-worker.ts`), which runs the very same code in a Worker and is timed from outside.
 * @module
 */
import { gcm } from '@noble/ciphers/aes.js';
import {
  type DataKey,
  Envelope,
  encodeLeb128u32,
  type KeyProvider,
  makeDataKey,
  SharedDataKey,
} from '@vault-envelope/core';

/** What the Node side asks for. */
export interface BenchConfig {
  sizes: number[];
  crossoverSizes: number[];
  rounds: number;
  roundMs: number;
}

/** One contender at one size and direction. */
export interface BenchRow {
  op: 'encrypt' | 'decrypt';
  size: number;
  id: string;
  medianUs: number;
  roundsUs: number[];
}

/** What the bench hands back. */
export interface BenchReport {
  userAgent: string;
  backend: string;
  rows: BenchRow[];
  /** Raw WebCrypto and raw noble alone, by size: microseconds per call. */
  crossover: { op: 'encrypt' | 'decrypt'; size: number; subtleUs: number; nobleUs: number }[];
  /** Contenders whose messages some other contender could not read (none when all is well). */
  invalid: string[];
}

/** One contender: a string in, a format A message in base64 out, and back. */
export interface Contender {
  id: string;
  encrypt(plaintext: string): Promise<string> | string;
  decrypt(message: string): Promise<string> | string;
}

/** A timed operation of the crossover: raw `crypto.subtle` or raw noble, one call. */
export interface CrossoverOp {
  id: 'subtle' | 'noble';
  op: () => unknown;
}

const IV = 12;
const TAG = 16;
const te = new TextEncoder();
const td = new TextDecoder('utf-8', { fatal: true });

interface NativeBase64 {
  toBase64(): string;
}
const fromBase64 = (s: string): Uint8Array =>
  (Uint8Array as unknown as { fromBase64(s: string): Uint8Array }).fromBase64(s);
const toBase64 = (b: Uint8Array): string => (b as Uint8Array & NativeBase64).toBase64();

function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65_536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65_536)));
  return out;
}

/**
 * The plaintext of `size` ASCII bytes the Node bench uses too.
 * @param size - Its length in bytes (and characters).
 * @returns The plaintext.
 * @example
 * ```ts
 * plaintextOf(4); // 'ahov'
 * ```
 */
export function plaintextOf(size: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-ABCDEFGHIJKLMNOPQRSTUVWXYZ ';
  let s = '';
  for (let i = 0; i < size; i++) s += alphabet[(i * 7 + (i >> 6)) % alphabet.length];
  return s;
}

/** Where CT starts in a format A message. */
function ciphertextAt(msg: Uint8Array): number {
  let len = 0;
  let scale = 1;
  let i = IV + TAG;
  for (;;) {
    const b = msg[i++]!;
    len += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) break;
    scale *= 128;
  }
  return i + len;
}

/** Format A from an IV and `CT ‖ TAG` (the order WebCrypto and noble return), and `LEB128 ‖ K`. */
function layout(iv: Uint8Array, sealed: Uint8Array, kh: Uint8Array): string {
  const n = sealed.length - TAG;
  const out = new Uint8Array(IV + TAG + kh.length + n);
  out.set(iv, 0);
  out.set(sealed.subarray(n), IV);
  out.set(kh, IV + TAG);
  out.set(sealed.subarray(0, n), IV + TAG + kh.length);
  return toBase64(out);
}

/** The IV and `CT ‖ TAG` of a format A message. */
function unlayout(message: string): { iv: Uint8Array<ArrayBuffer>; sealed: Uint8Array<ArrayBuffer> } {
  const msg = fromBase64(message);
  const at = ciphertextAt(msg);
  const sealed = new Uint8Array(msg.length - at + TAG);
  sealed.set(msg.subarray(at), 0);
  sealed.set(msg.subarray(IV, IV + TAG), msg.length - at);
  return { iv: msg.slice(0, IV) as Uint8Array<ArrayBuffer>, sealed };
}

/** A provider that always answers one shared key (the ideal cache), as the Node bench's. */
function pinned(key: Uint8Array, blob: Uint8Array): KeyProvider {
  const { shared } = SharedDataKey.create(
    makeDataKey({ id: 'k', key: key.slice(), encryptedKeys: blob.slice() }),
  );
  const resolved: Promise<DataKey> = Promise.resolve(shared);
  return {
    createDataKey: () => resolved,
    decryptDataKey: (b) => (shared.wraps(b) ? resolved : Promise.reject(new Error('unknown blob'))),
    cachedDataKey: (b) => (shared.wraps(b) ? shared : undefined),
  };
}

/**
 * The four contenders under one fresh random key: the Envelope on `'auto'` and on `'portable'`
 * (a provider that always answers the key, the ideal cache), and the same job by hand with
 * `crypto.subtle` (a CryptoKey imported once) and with @noble/ciphers.
 * @returns The contenders and the backend `'auto'` picked.
 * @example
 * ```ts
 * const { list, backend } = await contenders();
 * ```
 */
export async function contenders(): Promise<{ list: Contender[]; backend: string }> {
  const key = randomBytes(32);
  const blob = new Uint8Array(110);
  blob.set(te.encode('WOS.EKM.v1\0'));
  blob.set(randomBytes(99), 11);
  const kh = new Uint8Array([...encodeLeb128u32(blob.length), ...blob]);
  const opts = { context: { organization_id: 'org_bench_1' } };
  const auto = new Envelope({ keys: pinned(key, blob) });
  const portable = new Envelope({ keys: pinned(key, blob), backend: 'portable' });
  const ck = await crypto.subtle.importKey('raw', key.slice(), 'AES-GCM', false, ['encrypt', 'decrypt']);
  const bytes = (p: string) => te.encode(p) as Uint8Array<ArrayBuffer>;
  return {
    backend: auto.backend,
    list: [
      {
        id: 'envelope-auto',
        encrypt: (p) => auto.encrypt(p, opts),
        decrypt: (m) => auto.decryptToString(m),
      },
      {
        id: 'envelope-portable',
        encrypt: (p) => portable.encrypt(p, opts),
        decrypt: (m) => portable.decryptToString(m),
      },
      {
        id: 'raw-webcrypto',
        async encrypt(p) {
          const iv = crypto.getRandomValues(new Uint8Array(IV));
          return layout(
            iv,
            new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, ck, bytes(p))),
            kh,
          );
        },
        async decrypt(m) {
          const { iv, sealed } = unlayout(m);
          return td.decode(await crypto.subtle.decrypt({ name: 'AES-GCM', iv }, ck, sealed));
        },
      },
      {
        id: 'raw-noble',
        encrypt(p) {
          const iv = crypto.getRandomValues(new Uint8Array(IV));
          return layout(iv, gcm(key, iv).encrypt(te.encode(p)), kh);
        },
        decrypt(m) {
          const { iv, sealed } = unlayout(m);
          return td.decode(gcm(key, iv).decrypt(sealed));
        },
      },
    ],
  };
}

/** `message` (base64) with the low bit of byte `at` flipped. */
function flipped(message: string, at: number): string {
  const b = fromBase64(message);
  b[at]! ^= 1;
  return toBase64(b);
}

/** Whether `decrypt` refuses `message` (throws or rejects). */
async function refuses(c: Contender, message: string): Promise<boolean> {
  try {
    await c.decrypt(message);
    return false;
  } catch {
    return true;
  }
}

/**
 * Bench only what works: every contender encrypts `plaintext`, every contender must read every
 * contender's message back to `plaintext`, and must refuse it with one bit flipped in the tag and,
 * when there is a ciphertext, in its last byte.
 * @param list - The contenders.
 * @param plaintext - The plaintext of this size.
 * @returns The message of `raw-webcrypto` (the one every decrypt is timed on) and what failed.
 * @throws {Error} When there is no `raw-webcrypto` contender.
 * @example
 * ```ts
 * const { shared, invalid } = await validate((await contenders()).list, plaintextOf(256));
 * ```
 */
export async function validate(
  list: readonly Contender[],
  plaintext: string,
): Promise<{ shared: string; invalid: string[] }> {
  const size = te.encode(plaintext).length;
  const invalid: string[] = [];
  const messages = new Map<string, string>();
  for (const c of list) messages.set(c.id, await c.encrypt(plaintext));
  for (const c of list) {
    for (const [from, m] of messages) {
      let ok = false;
      try {
        ok = (await c.decrypt(m)) === plaintext;
      } catch {
        ok = false;
      }
      if (!ok) invalid.push(`${c.id} reading ${from} at ${size} B`);
      if (!(await refuses(c, flipped(m, IV)))) {
        invalid.push(`${c.id} accepting ${from}'s with a flipped tag at ${size} B`);
      }
      if (size > 0 && !(await refuses(c, flipped(m, fromBase64(m).length - 1)))) {
        invalid.push(`${c.id} accepting ${from}'s with a flipped ciphertext at ${size} B`);
      }
    }
  }
  const shared = messages.get('raw-webcrypto');
  if (shared === undefined) throw new Error('the contenders must include raw-webcrypto');
  return { shared, invalid };
}

/**
 * The crossover's operations under one fresh random key: raw `crypto.subtle` (a CryptoKey
 * imported once, one call awaited) and raw @noble/ciphers, on random bytes with one fixed IV, no
 * base64 and no layout.
 * @returns A function giving, for a size, both contenders of each direction.
 * @example
 * ```ts
 * const at = (await crossoverOps())(256);
 * await at.encrypt[0].op();
 * ```
 */
export async function crossoverOps(): Promise<
  (size: number) => { encrypt: CrossoverOp[]; decrypt: CrossoverOp[] }
> {
  const key = randomBytes(32);
  const ck = await crypto.subtle.importKey('raw', key.slice(), 'AES-GCM', false, ['encrypt', 'decrypt']);
  return (size) => {
    const pt = randomBytes(size);
    const iv = randomBytes(IV);
    const sealed = gcm(key, iv).encrypt(pt);
    return {
      encrypt: [
        { id: 'subtle', op: () => crypto.subtle.encrypt({ name: 'AES-GCM', iv }, ck, pt) },
        { id: 'noble', op: () => gcm(key, iv).encrypt(pt) },
      ],
      decrypt: [
        { id: 'subtle', op: () => crypto.subtle.decrypt({ name: 'AES-GCM', iv }, ck, sealed) },
        { id: 'noble', op: () => gcm(key, iv).decrypt(sealed) },
      ],
    };
  };
}

/** Microseconds per call of `op`, run `n` times, each awaited (a sync result awaits nothing). */
async function perCall(op: () => unknown, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const r = op();
    if (r instanceof Promise) await r;
  }
  return ((performance.now() - t0) * 1000) / n;
}

/** Enough calls for about `ms` milliseconds, found by doubling (the warm-up too). */
async function calibrate(op: () => unknown, ms: number): Promise<number> {
  let n = 1;
  let us: number;
  for (;;) {
    us = await perCall(op, n);
    if (us * n >= ms * 1000 || n >= 1 << 20) break;
    n *= 2;
  }
  // One slow (cold) batch can stop the doubling early and leave a round with a handful of
  // calls: time three batches at the estimate and size the rounds on their median.
  const estimate = Math.max(1, Math.min(1 << 20, Math.round((ms * 1000) / us)));
  const again = [await perCall(op, estimate), await perCall(op, estimate), await perCall(op, estimate)];
  return Math.max(1, Math.min(1 << 20, Math.round((ms * 1000) / median(again))));
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function timeGroup(ops: { id: string; op: () => unknown }[], rounds: number, roundMs: number) {
  const batches = new Map<string, number>();
  for (const { id, op } of ops) batches.set(id, await calibrate(op, roundMs));
  const per = new Map<string, number[]>(ops.map((o) => [o.id, []]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < ops.length; i++) {
      const { id, op } = ops[(i + r) % ops.length]!;
      per.get(id)!.push(await perCall(op, batches.get(id)!));
    }
  }
  return per;
}

/**
 * Runs the bench.
 * @param config - Sizes, the crossover sizes, rounds and their length.
 * @returns The report (plain JSON).
 * @example
 * ```ts
 * const report = await runBench({ sizes: [256, 1 << 20], crossoverSizes: [0, 256], rounds: 15, roundMs: 40 });
 * ```
 */
export async function runBench(config: BenchConfig): Promise<BenchReport> {
  const { list, backend } = await contenders();
  const rows: BenchRow[] = [];
  const invalid = new Set<string>();
  for (const size of config.sizes) {
    const pt = plaintextOf(size);
    const { shared, invalid: bad } = await validate(list, pt);
    for (const b of bad) invalid.add(b);
    for (const op of ['encrypt', 'decrypt'] as const) {
      const per = await timeGroup(
        list.map((c) => ({ id: c.id, op: op === 'encrypt' ? () => c.encrypt(pt) : () => c.decrypt(shared) })),
        config.rounds,
        config.roundMs,
      );
      for (const [id, roundsUs] of per) rows.push({ op, size, id, medianUs: median(roundsUs), roundsUs });
    }
  }
  const crossoverAt = await crossoverOps();
  const crossover: BenchReport['crossover'] = [];
  for (const size of config.crossoverSizes) {
    const at = crossoverAt(size);
    for (const op of ['encrypt', 'decrypt'] as const) {
      const per = await timeGroup(at[op], config.rounds, config.roundMs / 2);
      crossover.push({ op, size, subtleUs: median(per.get('subtle')!), nobleUs: median(per.get('noble')!) });
    }
  }
  return { userAgent: navigator.userAgent, backend, rows, crossover, invalid: [...invalid] };
}
