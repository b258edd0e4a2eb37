/**
 * A front-end consumer of the three packages that run in browsers (core, remote, cache), as a
 * bundler project sees them: `moduleResolution` bundler, the DOM library and no `@types/node`.
 * It proves their declarations need nothing from Node's types. Type-checked only, never run.
 * @module
 */
import { cachedKeyProvider } from '@vault-envelope/cache';
import { type BlindIndex, Envelope, type KeyProvider } from '@vault-envelope/core';
import { VaultClient } from '@vault-envelope/remote';

export function makeEnvelope(signal: AbortSignal): {
  envelope: Envelope;
  encrypt(text: string): Promise<string>;
} {
  const vault: KeyProvider = new VaultClient({ apiKey: 'sk_browser', baseUrl: 'https://vault.example' });
  const envelope = new Envelope({ keys: cachedKeyProvider(vault, { maxAge: 60_000 }) });
  return {
    envelope,
    encrypt: (text) => envelope.encrypt(text, { context: { organization_id: 'org_1' }, signal }),
  };
}

export function lookupKey(index: BlindIndex, email: string): string {
  // @ts-expect-error: compute returns a string, not a number
  const wrong: number = index.compute(email);
  void wrong;
  return index.compute(email);
}
