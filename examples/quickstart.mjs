// Quick start: encrypt and decrypt one value. Runs offline with the in-memory key provider;
// `pnpm demo` runs the full demo against the local Vault-compatible server.
import { Envelope, inspect, MemoryKeyProvider } from '@vault-envelope/core';

const envelope = new Envelope({ keys: new MemoryKeyProvider() });
const context = { organization_id: 'org_01EXAMPLE' };

const ciphertext = await envelope.encrypt('123-45-6789', { context, aad: 'users/42/ssn' });
console.log('ciphertext:', ciphertext);
console.log('layout:', inspect(ciphertext).format, `(${envelope.backend} backend)`);

const ssn = await envelope.decryptToString(ciphertext, { aad: 'users/42/ssn' });
console.log('decrypted:', ssn === '123-45-6789' ? 'ok' : 'MISMATCH');
