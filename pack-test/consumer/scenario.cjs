/**
 * What a new user does with the four installed packages, written once and run twice: by
 * `esm.mjs` with modules loaded through `import`, and by `cjs.cjs` with modules loaded through
 * `require()`. It is copied into a project outside the workspace, next to the installed tarballs,
 * so every name below resolves through that project's `node_modules` and each package's
 * `exports` map, as on a user's machine. CommonJS, so that both loaders can run it.
 *
 * Every step checks its result and throws on a mismatch; the caller prints the summary.
 * @module
 */
'use strict';

const assert = require('node:assert/strict');

/**
 * Runs the scenario.
 * @param {{ core: any, remote: any, cache: any, server: any }} m - The four packages, however loaded.
 * @returns {Promise<string[]>} One line per check that passed.
 */
module.exports = async function scenario({ core, remote, cache, server }) {
  const done = [];
  const context = { organization_id: 'org_pack' };
  const aad = 'users/42/ssn';

  // core: a round trip with the in-memory provider, and a modified ciphertext refused.
  const memory = new core.MemoryKeyProvider();
  const envelope = new core.Envelope({ keys: memory });
  const ct = await envelope.encrypt('123-45-6789', { context, aad });
  assert.equal(typeof ct, 'string');
  assert.equal(await envelope.decryptToString(ct, { aad }), '123-45-6789');
  assert.equal(core.inspect(ct).format, 'A');
  const bytes = core.decodeBase64(ct);
  bytes[bytes.length - 1] ^= 1;
  await assert.rejects(envelope.decrypt(bytes, { aad }), (e) => core.DecryptionError.is(e));
  done.push('core: Envelope + MemoryKeyProvider encrypt/decrypt round trip; tampered tag -> DecryptionError');

  // cache: three encryptions under one context cost one provider call.
  const before = memory.stats().created;
  const keys = cache.cachedKeyProvider(memory, { maxAge: 60_000 });
  const cached = new core.Envelope({ keys });
  for (let i = 0; i < 3; i++) {
    assert.equal(await cached.decryptToString(await cached.encrypt(`note ${i}`, { context })), `note ${i}`);
  }
  assert.equal(memory.stats().created - before, 1);
  assert.equal(keys.stats().remoteCalls, 1);
  await keys.close();
  await assert.rejects(keys.createDataKey(context), (e) => cache.CacheClosedError.is(e));
  done.push(
    'cache: cachedKeyProvider over MemoryKeyProvider, 3 encryptions -> 1 provider call; closed -> CacheClosedError',
  );

  // server + remote: a server on a free loopback port, a client that gets a data key from it,
  // an Envelope that uses the client, then the server stops.
  const running = await server.startServer({ port: 0, memory: true, apiKeys: ['sk_pack_test'], log: false });
  let url;
  try {
    url = new URL(running.url);
    assert.equal(url.hostname, '127.0.0.1');
    assert.notEqual(url.port, '0');
    const vault = new remote.VaultClient({ apiKey: 'sk_pack_test', baseUrl: running.url, retry: 0 });
    const dk = await vault.createDataKey(context);
    assert.equal(dk.key.length, 32);
    const again = await vault.decryptDataKey(dk.encryptedKeys);
    assert.deepEqual(again.key, dk.key);
    dk.key.fill(0);
    again.key.fill(0);
    const viaVault = new core.Envelope({ keys: vault });
    assert.equal(
      await viaVault.decryptToString(await viaVault.encrypt('over http', { context })),
      'over http',
    );
    await assert.rejects(vault.readObject({ id: 'secret_does_not_exist' }), (e) =>
      remote.NotFoundError.is(e),
    );
    const wrongKey = new remote.VaultClient({ apiKey: 'sk_wrong', baseUrl: running.url, retry: 0 });
    await assert.rejects(wrongKey.createDataKey(context), (e) => remote.AuthenticationError.is(e));
  } finally {
    await running.close();
  }
  await assert.rejects(fetch(url), TypeError);
  done.push(
    `server: started on ${url.hostname}:<free port>, answered, stopped (connection refused after close)`,
  );
  done.push(
    'remote: VaultClient createDataKey/decryptDataKey/Envelope against it; NotFoundError, AuthenticationError',
  );
  return done;
};
