/**
 * `caught(promise)`: awaits a call that must fail with a VaultError and returns that error, so a
 * test can assert on its fields. Any other outcome fails the test.
 * @module
 */
import { VaultError } from '@vault-envelope/remote';

/**
 * @param p - The call.
 * @returns The VaultError it rejected with.
 * @throws The rejection itself when it is not a VaultError; an Error when the call succeeded.
 */
export async function caught(p: Promise<unknown>): Promise<VaultError> {
  try {
    await p;
  } catch (e) {
    if (VaultError.is(e)) return e;
    throw e;
  }
  throw new Error('expected a VaultError');
}
