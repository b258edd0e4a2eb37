/**
 * "Bench only what works": every contender's output is checked before it is timed. Format A
 * contenders are cross-validated (each one's output must decrypt with every other one, and each
 * must reject a modified message); others must at least round-trip and reject tampering. A
 * contender that fails is not timed, and the failure is reported.
 * @module
 */
import { inspect } from '@vault-envelope/core';
import type { FieldCipher } from './_raw.js';

/** The verdict on one contender. */
export interface Verdict {
  id: string;
  ok: boolean;
  /** Checks that passed. */
  passed: number;
  /** What failed, when something did. */
  failures: string[];
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Flips one bit of a base64 message's last byte (inside the ciphertext, or the key blob's end). */
export function tamper(ciphertext: string): string {
  const b = Buffer.from(ciphertext, 'base64');
  b[b.length - 1]! ^= 1;
  return b.toString('base64');
}

async function rejects(f: () => unknown): Promise<boolean> {
  try {
    await f();
    return false;
  } catch {
    return true;
  }
}

/**
 * Cross-validates format A field ciphers on one plaintext.
 *
 * Each encrypter's output must be format A with the expected key blob and length, differ from
 * one call to the next (fresh IV), and decrypt to the plaintext with every decrypter; each
 * decrypter must reject a modified message. When pairs fail, the contender in the most failing
 * pairs is dropped first, until the rest agree.
 * @param ciphers - The contenders.
 * @param plaintext - The plaintext to use.
 * @param blob - The key blob every message must carry.
 * @returns One verdict per contender.
 */
export async function crossValidate(
  ciphers: readonly FieldCipher[],
  plaintext: string,
  blob: Uint8Array,
): Promise<Verdict[]> {
  const verdicts = new Map<string, Verdict>(
    ciphers.map((c) => [c.id, { id: c.id, ok: true, passed: 0, failures: [] }]),
  );
  const fail = (id: string, what: string): void => {
    const v = verdicts.get(id)!;
    v.ok = false;
    v.failures.push(what);
  };
  const pass = (id: string): void => {
    verdicts.get(id)!.passed++;
  };
  const outputs = new Map<string, string>();
  for (const c of ciphers) {
    try {
      const a = await c.encrypt(plaintext);
      const b = await c.encrypt(plaintext);
      if (a === b) fail(c.id, 'two encryptions gave the same message (IV reuse)');
      else pass(c.id);
      const info = inspect(a, { format: 'A' });
      if (!sameBytes(info.encryptedKeys, blob)) fail(c.id, 'message does not carry the key blob');
      else if (info.ciphertextLength !== Buffer.byteLength(plaintext, 'utf8')) fail(c.id, 'wrong length');
      else pass(c.id);
      outputs.set(c.id, a);
    } catch (e) {
      fail(c.id, `encrypt threw: ${(e as Error).message}`);
    }
  }
  // Pairwise: which (encrypter, decrypter) pairs disagree.
  const bad: [string, string][] = [];
  for (const [encId, ct] of outputs) {
    for (const d of ciphers) {
      let ok = false;
      try {
        ok = (await d.decrypt(ct)) === plaintext;
      } catch {
        ok = false;
      }
      if (ok) pass(d.id);
      else bad.push([encId, d.id]);
    }
  }
  while (bad.length > 0) {
    const count = new Map<string, number>();
    for (const [e, d] of bad) {
      count.set(e, (count.get(e) ?? 0) + 1);
      if (d !== e) count.set(d, (count.get(d) ?? 0) + 1);
    }
    const worst = [...count.entries()].sort((x, y) => y[1] - x[1])[0]![0];
    fail(worst, 'its messages and the others do not decrypt each other');
    for (let i = bad.length - 1; i >= 0; i--)
      if (bad[i]![0] === worst || bad[i]![1] === worst) bad.splice(i, 1);
  }
  const reference = outputs.values().next().value;
  if (reference !== undefined) {
    const modified = tamper(reference);
    for (const d of ciphers) {
      if (await rejects(() => d.decrypt(modified))) pass(d.id);
      else fail(d.id, 'accepted a modified message');
    }
  }
  return [...verdicts.values()];
}

/**
 * Validates a contender with its own message format: it must round-trip, give a different
 * message each time and reject a modified one.
 * @param id - The contender's id.
 * @param encrypt - Plaintext to message.
 * @param decrypt - Message to plaintext.
 * @param plaintext - The plaintext to use.
 * @returns The verdict.
 */
export async function validateRoundTrip(
  id: string,
  encrypt: (plaintext: string) => Promise<string>,
  decrypt: (message: string) => Promise<string>,
  plaintext: string,
): Promise<Verdict> {
  const v: Verdict = { id, ok: true, passed: 0, failures: [] };
  const check = (ok: boolean, what: string): void => {
    if (ok) v.passed++;
    else {
      v.ok = false;
      v.failures.push(what);
    }
  };
  try {
    const a = await encrypt(plaintext);
    const b = await encrypt(plaintext);
    check(a !== b, 'two encryptions gave the same message');
    check((await decrypt(a)) === plaintext, 'round trip failed');
    check(await rejects(() => decrypt(tamper(a))), 'accepted a modified message');
  } catch (e) {
    check(false, `threw: ${(e as Error).message}`);
  }
  return v;
}
