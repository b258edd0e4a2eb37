// Multi-tenant: one key context per organization. Each tenant's data keys are wrapped under that
// organization's key-encryption key, and the cache keeps their keys apart (a partition per
// process role, a key per context).
//
//   node examples/multi-tenant.mjs
import { cachedKeyProvider } from '@vault-envelope/cache';
import { Envelope, inspect } from '@vault-envelope/core';
import { openVault, run } from './_setup.mjs';

run(async () => {
  const vault = await openVault();
  const keys = cachedKeyProvider(vault.client, { maxAge: 5 * 60_000, partition: 'api' });
  try {
    const envelope = new Envelope({ keys });
    const tenants = ['org_acme', 'org_globex', 'org_initech'];
    const stored = [];
    for (const org of tenants) {
      for (let i = 0; i < 50; i++) {
        const ct = await envelope.encrypt(`${org} secret ${i}`, {
          context: { organization_id: org },
          aad: `${org}/docs/${i}`,
        });
        stored.push({ org, i, ct });
      }
    }
    // Ciphertexts of one tenant share that tenant's data key; tenants never share one.
    const blobs = new Map();
    for (const s of stored) {
      const k = Buffer.from(inspect(s.ct).encryptedKeys).toString('base64');
      blobs.set(k, (blobs.get(k) ?? new Set()).add(s.org));
    }
    for (const orgs of blobs.values()) if (orgs.size !== 1) throw new Error('two tenants share a data key');
    console.log(
      `${stored.length} values for ${tenants.length} tenants under ${blobs.size} data keys (one per tenant)`,
    );

    for (const s of stored) {
      const v = await envelope.decryptToString(s.ct, { aad: `${s.org}/docs/${s.i}` });
      if (v !== `${s.org} secret ${s.i}`) throw new Error('wrong plaintext');
    }
    // Binding the tenant into the AAD too means a value moved across tenants fails even if a
    // key were shared: belt and braces.
    const acme = stored[0];
    const err = await envelope.decrypt(acme.ct, { aad: 'org_globex/docs/0' }).catch((e) => e);
    console.log('acme value read as globex:', err.name);
    if (err.name !== 'DecryptionError') throw new Error('cross-tenant read did not fail');
    const s = keys.stats();
    console.log(`cache: ${s.hits} hits, ${s.misses} misses, ${s.remoteCalls} Vault calls`);
  } finally {
    keys.close();
    await vault.close();
  }
});
