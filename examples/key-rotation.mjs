// Key rotation, two ways:
//  1. rekey: rewrap a stored data key under a new key context without touching the data (the
//     ciphertext's key blob changes; its IV, tag and ciphertext do not);
//  2. re-encrypt: decrypt rows and encrypt them again under a new context, in batches, with progress.
//
//   node examples/key-rotation.mjs [--rows 2000]
import { parseArgs } from 'node:util';
import { cachedKeyProvider } from '@vault-envelope/cache';
import { Envelope, encodeBase64, inspect, parseCiphertext, serializeFormatA } from '@vault-envelope/core';
import { openVault, progress, run } from './_setup.mjs';

run(async () => {
  const rows = Number(parseArgs({ options: { rows: { type: 'string', default: '2000' } } }).values.rows);
  const vault = await openVault();
  try {
    const envelope = new Envelope({ keys: vault.client });
    const oldContext = { organization_id: 'org_acme', region: 'us' };
    const newContext = { organization_id: 'org_acme', region: 'eu' };

    // 1. rekey one stored value
    const ct = await envelope.encrypt('iban DE89 3704 0044 0532 0130 00', {
      context: oldContext,
      aad: 'accounts/7/iban',
    });
    const parts = parseCiphertext(Uint8Array.from(atob(ct), (c) => c.charCodeAt(0)));
    const rekeyed = await vault.client.rekey(parts.encryptedKeys, newContext);
    const rewrapped = encodeBase64(serializeFormatA({ ...parts, encryptedKeys: rekeyed.encryptedKeys }));
    rekeyed.key.fill(0);
    console.log(
      'rekeyed: same IV and ciphertext, new key blob:',
      inspect(rewrapped).encryptedKeys.length,
      'bytes; context',
      rekeyed.context,
    );
    const back = await envelope.decryptToString(rewrapped, { aad: 'accounts/7/iban' });
    if (!back.startsWith('iban DE89')) throw new Error('rekeyed value does not decrypt');
    console.log('the rekeyed ciphertext decrypts:', back.slice(0, 9), '...');

    // 2. re-encrypt a table in batches
    const keys = cachedKeyProvider(vault.client, { maxAge: 60_000 });
    const batchEnvelope = new Envelope({ keys });
    const table = (
      await batchEnvelope.encryptMany(
        Array.from({ length: rows }, (_, i) => ({
          plaintext: `note ${i}`,
          context: oldContext,
          aad: `notes/${i}`,
        })),
      )
    ).map((r) => r.value);
    const bar = progress('re-encrypting', rows);
    const batch = 250;
    for (let from = 0; from < rows; from += batch) {
      const ids = Array.from({ length: Math.min(batch, rows - from) }, (_, j) => from + j);
      const plain = await batchEnvelope.decryptManyToString(
        ids.map((i) => ({ ciphertext: table[i], aad: `notes/${i}` })),
      );
      const again = await batchEnvelope.encryptMany(
        ids.map((i, j) => {
          if (!plain[j].ok) throw plain[j].error;
          return { plaintext: plain[j].value, context: newContext, aad: `notes/${i}` };
        }),
      );
      for (const [j, i] of ids.entries()) {
        if (!again[j].ok) throw again[j].error;
        table[i] = again[j].value; // in a real table: UPDATE ... WHERE id = ? AND note = <old ciphertext>
      }
      bar.update(from + ids.length);
    }
    const check = await batchEnvelope.decryptToString(table[rows - 1], { aad: `notes/${rows - 1}` });
    if (check !== `note ${rows - 1}`) throw new Error('re-encrypted row does not decrypt');
    console.log(`re-encrypted ${rows} rows; Vault calls: ${keys.stats().remoteCalls}`);
    keys.close();
  } finally {
    await vault.close();
  }
});
