/**
 * A CommonJS TypeScript project with `verbatimModuleSyntax` (which `tsc --init` turns on since
 * TypeScript 5.9): `import ... from` is an error in a CommonJS file there (TS1295; TS1286 in 5.8),
 * so the packages come in through `import x = require(...)`. With `module` nodenext and
 * TypeScript >= 5.8, tsc accepts that for an ESM-only package and Node >= 20.19 runs it. The pack
 * check type-checks, compiles and runs this file in a `"type": "commonjs"` project.
 * @module
 */
import cache = require('@vault-envelope/cache');
import core = require('@vault-envelope/core');
import remote = require('@vault-envelope/remote');
import server = require('@vault-envelope/server');

async function main(): Promise<string> {
  const keys = cache.cachedKeyProvider(new core.MemoryKeyProvider(), { maxAge: 60_000 });
  const envelope = new core.Envelope({ keys });
  const context = { organization_id: 'org_require' };
  const plain: string = await envelope.decryptToString(await envelope.encrypt('4111', { context }));
  await keys.close();

  const running = await server.startServer({ port: 0, memory: true, apiKeys: ['sk_require'] });
  let length: number;
  try {
    const vault = new remote.VaultClient({ apiKey: 'sk_require', baseUrl: running.url, retry: 0 });
    const dk: core.DataKey = await vault.createDataKey(context);
    length = dk.key.length;
    dk.key.fill(0);
  } finally {
    await running.close();
  }
  // @ts-expect-error: the declarations were found, so a string is not a number
  const n: number = plain;
  void n;
  if (plain !== '4111' || length !== 32) throw new Error('unexpected result');
  return `round trip, data key ${length} bytes`;
}

main().then(
  (line) => console.log(`import = require() consumer: ${line}`),
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
