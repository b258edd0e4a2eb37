// Multi-tenant: one key context per organization, and the tenant bound into every field's AAD.
//
// The key context says which Vault keys wrap a tenant's data keys (each tenant can bring its own
// key later, by rekeying). It does not keep tenants apart on its own: one API key unwraps every
// tenant's blobs. What does is the tenant in the AAD: a value copied from one tenant's row into
// another's fails to decrypt, even with the same table, id and column. `requireTenant: true`
// makes a forgotten tenant an error instead of a value any tenant could read.
//
//   node examples/multi-tenant.mjs
import { cachedKeyProvider } from '@vault-envelope/cache';
import { BlindIndex, Envelope, inspect } from '@vault-envelope/core';
import { openVault, run } from './_setup.mjs';

run(async () => {
  const vault = await openVault();
  const keys = cachedKeyProvider(vault.client, { maxAge: 5 * 60_000, partition: 'api' });
  try {
    const envelope = new Envelope({ keys, requireTenant: true });
    const tenants = ['org_acme', 'org_globex', 'org_initech'];
    // A stand-in for a table `docs (org_id, id, title_idx, body)`: ids repeat across tenants.
    const table = [];
    const titleIndex = new BlindIndex({
      key: crypto.getRandomValues(new Uint8Array(32)),
      name: 'docs.title',
    });
    for (const org of tenants) {
      const orgTitles = titleIndex.forTenant(org); // a key per tenant: equal titles do not match across tenants
      for (let id = 0; id < 50; id++) {
        const doc = { org_id: org, id, title: `report ${id}`, body: `${org} secret ${id}` };
        const row = await envelope.encryptFields(doc, {
          fields: ['title', 'body'],
          id,
          tenant: org,
          namespace: 'docs',
          context: { organization_id: org },
        });
        table.push({ ...row, title_idx: orgTitles.compute(doc.title) });
      }
      orgTitles.destroy();
    }
    // Ciphertexts of one tenant share that tenant's data key; tenants never share one.
    const blobs = new Map();
    for (const row of table) {
      const k = Buffer.from(inspect(row.body).encryptedKeys).toString('base64');
      blobs.set(k, (blobs.get(k) ?? new Set()).add(row.org_id));
    }
    for (const orgs of blobs.values()) if (orgs.size !== 1) throw new Error('two tenants share a data key');
    console.log(
      `${table.length} values for ${tenants.length} tenants under ${blobs.size} data keys (one per tenant)`,
    );

    // In a request handler, the tenant is the authenticated session's organization, never a
    // column of the row being read (a moved row would carry its new tenant's id).
    const handle = async (session, id) => {
      const row = table.find((r) => r.org_id === session.orgId && r.id === id);
      return envelope.decryptFields(row, {
        fields: ['title', 'body'],
        id,
        tenant: session.orgId,
        namespace: 'docs',
      });
    };
    for (const org of tenants) {
      for (let id = 0; id < 50; id++) {
        const doc = await handle({ orgId: org }, id);
        if (doc.body !== `${org} secret ${id}`) throw new Error('wrong plaintext');
      }
    }
    const idx = titleIndex.forTenant('org_acme');
    const sameTitle = table.filter((r) => r.title_idx === idx.compute('report 7'));
    console.log(
      `blind index lookup of "report 7" in org_acme: ${sameTitle.length} row (tenants keyed apart)`,
    );
    idx.destroy();

    // A forgotten tenant is an error, before any key is fetched.
    const forgot = await envelope
      .encryptFields({ id: 1, body: 'x' }, { fields: ['body'], id: 1, namespace: 'docs', context: {} })
      .catch((e) => e);
    console.log('a call without a tenant:', forgot.name, '-', forgot.message);

    // An attacker with write access copies acme's row 0 body into globex's row 0 (same table,
    // same id, same column): globex's handler refuses it.
    const acme0 = table.find((r) => r.org_id === 'org_acme' && r.id === 0);
    const globex0 = table.find((r) => r.org_id === 'org_globex' && r.id === 0);
    globex0.body = acme0.body;
    const err = await handle({ orgId: 'org_globex' }, 0).catch((e) => e);
    console.log(`acme value read as globex: ${err.name} (field ${err.field})`);
    if (err.name !== 'DecryptionError') throw new Error('cross-tenant read did not fail');
    const s = keys.stats();
    console.log(`cache: ${s.hits} hits, ${s.misses} misses, ${s.remoteCalls} Vault calls`);
    titleIndex.destroy();
  } finally {
    keys.close();
    await vault.close();
  }
});
