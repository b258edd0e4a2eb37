// The Vault object API: create, read, versions, optimistic update, pagination, delete.
//
//   node examples/object-api.mjs
import { ConflictError } from '@vault-envelope/remote';
import { openVault, run } from './_setup.mjs';

run(async () => {
  const vault = await openVault();
  const { client } = vault;
  const prefix = `example-${Date.now()}`;
  try {
    const created = await client.createObject({
      name: `${prefix}-stripe-key`,
      value: 'sk_live_placeholder',
      context: { app: 'billing' },
    });
    console.log('created', created.id, 'version', created.versionId);

    const first = await client.readObjectByName(`${prefix}-stripe-key`);
    await client.updateObject({
      id: first.id,
      value: 'sk_live_rotated',
      versionCheck: first.metadata.versionId,
    });
    console.log('updated with a version check');

    // A writer holding the old version loses, instead of silently overwriting:
    try {
      await client.updateObject({
        id: first.id,
        value: 'stale write',
        versionCheck: first.metadata.versionId,
      });
      throw new Error('a stale update went through');
    } catch (e) {
      if (!(e instanceof ConflictError)) throw e;
      console.log('a stale update is refused:', e.status, e.message);
    }

    const versions = await client.listObjectVersions({ id: first.id });
    console.log(
      'versions:',
      versions.map((v) => `${v.id}${v.currentVersion ? ' (current)' : ''}`).join(', '),
    );
    console.log(
      'value now:',
      (await client.readObject({ id: first.id })).value === 'sk_live_rotated' ? 'rotated' : 'WRONG',
    );

    for (let i = 0; i < 25; i++)
      await client.createObject({ name: `${prefix}-item-${i}`, value: `v${i}`, context: { app: 'demo' } });
    const page = await client.listObjects({ limit: 10, search: prefix });
    console.log(
      `first page: ${page.data.length} objects, next cursor ${page.listMetadata.after ? 'present' : 'absent'}`,
    );
    let all = 0;
    for await (const summary of client.objects({ limit: 10, search: `${prefix}-item` })) {
      all++;
      await client.deleteObject({ id: summary.id });
    }
    console.log(`iterated and deleted ${all} objects across pages`);
    if (all !== 25) throw new Error(`expected 25 objects, saw ${all}`);
    await client.deleteObject({ id: first.id });
  } finally {
    await vault.close();
  }
});
