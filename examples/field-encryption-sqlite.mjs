// Field encryption with SQLite: encrypt the sensitive columns of a row before INSERT, bind each
// to its row and column with AAD, and show that a value copied into another row fails to decrypt.
// Also: a row whose id the database generates (insert, then update with the ciphertexts bound to
// the new id, in one transaction), and a misspelt field name, which is an error, not a plaintext.
//
//   node examples/field-encryption-sqlite.mjs
import { cachedKeyProvider } from '@vault-envelope/cache';
import { DecryptionError, Envelope } from '@vault-envelope/core';
import Database from 'better-sqlite3';
import { openVault, run } from './_setup.mjs';

run(async () => {
  const vault = await openVault();
  const keys = cachedKeyProvider(vault.client, { maxAge: 60_000 });
  const db = new Database(':memory:');
  try {
    const envelope = new Envelope({ keys });
    db.exec('CREATE TABLE patients (id INTEGER PRIMARY KEY, name TEXT, diagnosis TEXT, notes TEXT)');
    const fields = ['diagnosis', 'notes'];
    const context = { organization_id: 'org_clinic' };

    const people = [
      { id: 1, name: 'Ada', diagnosis: 'J45.909 asthma', notes: 'inhaler twice daily' },
      { id: 2, name: 'Alan', diagnosis: 'E11.9 type 2 diabetes', notes: null },
    ];
    const insert = db.prepare('INSERT INTO patients VALUES (@id, @name, @diagnosis, @notes)');
    for (const p of people) {
      insert.run(await envelope.encryptFields(p, { fields, id: p.id, namespace: 'patients', context }));
    }
    console.log('stored row 1:', db.prepare('SELECT * FROM patients WHERE id = 1').get());

    // The database assigns the id: insert without the sensitive values, then write them bound
    // to the new id, in the same transaction (no reader ever sees the row half written).
    const grace = { name: 'Grace', diagnosis: 'I10 hypertension', notes: 'low-salt diet' };
    db.exec('BEGIN');
    try {
      const { lastInsertRowid } = db
        .prepare('INSERT INTO patients (name, diagnosis, notes) VALUES (?, NULL, NULL)')
        .run(grace.name);
      const id = Number(lastInsertRowid);
      const enc = await envelope.encryptFields(
        { id, ...grace },
        { fields, id, namespace: 'patients', context },
      );
      db.prepare('UPDATE patients SET diagnosis = @diagnosis, notes = @notes WHERE id = @id').run(enc);
      db.exec('COMMIT');
    } catch (e) {
      db.exec('ROLLBACK');
      throw e;
    }
    const generated = db.prepare('SELECT * FROM patients WHERE name = ?').get('Grace');
    const graceBack = await envelope.decryptFields(generated, {
      fields,
      id: generated.id,
      namespace: 'patients',
    });
    if (graceBack.diagnosis !== grace.diagnosis) throw new Error('generated-id round trip failed');
    console.log(`row ${generated.id} (id from the database) decrypts: ${graceBack.diagnosis}`);

    // A typo in the field list fails instead of leaving the real column in clear.
    const typo = await envelope
      .encryptFields(people[0], { fields: ['diagnosis', 'note'], id: 1, namespace: 'patients', context })
      .catch((e) => e);
    console.log('misspelt field:', typo.message);

    const row = db.prepare('SELECT * FROM patients WHERE id = 1').get();
    const plain = await envelope.decryptFields(row, { fields, id: row.id, namespace: 'patients' });
    console.log('decrypted row 1:', plain);
    if (plain.diagnosis !== people[0].diagnosis) throw new Error('round trip failed');

    // An attacker (or a bug) copies Ada's diagnosis into Alan's row:
    db.prepare('UPDATE patients SET diagnosis = ? WHERE id = 2').run(row.diagnosis);
    const moved = db.prepare('SELECT * FROM patients WHERE id = 2').get();
    try {
      await envelope.decryptFields(moved, { fields, id: moved.id, namespace: 'patients' });
      throw new Error('a moved ciphertext decrypted: AAD is not bound');
    } catch (e) {
      if (!(e instanceof DecryptionError)) throw e;
      console.log('copied into row 2, it fails to decrypt:', e.message);
    }
    console.log('key-service calls:', keys.stats().remoteCalls, '(one key, cached)');
  } finally {
    keys.close();
    db.close();
    await vault.close();
  }
});
