// Quick start: encrypt and decrypt one value with WorkOS Vault data keys.
//
//   node examples/quickstart.mjs
//
// Starts the local Vault-compatible server in-process unless WORKOS_API_KEY / VAULT_BASE_URL are set.
import { Envelope, inspect } from '@vault-envelope/core';
import { openVault, run } from './_setup.mjs';

run(async () => {
  const vault = await openVault();
  try {
    const envelope = new Envelope({ keys: vault.client });
    const context = { organization_id: 'org_01EXAMPLE' };

    const ciphertext = await envelope.encrypt('123-45-6789', { context, aad: 'users/42/ssn' });
    console.log('ciphertext:', ciphertext);
    console.log('layout:', inspect(ciphertext).format, `(${envelope.backend} backend)`);

    const ssn = await envelope.decryptToString(ciphertext, { aad: 'users/42/ssn' });
    console.log('decrypted:', ssn === '123-45-6789' ? 'ok, the same value' : 'MISMATCH');
    if (ssn !== '123-45-6789') throw new Error('round trip failed');
  } finally {
    await vault.close();
  }
});
