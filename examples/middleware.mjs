// A request-handler middleware: decrypt fields on the way out of the database, inside the
// handler, with one cached key lookup per data key instead of one Vault call per request.
//
//   node examples/middleware.mjs
import { createServer } from 'node:http';
import { cachedKeyProvider } from '@vault-envelope/cache';
import { Envelope } from '@vault-envelope/core';
import { openVault, run } from './_setup.mjs';

/**
 * Wraps a handler so that `ctx.decrypt(row, fields)` decrypts a record's fields, bound to its id.
 * @param {Envelope} envelope
 * @param {string} namespace
 */
function withDecryption(envelope, namespace) {
  return (handler) => async (req, res) => {
    const ctx = {
      decrypt: (row, fields) => envelope.decryptFields(row, { fields, id: row.id, namespace }),
    };
    try {
      await handler(req, res, ctx);
    } catch (e) {
      // Never send error details: they may describe data. Log the class name only.
      console.error('handler failed:', e?.name);
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal error"}');
    }
  };
}

run(async () => {
  const vault = await openVault();
  const keys = cachedKeyProvider(vault.client, { maxAge: 5 * 60_000 });
  const envelope = new Envelope({ keys });
  const context = { organization_id: 'org_shop' };

  // A stand-in for the database: rows as they are stored, fields already encrypted.
  const table = new Map();
  for (const [id, card] of [
    [1, '4111 1111 1111 1111'],
    [2, '5500 0000 0000 0004'],
  ]) {
    table.set(
      id,
      await envelope.encryptFields(
        { id, card, holder: `customer ${id}` },
        { fields: ['card'], id, namespace: 'cards', context },
      ),
    );
  }

  const handler = withDecryption(
    envelope,
    'cards',
  )(async (req, res, ctx) => {
    const id = Number(new URL(req.url, 'http://x').pathname.split('/')[2]);
    const row = table.get(id);
    if (!row) return res.writeHead(404).end();
    const { card, holder } = await ctx.decrypt(row, ['card']);
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ holder, last4: card.slice(-4) }));
  });

  const server = createServer(handler);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  try {
    for (let i = 0; i < 100; i++) {
      const body = await (await fetch(`${base}/cards/${1 + (i % 2)}`)).json();
      if (body.last4 !== (i % 2 === 0 ? '1111' : '0004')) throw new Error('wrong answer');
    }
    console.log('100 requests answered, e.g.', await (await fetch(`${base}/cards/1`)).json());
    const s = keys.stats();
    console.log(`key cache: ${s.hits} hits, ${s.misses} misses, ${s.remoteCalls} Vault calls`);
  } finally {
    await new Promise((r) => server.close(r));
    keys.close();
    await vault.close();
  }
});
